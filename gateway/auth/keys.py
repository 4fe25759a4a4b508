"""Partner public keys (JWKS per partner) and the development issuer's key pairs."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

# Only asymmetric algorithms whose key type pins the algorithm: an HMAC or RSA token can
# never be verified with one of these keys, which rules out key-confusion attacks.
ACCEPTED_ALGORITHMS = ("EdDSA", "ES256")

_log = logging.getLogger(__name__)

PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey
PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey


@dataclass(frozen=True, slots=True)
class PartnerKey:
    kid: str
    algorithm: str
    key: PublicKey


class TrustStore:
    """The public keys of each partner, by key id.

    Keys come from JWKS directories (one ``<partner-id>.json`` each, written by
    ``ketenpoort partners register``) and, in tests, from :meth:`add_jwks`. The directories
    are looked at again at most every ``refresh_seconds``: a key registered or revoked on the
    shared volume takes effect on every replica within that time, without a restart, so a
    partner's key rotation can overlap (old and new key both valid) and a revocation is not
    held up by a deployment.
    """

    def __init__(
        self, *, refresh_seconds: float = 5.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._keys: dict[str, dict[str, PartnerKey]] = {}
        self._added: dict[str, dict[str, PartnerKey]] = {}
        self._sources: list[tuple[Path, frozenset[str]]] = []
        self._stamp: tuple[tuple[str, int, int], ...] = ()
        self._refresh_seconds = refresh_seconds
        self._clock = clock
        self._next_check = clock() + refresh_seconds

    def add_jwks(self, partner_id: str, jwks: dict[str, Any]) -> None:
        for jwk in jwks.get("keys", []):
            key = public_key_from_jwk(jwk)
            self._added.setdefault(partner_id, {})[jwk["kid"]] = key
            self._keys.setdefault(partner_id, {})[jwk["kid"]] = key

    def load_dir(self, directory: Path, partner_ids: set[str]) -> None:
        """Trust the JWKS files in ``directory`` of these partners (a file that does not
        parse stops the start: a gateway must not come up with a partner's keys missing)."""
        self._sources.append((directory, frozenset(partner_ids)))
        self._stamp = self._source_stamp()
        self._keys = self._read_sources()

    def has_partner(self, partner_id: str) -> bool:
        return partner_id in self._keys

    def key(self, partner_id: str, kid: str) -> PartnerKey | None:
        if self._sources and self._clock() >= self._next_check:
            self._refresh()
        return self._keys.get(partner_id, {}).get(kid)

    def _refresh(self) -> None:
        self._next_check = self._clock() + self._refresh_seconds
        stamp = self._source_stamp()
        if stamp == self._stamp:
            return
        try:
            keys = self._read_sources()
        except (OSError, ValueError, KeyError):
            # Registration replaces files whole, so this is an operator's hand edit: keep
            # the keys in force and look again at the next interval.
            _log.exception("partner JWKS directory unreadable; keeping the keys loaded before")
            return
        self._keys, self._stamp = keys, stamp

    def _source_stamp(self) -> tuple[tuple[str, int, int], ...]:
        entries: list[tuple[str, int, int]] = []
        for directory, partner_ids in self._sources:
            for path in _jwks_files(directory, partner_ids):
                try:
                    status = path.stat()
                except FileNotFoundError:
                    continue
                entries.append((str(path), status.st_mtime_ns, status.st_size))
        return tuple(entries)

    def _read_sources(self) -> dict[str, dict[str, PartnerKey]]:
        keys: dict[str, dict[str, PartnerKey]] = {
            partner: dict(by_kid) for partner, by_kid in self._added.items()
        }
        for directory, partner_ids in self._sources:
            for path in _jwks_files(directory, partner_ids):
                for jwk in json.loads(path.read_text()).get("keys", []):
                    keys.setdefault(path.stem, {})[jwk["kid"]] = public_key_from_jwk(jwk)
        return keys


def _jwks_files(directory: Path, partner_ids: frozenset[str]) -> list[Path]:
    if not directory.is_dir():
        return []
    return [path for path in sorted(directory.glob("*.json")) if path.stem in partner_ids]


def public_key_from_jwk(jwk: dict[str, Any]) -> PartnerKey:
    kty, crv = jwk.get("kty"), jwk.get("crv")
    if kty == "OKP" and crv == "Ed25519":
        okp = jwt.algorithms.OKPAlgorithm.from_jwk(jwk)
        if isinstance(okp, ed25519.Ed25519PublicKey):
            return PartnerKey(jwk["kid"], "EdDSA", okp)
    if kty == "EC" and crv == "P-256":
        curve = jwt.algorithms.ECAlgorithm.from_jwk(jwk)
        if isinstance(curve, ec.EllipticCurvePublicKey):
            return PartnerKey(jwk["kid"], "ES256", curve)
    raise ValueError(f"unsupported public JWK (kty={kty}, crv={crv}); use Ed25519 or P-256")


def public_jwk(private_key: PrivateKey, kid: str) -> dict[str, Any]:
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(private_key.public_key()))
        jwk["alg"] = "EdDSA"
    else:
        jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private_key.public_key()))
        jwk["alg"] = "ES256"
    jwk.update({"kid": kid, "use": "sig"})
    return dict(jwk)


def key_id(private_key: PrivateKey) -> str:
    """RFC 7638 thumbprint of the public key, so a kid is derived, never chosen."""
    return jwk_thumbprint(public_jwk(private_key, kid=""))


def jwk_thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 §3: SHA-256 over the required members of the public JWK, sorted, no spaces."""
    members = ("crv", "kty", "x") if jwk["kty"] == "OKP" else ("crv", "kty", "x", "y")
    canonical = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True)
    digest = hashlib.sha256(canonical.encode()).digest()
    return jwt.utils.base64url_encode(digest).decode()


def write_secret_file(path: Path, data: bytes) -> None:
    """Create a file readable by the owner only; the mode is set before any byte is written."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def load_private_key(path: Path) -> PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey):
        raise ValueError(f"{path}: only Ed25519 or P-256 keys can sign partner tokens")
    return key


def algorithm_for(private_key: PrivateKey) -> str:
    return "EdDSA" if isinstance(private_key, ed25519.Ed25519PrivateKey) else "ES256"


def private_key_pem(private_key: PrivateKey) -> bytes:
    return private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
