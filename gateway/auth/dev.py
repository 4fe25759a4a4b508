"""The development issuer: a key pair per demo partner, for the embedded demo mode only."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ed25519

from gateway.auth.keys import (
    key_id,
    load_private_key,
    private_key_pem,
    public_jwk,
    write_secret_file,
)
from gateway.auth.tokens import sign_partner_token
from gateway.config import Settings
from gateway.core.errors import NotFound


def dev_jwks_dir(settings: Settings) -> Path:
    return settings.dev_keys_dir / "jwks"


def ensure_dev_keys(settings: Settings, partner_ids: Iterable[str]) -> None:
    """Generate (once) an Ed25519 key per demo partner, private part 0600, JWKS beside it."""
    settings.dev_keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    jwks_dir = dev_jwks_dir(settings)
    jwks_dir.mkdir(exist_ok=True)
    for partner_id in partner_ids:
        pem_path = settings.dev_keys_dir / f"{partner_id}.pem"
        if not pem_path.exists():
            write_secret_file(pem_path, private_key_pem(ed25519.Ed25519PrivateKey.generate()))
        key = load_private_key(pem_path)
        jwks = json.dumps({"keys": [public_jwk(key, key_id(key))]}, indent=2)
        path = jwks_dir / f"{partner_id}.json"
        if path.exists() and path.read_text() == jwks:
            continue
        # Replaced whole, never truncated in place: several workers start at once and read
        # these files (a reader saw an empty file and the worker failed to start).
        staged = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        staged.write_text(jwks)
        os.replace(staged, path)


def dev_key_path(settings: Settings, partner_id: str) -> Path:
    return settings.dev_keys_dir / f"{partner_id}.pem"


def mint_dev_token(
    settings: Settings, *, partner_id: str, role: str, user: str | None, lifetime_seconds: int
) -> str:
    # The keys exist only where a gateway ran in demo mode, and a gateway trusts them only
    # in demo mode: outside it these tokens are rejected like any unknown key.
    path = dev_key_path(settings, partner_id)
    if not path.exists():
        raise NotFound(
            f"No development key for partner {partner_id!r} in {settings.dev_keys_dir}; "
            "the development issuer only exists in demo mode: start the gateway with --demo "
            "(`make run`), or check the partner id."
        )
    return sign_partner_token(
        load_private_key(path),
        partner_id=partner_id,
        role=role,
        user=user,
        audience=settings.audience,
        lifetime_seconds=lifetime_seconds,
    )
