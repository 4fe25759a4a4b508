"""Builds the crypto services a running gateway (or a CLI command) shares."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from gateway.config import Settings
from gateway.crypto.blind_index import BlindIndex
from gateway.crypto.errors import KeyProviderUnavailable
from gateway.crypto.fields import FieldCipher
from gateway.crypto.keystore import DataKeyStore, count_data_keys
from gateway.crypto.pkcs11_provider import Pkcs11KeyProvider
from gateway.crypto.providers import KeyProvider, LocalKeyFileProvider
from gateway.db import transaction

log = logging.getLogger("ketenpoort.crypto")


@dataclass(frozen=True)
class CryptoServices:
    """What other domains use: ``fields`` and ``blind_index``; ``keys`` for retention."""

    provider: KeyProvider
    keys: DataKeyStore
    fields: FieldCipher
    blind_index: BlindIndex

    def close(self) -> None:
        self.provider.close()


def local_key_file(settings: Settings) -> Path:
    return settings.key_file or settings.data_dir / "keys" / "kek.json"


def build_provider(settings: Settings) -> KeyProvider:
    if settings.key_provider == "pkcs11":
        if not (settings.pkcs11_module and settings.pkcs11_token_label and settings.pkcs11_pin):
            raise KeyProviderUnavailable(
                "key_provider=pkcs11 needs KETENPOORT_PKCS11_MODULE, "
                "KETENPOORT_PKCS11_TOKEN_LABEL and KETENPOORT_PKCS11_PIN."
            )
        return Pkcs11KeyProvider(
            module=settings.pkcs11_module,
            token_label=settings.pkcs11_token_label,
            pin=settings.pkcs11_pin.get_secret_value(),
            key_label=settings.pkcs11_key_label,
        )
    return LocalKeyFileProvider(local_key_file(settings))


def build_crypto_services(
    settings: Settings, provider: KeyProvider | None = None
) -> CryptoServices:
    provider = provider if provider is not None else build_provider(settings)
    store = DataKeyStore(
        provider, max_entries=settings.dek_cache_size, ttl_seconds=settings.dek_cache_seconds
    )
    return CryptoServices(
        provider=provider, keys=store, fields=FieldCipher(store), blind_index=BlindIndex(store)
    )


#: pg_advisory_xact_lock key of the first KEK's creation (any fixed number no other lock uses).
FIRST_KEK_LOCK_KEY = 0x6B70_6B31  # "kpk1"


def create_first_kek(provider: KeyProvider, session_factory: sessionmaker[Session]) -> bool:
    """At first start (no data keys yet) create KEK version 1; True when created.

    Once data keys exist a missing KEK is an outage, never a reason to make a new one:
    a new KEK would silently orphan every stored value.
    """
    with transaction(session_factory) as session:
        if session.get_bind().dialect.name == "postgresql":
            # Every worker of every replica runs this at its first start, at once: without
            # the lock each saw an empty token and created its own version 1, leaving several
            # (the provider then refused them all, review9c F4). Held until the transaction
            # ends, after the creation, so the next one finds it. SQLite serves one worker.
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": FIRST_KEK_LOCK_KEY})
        if count_data_keys(session) > 0:
            return False
        return provider.create_if_missing()
