"""The two things the cases domain needs from its neighbours, as small protocols.

``Sealer`` seals personal fields under a key scope and makes blind indexes (gateway/crypto);
``CaseAudit`` writes an audit entry inside the caller's transaction (audit/). The service
only ever talks to these, so the real implementations plug in at wiring time and tests can
pass their own.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any, Protocol

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.orm import Session

from gateway.auth.principal import Principal

AuditValue = str | int | bool | None


class Sealer(Protocol):
    def seal(self, session: Session, *, scope: str, record: str, field: str, value: str) -> bytes:
        """Encrypt ``value`` under the key of ``scope``, bound to ``record`` and ``field``."""
        ...

    def unseal(
        self, session: Session, *, scope: str, record: str, field: str, sealed: bytes
    ) -> str: ...

    def blind_index(self, *, kind: str, value: str) -> str:
        """A keyed, deterministic index of a normalised identifier (BSN, address)."""
        ...


class CaseAudit(Protocol):
    def record(
        self,
        session: Session,
        *,
        activity: str,
        covenant_id: str,
        case_id: str,
        actor: Principal | None,
        details: dict[str, AuditValue],
    ) -> None:
        """Write one audit entry in ``session``'s transaction (no personal data in details)."""
        ...


class InMemorySealer:
    """AES-256-GCM with one random key per process: for tests and benchmarks only.

    Associated data binds each ciphertext to its scope, record and field, as the real
    field cipher does, so a ciphertext moved to another row fails to open.
    """

    def __init__(self) -> None:
        self._key = AESGCM(AESGCM.generate_key(bit_length=256))
        self._index_key = secrets.token_bytes(32)

    def seal(self, session: Session, *, scope: str, record: str, field: str, value: str) -> bytes:
        nonce = secrets.token_bytes(12)
        aad = f"{scope}|{record}|{field}".encode()
        return nonce + self._key.encrypt(nonce, value.encode(), aad)

    def unseal(
        self, session: Session, *, scope: str, record: str, field: str, sealed: bytes
    ) -> str:
        aad = f"{scope}|{record}|{field}".encode()
        return self._key.decrypt(sealed[:12], sealed[12:], aad).decode()

    def blind_index(self, *, kind: str, value: str) -> str:
        return hmac.new(self._index_key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


class RecordingAudit:
    """Keeps entries in memory: for tests, and the fallback while no audit log is wired."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def record(
        self,
        session: Session,
        *,
        activity: str,
        covenant_id: str,
        case_id: str,
        actor: Principal | None,
        details: dict[str, AuditValue],
    ) -> None:
        self.entries.append(
            {
                "activity": activity,
                "covenant_id": covenant_id,
                "case_id": case_id,
                "actor": actor.actor if actor else None,
                **details,
            }
        )
