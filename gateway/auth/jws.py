"""Compact JWS (RFC 7515) for partner tokens: parsed once, signature checked with cryptography.

The token verifier used to parse every token three times through PyJWT, whose base64url
check runs a Python generator over every character. This module parses it once and accepts
exactly what PyJWT 2.x accepts (``tests/api/test_token_verifier.py`` compares the two):
three segments, strict base64url (trailing ``=`` tolerated, non-canonical trailing bits
refused), a JSON object as header and as payload, a string ``kid``, a ``crit`` header naming
only ``b64``, and no detached (``b64: false``) payload.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from gateway.auth.keys import PublicKey

_BASE64URL = re.compile(rb"[A-Za-z0-9_-]*")
_ES256 = ec.ECDSA(hashes.SHA256())
#: RFC 7518 §3.4: an ES256 signature is R and S, 32 big-endian bytes each (not DER).
_ES256_HALF = 32


class MalformedJWS(ValueError):
    """The token is not a compact JWS with a JSON header and JSON claims."""


class UnsuitableKey(ValueError):
    """The registered key cannot verify the algorithm (the trust store never pairs them so)."""


@dataclass(frozen=True, slots=True)
class CompactJWS:
    header: dict[str, Any]
    #: Not to be trusted before :func:`signature_verifies` returned True.
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes


def parse_compact(token: str) -> CompactJWS:
    """Split and decode the token; raise MalformedJWS for anything PyJWT would not decode."""
    try:
        raw = token.encode("ascii")
    except UnicodeEncodeError:
        raise MalformedJWS("non-ASCII character") from None
    segments = raw.split(b".")
    if len(segments) != 3:
        raise MalformedJWS("a compact JWS has three segments")
    header_segment, payload_segment, signature_segment = segments
    header = _json_object(_base64url_decode(header_segment))
    _check_header(header)
    claims = _json_object(_base64url_decode(payload_segment))
    signature = _base64url_decode(signature_segment)
    return CompactJWS(
        header, claims, raw[: len(header_segment) + 1 + len(payload_segment)], signature
    )


def signature_verifies(jws: CompactJWS, key: PublicKey, algorithm: str) -> bool:
    if algorithm == "EdDSA":
        if not isinstance(key, ed25519.Ed25519PublicKey):
            raise UnsuitableKey(algorithm)
        try:
            key.verify(jws.signature, jws.signing_input)
        except InvalidSignature:
            return False
        return True
    if algorithm == "ES256":
        if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(
            key.curve, ec.SECP256R1
        ):
            raise UnsuitableKey(algorithm)
        if len(jws.signature) != 2 * _ES256_HALF:
            return False
        r = int.from_bytes(jws.signature[:_ES256_HALF], "big")
        s = int.from_bytes(jws.signature[_ES256_HALF:], "big")
        try:
            key.verify(encode_dss_signature(r, s), jws.signing_input, _ES256)
        except InvalidSignature:
            return False
        return True
    raise UnsuitableKey(algorithm)


def _base64url_decode(segment: bytes) -> bytes:
    stripped = segment.rstrip(b"=")
    padding = len(segment) - len(stripped)
    if (
        padding > 2
        or (padding and len(segment) % 4)
        or len(stripped) % 4 == 1
        or not _BASE64URL.fullmatch(stripped)
    ):
        raise MalformedJWS("not base64url")
    decoded = base64.urlsafe_b64decode(stripped + b"=" * (-len(stripped) % 4))
    # Only one spelling per value: unused trailing bits must be zero (as PyJWT insists).
    if base64.urlsafe_b64encode(decoded).rstrip(b"=") != stripped:
        raise MalformedJWS("not canonical base64url")
    return decoded


def _json_object(data: bytes) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):
        raise MalformedJWS("not JSON") from None
    if not isinstance(value, dict):
        raise MalformedJWS("not a JSON object")
    return value


def _check_header(header: dict[str, Any]) -> None:
    if "kid" in header and not isinstance(header["kid"], str):
        raise MalformedJWS("kid is not a string")
    if "crit" in header:
        crit = header["crit"]
        if not isinstance(crit, list) or not crit:
            raise MalformedJWS("crit is not a non-empty list")
        for extension in crit:
            # b64 is the only extension PyJWT understands; its detached form is refused below.
            if extension != "b64" or extension not in header:
                raise MalformedJWS("unsupported critical extension")
    if header.get("b64", True) is False:
        raise MalformedJWS("detached payloads are not accepted")
