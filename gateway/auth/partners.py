"""Partner onboarding: a key pair for a partner's adapter, its public JWKS registered with the
gateway, and rotation with overlap (register the new key, move the adapter, revoke the old).

The gateway trusts exactly the public keys in ``<jwks_dir>/<partner-id>.json``; these
functions are the only writers of those files. Each write replaces a file whole (a
temporary file and ``os.replace``), so a replica that reloads the directory never reads half
a file. The private key never needs to reach the gateway's operator: a partner can run
:func:`generate_key_pair` on its own side and send only the public JWKS.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from gateway.auth.keys import (
    PrivateKey,
    jwk_thumbprint,
    key_id,
    private_key_pem,
    public_jwk,
    public_key_from_jwk,
    write_secret_file,
)

Algorithm = Literal["EdDSA", "ES256"]
# JWK members that belong to a private key (RFC 7518 §6.2.2, §6.3.2; RFC 8037 §2): a JWKS
# carrying one of them leaks the partner's signing key and is refused, never stored.
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


class OnboardingError(ValueError):
    """A registration or revocation that was refused; the message says why."""


@dataclass(frozen=True)
class RegisteredKey:
    partner_id: str
    kid: str
    algorithm: str
    registered: str | None


def generate_key_pair(key_file: Path, *, algorithm: Algorithm = "EdDSA") -> tuple[str, Path]:
    """Write a new private key to ``key_file`` (0600, never overwritten) and the public JWKS
    beside it as ``<key_file stem>.jwks.json``; returns the key id and the JWKS path."""
    if key_file.exists():
        raise OnboardingError(f"{key_file} exists; a key file is never overwritten")
    private: PrivateKey = (
        ed25519.Ed25519PrivateKey.generate()
        if algorithm == "EdDSA"
        else ec.generate_private_key(ec.SECP256R1())
    )
    kid = key_id(private)
    jwks_file = key_file.with_name(f"{key_file.stem}.jwks.json")
    write_secret_file(key_file, private_key_pem(private))
    jwks = {"keys": [public_jwk(private, kid)]}
    _replace_file(jwks_file, json.dumps(jwks, indent=2) + "\n", mode=0o644)
    return kid, jwks_file


def register_keys(
    jwks_dir: Path, partner_id: str, jwks: dict[str, Any], *, known_partners: set[str]
) -> list[str]:
    """Add the JWKS's public keys to the partner's trusted keys; returns the new key ids.

    Keys already registered stay (rotation overlaps: both keys are valid until the old one
    is revoked). A key id that is the thumbprint of a different key is refused.
    """
    _check_partner(partner_id, known_partners)
    offered = jwks.get("keys") if isinstance(jwks, dict) else None
    if not isinstance(offered, list) or not offered:
        raise OnboardingError('not a JWKS: expected {"keys": [ ... ]} with at least one key')
    current = _read(jwks_dir, partner_id)
    by_kid = {jwk["kid"]: jwk for jwk in current}
    added: list[str] = []
    now = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    for jwk in offered:
        public = _public_member_only(jwk)
        kid = public["kid"]
        if kid in by_kid:
            if public_key_from_jwk(by_kid[kid]).key != public_key_from_jwk(public).key:
                raise OnboardingError(f"key id {kid!r} is already registered for another key")
            continue
        # JWK allows extra members, which verifiers ignore (RFC 7517 §4): when it was added.
        by_kid[kid] = {**public, "registered": now}
        added.append(kid)
    if added:
        _write(jwks_dir, partner_id, list(by_kid.values()))
    return added


def revoke_key(
    jwks_dir: Path, partner_id: str, kid: str, *, known_partners: set[str], allow_none: bool
) -> int:
    """Remove one key; returns how many keys the partner still has. Removing the last key
    (the partner can no longer call) needs ``allow_none``."""
    _check_partner(partner_id, known_partners)
    current = _read(jwks_dir, partner_id)
    remaining = [jwk for jwk in current if jwk.get("kid") != kid]
    if len(remaining) == len(current):
        raise OnboardingError(f"partner {partner_id!r} has no key {kid!r}")
    if not remaining and not allow_none:
        raise OnboardingError(
            f"{kid!r} is the last key of {partner_id!r}: revoking it stops every call from "
            "that partner; register its new key first, or pass --allow-none"
        )
    _write(jwks_dir, partner_id, remaining)
    return len(remaining)


def registered_keys(jwks_dir: Path, partner_ids: set[str]) -> dict[str, list[RegisteredKey]]:
    """Every partner of the covenants with its registered keys (an empty list: none yet)."""
    return {
        partner_id: [
            RegisteredKey(
                partner_id,
                jwk["kid"],
                public_key_from_jwk(jwk).algorithm,
                jwk.get("registered"),
            )
            for jwk in _read(jwks_dir, partner_id)
        ]
        for partner_id in sorted(partner_ids)
    }


def _check_partner(partner_id: str, known_partners: set[str]) -> None:
    # The covenant files are the one list of partners: a key for anyone else is never used.
    if partner_id not in known_partners:
        raise OnboardingError(
            f"{partner_id!r} is not a partner in any covenant; "
            f"known: {', '.join(sorted(known_partners))}"
        )


def _public_member_only(jwk: Any) -> dict[str, Any]:
    if not isinstance(jwk, dict):
        raise OnboardingError("each key in the JWKS must be a JSON object")
    leaked = sorted(_PRIVATE_MEMBERS & set(jwk))
    if leaked:
        raise OnboardingError(
            "this JWKS holds a private key (members " + ", ".join(leaked) + "); send only the "
            "public .jwks.json that keygen wrote, and treat the private key as compromised"
        )
    candidate = {name: value for name, value in jwk.items() if name != "registered"}
    candidate.setdefault("kid", "")
    try:
        parsed = public_key_from_jwk(candidate)
    except (ValueError, KeyError, TypeError) as exc:
        raise OnboardingError(f"unusable key: {exc}") from None
    thumbprint = jwk_thumbprint(candidate)
    if candidate["kid"] in ("", None):
        candidate["kid"] = thumbprint
    if not isinstance(candidate["kid"], str) or not 1 <= len(candidate["kid"]) <= 100:
        raise OnboardingError("a key id (kid) must be a string of 1 to 100 characters")
    candidate["alg"] = parsed.algorithm
    candidate["use"] = "sig"
    return candidate


def _path(jwks_dir: Path, partner_id: str) -> Path:
    return jwks_dir / f"{partner_id}.json"


def _read(jwks_dir: Path, partner_id: str) -> list[dict[str, Any]]:
    path = _path(jwks_dir, partner_id)
    if not path.exists():
        return []
    keys = json.loads(path.read_text()).get("keys", [])
    return [dict(jwk) for jwk in keys]


def _write(jwks_dir: Path, partner_id: str, keys: list[dict[str, Any]]) -> None:
    jwks_dir.mkdir(parents=True, exist_ok=True)
    path = _path(jwks_dir, partner_id)
    if not keys:
        path.unlink(missing_ok=True)
        return
    _replace_file(path, json.dumps({"keys": keys}, indent=2) + "\n", mode=0o644)


def _replace_file(path: Path, text: str, *, mode: int) -> None:
    staged = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(staged, path)
