"""FastAPI dependencies for endpoints that store or read encrypted fields."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from gateway.auth.deps import Context
from gateway.crypto.blind_index import BlindIndex
from gateway.crypto.fields import FieldCipher
from gateway.crypto.runtime import CryptoServices
from gateway.crypto.wiring import crypto_services


def get_crypto(context: Context) -> CryptoServices:
    return crypto_services(context)


def get_field_cipher(context: Context) -> FieldCipher:
    return crypto_services(context).fields


def get_blind_index(context: Context) -> BlindIndex:
    return crypto_services(context).blind_index


Crypto = Annotated[CryptoServices, Depends(get_crypto)]
FieldCipherDep = Annotated[FieldCipher, Depends(get_field_cipher)]
BlindIndexDep = Annotated[BlindIndex, Depends(get_blind_index)]
