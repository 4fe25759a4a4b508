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
from typing import Any

from cryptography.exceptions import InvalidTag
from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import MappedColumn, Session, mapped_column

from gateway.crypto.errors import UndecryptableValue
from gateway.crypto.keystore import (
    SYSTEM_PREFIX,
    DataKeyHandle,
    DataKeyStore,
    Erased,
    validate_scope,
)

log = logging.getLogger("ketenpoort.crypto")

FORMAT_V1 = 1
_HEADER = 1 + 8
_NONCE = 12
_TAG = 16
_FORMAT_BYTE = FORMAT_V1.to_bytes(1, "big")


def case_scope(case_id: int | str) -> str:
    """The key scope of one case's dossier: the unit the retention rules erase."""
    return f"case:{case_id}"


def record_scope(table: str, record_id: int | str) -> str:
    """A key scope for one record whose retention is independent of any case."""
    return f"record:{table}.{record_id}"


def field_aad(scope: str, table: str, record_id: str, field: str, dek_id: int) -> bytes:
    # Length-prefixed parts: no choice of names can make two different tuples collide.
    return (
        f"ketenpoort.field.v1|{len(scope)}:{scope}|{len(table)}:{table}"
        f"|{len(record_id)}:{record_id}|{len(field)}:{field}|{dek_id}"
    ).encode()


class FieldCipher:
    """Encrypts and decrypts single field values under their scope's data key."""

    def __init__(self, store: DataKeyStore) -> None:
        self._store = store

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
        if scope.startswith(SYSTEM_PREFIX):
            # The blind-index key must never double as a field key.
            validate_scope(scope)
        handle = self._store.for_encrypt(session, scope)
        nonce = os.urandom(_NONCE)
        aad = field_aad(scope, table, str(record_id), field, handle.id)
        sealed = handle.cipher.encrypt(nonce, plaintext.encode(), aad)
        return b"".join((_FORMAT_BYTE, handle.id.to_bytes(8, "big"), nonce, sealed))

    def decrypt(
        self,
        *,
        session: Session,
        scope: str,
        table: str,
        record_id: int | str,
        field: str,
        ciphertext: bytes,
    ) -> str | Erased:
        """The plaintext, or ``Erased`` when the scope was shredded.

        Raises ``UndecryptableValue`` (fail closed) when the ciphertext was altered, moved
        to another record/field/scope, or names an unknown data key; ``KeyProviderUnavailable``
        when the KEK is needed and cannot be reached.
        """
        if len(ciphertext) < _HEADER + _NONCE + _TAG or ciphertext[0] != FORMAT_V1:
            raise self._reject("malformed", table, record_id, field, None)
        dek_id = int.from_bytes(ciphertext[1:_HEADER], "big")
        key = self._store.for_decrypt(session, dek_id)
        if isinstance(key, Erased):
            return key
        if key.scope != scope:
            raise self._reject("scope mismatch", table, record_id, field, dek_id)
        return self._open(key, ciphertext, scope, table, str(record_id), field)

    def _open(
        self,
        key: DataKeyHandle,
        ciphertext: bytes,
        scope: str,
        table: str,
        record_id: str,
        field: str,
    ) -> str:
        aad = field_aad(scope, table, record_id, field, key.id)
        nonce = ciphertext[_HEADER : _HEADER + _NONCE]
        try:
            return key.cipher.decrypt(nonce, ciphertext[_HEADER + _NONCE :], aad).decode()
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
    return mapped_column(
        LargeBinary, nullable=nullable, info={"encrypted": True}, comment=comment
    )


def blind_index_column(*, nullable: bool = True, index: bool = True) -> MappedColumn[Any]:
    """Declare a column for a ``BlindIndex`` value (64 hex characters), indexed."""
    return mapped_column(
        String(64), nullable=nullable, index=index, info={"blind_index": True}
    )
