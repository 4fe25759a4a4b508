"""Signing partner tokens: used by the development issuer and by the adapter SDK."""

from __future__ import annotations

import secrets
import time

import jwt

from gateway.auth.keys import PrivateKey, algorithm_for, key_id

#: The ``typ`` header of a partner token (RFC 8725 §3.11 explicit typing): the verifier
#: refuses a JWT without it, so no other JWT signed with a partner's key passes for one.
PARTNER_TOKEN_TYPE = "ketenpoort+jwt"


def sign_partner_token(
    private_key: PrivateKey,
    *,
    partner_id: str,
    role: str,
    audience: str,
    user: str | None = None,
    lifetime_seconds: int = 300,
    now: float | None = None,
) -> str:
    """A short-lived, single-use token: issuer = partner, a fresh random jti."""
    issued = int(now if now is not None else time.time())
    claims: dict[str, object] = {
        "iss": partner_id,
        "aud": audience,
        "iat": issued,
        "nbf": issued,
        "exp": issued + lifetime_seconds,
        "jti": secrets.token_urlsafe(18),
        "role": role,
    }
    if user:
        claims["sub"] = user
    return jwt.encode(
        claims,
        private_key,
        algorithm=algorithm_for(private_key),
        headers={"kid": key_id(private_key), "typ": PARTNER_TOKEN_TYPE},
    )
