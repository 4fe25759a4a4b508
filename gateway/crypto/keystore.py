"""Data keys: created per scope, wrapped by the KEK, cached unwrapped in memory (bounded).

The hot path of every field operation is a dictionary lookup here plus one AES-GCM call.
A data key created inside a caller's transaction only enters the shared cache once that
transaction commits, so a rolled-back key can never encrypt a value that outlives it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import event, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from gateway.crypto.errors import InvalidKeyScope, KeyProviderUnavailable, UndecryptableValue
from gateway.crypto.models import DataKey
from gateway.crypto.providers import KEY_BYTES, KeyProvider
from gateway.db import Unit, utcnow

log = logging.getLogger("ketenpoort.crypto")

SYSTEM_PREFIX = "system:"
BLIND_INDEX_SCOPE = "system:blind-index"
#: What the page cursors' key is derived with from the blind-index key (the index's own
#: messages start "ketenpoort.blind-index.v1|" and "ketenpoort.fingerprint.v1|").
CURSOR_KEY_LABEL = b"ketenpoort.cursor-key.v1"
_SCOPE_RE = re.compile(r"^[a-z][a-z0-9-]{0,30}:[A-Za-z0-9._:-]{1,160}$")
_PENDING = "ketenpoort.crypto.pending"
_LISTENING = "ketenpoort.crypto.listening"


AAD_CONTEXT = "kp.field.v1"
AAD_SEPARATOR = "\x1f"  # ASCII unit separator: never part of a scope, table, record id or field


@dataclass(frozen=True, slots=True)
class Erased:
    """A value whose data key was shredded: permanently unreadable, with when and why."""

    at: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class DataKeyHandle:
    """An unwrapped data key; ``key`` stays in process memory and is never logged."""

    id: int
    scope: str
    key: bytes
    cipher: AESGCM
    header: bytes  # ciphertext prefix: format byte and this key's id
    # The parts of every field's associated data that depend on this key alone, built once
    # (see gateway.crypto.fields.field_aad for the layout).
    aad_prefix: str
    aad_suffix: str

    @classmethod
    def of(cls, dek_id: int, scope: str, key: bytes) -> DataKeyHandle:
        if AAD_SEPARATOR in scope:
            raise InvalidKeyScope("A key scope may not contain \\x1f.")
        return cls(
            id=dek_id,
            scope=scope,
            key=key,
            cipher=AESGCM(key),
            header=_header(dek_id),
            aad_prefix=f"{AAD_CONTEXT}{AAD_SEPARATOR}{scope}{AAD_SEPARATOR}",
            aad_suffix=f"{AAD_SEPARATOR}{dek_id}",
        )


def _header(dek_id: int) -> bytes:
    """The ciphertext prefix naming a data key: format byte 1 and the key id (8 bytes)."""
    return b"\x01" + dek_id.to_bytes(8, "big")


@dataclass(slots=True)
class _Entry:
    dek_id: int
    scope: str
    handle: DataKeyHandle | None
    erased: Erased | None
    expires: float  # time.monotonic() after which the database is asked again


def validate_scope(scope: str, *, allow_system: bool = False) -> str:
    if not _SCOPE_RE.match(scope):
        raise InvalidKeyScope("A key scope looks like 'case:<id>' (kind, colon, identifier).")
    if scope.startswith(SYSTEM_PREFIX) and not allow_system:
        raise InvalidKeyScope("Scopes starting with 'system:' are reserved for the gateway.")
    return scope


def wrap_aad(scope: str) -> bytes:
    """A wrapped data key is bound to its scope, so it cannot be moved to another row."""
    return f"ketenpoort.dek.v1|{len(scope)}:{scope}".encode()


class DataKeyStore:
    """Finds, creates and unwraps data keys; caches unwrapped keys for ``ttl_seconds``.

    The cache is bounded (oldest entries go first). The TTL bounds how long another
    replica may still use a data key that this or another replica has shredded; shredding
    in this process evicts at once. Shredded keys are cached as erased for the TTL too, so
    a shred that rolls back heals itself.
    """

    def __init__(self, provider: KeyProvider, *, max_entries: int, ttl_seconds: float) -> None:
        self.provider = provider
        self.max_entries = max_entries
        self.ttl_seconds = ttl_seconds
        # The hot-path cache, read without the lock by FieldCipher (dict reads are atomic):
        # by ciphertext header (format byte + key id) for decryption, by scope for encryption.
        self.by_header: dict[bytes, _Entry] = {}
        self.by_scope: dict[str, _Entry] = {}
        # Gateway-internal keys (the blind-index key): never used for fields, never shredded.
        self._system: dict[str, DataKeyHandle] = {}
        self._cursor_key: bytes | None = None
        self._lock = threading.Lock()

    # -- hot path ------------------------------------------------------------------------

    def for_encrypt(self, session: Session, scope: str) -> DataKeyHandle:
        """The data key of ``scope``, created (wrapped by the active KEK) when it has none.

        Raises InvalidKeyScope when the scope was shredded (new data never goes into an
        erased dossier) or is malformed or reserved.
        """
        entry = self.by_scope.get(scope)
        if entry is not None and time.monotonic() < entry.expires:
            if entry.handle is not None:
                return entry.handle
            raise _shredded_scope_error()
        validate_scope(scope)
        pending = _pending(session).get(scope)
        if pending is not None:
            return pending
        return self._load_or_create(session, scope)

    def for_decrypt(self, session: Unit, dek_id: int) -> DataKeyHandle | Erased:
        entry = self.by_header.get(_header(dek_id))
        if entry is not None and time.monotonic() < entry.expires:
            return entry.handle if entry.handle is not None else _erased(entry)
        for handle in _pending(session).values():
            if handle.id == dek_id:
                return handle
        return self._load_by_id(session, dek_id)

    def system_key(self, session: Session, scope: str = BLIND_INDEX_SCOPE) -> bytes:
        """A gateway-internal key (the blind-index HMAC key), created on first use."""
        handle = self._system.get(scope)
        if handle is None:
            handle = _pending(session).get(scope) or self._load_or_create(session, scope)
        return handle.key

    def cursor_key(self, session: Session) -> bytes:
        """The key of the page cursors' MAC (gateway/core/pagination.py): derived from the
        blind-index key (HMAC over a label no index message starts with), so it is as managed
        as that key (wrapped by the KEK, one per database, the same in every replica) and no
        secret of its own has to be kept."""
        if self._cursor_key is not None:
            return self._cursor_key
        base = self.system_key(session, BLIND_INDEX_SCOPE)
        derived = hmac.new(base, CURSOR_KEY_LABEL, hashlib.sha256).digest()
        if BLIND_INDEX_SCOPE in self._system:  # kept once the key is committed, not before
            self._cursor_key = derived
        return derived

    # -- cache misses --------------------------------------------------------------------

    def _load_by_id(self, session: Unit, dek_id: int) -> DataKeyHandle | Erased:
        row = session.execute(_row_query().where(DataKey.id == dek_id)).one_or_none()
        if row is None or row.scope.startswith(SYSTEM_PREFIX):
            log.warning("rejected stored value: unknown data key %s", dek_id)
            raise UndecryptableValue("A stored value names a data key that does not exist.")
        return self._remember(self._open_row(session, row))

    def _load_or_create(self, session: Session, scope: str) -> DataKeyHandle:
        row = session.execute(_row_query().where(DataKey.scope == scope)).one_or_none()
        if row is None:
            validate_scope(scope, allow_system=scope == BLIND_INDEX_SCOPE)
            return self._create(session, scope)
        entry = self._remember(self._open_row(session, row))
        if isinstance(entry, Erased):
            raise _shredded_scope_error()
        return entry

    def _create(self, session: Session, scope: str) -> DataKeyHandle:
        key = os.urandom(KEY_BYTES)
        version = self.provider.active_version()
        wrapped = self.provider.wrap(version, key, wrap_aad(scope))
        values: dict[str, Any] = {
            "scope": scope,
            "kek_version": version,
            "wrapped_key": wrapped,
            "created_at": utcnow(),
        }
        insert = _insert_ignoring_duplicates(session, values)
        dek_id = session.execute(insert).scalar_one_or_none()
        if dek_id is None:
            # Another transaction created this scope's key first (PostgreSQL waits for it to
            # commit before reporting the conflict); use theirs.
            row = session.execute(_row_query().where(DataKey.scope == scope)).one()
            entry = self._remember(self._open_row(session, row))
            if isinstance(entry, Erased):
                raise _shredded_scope_error()
            return entry
        handle = DataKeyHandle.of(dek_id, scope, key)
        _add_pending(session, self, handle)
        return handle

    def _open_row(self, session: Unit, row: Any) -> _Entry:
        if row.wrapped_key is None:
            erased = Erased(at=row.shredded_at, reason=row.shred_reason or "")
            return _Entry(row.id, row.scope, None, erased, self._expiry())
        try:
            key = self.provider.unwrap(row.kek_version, row.wrapped_key, wrap_aad(row.scope))
        except KeyProviderUnavailable:
            # A rotation may have re-wrapped this key and retired its KEK between our read
            # and the unwrap; one fresh read settles it, a second failure is a real outage.
            fresh = session.execute(_row_query().where(DataKey.id == row.id)).one()
            if fresh.kek_version == row.kek_version or fresh.wrapped_key is None:
                raise
            return self._open_row(session, fresh)
        except UndecryptableValue:
            log.warning("data key %s failed to unwrap (tampered row or wrong KEK)", row.id)
            raise
        handle = DataKeyHandle.of(row.id, row.scope, key)
        return _Entry(row.id, row.scope, handle, None, self._expiry())

    def _remember(self, entry: _Entry) -> DataKeyHandle | Erased:
        with self._lock:
            self._store(entry)
        return entry.handle if entry.handle is not None else _erased(entry)

    def _expiry(self) -> float:
        return time.monotonic() + self.ttl_seconds

    def remember_committed(self, handle: DataKeyHandle) -> None:
        with self._lock:
            self._store(_Entry(handle.id, handle.scope, handle, None, self._expiry()))

    def _store(self, entry: _Entry) -> None:
        if entry.scope.startswith(SYSTEM_PREFIX):
            if entry.handle is not None:
                self._system[entry.scope] = entry.handle
            return
        header = _header(entry.dek_id)
        while len(self.by_header) >= self.max_entries and header not in self.by_header:
            oldest = next(iter(self.by_header))
            evicted = self.by_header.pop(oldest)
            if self.by_scope.get(evicted.scope) is evicted:
                del self.by_scope[evicted.scope]
        self.by_header[header] = entry
        self.by_scope[entry.scope] = entry

    # -- management ----------------------------------------------------------------------

    def forget(self, *, dek_id: int | None = None, scope: str | None = None) -> None:
        """Drop cached keys (after shredding) so this process stops using them at once."""
        with self._lock:
            if scope is not None:
                entry = self.by_scope.pop(scope, None)
                if entry is not None:
                    self.by_header.pop(_header(entry.dek_id), None)
            if dek_id is not None:
                self.by_header.pop(_header(dek_id), None)

    def clear(self) -> None:
        with self._lock:
            self.by_header.clear()
            self.by_scope.clear()

    def cached_count(self) -> int:
        return len(self.by_header)


def _erased(entry: _Entry) -> Erased:
    assert entry.erased is not None
    return entry.erased


def _shredded_scope_error() -> InvalidKeyScope:
    return InvalidKeyScope("This scope's data key was shredded; no new values can be stored.")


def _row_query() -> Any:
    return select(
        DataKey.id,
        DataKey.scope,
        DataKey.kek_version,
        DataKey.wrapped_key,
        DataKey.shredded_at,
        DataKey.shred_reason,
    )


def count_data_keys(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(DataKey)).scalar_one())


def _insert_ignoring_duplicates(session: Session, values: dict[str, Any]) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        pg = postgresql.insert(DataKey).values(**values)
        return pg.on_conflict_do_nothing(index_elements=["scope"]).returning(DataKey.id)
    if dialect == "sqlite":
        lite = sqlite.insert(DataKey).values(**values)
        return lite.on_conflict_do_nothing(index_elements=["scope"]).returning(DataKey.id)
    raise NotImplementedError(f"data keys are not supported on {dialect}")


# -- pending keys of an open transaction -------------------------------------------------


def _pending(session: Unit) -> dict[str, DataKeyHandle]:
    if not isinstance(session, Session):
        # Keys are created only in a Session (for_encrypt), which keeps them here until its
        # commit; a Core connection's ``info`` outlives its transaction (it belongs to the
        # pooled connection), so it never holds pending keys.
        return {}
    pending: dict[str, DataKeyHandle] | None = session.info.get(_PENDING)
    return pending if pending is not None else {}


def _add_pending(session: Session, store: DataKeyStore, handle: DataKeyHandle) -> None:
    pending: dict[str, DataKeyHandle] = session.info.setdefault(_PENDING, {})
    if not session.info.get(_LISTENING):
        session.info[_LISTENING] = True

        def publish(committed: Session) -> None:
            for key in committed.info.pop(_PENDING, {}).values():
                store.remember_committed(key)

        def discard(rolled_back: Session, _previous: Any) -> None:
            # Any rollback, even of a savepoint, may have undone the insert: forget the
            # pending keys; a later use reloads the row if it survived.
            rolled_back.info.pop(_PENDING, None)

        event.listen(session, "after_commit", publish)
        event.listen(session, "after_soft_rollback", discard)
    pending[handle.scope] = handle
