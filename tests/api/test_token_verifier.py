"""Partner tokens are verified with PyJWT (one verifying decode), behind a length check.

The verifier used to parse tokens with hand-written compact-JWS code, tested against PyJWT as
its oracle. Its cases stay: ``token_verifier_cases.json`` holds the outcome the hand-written
verifier gave each of them, and the PyJWT-based verifier must give the same (same principal,
or same status, problem type and message), except where :data:`CHANGED_ON_PURPOSE` says
otherwise and why. No case that was refused is accepted now. :data:`NEW_CASES` covers what
was added with PyJWT: explicit typing (RFC 8725 §3.11), strict JSON and NumericDate times,
and the role as a required, bounded claim, each with its positive control.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from gateway.auth.keys import PrivateKey, TrustStore, key_id, public_jwk
from gateway.auth.principal import RoleGrant
from gateway.auth.service import (
    MAX_ROLE_CHARS,
    REQUIRED_CLAIMS,
    PartnerDirectory,
    PartnerEntry,
    TokenVerifier,
)
from gateway.auth.tokens import PARTNER_TOKEN_TYPE
from gateway.core.errors import GatewayError, Unauthenticated

AUDIENCE = "ketenpoort-test"
TOKEN_TYPE = PARTNER_TOKEN_TYPE
LEEWAY = 30
MAX_LIFETIME = 300
ED = ed25519.Ed25519PrivateKey.generate()
ES = ec.generate_private_key(ec.SECP256R1())
OTHER_ED = ed25519.Ed25519PrivateKey.generate()  # partner q's key
STRANGER = ed25519.Ed25519PrivateKey.generate()  # registered nowhere
RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)
RECORDED: dict[str, dict[str, Any]] = json.loads(
    (Path(__file__).parent / "token_verifier_cases.json").read_text()
)["outcomes"]


def _trust() -> TrustStore:
    trust = TrustStore()
    trust.add_jwks("p", {"keys": [public_jwk(ED, key_id(ED)), public_jwk(ES, key_id(ES))]})
    trust.add_jwks("q", {"keys": [public_jwk(OTHER_ED, key_id(OTHER_ED))]})
    return trust


_SETTINGS: dict[str, Any] = {
    "partners": PartnerDirectory(
        {
            "p": PartnerEntry(
                "gemeente",
                "covenant-p",
                {"casemanager": RoleGrant("casework"), "adapter": RoleGrant("system")},
            ),
            "q": PartnerEntry("politie", "covenant-q", {"wijkagent": RoleGrant("casework")}),
        }
    ),
    "audience": AUDIENCE,
    "max_lifetime": timedelta(seconds=MAX_LIFETIME),
    "leeway": timedelta(seconds=LEEWAY),
}
VERIFIER = TokenVerifier(trust=_trust(), **_SETTINGS)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _json(value: Any) -> bytes:
    return value if isinstance(value, bytes) else json.dumps(value).encode()


def _sign(signing_input: bytes, key: PrivateKey) -> bytes:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(signing_input)
    r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def _claims(**overrides: Any) -> dict[str, Any]:
    """Valid claims for partner p; an override of None drops the claim."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": "p",
        "aud": AUDIENCE,
        "iat": now,
        "nbf": now,
        "exp": now + 120,
        "jti": f"jti-{time.monotonic_ns()}",
        "role": "casemanager",
        "sub": "cm-1",
    }
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


def _token(
    claims: Any = None,
    *,
    key: PrivateKey = ED,
    header: Any = None,
    signature: Callable[[bytes], bytes] | None = None,
) -> str:
    """A compact JWS signed by key (header: alg and kid of key unless given)."""
    if header is None:
        header = {
            "alg": "EdDSA" if key is ED or key is OTHER_ED else "ES256",
            "kid": key_id(key),
            "typ": TOKEN_TYPE,
        }
    if isinstance(header, dict):  # a partner token's typ unless the case says otherwise
        header = {"typ": TOKEN_TYPE, **header}
        header = {name: value for name, value in header.items() if value is not None}
    claims = _claims() if claims is None else claims
    signing_input = f"{_b64(_json(header))}.{_b64(_json(claims))}".encode()
    raw = signature(signing_input) if signature is not None else _sign(signing_input, key)
    return f"{signing_input.decode()}.{_b64(raw)}"


def _with_header(header: dict[str, Any], key: PrivateKey = ED) -> str:
    alg = "EdDSA" if isinstance(key, ed25519.Ed25519PrivateKey) else "ES256"
    return _token(key=key, header={"alg": alg, "kid": key_id(key), "typ": TOKEN_TYPE, **header})


def _replace_segment(token: str, index: int, segment: str) -> str:
    parts = token.split(".")
    parts[index] = segment
    return ".".join(parts)


def _padded(token: str) -> str:
    return ".".join(part + "=" * (-len(part) % 4) for part in token.split("."))


def _flip_last_char(segment: str) -> str:
    return segment[:-1] + ("B" if segment[-1] != "B" else "C")


def _hmac_with_public_key() -> str:
    public_pem = ED.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "kid": key_id(ED)}
    return _token(
        header=header,
        signature=lambda data: hmac.new(public_pem, data, hashlib.sha256).digest(),
    )


def _es256_raw(r: int, s: int) -> Callable[[bytes], bytes]:
    return lambda _data: r.to_bytes(32, "big") + s.to_bytes(32, "big")


def _tampered_payload() -> str:
    header, _, signature = _token().split(".")
    return f"{header}.{_b64(_json(_claims(role='privacy-officer')))}.{signature}"


def _signature_bit_flipped(key: PrivateKey) -> str:
    header, payload, signature = _token(key=key).split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw[5] ^= 1
    return f"{header}.{payload}.{_b64(bytes(raw))}"


#: The claims the hand-written verifier required (role came with PyJWT: NEW_CASES).
_RECORDED_REQUIRED = ("exp", "iat", "iss", "aud", "jti")

# The cases the hand-written verifier was tested on (their outcomes are in the fixture file).
# Each case builds its token when run: the time claims are relative to now.
CASES: dict[str, Callable[[], str]] = {
    # Accepted.
    "valid EdDSA": lambda: _token(),
    "valid ES256": lambda: _token(key=ES),
    # Padding is parsed, but the signature covers the unpadded signing input: refused.
    "padded segments": lambda: _padded(_token()),
    "ES256 padded segments": lambda: _padded(_token(key=ES)),
    "valid without nbf and sub": lambda: _token(_claims(nbf=None, sub=None)),
    "valid with empty sub": lambda: _token(_claims(sub="")),
    "valid aud list containing ours": lambda: _token(_claims(aud=["other", AUDIENCE])),
    "valid adapter role": lambda: _token(_claims(role="adapter")),
    "valid partner q": lambda: _token(_claims(iss="q", role="wijkagent"), key=OTHER_ED),
    "valid crit b64 true": lambda: _with_header({"crit": ["b64"], "b64": True}),
    "valid extra header": lambda: _with_header({"x": [1, {"y": None}]}),
    "valid payload in UTF-16": lambda: _token(json.dumps(_claims()).encode("utf-16")),
    "valid float times": lambda: _token(_claims(iat=time.time() - 0.5, exp=time.time() + 60.5)),
    "valid lifetime exactly max": lambda: _token(
        _claims(iat=int(time.time()), exp=int(time.time()) + MAX_LIFETIME)
    ),
    "valid expired within leeway": lambda: _token(
        _claims(iat=int(time.time()) - 100, exp=int(time.time()) - LEEWAY + 10)
    ),
    "valid nbf and iat within leeway": lambda: _token(
        _claims(iat=int(time.time()) + LEEWAY - 10, nbf=int(time.time()) + LEEWAY - 10)
    ),
    "valid jti of 8": lambda: _token(_claims(jti="x" * 8)),
    "valid jti of 200": lambda: _token(_claims(jti="x" * 200)),
    "numeric-string exp (PyJWT int() takes it)": lambda: _token(
        _claims(exp=str(int(time.time()) + 60))
    ),
    "boolean nbf (PyJWT int() takes it)": lambda: _token(_claims(nbf=True)),
    # Not a well-formed JWT.
    "empty": lambda: "",
    "not a jwt": lambda: "not-a-jwt",
    "two segments": lambda: ".".join(_token().split(".")[:2]),
    "extra dot at the end": lambda: _token() + ".",
    "extra segment": lambda: _token() + ".AAAA",
    "extra dot in the payload": lambda: _token().replace(".", "..", 1),
    "bad character in header": lambda: "!" + _token()[1:],
    "standard-alphabet + in payload": lambda: _replace_segment(
        _token(), 1, "+" + _token().split(".")[1][1:]
    ),
    "slash in signature": lambda: _replace_segment(_token(), 2, "/" + _token().split(".")[2][1:]),
    "space in token": lambda: _token().replace(".", " .", 1),
    "non-ASCII in token": lambda: "é" + _token(),
    "padding in the middle": lambda: _replace_segment(_token(), 0, "ey==" + _token()[2:]),
    "three padding characters": lambda: _replace_segment(
        _token(), 2, _token().split(".")[2] + "==="
    ),
    "padding of the wrong length": lambda: _replace_segment(
        _token(), 2, _token().split(".")[2] + "="
    ),
    "segment length 1 mod 4": lambda: _replace_segment(_token(), 2, _token().split(".")[2] + "A"),
    "non-canonical trailing bits in signature": lambda: _replace_segment(
        _token(), 2, _flip_last_char(_token().split(".")[2])
    ),
    "non-JSON header": lambda: _token(header=b"{alg: EdDSA}"),
    "empty header": lambda: _token(header=b""),
    "JSON array header": lambda: _token(header=["EdDSA"]),
    "deeply nested header": lambda: _token(header=b"[" * 100_000),
    "non-JSON payload": lambda: _token(b"claims"),
    "JSON array payload": lambda: _token([_claims()]),
    "JSON string payload": lambda: _token("claims"),
    "invalid UTF-8 payload": lambda: _token(b'{"iss": "\xff"}'),
    "integer kid": lambda: _with_header({"kid": 7}),
    "crit empty": lambda: _with_header({"crit": []}),
    "crit not a list": lambda: _with_header({"crit": "b64"}),
    "crit unsupported extension": lambda: _with_header({"crit": ["exp"], "exp": 1}),
    "crit b64 without b64 header": lambda: _with_header({"crit": ["b64"]}),
    "detached payload b64 false": lambda: _with_header({"crit": ["b64"], "b64": False}),
    "b64 false without crit": lambda: _with_header({"b64": False}),
    # Algorithm, issuer, key.
    "alg none": lambda: _token(header={"alg": "none", "kid": key_id(ED)}, signature=lambda _: b""),
    "alg missing": lambda: _token(header={"kid": key_id(ED)}),
    "alg list": lambda: _token(header={"alg": ["EdDSA"], "kid": key_id(ED)}),
    "alg long name": lambda: _token(header={"alg": "X" * 50, "kid": key_id(ED)}),
    "alg HS256 with the public key as secret": _hmac_with_public_key,
    "alg RS256": lambda: jwt.encode(
        _claims(), RSA, algorithm="RS256", headers={"kid": key_id(ED), "typ": TOKEN_TYPE}
    ),
    "unknown issuer": lambda: _token(_claims(iss="evil-corp")),
    "issuer not a string": lambda: _token(_claims(iss=["p"])),
    "issuer missing": lambda: _token(_claims(iss=None)),
    "kid missing": lambda: _token(header={"alg": "EdDSA"}),
    "unknown kid": lambda: _token(key=STRANGER),
    "another partner's kid": lambda: _token(key=OTHER_ED),
    "alg ES256 on the EdDSA key": lambda: _token(header={"alg": "ES256", "kid": key_id(ED)}),
    "alg EdDSA on the ES256 key": lambda: _token(header={"alg": "EdDSA", "kid": key_id(ES)}),
    # Signature.
    "signature by another key under p's kid": lambda: _token(
        header={"alg": "EdDSA", "kid": key_id(ED)}, signature=STRANGER.sign
    ),
    "tampered payload": _tampered_payload,
    "tampered EdDSA signature": lambda: _signature_bit_flipped(ED),
    "tampered ES256 signature": lambda: _signature_bit_flipped(ES),
    "empty signature": lambda: _replace_segment(_token(), 2, ""),
    "ES256 signature of 63 bytes": lambda: _token(key=ES, signature=lambda d: _sign(d, ES)[:63]),
    "ES256 signature of 65 bytes": lambda: _token(key=ES, signature=lambda d: _sign(d, ES) + b"\0"),
    "ES256 DER signature": lambda: _token(
        key=ES, signature=lambda d: ES.sign(d, ec.ECDSA(hashes.SHA256()))
    ),
    "ES256 zero signature": lambda: _token(key=ES, signature=_es256_raw(0, 0)),
    "ES256 r and s of all ones": lambda: _token(
        key=ES, signature=_es256_raw(2**256 - 1, 2**256 - 1)
    ),
    "EdDSA signature of 65 bytes": lambda: _token(signature=lambda d: ED.sign(d) + b"\0"),
    # Claims, after the signature.
    **{
        f"missing {name}": (lambda name=name: _token(_claims(**{name: None})))
        for name in _RECORDED_REQUIRED
    },
    **{
        f"null {name}": (lambda name=name: _token({**_claims(), name: None}))
        for name in (*_RECORDED_REQUIRED, "nbf", "sub", "role")
    },
    "expired": lambda: _token(
        _claims(iat=int(time.time()) - 1000, nbf=None, exp=int(time.time()) - 900)
    ),
    "expired beyond leeway by 10 s": lambda: _token(
        _claims(iat=int(time.time()) - 100, exp=int(time.time()) - LEEWAY - 10)
    ),
    "nbf in the future": lambda: _token(_claims(nbf=int(time.time()) + 120)),
    "iat in the future": lambda: _token(
        _claims(iat=int(time.time()) + 120, nbf=None, exp=int(time.time()) + 200)
    ),
    "iat and nbf in the future beyond leeway by 10 s": lambda: _token(
        _claims(iat=int(time.time()) + LEEWAY + 10, nbf=int(time.time()) + LEEWAY + 10)
    ),
    "huge lifetime": lambda: _token(_claims(exp=int(time.time()) + 10 * MAX_LIFETIME)),
    "lifetime max plus one": lambda: _token(
        _claims(iat=int(time.time()), exp=int(time.time()) + MAX_LIFETIME + 1)
    ),
    "boolean exp": lambda: _token(_claims(exp=True)),
    "boolean false exp": lambda: _token(_claims(exp=False)),
    "boolean iat": lambda: _token(_claims(iat=True)),
    "string exp": lambda: _token(_claims(exp="tomorrow")),
    "list exp": lambda: _token(_claims(exp=[1])),
    "object iat": lambda: _token(_claims(iat={"t": 1})),
    "string nbf": lambda: _token(_claims(nbf="now")),
    "NaN exp": lambda: _token(_claims(exp=float("nan"))),
    "infinite exp": lambda: _token(_claims(exp=float("inf"))),
    "infinite iat": lambda: _token(_claims(iat=float("-inf"))),
    "exp in the year 10000": lambda: _token(_claims(exp=253_402_300_800)),
    "aud wrong string": lambda: _token(_claims(aud="other")),
    "aud list without ours": lambda: _token(_claims(aud=["other", "third"])),
    "aud empty string": lambda: _token(_claims(aud="")),
    "aud empty list": lambda: _token(_claims(aud=[])),
    "aud false": lambda: _token(_claims(aud=False)),
    "aud number": lambda: _token(_claims(aud=7)),
    "aud object": lambda: _token(_claims(aud={AUDIENCE: True})),
    "aud list with a number": lambda: _token(_claims(aud=[AUDIENCE, 7])),
    "sub not a string": lambda: _token(_claims(sub=7)),
    "jti not a string": lambda: _token(_claims(jti=12345678)),
    "jti of 7": lambda: _token(_claims(jti="x" * 7)),
    "jti of 201": lambda: _token(_claims(jti="x" * 201)),
    "role missing": lambda: _token(_claims(role=None)),
    "role unknown": lambda: _token(_claims(role="root")),
    "role not a string": lambda: _token(_claims(role=["casemanager"])),
    "role not granted to the partner": lambda: _token(_claims(role="wijkagent")),
    # Which check speaks first.
    "unknown alg and expired": lambda: _token(
        _claims(exp=1, iat=0), header={"alg": "HS512", "kid": key_id(ED)}
    ),
    "unknown issuer and bad signature": lambda: _token(
        _claims(iss="evil-corp"), signature=STRANGER.sign
    ),
    "unknown kid and bad signature": lambda: _token(
        header={"alg": "EdDSA", "kid": "nope"}, signature=lambda _: b"\0" * 64
    ),
    "bad signature and expired and no role": lambda: _token(
        _claims(exp=1, iat=0, role=None), signature=STRANGER.sign
    ),
    "bad signature and unknown role": lambda: _token(_claims(role="root"), signature=STRANGER.sign),
    "expired and unknown role": lambda: _token(_claims(exp=1, iat=0, role="root")),
    "missing jti and wrong aud": lambda: _token(_claims(jti=None, aud="other")),
    "wrong aud and jti too short": lambda: _token(_claims(aud="other", jti="x")),
}


def _raw_claims(**replacements: str) -> bytes:
    """Valid claims as JSON text, with a claim's value replaced by raw JSON text (for what
    json.dumps will not write, such as 1e999)."""
    claims = _claims(**{name: 0 for name in replacements})
    text = json.dumps(claims)
    for name, raw in replacements.items():
        text = text.replace(f'"{name}": 0', f'"{name}": {raw}')
    return text.encode()


def _typed(typ: Any) -> str:
    return _token(header={"alg": "EdDSA", "kid": key_id(ED), "typ": typ})


_TYP = f"The token's type (typ header) must be {TOKEN_TYPE!r} (RFC 8725 §3.11)."
_SUB = "The token's sub must be a string of at most 200 printable characters."
_JTI = "The token's jti must be a string of 8 to 200 characters."
_NOT_JSON = "The token's claims are not JSON (RFC 8259: no NaN, Infinity or overflow)."
_CLAIM_TWICE = "The token's claims name a claim twice; each claim may appear once."
_HEADER_TWICE = "The token's header names a key twice; each key may appear once."
_ROLE_AGAIN = b', "role": "casemanager"}'
_ROLE = f"The token's role must be a string of 1 to {MAX_ROLE_CHARS} printable characters."


def _numeric_date(name: str) -> str:
    return f"The token's {name!r} must be a NumericDate (a JSON number of seconds)."


def _refused(status: int, detail: str) -> dict[str, Any]:
    problem = {401: "unauthenticated", 403: "forbidden"}[status]
    return {"status": status, "problem": problem, "detail": detail}


_ACCEPTED = {"accepted": {"partner": "p", "role": "casemanager", "user": "cm-1"}}

#: Where the PyJWT-based verifier decides otherwise than the hand-written one, and why.
CHANGED_ON_PURPOSE: dict[str, tuple[dict[str, Any], str]] = {
    "numeric-string exp (PyJWT int() takes it)": (
        _refused(401, _numeric_date("exp")),
        "a time is a NumericDate, a JSON number (RFC 7519 §2; issue 17)",
    ),
    "boolean nbf (PyJWT int() takes it)": (
        _refused(401, _numeric_date("nbf")),
        "a time is a NumericDate, a JSON number (RFC 7519 §2; issue 17)",
    ),
    **{
        case: (_refused(401, _numeric_date(name)), "named as what it is, not 'invalid'")
        for case, name in [
            ("boolean exp", "exp"),
            ("boolean false exp", "exp"),
            ("boolean iat", "iat"),
            ("string exp", "exp"),
            ("list exp", "exp"),
            ("object iat", "iat"),
            ("string nbf", "nbf"),
        ]
    },
    **{
        case: (_refused(401, _NOT_JSON), "NaN and Infinity are not JSON (RFC 8259 §6)")
        for case in ("NaN exp", "infinite exp", "infinite iat")
    },
    "null nbf": (_refused(401, _numeric_date("nbf")), "named as what it is, not 'invalid'"),
    "null sub": (_refused(401, _SUB), "named as what it is, not 'invalid'"),
    "sub not a string": (_refused(401, _SUB), "named as what it is, not 'invalid'"),
    "jti not a string": (_refused(401, _JTI), "named as what it is, not 'invalid'"),
    "role missing": (
        _refused(401, "The token lacks the required claim 'role'."),
        "role is a required claim: a token without it is malformed (401), not forbidden",
    ),
    "null role": (
        _refused(401, "The token lacks the required claim 'role'."),
        "role is a required claim: a token without it is malformed (401), not forbidden",
    ),
    "role not a string": (
        _refused(401, _ROLE),
        "a malformed claim is 401; 403 is kept for a role the partner does not hold",
    ),
}

_KID = "The token's key id (kid) is not registered for its issuer."
_BAD_SIGNATURE = "The token's signature does not verify."


def _embedding(key: ed25519.Ed25519PrivateKey, *, kid: str) -> str:
    """Signed by ``key``, whose public key the header carries and points to every way."""
    jwk = public_jwk(key, kid)
    return _token(
        key=key,
        header={
            "alg": "EdDSA",
            "kid": kid,
            "typ": TOKEN_TYPE,
            "jwk": jwk,
            "jku": "https://attacker.example/jwks.json",
            "x5u": "https://attacker.example/cert.pem",
            "x5c": ["MIIB"],
        },
    )


#: Cases added with PyJWT, each with what it must give.
NEW_CASES: dict[str, tuple[Callable[[], str], dict[str, Any]]] = {
    # Explicit typing (RFC 8725 §3.11); the positive controls are every accepted case above.
    "typ missing": (lambda: _typed(None), _refused(401, _TYP)),
    "typ JWT (any JWT signed by the partner's key)": (lambda: _typed("JWT"), _refused(401, _TYP)),
    "typ at+jwt (an OAuth access token)": (lambda: _typed("at+jwt"), _refused(401, _TYP)),
    "typ not a string": (lambda: _typed(["ketenpoort+jwt"]), _refused(401, _TYP)),
    "typ with application/ and capitals (RFC 7515 §4.1.9)": (
        lambda: _typed("application/Ketenpoort+JWT"),
        _ACCEPTED,
    ),
    "typ checked before the algorithm": (
        lambda: _token(header={"alg": "none", "kid": key_id(ED), "typ": "JWT"}),
        _refused(401, _TYP),
    ),
    # Strict JSON, NumericDate times.
    "exp 1e999 (a float overflowing to infinity)": (
        lambda: _token(_raw_claims(exp="1e999")),
        _refused(401, _NOT_JSON),
    ),
    "-Infinity nbf": (lambda: _token(_raw_claims(nbf="-Infinity")), _refused(401, _NOT_JSON)),
    # A key twice (review7a F3): Python's parser keeps the last, a partner's proxy or log
    # reading the first sees another principal; refused like the request bodies' JSON.
    "a claim twice (role: privacy-officer, then casemanager)": (
        lambda: _token(json.dumps(_claims(role="privacy-officer"))[:-1].encode() + _ROLE_AGAIN),
        _refused(401, _CLAIM_TWICE),
    ),
    "a key twice inside a claim nobody reads": (
        lambda: _token(json.dumps(_claims())[:-1].encode() + b', "x": {"a": 1, "a": 2}}'),
        _refused(401, _CLAIM_TWICE),
    ),
    "a header key twice (kid)": (
        lambda: _token(
            header=json.dumps({"alg": "EdDSA", "kid": "another-kid", "typ": TOKEN_TYPE})[
                :-1
            ].encode()
            + f', "kid": "{key_id(ED)}"}}'.encode()
        ),
        _refused(401, _HEADER_TWICE),
    ),
    "the same claims, each once (positive control)": (
        lambda: _token(json.dumps(_claims()).encode()),
        _ACCEPTED,
    ),
    "NaN in a claim nobody reads": (
        lambda: _token({**_claims(), "x": float("nan")}),
        _refused(401, _NOT_JSON),
    ),
    "numeric-string iat": (
        lambda: _token(_claims(iat=str(int(time.time())))),
        _refused(401, _numeric_date("iat")),
    ),
    "float exp with a fraction (positive control)": (
        lambda: _token(_claims(exp=time.time() + 60.25)),
        _ACCEPTED,
    ),
    # The partner's role: required, a bounded printable string, then one the partner holds.
    "missing role": (
        lambda: _token(_claims(role=None)),
        _refused(401, "The token lacks the required claim 'role'."),
    ),
    "empty role": (lambda: _token(_claims(role="")), _refused(401, _ROLE)),
    "role with a NUL": (lambda: _token(_claims(role="casemanager\x00")), _refused(401, _ROLE)),
    "role over the length limit": (
        lambda: _token(_claims(role="r" * (MAX_ROLE_CHARS + 1))),
        _refused(401, _ROLE),
    ),
    "role at the length limit but unknown": (
        lambda: _token(_claims(role="r" * MAX_ROLE_CHARS)),
        _refused(403, "The token carries no role the gateway knows."),
    ),
    # The partner (iss) and the user (sub).
    "empty iss": (
        lambda: _token(_claims(iss="")),
        _refused(401, "The token's issuer is not a partner of any covenant."),
    ),
    "sub of 200 (positive control)": (
        lambda: _token(_claims(sub="s" * 200)),
        {"accepted": {"partner": "p", "role": "casemanager", "user": "s" * 200}},
    ),
    "sub of 201": (
        lambda: _token(_claims(sub="s" * 201)),
        _refused(401, _SUB),
    ),
    "sub with a NUL": (
        lambda: _token(_claims(sub="cm\x001")),
        _refused(401, _SUB),
    ),
    "jti with a NUL": (
        lambda: _token(_claims(jti="jti-\x00-0000")),
        _refused(401, "The token's jti must be printable characters."),
    ),
    # A key the token names itself (jwk, jku, x5u, x5c: RFC 8725 §3.10) is never used; the key
    # is the one registered for (iss, kid), and kid only looks it up (no path).
    "a stranger's key embedded as jwk, its thumbprint as kid": (
        lambda: _embedding(STRANGER, kid=key_id(STRANGER)),
        _refused(401, _KID),
    ),
    "a stranger's key embedded as jwk under p's kid": (
        lambda: _embedding(STRANGER, kid=key_id(ED)),
        _refused(401, _BAD_SIGNATURE),
    ),
    "kid as a path to q's JWKS file": (
        lambda: _with_header({"kid": "../jwks/q.json"}),
        _refused(401, _KID),
    ),
    "q's kid under iss p": (
        lambda: _token(header={"alg": "EdDSA", "kid": key_id(OTHER_ED), "typ": TOKEN_TYPE}),
        _refused(401, _KID),
    ),
    "jwk, jku, x5u and x5c on a token by the registered key (positive control)": (
        lambda: _embedding(ED, kid=key_id(ED)),
        _ACCEPTED,
    ),
}


def _outcome(token: str) -> dict[str, Any]:
    try:
        principal = VERIFIER.verify(token)
    except GatewayError as exc:
        return {"status": exc.status, "problem": exc.problem, "detail": exc.detail}
    return {
        "accepted": {
            "partner": principal.partner_id,
            "role": principal.role,
            "user": principal.user,
        }
    }


def test_every_recorded_case_is_in_the_fixture_file() -> None:
    assert set(CASES) == set(RECORDED)
    assert set(CHANGED_ON_PURPOSE) <= set(CASES)
    assert not set(NEW_CASES) & set(CASES)


@pytest.mark.parametrize("case", CASES)
def test_verifier_decides_as_the_hand_written_verifier_did(case: str) -> None:
    recorded = RECORDED[case]
    expected = CHANGED_ON_PURPOSE[case][0] if case in CHANGED_ON_PURPOSE else recorded
    outcome = _outcome(CASES[case]())
    assert outcome == expected
    if "accepted" not in recorded:  # nothing refused before is let through now
        assert "accepted" not in outcome


@pytest.mark.parametrize("case", NEW_CASES)
def test_verifier_decides_the_cases_added_with_pyjwt(case: str) -> None:
    build, expected = NEW_CASES[case]
    assert _outcome(build()) == expected


def test_the_cases_reach_every_decision() -> None:
    """Guards the fixtures themselves: each verdict the verifier can give occurs."""
    outcomes = [_outcome(build()) for build in CASES.values()]
    outcomes += [_outcome(build()) for build, _ in NEW_CASES.values()]
    details = {o["detail"] for o in outcomes if "detail" in o}
    assert details == {
        "The bearer token is longer than 8192 characters.",
        "The bearer token is not a well-formed JWT.",
        _TYP,
        "Token algorithm 'none' is not accepted; use one of EdDSA, ES256.",
        "Token algorithm 'None' is not accepted; use one of EdDSA, ES256.",
        "Token algorithm \"['EdDSA']\" is not accepted; use one of EdDSA, ES256.",
        "Token algorithm 'XXXXXXXXXXXXXXXXXXXX' is not accepted; use one of EdDSA, ES256.",
        "Token algorithm 'HS256' is not accepted; use one of EdDSA, ES256.",
        "Token algorithm 'RS256' is not accepted; use one of EdDSA, ES256.",
        "Token algorithm 'HS512' is not accepted; use one of EdDSA, ES256.",
        "The token's issuer is not a partner of any covenant.",
        "The token's key id (kid) is not registered for its issuer.",
        "The token's algorithm does not match the registered key.",
        "The token's signature does not verify.",
        _NOT_JSON,
        _CLAIM_TWICE,
        _HEADER_TWICE,
        *(_numeric_date(name) for name in ("exp", "nbf", "iat")),
        # iss is looked up first: a token without one names no partner (above).
        *(f"The token lacks the required claim {n!r}." for n in REQUIRED_CLAIMS if n != "iss"),
        "The token has expired.",
        "The token is not valid yet (nbf/iat in the future).",
        "The token is not meant for this gateway (aud).",
        # ("The token is invalid." is left for a PyJWT error no case reaches: fail closed.)
        _JTI,
        "The token's jti must be printable characters.",
        _SUB,
        _ROLE,
        f"The token lives longer than {MAX_LIFETIME} seconds.",
        "The token carries no role the gateway knows.",
        "Role 'wijkagent' is not granted to partner 'p'.",
    }
    assert sum("accepted" in o for o in outcomes) >= 15


def test_valid_tokens_of_both_algorithms_give_the_partners_principal() -> None:
    before = datetime.now(UTC)
    principal = VERIFIER.verify(_token(_claims(jti="jti-12345678"), key=ES))
    assert (principal.partner_id, principal.partner_kind, principal.covenant_id) == (
        "p",
        "gemeente",
        "covenant-p",
    )
    assert (principal.role, principal.user, principal.token_id) == (
        "casemanager",
        "cm-1",
        "jti-12345678",
    )
    assert before < principal.expires_at <= before + timedelta(seconds=121)
    anonymous = _token(_claims(iss="q", role="wijkagent", sub=None), key=OTHER_ED)
    assert VERIFIER.verify(anonymous).user is None


def test_an_exp_beyond_a_floats_range_is_refused_as_overlong_not_a_server_error() -> None:
    # An integer exp of 400 digits passes PyJWT's int() and overflows a float.
    token = _token(_claims(exp=10**400))
    with pytest.raises(Unauthenticated, match=f"lives longer than {MAX_LIFETIME} seconds"):
        VERIFIER.verify(token)


def test_a_lone_surrogate_is_a_malformed_token_not_a_server_error() -> None:
    # Starlette decodes headers as Latin-1, so this only reaches verify from Python callers.
    with pytest.raises(Unauthenticated, match="not a well-formed JWT"):
        VERIFIER.verify("\ud800" + _token())


def test_the_signing_helper_and_the_verifier_agree_on_the_type() -> None:
    from gateway.auth.tokens import sign_partner_token

    token = sign_partner_token(ED, partner_id="p", role="casemanager", audience=AUDIENCE)
    assert jwt.get_unverified_header(token)["typ"] == TOKEN_TYPE
    assert VERIFIER.verify(token).partner_id == "p"
