"""Database engine, the declarative base, one session per request, and migrations."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import select as selectors
import time
from collections import namedtuple
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import (
    Connection,
    DateTime,
    Engine,
    MetaData,
    String,
    any_,
    bindparam,
    create_engine,
    event,
    exc,
    func,
    select,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.sql import ColumnElement
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


#: How long a statement waits for SQLite's write lock before it fails (and the request
#: answers 503, tests/core/test_database_outage_sqlite.py).
SQLITE_BUSY_TIMEOUT_MS = 10_000


def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_MS)}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str, *, pool_size: int = 5, max_overflow: int = 10) -> Engine:
    """The pool sizes apply per process (each uvicorn worker has its own engine); the
    server passes ``Settings.db_pool_size`` and ``Settings.db_max_overflow``.

    ``hide_parameters``: a statement's parameters are personal data more often than not (a
    token's subject, a blind index, a case's fields), and SQLAlchemy puts them in the text of
    every error it raises, which ends up in logs and tracebacks."""
    if url.startswith("sqlite"):
        _owner_only_sqlite_file(url)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_recycle=POOL_RECYCLE_SECONDS,
        hide_parameters=True,
    )
    event.listen(engine, "checkin", _mark_checkin)
    event.listen(engine, "checkout", _check_alive)
    return engine


def _owner_only_sqlite_file(url: str) -> None:
    """Create the SQLite file 0600 before SQLite does (it would follow the umask: 0644,
    readable by every local user, while the keys beside it are 0600); its -wal and -shm
    files take the database file's mode. An existing file is narrowed to 0600."""
    from sqlalchemy.engine import make_url

    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    # Only when it does not exist yet: opening and closing a descriptor of a database file this
    # process already has open in SQLite drops all of the process's POSIX locks on it (SQLite's
    # "How To Corrupt" §2.2): its readers then saw stale data and "disk I/O error".
    if not path.exists():
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
    for companion in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if companion.exists() and companion.stat().st_mode & 0o077:
            companion.chmod(0o600)


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
        readable, _w, _x = selectors.select([dbapi_connection.fileno()], [], [], 0)
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


def is_outage(error: BaseException) -> bool:
    """Whether ``error`` means the database is unreachable or dropped the connection (as
    opposed to a statement it refused): the request may be retried once it is back.

    SQLAlchemy raises ``OperationalError`` for refused connections and most disconnects,
    marks any error that invalidated its connection, and ``TimeoutError`` when the pool had
    no connection to give; raw driver calls (the audit append, COPY) raise psycopg's own
    ``OperationalError``/``InterfaceError`` (a closed connection)."""
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, _OUTAGES)


_OUTAGES = (
    exc.OperationalError,
    exc.InterfaceError,
    exc.DisconnectionError,
    exc.TimeoutError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
)


def invalidate_if_disconnected(connection: Connection, error: BaseException) -> None:
    """After a raw driver call on ``connection`` failed with ``error``: when it was a
    disconnect, tell SQLAlchemy, so the rollback that follows does not talk to a dead
    socket (it would raise and mask the real error) and the pool discards the connection."""
    dbapi = connection.dialect.loaded_dbapi
    if not isinstance(error, dbapi.Error) or connection.invalidated:
        return
    raw = connection.connection.driver_connection
    if connection.dialect.is_disconnect(error, raw, None):
        connection.invalidate(error)


def driver_rows(session: Session, statement: str, params: dict[str, Any]) -> list[Any]:
    """The rows of ``statement`` (``%(name)s`` parameters) as the driver returns them, on the
    session's own connection, in its transaction: for reads of tens of thousands of rows,
    where a SQLAlchemy result row cost twice the driver's tuple (measured, the retention
    sweep). A disconnect is told to SQLAlchemy (:func:`invalidate_if_disconnected`), as its
    own statements do, so the rollback that follows neither talks to the dead socket nor
    masks the outage with its own error."""
    connection = session.connection()
    raw = connection.connection.driver_connection
    if not isinstance(raw, psycopg.Connection):
        raise TypeError("driver_rows needs a psycopg connection")
    try:
        return list(raw.execute(statement, params).fetchall())
    except psycopg.Error as error:
        invalidate_if_disconnected(connection, error)
        raise


def among(bind: Session | Connection, column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """``column IN values`` for any number of values, as one bound parameter.

    An ``IN`` list binds one parameter per value, and both databases cap the number of
    parameters in a statement (PostgreSQL's protocol at 65,535, SQLite at 32,766): a
    statement over more ids fails, and keeps failing every time it is retried. PostgreSQL
    gets ``= ANY(:array)``; SQLite ``IN (SELECT value FROM json_each(:json))``. One array
    parameter is also cheaper to convert than thousands of scalars."""
    listed = list(values)
    dialect = bind.get_bind().dialect if isinstance(bind, Session) else bind.dialect
    if dialect.name == "postgresql":
        return column == any_(bindparam(None, listed, type_=postgresql.ARRAY(String)))  # type: ignore[no-any-return]
    each = func.json_each(bindparam(None, json.dumps(listed), type_=String)).table_valued("value")
    return column.in_(select(each.c.value))  # type: ignore[no-any-return]


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


#: What a unit of work's statements run on: an ORM ``Session`` (:func:`transaction`, every
#: route that writes ORM objects) or a Core ``Connection`` inside its transaction (the
#: mediated read's unit, ``gateway.auth.deps.authenticated_unit``: its statements need no
#: unit of work, identity map or session events, and a Session's own bookkeeping, begin to
#: close, cost ~60 µs of CPU per transaction against ~17 µs for the Connection's).
Unit = Session | Connection


def unit_connection(unit: Unit) -> Connection:
    """The Core connection ``unit``'s statements run on, inside its transaction."""
    return unit.connection() if isinstance(unit, Session) else unit


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


_HOT_CURSOR = "ketenpoort.hot_cursor"


def hot_cursor(connection: Connection) -> psycopg.Cursor[Any]:
    """The one psycopg cursor of ``connection``'s driver connection for the hot statements
    (:class:`HotStatement`, the audit append), kept with the pooled connection and reused by
    every checkout of it.

    A cursor made per statement costs the read more than making it: a fresh cursor starts
    with an empty cache of the loaders of the result's types and the dumpers of the
    parameters' types, which psycopg then works out again on each statement (measured in
    process: about 7 µs of client CPU per statement, the same messages and round trips;
    docs/performance.md, "Issue 20: one token load, one cursor").
    Kept in the pool record's ``info`` (cleared when SQLAlchemy invalidates or closes the
    connection) and checked against the driver connection it belongs to, so a cursor never
    outlives its connection or serves another. One thread at a time uses a checked-out
    connection, so its cursor too. The cursor keeps its last result (the statement's rows:
    sealed values and keyed hashes, never a decrypted one) until the connection's next hot
    statement; nothing is decrypted into it."""
    fairy = connection.connection
    raw = fairy.driver_connection
    info = fairy.info
    cursor = info.get(_HOT_CURSOR)
    if cursor is None or cursor.connection is not raw or cursor.closed:
        if not isinstance(raw, psycopg.Connection):
            raise TypeError("hot_cursor needs a psycopg connection")
        cursor = info[_HOT_CURSOR] = raw.cursor()
    return cursor


class HotStatement:
    """A Core statement for the mediated read's hot path: compiled once per dialect and run
    straight on the DBAPI cursor of the caller's connection, inside its transaction.

    SQLAlchemy's execution and result layers (execution context, events, result metadata,
    ``Row`` objects; for ORM statements the entities too) cost about as much client CPU as
    the statement itself. Here the SQL string, the bind and result processors of each
    column's type are worked out once; a call converts the parameters, executes, and
    applies the processors (so values are exactly what SQLAlchemy would return: aware UTC
    datetimes, decoded JSON). Driver errors are raised as SQLAlchemy's ``DBAPIError``, and a
    disconnect invalidates the connection, as ``Connection.execute`` does. No ORM events or
    ``before_cursor_execute`` hooks run: only for statements that need none.
    """

    def __init__(self, statement: Any) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}
        columns = getattr(statement, "selected_columns", ())
        #: Rows are named tuples: ``row.case_id`` as on a SQLAlchemy ``Row``.
        self.row_type: Any = namedtuple("HotRow", [c.key for c in columns], rename=True)  # type: ignore[misc]

    def rows(self, connection: Connection, params: dict[str, Any]) -> list[Any]:
        """The result rows, as named tuples of the statement's columns."""
        compiled = self._for(connection.dialect)
        fetched = self._run(connection, compiled, params, fetch=True)
        processors = compiled.result_processors
        make = self.row_type._make
        if not any(processors):
            return [make(row) for row in fetched]
        return [
            make(value if p is None else p(value) for p, value in zip(processors, row, strict=True))
            for row in fetched
        ]

    def execute(self, connection: Connection, params: dict[str, Any]) -> None:
        """Run a statement that returns nothing (an ``INSERT``)."""
        self._run(connection, self._for(connection.dialect), params, fetch=False)

    def compiled(self, dialect: Any) -> _Compiled:
        """The statement's SQL for ``dialect``, with its parameter order and processors."""
        return self._for(dialect)

    def _for(self, dialect: Any) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            found = self._compiled[dialect.name] = _Compiled(self.statement, dialect)
        return found

    @staticmethod
    def _run(
        connection: Connection, compiled: _Compiled, params: dict[str, Any], *, fetch: bool
    ) -> list[Any]:
        values = compiled.parameters(params)
        if not connection.in_transaction():
            connection.begin()  # as ``Connection.execute`` autobegins: rollback() reaches it
        dbapi_connection = connection.connection.driver_connection
        assert dbapi_connection is not None  # checked out, so live
        try:
            if isinstance(dbapi_connection, psycopg.Connection):
                cursor = hot_cursor(connection)
                cursor.execute(compiled.sql, values)
                return cursor.fetchall() if fetch else []
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute(compiled.sql, values)
                return list(cursor.fetchall()) if fetch else []
            finally:
                cursor.close()
        except connection.dialect.loaded_dbapi.Error as error:
            disconnected = connection.dialect.is_disconnect(error, dbapi_connection, None)
            if disconnected:
                connection.invalidate(error)
            raise exc.DBAPIError.instance(
                compiled.sql,
                None,
                error,
                connection.dialect.loaded_dbapi.Error,
                connection_invalidated=disconnected,
                dialect=connection.dialect,
            ) from error


class _Compiled:
    """A statement's SQL for one dialect, its parameter order, literals and type processors."""

    def __init__(self, statement: Any, dialect: Any) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql: str = compiled.string
        self.positional: tuple[str, ...] | None = (
            tuple(compiled.positiontup) if compiled.positional else None
        )
        #: Values the statement carries itself (``literal("bsn")``, a ``LIMIT``).
        self.literals: dict[str, Any] = {
            name: value for name, value in compiled.params.items() if value is not None
        }
        self.bind_processors: dict[str, Callable[[Any], Any]] = {}
        for name, bind in compiled.binds.items():
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self.bind_processors[name] = processor
        columns = getattr(statement, "selected_columns", ())
        self.result_processors: list[Callable[[Any], Any] | None] = [
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
        ]

    def parameters(self, params: dict[str, Any]) -> Any:
        values = {**self.literals, **params}
        for name, processor in self.bind_processors.items():
            if name in values:
                values[name] = processor(values[name])
        if self.positional is None:
            return values
        return tuple(values[name] for name in self.positional)


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
    """The database's alembic revisions (empty: no schema); an unreachable database is a
    :class:`~gateway.config.StartRefused` naming it (review9c F6)."""
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(url)
    try:
        with connect_or_refuse(engine, url) as connection:
            return set(MigrationContext.configure(connection).get_current_heads())
    finally:
        engine.dispose()


def safe_url(url: str) -> str:
    """The database URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@contextmanager
def connect_or_refuse(engine: Engine, url: str) -> Iterator[Connection]:
    """A connection of ``engine``; when the database cannot be reached, one line naming it
    (the URL without its password, and the driver's first line: host, port and why) as a
    :class:`~gateway.config.StartRefused` instead of a traceback of hundreds of lines
    (review9c F6). Only the connect is translated: a statement's own error stays itself."""
    from gateway.config import StartRefused

    try:
        connection = engine.connect()
    except (exc.OperationalError, exc.InterfaceError) as error:
        raise StartRefused(unreachable_message(url, error)) from None
    with connection:
        yield connection


def unreachable_message(url: str, error: BaseException) -> str:
    """``cannot reach the database <url without password>: <the driver's first line>``."""
    from sqlalchemy.engine import make_url

    cause = getattr(error, "orig", None) or error
    lines = str(cause).strip().splitlines()
    reason = " ".join(lines[0].split()) if lines else type(cause).__name__
    password = make_url(url).password
    if password:  # never echoed, even where a driver quotes its connection string
        reason = reason.replace(str(password), "***")
    return f"cannot reach the database {safe_url(url)}: {reason}"


@dataclass(frozen=True)
class SchemaScript:
    """This code's migrations: the revision the schema must be at (the single head) and
    every revision it knows (older ones are behind it, any other is a newer release's)."""

    heads: frozenset[str]
    known: frozenset[str]

    def head_text(self) -> str:
        return ", ".join(sorted(self.heads))


@functools.cache
def schema_script() -> SchemaScript:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return SchemaScript(
        heads=frozenset(script.get_heads()),
        known=frozenset(revision.revision for revision in script.walk_revisions()),
    )


def schema_problem(url: str, current: set[str], script: SchemaScript) -> str | None:
    """Why this code must not run on a database at ``current``, or None (at the head).

    Code on an older schema fails at its first statement on a table or column a newer
    migration adds (a 500 while readiness said ok, review9c F1); code on a newer release's
    schema may write what that schema forbids (0046's NOT NULL column). Both are refused at
    start, in one line."""
    if current == script.heads:
        return None
    where = safe_url(url)
    if not current:
        return (
            f"the database {where} has no schema yet: run 'ketenpoort db upgrade' first (or "
            "set KETENPOORT_AUTO_MIGRATE=true) (docs/operations.md)"
        )
    at = ", ".join(sorted(current))
    if current - script.known:
        return (
            f"the database {where} is at schema {at}, which this code does not know (a newer "
            f"release migrated it); this code needs {script.head_text()}: run the release "
            "that migrated it (docs/operations.md)"
        )
    return (
        f"the database {where} is at schema {at}, this code needs {script.head_text()}: run "
        "'ketenpoort db upgrade' first (docs/operations.md)"
    )


def prepare_database(url: str, *, migrate: bool) -> SchemaScript:
    """At start: migrate the database when ``migrate`` (``KETENPOORT_AUTO_MIGRATE``), then
    require its schema at this code's head, else :class:`~gateway.config.StartRefused` in one
    line (review9c F1): an unreachable database, no schema, an older one, or a newer release's
    (which alembic could not upgrade either)."""
    from gateway.config import StartRefused

    script = schema_script()
    current = current_revisions(url)
    if migrate and current != script.heads and not current - script.known:
        upgrade_database(url)
        current = current_revisions(url)
    problem = schema_problem(url, current, script)
    if problem is not None:
        raise StartRefused(problem)
    return script


def schema_readiness(connection: Connection, script: SchemaScript | None) -> str | None:
    """The ``database`` readiness check of a running gateway: one statement on the one-row
    ``alembic_version`` (the ``SELECT 1`` it replaces cost the same round trip), so a probe
    every few seconds sees a schema moved under the process. An older schema than this
    code's head (a downgrade) is not ready, with the reason. A newer release's schema is
    ready: during a rolling upgrade its migration runs while this release's replicas still
    serve, and turning them all unready at once would be an outage (the release notes in
    docs/operations.md say which migrations older code cannot run on)."""
    if script is None:
        connection.execute(text("SELECT 1"))
        return None
    current = set(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
    if current == script.heads or current - script.known:
        return None
    at = ", ".join(sorted(current)) or "no schema"
    return f"schema at {at}, this code needs {script.head_text()}: run 'ketenpoort db upgrade'"
