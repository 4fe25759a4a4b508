"""Database engine, the declarative base, one session per request, and migrations."""

from __future__ import annotations

import logging
import select
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event, exc
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

log = logging.getLogger("ketenpoort.db")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; use an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str, *, pool_size: int = 5, max_overflow: int = 10) -> Engine:
    """The pool sizes apply per process (each uvicorn worker has its own engine); the
    server passes ``Settings.db_pool_size`` and ``Settings.db_max_overflow``."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_engine(
        url, pool_size=pool_size, max_overflow=max_overflow, pool_recycle=POOL_RECYCLE_SECONDS
    )
    event.listen(engine, "checkin", _mark_checkin)
    event.listen(engine, "checkout", _check_alive)
    return engine


#: A pooled connection idle longer than this is pinged (one round trip) before it is used.
IDLE_PING_SECONDS = 10.0
#: Connections are replaced after this long (firewalls and proxies drop old ones silently).
POOL_RECYCLE_SECONDS = 1800


def _mark_checkin(_: Any, record: Any) -> None:
    record.info["checked_in"] = time.monotonic()


def _check_alive(dbapi_connection: Any, record: Any, _: Any) -> None:
    """Pessimistic disconnect handling without a round trip per checkout (``pool_pre_ping``
    pings every time: under load two extra round trips per request).

    An idle connection has nothing to read: a readable socket means the server closed it
    (a restart, ``pg_terminate_backend``, an idle timeout: PostgreSQL sends a FATAL and
    closes), so the connection is discarded and the pool hands out a fresh one. A connection
    that sat idle longer than ``IDLE_PING_SECONDS`` is pinged as well, for the drops that
    send nothing (a firewall's); a failing statement that is a disconnect invalidates its
    connection anyway (SQLAlchemy), and ``pool_recycle`` retires old connections."""
    try:
        readable, _w, _x = select.select([dbapi_connection.fileno()], [], [], 0)
    except (OSError, ValueError):
        readable = [True]  # closed or broken descriptor
    if readable:
        raise exc.DisconnectionError("the server closed the pooled connection")
    idle = time.monotonic() - record.info.get("checked_in", time.monotonic())
    if idle > IDLE_PING_SECONDS:
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            dbapi_connection.rollback()  # the ping's implicit transaction
        except Exception as error:  # the driver's disconnect error, whatever its class
            raise exc.DisconnectionError("the pooled connection does not answer") from error


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


@contextmanager
def transaction(factory: Callable[[], Session]) -> Iterator[Session]:
    """One unit of work: commits when the block ends, rolls back everything on an error.

    ``factory`` is a sessionmaker, or one bound to a given connection (``partial(factory,
    bind=connection)``)."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    return config


def upgrade_database(url: str, revision: str = "heads") -> None:
    """Bring the schema up to date; safe to run on every start and from several replicas."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def current_revisions(url: str) -> set[str]:
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return set(MigrationContext.configure(connection).get_current_heads())
    finally:
        engine.dispose()
