"""Signs a fresh, single-use partner token for every request the SDK sends."""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

from gateway.auth.keys import PrivateKey, load_private_key, private_key_pem
from gateway.auth.tokens import sign_partner_token

KeySource = PrivateKey | str | os.PathLike[str]


def resolve_private_key(source: KeySource) -> PrivateKey:
    """A key object as is; a path is read as a PEM file (Ed25519 or P-256, unencrypted)."""
    if isinstance(source, str | os.PathLike):
        return load_private_key(Path(source))
    return source


class TokenSigner:
    """The gateway consumes every token's ``jti``: a retry needs a new token, never the old one."""

    def __init__(
        self,
        private_key: PrivateKey,
        *,
        partner_id: str,
        role: str,
        audience: str,
        user: str | None = None,
        lifetime_seconds: int = 60,
    ) -> None:
        self._key = private_key
        self.partner_id = partner_id
        self.role = role
        self.audience = audience
        self.user = user
        self.lifetime_seconds = lifetime_seconds

    def authorization(self) -> str:
        token = sign_partner_token(
            self._key,
            partner_id=self.partner_id,
            role=self.role,
            audience=self.audience,
            user=self.user,
            lifetime_seconds=self.lifetime_seconds,
        )
        return f"Bearer {token}"


def idempotency_secret(private_key: PrivateKey) -> bytes:
    """A secret only this partner can derive, for idempotency keys that survive a restart.

    A key derived from what is sent (case, category, value) lets a restarted adapter repeat
    a push without creating it twice; keyed with this secret, the gateway, which stores the
    keys, cannot test guesses of a yes/no value against them.
    """
    return hmac.new(
        private_key_pem(private_key), b"ketenpoort idempotency keys v1", hashlib.sha256
    ).digest()


def derive_idempotency_key(secret: bytes, *parts: str) -> str:
    message = "\x1f".join(parts).encode()
    return "kp-" + hmac.new(secret, message, hashlib.sha256).hexdigest()[:40]
