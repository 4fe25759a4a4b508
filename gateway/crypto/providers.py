"""Key providers: where the key-encryption keys (KEKs) live.

A provider only ever sees data keys going in and out of a wrap; it never sees field values.
Each KEK has an integer version; the highest version wraps new data keys, older versions
still unwrap until they are retired (``ketenpoort keys rotate`` then ``keys retire``).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import tempfile
import threading
import time
from abc import ABC, abstractmethod
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from gateway.crypto.errors import KeyProviderUnavailable, UndecryptableValue

log = logging.getLogger("ketenpoort.crypto")

NONCE_BYTES = 12
KEY_BYTES = 32
_PROBE_AAD = b"ketenpoort.kek-probe"


class KeyProvider(ABC):
    """Holds the KEK versions and wraps/unwraps data keys with them (AES-256-GCM).

    Every method raises :class:`KeyProviderUnavailable` when the KEK cannot be used.
    ``unwrap`` raises :class:`UndecryptableValue` when the wrapped key or its associated
    data does not verify: a tampered row fails closed, it is never "repaired".
    """

    name: str = "abstract"

    @abstractmethod
    def versions(self) -> list[int]:
        """The KEK versions the provider holds, ascending."""

    @abstractmethod
    def create_version(self) -> int:
        """Create a new KEK version, which becomes the active one; returns it."""

    @abstractmethod
    def destroy_version(self, version: int) -> None:
        """Destroy a KEK version for good (data keys it wrapped become unreadable)."""

    @abstractmethod
    def wrap(self, version: int, key: bytes, aad: bytes) -> bytes:
        """Encrypt a data key under KEK ``version``, bound to ``aad``."""

    @abstractmethod
    def unwrap(self, version: int, wrapped: bytes, aad: bytes) -> bytes:
        """Decrypt a data key wrapped under KEK ``version`` with the same ``aad``."""

    def active_version(self) -> int:
        versions = self.versions()
        if not versions:
            raise KeyProviderUnavailable(f"The {self.name} key provider holds no KEK.")
        return versions[-1]

    def check(self) -> str | None:
        """Readiness: None when the active KEK wraps and unwraps, else a short reason."""
        try:
            version = self.active_version()
            probe = os.urandom(KEY_BYTES)
            if self.unwrap(version, self.wrap(version, probe, _PROBE_AAD), _PROBE_AAD) != probe:
                return "KEK round trip mismatch"
        except (KeyProviderUnavailable, UndecryptableValue) as exc:
            return exc.detail
        return None

    def create_if_missing(self) -> bool:
        """Create KEK version 1 when the provider holds none (first start only)."""
        return False

    def close(self) -> None:  # noqa: B027 - optional hook; most providers hold nothing
        """Release sessions or handles; the default holds none."""


def aesgcm_wrap(kek: AESGCM, key: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + kek.encrypt(nonce, key, aad)


def aesgcm_unwrap(kek: AESGCM, wrapped: bytes, aad: bytes) -> bytes:
    try:
        return kek.decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], aad)
    except InvalidTag:
        raise UndecryptableValue("A wrapped data key failed its integrity check.") from None


class LocalKeyFileProvider(KeyProvider):
    """KEKs in one JSON file (mode 0600) in the data directory: the embedded default.

    The file is created at first start only (``create_if_missing``): once data keys exist,
    a missing file means the KEK is gone, and silently making a new one would orphan every
    stored value, so the provider reports unavailable instead.
    The file is re-read when it changes on disk, so a rotation run by ``ketenpoort keys
    rotate`` in another process is seen by a running server.
    """

    name = "local"
    FORMAT = "ketenpoort-kek/1"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._keys: dict[int, AESGCM] = {}
        self._stamp: tuple[int, int] | None = None

    def create_if_missing(self) -> bool:
        """Create the key file with a first KEK version; True when it was created.

        Exclusive across processes (every worker of every replica sharing the key volume
        runs this at its first start): the complete file is linked into place, which fails
        when the file exists, so exactly one is created and the others read it. A check and
        a replace let the last writer win, after an earlier worker had read its own key
        (review9c F4). Where the filesystem has no hard links (SMB and Azure Files, some
        FUSE mounts: EPERM, ENOTSUP, ...) the file is created exclusively in place instead
        (review10 F6: the start died with a traceback); any other failure is a
        :class:`KeyProviderUnavailable` in one line."""
        with self._lock:
            if not self.path.exists() and self._create_first():
                self._stamp = None  # read afresh
                log.info("created local KEK file %s (version 1)", self.path)
                return True
            self._await_complete()
            return False

    def _create_first(self) -> bool:
        """The file with KEK version 1, unless it exists; True when this call made it."""
        document = self._serialised({1: os.urandom(KEY_BYTES)}, {1: _now()})
        try:
            tmp = self._written_aside(document)
        except OSError as exc:
            raise _unwritable(exc) from None
        try:
            os.link(tmp, self.path)
        except FileExistsError:
            return False
        except OSError:
            return self._create_in_place(document)
        finally:
            tmp.unlink(missing_ok=True)
        return True

    def _create_in_place(self, document: bytes) -> bool:
        """Where a link cannot be made: O_EXCL still lets one process create the file, which
        the others may see before its content is written (:meth:`_await_complete`). A failed
        write leaves the file as it is, for an operator to look at: another worker may have
        read it whole already, so removing it could lose a KEK in use."""
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return False
        except OSError as exc:
            raise _unwritable(exc) from None
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(document)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise _unwritable(exc) from None
        return True

    def _await_complete(self) -> None:
        """Wait (briefly) while the key file does not parse: a worker that created it in place
        may not have written it yet. A file still incomplete after that is reported by the
        readers (malformed)."""
        for _ in range(_COMPLETE_POLLS):
            try:
                json.loads(self.path.read_bytes())
                return
            except OSError:
                return  # missing or unreadable: the readers say so
            except ValueError:
                time.sleep(_COMPLETE_POLL_SECONDS)

    def versions(self) -> list[int]:
        with self._lock:
            return sorted(self._load())

    def create_version(self) -> int:
        with self._lock:
            keys, created = self._read_raw()
            version = max(keys, default=0) + 1
            keys[version] = os.urandom(KEY_BYTES)
            created[version] = _now()
            self._write(keys, created)
            return version

    def destroy_version(self, version: int) -> None:
        with self._lock:
            keys, created = self._read_raw()
            if version not in keys:
                return
            if len(keys) == 1:
                raise KeyProviderUnavailable("Refusing to destroy the only KEK version.")
            del keys[version]
            created.pop(version, None)
            self._write(keys, created)

    def wrap(self, version: int, key: bytes, aad: bytes) -> bytes:
        return aesgcm_wrap(self._kek(version), key, aad)

    def unwrap(self, version: int, wrapped: bytes, aad: bytes) -> bytes:
        return aesgcm_unwrap(self._kek(version), wrapped, aad)

    def _kek(self, version: int) -> AESGCM:
        with self._lock:
            kek = self._load().get(version)
        if kek is None:
            raise KeyProviderUnavailable(f"KEK version {version} is not in the local key file.")
        return kek

    def _load(self) -> dict[int, AESGCM]:
        try:
            stat = self.path.stat()
        except OSError:
            self._keys, self._stamp = {}, None
            raise KeyProviderUnavailable("The local KEK file is missing or unreadable.") from None
        stamp = (stat.st_mtime_ns, stat.st_ino)
        if stamp != self._stamp:
            keys, _ = self._read_raw()
            self._keys = {version: AESGCM(key) for version, key in keys.items()}
            self._stamp = stamp
        return self._keys

    def _read_raw(self) -> tuple[dict[int, bytes], dict[int, str]]:
        try:
            document: dict[str, Any] = json.loads(self.path.read_bytes())
            if document.get("format") != self.FORMAT:
                raise ValueError("unknown format")
            entries: dict[str, dict[str, str]] = document["versions"]
            keys = {int(v): base64.b64decode(e["key"], validate=True) for v, e in entries.items()}
            created = {int(v): e.get("createdAt", "") for v, e in entries.items()}
        except OSError:
            raise KeyProviderUnavailable("The local KEK file is missing or unreadable.") from None
        except (ValueError, KeyError, TypeError):
            raise KeyProviderUnavailable("The local KEK file is malformed.") from None
        if any(len(key) != KEY_BYTES for key in keys.values()):
            raise KeyProviderUnavailable("The local KEK file holds a key of the wrong size.")
        return keys, created

    def _write(self, keys: dict[int, bytes], created: dict[int, str]) -> None:
        tmp = self._written_aside(self._serialised(keys, created))
        try:
            # The rename is atomic, so a reader never sees half a key file.
            os.replace(tmp, self.path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def _serialised(self, keys: dict[int, bytes], created: dict[int, str]) -> bytes:
        document = {
            "format": self.FORMAT,
            "versions": {
                str(v): {"key": base64.b64encode(k).decode(), "createdAt": created.get(v, "")}
                for v, k in sorted(keys.items())
            },
        }
        return json.dumps(document, indent=2).encode()

    def _written_aside(self, document: bytes) -> Path:
        """The complete key file, written and synced under a temporary name beside it."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # mkstemp creates the file 0600 before a byte is written.
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".kek-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(document)
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return Path(tmp)


#: How long a worker waits for the key file another one created in place: 2 s.
_COMPLETE_POLLS = 40
_COMPLETE_POLL_SECONDS = 0.05


def _unwritable(exc: OSError) -> KeyProviderUnavailable:
    # The OS's reason only (strerror): the path is in the configuration, not a secret, but a
    # problem detail says what went wrong, not where.
    return KeyProviderUnavailable(
        f"The local KEK file could not be created: {exc.strerror or type(exc).__name__}."
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
