"""Field-level encryption: envelope keys, rotation, blind indexes and crypto-shredding.

Other domains use (see docs/crypto.md):

- ``FieldCipher.encrypt(session=, scope=, table=, record_id=, field=, plaintext=) -> bytes``
  and ``.decrypt(..., ciphertext=) -> str | Erased``; get it from ``FieldCipherDep`` in an
  endpoint or ``context.require_keys().fields`` elsewhere.
- ``BlindIndex.bsn / .address / .person(session=, ...) -> str`` (64 hex characters).
- ``encrypted_column()`` / ``blind_index_column()`` to declare ORM columns.
- ``case_scope(case_id)``: the key scope of a case's dossier.
- ``shred_scope(session=, keys=, scope=, reason=) -> Erased`` for retention.
"""

from gateway.crypto.blind_index import (
    BlindIndex,
    holds_bsn,
    is_valid_bsn,
    normalise_address,
    normalise_bsn,
    normalise_name,
    normalise_person,
)
from gateway.crypto.errors import (
    InvalidIdentifier,
    InvalidKeyScope,
    KeyProviderUnavailable,
    KeyRotationIncomplete,
    UndecryptableValue,
)
from gateway.crypto.fields import (
    FieldCipher,
    blind_index_column,
    case_scope,
    encrypted_column,
    record_scope,
)
from gateway.crypto.keystore import DataKeyStore, Erased
from gateway.crypto.providers import KeyProvider, LocalKeyFileProvider
from gateway.crypto.runtime import CryptoServices
from gateway.crypto.service import shred_scope

__all__ = [
    "BlindIndex",
    "CryptoServices",
    "DataKeyStore",
    "Erased",
    "FieldCipher",
    "InvalidIdentifier",
    "InvalidKeyScope",
    "KeyProvider",
    "KeyProviderUnavailable",
    "KeyRotationIncomplete",
    "LocalKeyFileProvider",
    "UndecryptableValue",
    "blind_index_column",
    "case_scope",
    "encrypted_column",
    "holds_bsn",
    "is_valid_bsn",
    "normalise_address",
    "normalise_bsn",
    "normalise_name",
    "normalise_person",
    "record_scope",
    "shred_scope",
]
