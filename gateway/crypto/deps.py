"""FastAPI dependencies for endpoints that store or read encrypted fields."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from gateway.auth.deps import Context
from gateway.crypto.blind_index import BlindIndex
from gateway.crypto.fields import FieldCipher
from gateway.crypto.runtime import CryptoServices


def get_crypto(context: Context) -> CryptoServices:
    return context.require_keys()


def get_field_cipher(context: Context) -> FieldCipher:
    return context.require_keys().fields


def get_blind_index(context: Context) -> BlindIndex:
    return context.require_keys().blind_index


Crypto = Annotated[CryptoServices, Depends(get_crypto)]
FieldCipherDep = Annotated[FieldCipher, Depends(get_field_cipher)]
BlindIndexDep = Annotated[BlindIndex, Depends(get_blind_index)]
