"""Field-level encryption: what domain code calls to store and read sensitive values.

Domain code never sees a key. It names *where* a value lives (scope, table, record id,
field) and gets bytes to store in an ``encrypted_column()``; reading back gives the text,
or :class:`Erased` when the scope's data key was shredded.

Ciphertext layout (bytes): ``0x01 | data key id (8 bytes, big-endian) | nonce (12) |
AES-256-GCM ciphertext + tag``. The associated data binds scope, table, record id, field
and the data key's id, so a ciphertext copied to another record, field or scope fails.
"""

from __future__ import annotations

import logging
import os
from time import monotonic
from typing import Any

from cryptography.exceptions import InvalidTag
from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import MappedColumn, Session, mapped_column

from gateway.crypto.errors import InvalidKeyScope, UndecryptableValue
from gateway.crypto.keystore import (
    AAD_CONTEXT,
    AAD_SEPARATOR,
    DataKeyHandle,
    DataKeyStore,
    Erased,
)
from gateway.db import Unit

log = logging.getLogger("ketenpoort.crypto")

FORMAT_V1 = 1
_HEADER = 1 + 8
_NONCE = 12
_TAG = 16
_BODY = _HEADER + _NONCE
_MIN_LENGTH = _BODY + _TAG


def case_scope(case_id: int | str) -> str:
    """The key scope of one case's dossier: the unit the retention rules erase."""
    return f"case:{case_id}"


def record_scope(table: str, record_id: int | str) -> str:
    """A key scope for one record whose retention is independent of any case."""
    return f"record:{table}.{record_id}"


_SEP = AAD_SEPARATOR


def field_aad(scope: str, table: str, record_id: int | str, field: str, dek_id: int) -> bytes:
    """The associated data of one field value.

    ``kp.field.v1 | scope | table | record id | field | data key id``, joined by a
    separator that may not occur in any part (the scope is checked when its key handle is
    built, the others on every call), so no choice of names can make two different tuples
    produce the same bytes.
    """
    if _SEP in scope:
        raise _separator_in_names()
    _check_names(table, record_id, field)
    return _SEP.join((AAD_CONTEXT, scope, table, str(record_id), field, str(dek_id))).encode()


def _check_names(table: str, record_id: int | str, field: str) -> None:
    if _SEP in table or _SEP in field or (record_id.__class__ is str and _SEP in record_id):
        raise _separator_in_names()


def _separator_in_names() -> InvalidKeyScope:
    return InvalidKeyScope("Scope, table, record id and field may not contain \\x1f.")


class FieldCipher:
    """Encrypts and decrypts single field values under their scope's data key."""

    __slots__ = ("_store", "_by_scope", "_by_header")

    def __init__(self, store: DataKeyStore) -> None:
        self._store = store
        self._by_scope = store.by_scope
        self._by_header = store.by_header

    def encrypt(
        self,
        *,
        session: Session,
        scope: str,
        table: str,
        record_id: int | str,
        field: str,
        plaintext: str,
    ) -> bytes:
        """Seal ``plaintext`` for one field of one record; store the bytes as they are.

        ``session`` is the caller's transaction: a scope's first data key is created in it
        and is only kept if that transaction commits.
        """
        # The hot path, inlined for speed (bench/bench_crypto.py measures it against raw
        # AES-GCM): one cache read, the associated data, one AES-GCM call. Misses, expiry,
        # shredded and reserved scopes all take the store's slow path.
        entry = self._by_scope.get(scope)
        if entry is not None and entry.handle is not None and monotonic() < entry.expires:
            handle = entry.handle
        else:
            handle = self._store.for_encrypt(session, scope)
        # One os.urandom per value, never a pool kept in the process: the kernel reseeds its
        # generator when a VM snapshot is restored or cloned, a pool in memory would hand out
        # the same nonces again, and a nonce reused under a key breaks AES-GCM.
        nonce = os.urandom(_NONCE)
        # The AAD inlined (same bytes as field_aad): the key-only parts come prebuilt.
        _check_names(table, record_id, field)
        aad = f"{handle.aad_prefix}{table}{_SEP}{record_id}{_SEP}{field}{handle.aad_suffix}"
        sealed = handle.cipher.encrypt(nonce, plaintext.encode(), aad.encode())
        return handle.header + nonce + sealed

    def decrypt(
        self,
        *,
        session: Unit,
        scope: str,
        table: str,
        record_id: int | str,
        field: str,
        ciphertext: bytes,
    ) -> str | Erased:
        """The plaintext, or ``Erased`` when the scope was shredded. ``session``: the
        caller's unit (a Session, or a Core connection in its transaction).

        Raises ``UndecryptableValue`` (fail closed) when the ciphertext was altered, moved
        to another record/field/scope, or names an unknown data key; ``KeyProviderUnavailable``
        when the KEK is needed and cannot be reached.
        """
        if len(ciphertext) < _MIN_LENGTH or ciphertext[0] != FORMAT_V1:
            raise self._reject("malformed", table, record_id, field, None)
        entry = self._by_header.get(ciphertext[:_HEADER])
        if entry is not None and entry.handle is not None and monotonic() < entry.expires:
            key: DataKeyHandle = entry.handle
        else:
            found = self._store.for_decrypt(session, int.from_bytes(ciphertext[1:_HEADER], "big"))
            if isinstance(found, Erased):
                return found
            key = found
        if key.scope != scope:
            raise self._reject("scope mismatch", table, record_id, field, key.id)
        _check_names(table, record_id, field)
        aad = f"{key.aad_prefix}{table}{_SEP}{record_id}{_SEP}{field}{key.aad_suffix}"
        try:
            return key.cipher.decrypt(
                ciphertext[_HEADER:_BODY], ciphertext[_BODY:], aad.encode()
            ).decode()
        except (InvalidTag, UnicodeDecodeError):
            raise self._reject("integrity check failed", table, record_id, field, key.id) from None

    @staticmethod
    def _reject(
        why: str, table: str, record_id: int | str, field: str, dek_id: int | None
    ) -> UndecryptableValue:
        # Where it failed, never what it held: the ciphertext and plaintext stay out of logs.
        log.warning(
            "rejected stored value: %s (table=%s field=%s record=%s data_key=%s)",
            why,
            table,
            field,
            record_id,
            dek_id,
        )
        return UndecryptableValue(f"The stored {table}.{field} value failed its integrity check.")


def encrypted_column(*, nullable: bool = True, comment: str | None = None) -> MappedColumn[Any]:
    """Declare a column that holds a ``FieldCipher`` ciphertext (``Mapped[bytes | None]``).

    Marked with ``info={"encrypted": True}`` so tests can find every encrypted column.
    """
    return mapped_column(LargeBinary, nullable=nullable, info={"encrypted": True}, comment=comment)


def blind_index_column(*, nullable: bool = True, index: bool = True) -> MappedColumn[Any]:
    """Declare a column for a ``BlindIndex`` value (64 hex characters), indexed."""
    return mapped_column(String(64), nullable=nullable, index=index, info={"blind_index": True})
