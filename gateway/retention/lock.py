"""The sweep lock: two replicas (or a replica and a cron job) never sweep at the same time.

PostgreSQL: a session-level advisory lock on a connection held for the whole run; if the
process dies, the server ends the session and the lock is released at once.
SQLite (one host, one file): a lock row with a lease. A row left by a crashed process is
taken over when its lease expired or when its holder's process on this host is gone.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, delete, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.db import is_outage, make_sessionmaker, transaction, utcnow
from gateway.retention.errors import SweepAlreadyRunning
from gateway.retention.models import RetentionLock

LOCK_NAME = "retention-sweep"
#: pg_advisory_lock key: the first 8 bytes of "ketenpoo" ("retention" namespace).
ADVISORY_KEY = 0x6B65_7465_6E72_6574 & 0x7FFF_FFFF_FFFF_FFFF


class SweepLock:
    def __init__(self, engine: Engine, *, lease_seconds: float = 900.0) -> None:
        self.engine = engine
        self.lease = timedelta(seconds=lease_seconds)
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._factory = make_sessionmaker(engine)

    @contextmanager
    def held(self) -> Iterator[SweepLock]:
        if self.engine.dialect.name == "postgresql":
            with self._advisory():
                yield self
            return
        self._acquire_row()
        try:
            yield self
        finally:
            self._release_row()

    def renew(self) -> None:
        """Extend the lease (SQLite); called after every batch. No-op on PostgreSQL."""
        if self.engine.dialect.name == "postgresql":
            return
        with transaction(self._factory) as session:
            session.execute(
                update(RetentionLock)
                .where(RetentionLock.name == LOCK_NAME, RetentionLock.holder == self.holder)
                .values(expires_at=utcnow() + self.lease)
            )

    @contextmanager
    def _advisory(self) -> Iterator[None]:
        with self.engine.connect() as connection:
            got = connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY}
            ).scalar_one()
            connection.commit()
            if not got:
                raise SweepAlreadyRunning("Another retention sweep is running.")
            try:
                yield
            finally:
                _unlock(connection)

    def _acquire_row(self) -> None:
        now = utcnow()
        try:
            with transaction(self._factory) as session:
                current = session.get(RetentionLock, LOCK_NAME)
                if current is not None:
                    if not _abandoned(current, now):
                        raise SweepAlreadyRunning("Another retention sweep is running.")
                    session.delete(current)
                    session.flush()
                session.add(
                    RetentionLock(
                        name=LOCK_NAME,
                        holder=self.holder,
                        host=socket.gethostname(),
                        pid=os.getpid(),
                        acquired_at=now,
                        expires_at=now + self.lease,
                    )
                )
        except IntegrityError:
            raise SweepAlreadyRunning("Another retention sweep is running.") from None

    def _release_row(self) -> None:
        with transaction(self._factory) as session:
            session.execute(
                delete(RetentionLock).where(
                    RetentionLock.name == LOCK_NAME, RetentionLock.holder == self.holder
                )
            )


def _unlock(connection: Connection) -> None:
    """Release the advisory lock. When the database dropped the connection (an outage, say a
    restart), the server ended the session and released its locks with it: the connection is
    discarded, and the error that ended the run stays the one raised, not this one's."""
    try:
        connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
        connection.commit()
    except Exception as error:
        if not is_outage(error):
            raise
        if not connection.invalidated:
            connection.invalidate(error)


def _abandoned(row: RetentionLock, now: datetime) -> bool:
    if row.expires_at <= now:
        return True
    if row.host == socket.gethostname() and row.pid != os.getpid():
        return not _alive(row.pid)
    return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def lock_holder(session: Session) -> str | None:
    """Who holds the SQLite lock row, for status output (None on PostgreSQL or when free)."""
    return session.scalar(select(RetentionLock.holder).where(RetentionLock.name == LOCK_NAME))
