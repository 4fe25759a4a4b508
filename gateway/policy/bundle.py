"""Signed OPA bundles: build, pack, sign and verify.

The format is OPA's own (``.manifest``, ``data.json``, Rego modules, ``.signatures.json``
holding one JWT whose ``files`` claim lists a SHA-256 per file), so an OPA server
configured with the gateway's public key verifies the same bundle. JSON files are hashed
over their canonical form (keys sorted, no whitespace), as OPA does; other files over
their bytes. ES256 is used because OPA verifies RS*, PS*, ES* and HS*, not EdDSA.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
import tarfile
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from gateway.policy.compiler import (
    DATA_ROOT,
    canonical_json,
    compile_data,
    rego_modules,
)
from gateway.policy.covenant import Covenant
from gateway.policy.errors import BundleError

SIGNING_ALGORITHM = "ES256"
#: The key id in the signature; an OPA server must register the verification key under the
#: same id (docker-compose.yml: ``--verification-key-id=ketenpoort``).
KEY_ID = "ketenpoort"
#: Written by ``ketenpoort policy build`` into the volume the OPA server reads.
BUNDLE_FILE = "bundle.tar.gz"
#: The public key's file name: written once at install by ``ketenpoort policy public-key``
#: to where the bundle writer cannot change it (docker-compose.yml: the config
#: ``policy-bundle-verification-key``; Kubernetes: the ConfigMap of that name), never into
#: the bundle's volume: whoever writes the bundle could then replace the key with its own.
VERIFICATION_KEY_FILE = "bundle-verification.pem"
_STRUCTURED = frozenset({"data.json", ".manifest"})
_MAX_BUNDLE_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class Bundle:
    """A verified (or freshly built) bundle: what an engine loads."""

    revision: str
    modules: dict[str, str]
    data: dict[str, Any]
    files: dict[str, bytes] = field(repr=False)


# --- keys -------------------------------------------------------------------------------


def load_or_create_signing_key(path: Path) -> ec.EllipticCurvePrivateKey:
    """The gateway's bundle-signing key (P-256), created with 0600 permissions if absent."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        return key
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, ec.EllipticCurvePrivateKey):
        raise BundleError(f"{path.name} is not an EC private key")
    return loaded


def public_key_pem(key: ec.EllipticCurvePrivateKey) -> str:
    """PEM for OPA's ``keys.<id>.key`` (algorithm ES256)."""
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def default_key_path(data_dir: Path) -> Path:
    return data_dir / "keys" / "policy-bundle-es256.pem"


# --- hashing and signing ------------------------------------------------------------------


def _file_hash(name: str, content: bytes) -> str:
    if Path(name).name in _STRUCTURED:
        try:
            value = json.loads(content)
        except ValueError:
            raise BundleError(f"{name} is not valid JSON") from None
        content = canonical_json(value)
    return hashlib.sha256(content).hexdigest()


def _sign(files: Mapping[str, bytes], key: ec.EllipticCurvePrivateKey) -> bytes:
    claims = {
        "files": [
            {"name": name, "hash": _file_hash(name, content), "algorithm": "SHA-256"}
            for name, content in sorted(files.items())
        ],
        "keyid": KEY_ID,
    }
    token = jwt.encode(claims, key, algorithm=SIGNING_ALGORITHM, headers={"kid": KEY_ID})
    return json.dumps({"signatures": [token]}, indent=1).encode()


# --- build --------------------------------------------------------------------------------


def build_bundle(
    covenants: Mapping[str, Covenant],
    key: ec.EllipticCurvePrivateKey,
    modules: Mapping[str, str] | None = None,
) -> Bundle:
    """Compile covenants and Rego modules into a signed bundle (not yet packed)."""
    modules = dict(modules) if modules is not None else rego_modules()
    data = compile_data(covenants, modules)
    revision = str(data[DATA_ROOT]["revision"])
    manifest = {"revision": revision, "roots": [DATA_ROOT]}
    files: dict[str, bytes] = {
        ".manifest": json.dumps(manifest, indent=1).encode(),
        # Canonical (compact, sorted): the form its hash is taken over, and json's C encoder
        # (an indented dump takes the pure-Python one: 0.2 s of every start for ~0.5 MB).
        "data.json": canonical_json(data),
    }
    files.update({name: text.encode() for name, text in modules.items()})
    files[".signatures.json"] = _sign(files, key)
    return Bundle(revision=revision, modules=modules, data=data, files=files)


def pack(bundle: Bundle) -> bytes:
    """``bundle.tar.gz`` bytes; deterministic (fixed mtimes) so a revision packs the same."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(bundle.files):
            content = bundle.files[name]
            info = tarfile.TarInfo(name="/" + name)
            info.size = len(content)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(content))
    return gzip.compress(raw.getvalue(), mtime=0)


def _write_atomically(target: Path, content: bytes) -> None:
    """Write a temporary file of a name no other writer uses, then rename it over ``target``:
    readers see the old file or the new one, never part of one. A fixed temporary name was
    shared by every process writing to a shared data directory (replicas starting together,
    ``ketenpoort policy build``): one truncated another's file, or renamed it away before
    the other's rename, which then failed."""
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(name, 0o644)  # mkstemp makes 0600; an OPA sidecar may run as another user
        os.replace(name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)
        raise


def write_bundle(bundle: Bundle, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / BUNDLE_FILE
    _write_atomically(target, pack(bundle))
    return target


def write_verification_key(key: ec.EllipticCurvePrivateKey, target: Path) -> Path:
    """The public key (PEM) a reader, e.g. an OPA server, verifies the bundle with."""
    target.parent.mkdir(parents=True, exist_ok=True)
    _write_atomically(target, public_key_pem(key).encode())
    return target


# --- read and verify ----------------------------------------------------------------------


def _unpack(blob: bytes) -> dict[str, bytes]:
    try:
        raw = gzip.decompress(blob)
        if len(raw) > _MAX_BUNDLE_BYTES:
            raise BundleError("bundle too large")
        files: dict[str, bytes] = {}
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as tar:
            for member in tar.getmembers():
                if not member.isfile():
                    continue
                name = member.name.lstrip("/")
                extracted = tar.extractfile(member)
                if extracted is None or name in files:
                    raise BundleError(f"unreadable or duplicate file {name}")
                files[name] = extracted.read()
        return files
    except (OSError, EOFError, tarfile.TarError):
        raise BundleError("not a gzipped tar bundle") from None


def verify_files(files: Mapping[str, bytes], public_key: ec.EllipticCurvePublicKey) -> None:
    """Check the signature and that the signed file list matches the bundle exactly."""
    if ".signatures.json" not in files:
        raise BundleError("bundle is not signed (.signatures.json missing)")
    try:
        signatures = json.loads(files[".signatures.json"])["signatures"]
        if not isinstance(signatures, list) or len(signatures) != 1:
            raise BundleError("expected exactly one signature")
        claims = jwt.decode(signatures[0], public_key, algorithms=[SIGNING_ALGORITHM])
    except (ValueError, KeyError, TypeError, jwt.InvalidTokenError):
        raise BundleError("bundle signature does not verify") from None
    signed = {entry["name"].lstrip("/"): entry for entry in claims.get("files", [])}
    present = {name for name in files if name != ".signatures.json"}
    if set(signed) != present:
        raise BundleError("bundle files differ from the signed file list")
    for name in sorted(present):
        entry = signed[name]
        if entry.get("algorithm", "SHA-256") != "SHA-256":
            raise BundleError(f"unsupported hash algorithm for {name}")
        if entry["hash"] != _file_hash(name, files[name]):
            raise BundleError(f"{name} was modified after signing")


def read_bundle(blob: bytes, public_key: ec.EllipticCurvePublicKey) -> Bundle:
    """Unpack and verify a ``bundle.tar.gz``; raises :class:`BundleError` when refused."""
    files = _unpack(blob)
    verify_files(files, public_key)
    try:
        manifest = json.loads(files[".manifest"])
        data = json.loads(files["data.json"])
        revision = str(manifest["revision"])
    except (KeyError, ValueError):
        raise BundleError("bundle lacks a valid .manifest or data.json") from None
    if data.get(DATA_ROOT, {}).get("revision") != revision:
        raise BundleError("data revision does not match the manifest")
    modules = {name: files[name].decode() for name in files if name.endswith(".rego")}
    if not modules:
        raise BundleError("bundle holds no Rego modules")
    return Bundle(revision=revision, modules=modules, data=data, files=dict(files))


def gateway_bundle(covenant_dir: Path | None, data_dir: Path) -> Bundle:
    """The bundle a gateway with these settings loads at start, read back and verified.

    Built from the same covenant directory and Rego modules by the same compiler, so its
    content, hence its revision (a digest of the content), is the running gateway's. Raises
    :class:`~gateway.policy.errors.CovenantError` or :class:`BundleError`.
    """
    from gateway.policy.covenant import load_covenants

    key = load_or_create_signing_key(default_key_path(data_dir))
    bundle = build_bundle(load_covenants(covenant_dir), key)
    return read_bundle(pack(bundle), key.public_key())


def read_bundle_file(path: Path, data_dir: Path) -> Bundle:
    """A ``bundle.tar.gz`` verified with the gateway's key (the one in ``data_dir``)."""
    key_path = default_key_path(data_dir)
    if not key_path.exists():
        raise BundleError(f"no bundle signing key at {key_path}; cannot verify {path.name}")
    try:
        blob = path.read_bytes()
    except OSError as exc:
        raise BundleError(f"cannot read {path.name}: {exc.strerror}") from None
    return read_bundle(blob, load_or_create_signing_key(key_path).public_key())
