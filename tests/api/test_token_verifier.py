"""The token verifier parses with its own compact-JWS code (no PyJWT): for every token below
it accepts exactly what the PyJWT-based verifier accepted, with the same principal, and
rejects the rest with the same status and the same message."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from gateway.auth.keys import ACCEPTED_ALGORITHMS, PrivateKey, TrustStore, key_id, public_jwk
from gateway.auth.principal import Principal, RoleGrant
from gateway.auth.service import (
    MAX_TOKEN_CHARS,
    REQUIRED_CLAIMS,
    PartnerDirectory,
    PartnerEntry,
    TokenVerifier,
)
from gateway.core.errors import Forbidden, GatewayError, Unauthenticated

AUDIENCE = "ketenpoort-test"
LEEWAY = 30
MAX_LIFETIME = 300
ED = ed25519.Ed25519PrivateKey.generate()
ES = ec.generate_private_key(ec.SECP256R1())
OTHER_ED = ed25519.Ed25519PrivateKey.generate()  # partner q's key
STRANGER = ed25519.Ed25519PrivateKey.generate()  # registered nowhere
RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)


class PyJWTReference:
    """TokenVerifier.verify as it was with PyJWT (commit 7470ba6), kept as the oracle."""

    def __init__(
        self,
        *,
        trust: TrustStore,
        partners: PartnerDirectory,
        audience: str,
        max_lifetime: timedelta,
        leeway: timedelta,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.trust = trust
        self.partners = partners
        self.audience = audience
        self.max_lifetime = max_lifetime
        self.leeway = leeway
        self.clock = clock

    def verify(self, token: str) -> Principal:
        # The size check both verifiers share at the edge (issue 17), before any decoding.
        if len(token) > MAX_TOKEN_CHARS:
            raise Unauthenticated(f"The bearer token is longer than {MAX_TOKEN_CHARS} characters.")
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise Unauthenticated("The bearer token is not a well-formed JWT.") from None
        algorithm = header.get("alg")
        if algorithm not in ACCEPTED_ALGORITHMS:
            raise Unauthenticated(
                f"Token algorithm {str(algorithm)[:20]!r} is not accepted; "
                f"use one of {', '.join(ACCEPTED_ALGORITHMS)}."
            )
        issuer = unverified.get("iss")
        if not isinstance(issuer, str) or issuer not in self.partners:
            raise Unauthenticated("The token's issuer is not a partner of any covenant.")
        kid = header.get("kid")
        key = self.trust.key(issuer, kid) if isinstance(kid, str) else None
        if key is None:
            raise Unauthenticated("The token's key id (kid) is not registered for its issuer.")
        if key.algorithm != algorithm:
            raise Unauthenticated("The token's algorithm does not match the registered key.")
        claims = self._decode(token, key.key, algorithm, issuer)
        self._check_lifetime(claims)
        role = claims.get("role")
        if not isinstance(role, str) or role not in self.partners.known_roles:
            raise Forbidden("The token carries no role the gateway knows.")
        if role not in self.partners.roles(issuer):
            raise Forbidden(f"Role {role!r} is not granted to partner {issuer!r}.")
        user = claims.get("sub")
        return self.partners.principal(
            partner_id=issuer,
            role=role,
            user=user if isinstance(user, str) and user else None,
            token_id=str(claims["jti"]),
            expires_at=datetime.fromtimestamp(float(claims["exp"]), UTC),
        )

    def _decode(self, token: str, key: Any, algorithm: str, issuer: str) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self.audience,
                issuer=issuer,
                leeway=self.leeway,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("The token has expired.") from None
        except jwt.ImmatureSignatureError:
            raise Unauthenticated("The token is not valid yet (nbf/iat in the future).") from None
        except jwt.InvalidAudienceError:
            raise Unauthenticated("The token is not meant for this gateway (aud).") from None
        except jwt.MissingRequiredClaimError as exc:
            raise Unauthenticated(f"The token lacks the required claim {exc.claim!r}.") from None
        except jwt.InvalidSignatureError:
            raise Unauthenticated("The token's signature does not verify.") from None
        except jwt.PyJWTError:
            raise Unauthenticated("The token is invalid.") from None
        if not isinstance(claims.get("jti"), str) or not 8 <= len(claims["jti"]) <= 200:
            raise Unauthenticated("The token's jti must be a string of 8 to 200 characters.")
        return claims

    def _check_lifetime(self, claims: dict[str, Any]) -> None:
        lifetime = float(claims["exp"]) - float(claims["iat"])
        if lifetime > self.max_lifetime.total_seconds():
            raise Unauthenticated(
                f"The token lives longer than {int(self.max_lifetime.total_seconds())} seconds."
            )
        now = self.clock().timestamp()
        if float(claims["iat"]) > now + self.leeway.total_seconds():
            raise Unauthenticated("The token is not valid yet (nbf/iat in the future).")


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
NEW = TokenVerifier(trust=_trust(), **_SETTINGS)
OLD = PyJWTReference(trust=_trust(), **_SETTINGS)


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
        header = {"alg": "EdDSA" if key is ED or key is OTHER_ED else "ES256", "kid": key_id(key)}
    claims = _claims() if claims is None else claims
    signing_input = f"{_b64(_json(header))}.{_b64(_json(claims))}".encode()
    raw = signature(signing_input) if signature is not None else _sign(signing_input, key)
    return f"{signing_input.decode()}.{_b64(raw)}"


def _with_header(header: dict[str, Any], key: PrivateKey = ED) -> str:
    alg = "EdDSA" if isinstance(key, ed25519.Ed25519PrivateKey) else "ES256"
    return _token(key=key, header={"alg": alg, "kid": key_id(key), **header})


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
    header = {"alg": "HS256", "typ": "JWT", "kid": key_id(ED)}
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


# Each case builds its token when run: the time claims are relative to now.
CASES: dict[str, Callable[[], str]] = {
    # Accepted.
    "valid EdDSA": lambda: _token(),
    "valid ES256": lambda: _token(key=ES),
    "valid with padded segments": lambda: _padded(_token()),
    "valid ES256 with padded segments": lambda: _padded(_token(key=ES)),
    "valid without nbf and sub": lambda: _token(_claims(nbf=None, sub=None)),
    "valid with empty sub": lambda: _token(_claims(sub="")),
    "valid aud list containing ours": lambda: _token(_claims(aud=["other", AUDIENCE])),
    "valid adapter role": lambda: _token(_claims(role="adapter")),
    "valid partner q": lambda: _token(_claims(iss="q", role="wijkagent"), key=OTHER_ED),
    "valid crit b64 true": lambda: _with_header({"crit": ["b64"], "b64": True}),
    "valid typ and extra header": lambda: _with_header({"typ": "JWT", "x": [1, {"y": None}]}),
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
    "alg RS256": lambda: jwt.encode(_claims(), RSA, algorithm="RS256", headers={"kid": key_id(ED)}),
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
        for name in REQUIRED_CLAIMS
    },
    **{
        f"null {name}": (lambda name=name: _token({**_claims(), name: None}))
        for name in (*REQUIRED_CLAIMS, "nbf", "sub", "role")
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


def _outcome(verify: Callable[[str], Principal], token: str) -> tuple[str, object]:
    try:
        return "accepted", verify(token)
    except GatewayError as exc:
        return f"{exc.status} {type(exc).__name__}", exc.detail


@pytest.mark.parametrize("case", CASES)
def test_verifier_decides_like_the_pyjwt_verifier(case: str) -> None:
    token = CASES[case]()
    assert _outcome(NEW.verify, token) == _outcome(OLD.verify, token)


def test_the_cases_reach_every_decision() -> None:
    """Guards the differential test itself: each verdict the verifier can give occurs."""
    seen = {str(_outcome(NEW.verify, build())[1]) for build in CASES.values()}
    details = {detail for detail in seen if not detail.startswith("Principal(")}
    assert details == {
        "The bearer token is longer than 8192 characters.",
        "The bearer token is not a well-formed JWT.",
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
        "The token lacks the required claim 'exp'.",
        "The token lacks the required claim 'iat'.",
        "The token lacks the required claim 'aud'.",
        "The token lacks the required claim 'jti'.",
        "The token has expired.",
        "The token is not valid yet (nbf/iat in the future).",
        "The token is not meant for this gateway (aud).",
        "The token is invalid.",
        "The token's jti must be a string of 8 to 200 characters.",
        f"The token lives longer than {MAX_LIFETIME} seconds.",
        "The token carries no role the gateway knows.",
        "Role 'wijkagent' is not granted to partner 'p'.",
    }
    assert sum(detail.startswith("Principal(") for detail in seen) >= 15


def test_valid_tokens_of_both_algorithms_give_the_partners_principal() -> None:
    before = datetime.now(UTC)
    principal = NEW.verify(_token(_claims(jti="jti-12345678"), key=ES))
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
    assert NEW.verify(anonymous).user is None


def test_an_exp_beyond_a_floats_range_is_refused_as_overlong_not_a_server_error() -> None:
    # PyJWT let int(10**400) pass its exp check and the old lifetime check then raised
    # OverflowError (a 500); the one place where the two verifiers differ on purpose.
    token = _token(_claims(exp=10**400))
    with pytest.raises(OverflowError):
        OLD.verify(token)
    with pytest.raises(Unauthenticated, match=f"lives longer than {MAX_LIFETIME} seconds"):
        NEW.verify(token)


def test_a_lone_surrogate_is_a_malformed_token_not_a_server_error() -> None:
    # Starlette decodes headers as Latin-1, so this only reaches verify from Python callers.
    token = "\ud800" + _token()
    with pytest.raises(UnicodeEncodeError):
        OLD.verify(token)
    with pytest.raises(Unauthenticated, match="not a well-formed JWT"):
        NEW.verify(token)
