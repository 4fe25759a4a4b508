"""PostgreSQL databases for the tests: cloned from a migrated template, and made like it again
after each test instead of being dropped.

Why not a fresh clone for every test and a drop after it: on PostgreSQL 15 ``DROP DATABASE``
requests an immediate checkpoint and waits for it, and a checkpoint flushes and fsyncs what
every database on the server has written. With ~2,900 PostgreSQL tests that was ~2,900
forced checkpoints a run (``pg_stat_bgwriter.checkpoints_req``: 418 in the first six minutes
of a run on 7 December 2026, 71 s of checkpoint sync time): the suite's time followed the
disk's fsync latency on a shared host (CI runs of the same code took 619 and 1,638 s), and a
clone (``STRATEGY WAL_LOG``) writes the whole template (~9 MB) into the WAL again.

A database given back is **recycled**: its connections are ended, every table that holds
rows is emptied (``TRUNCATE``: no dead rows, no checkpoint), the template's own rows (the
schema revision, the audit log's head) are put back, every sequence is set back to the
template's state, and then the database is compared with the template: its schema (tables,
columns, indexes, constraints, triggers, functions, privileges, schemas, extensions), its
database-level settings and connection settings, and its prepared transactions. Anything a
test changed that this does not put back (a migration downgraded, a constraint added, a
setting) makes the fingerprint differ, and such a database is dropped as before, never
handed to another test. A failure while recycling drops it too.
"""

from __future__ import annotations

import graphlib
import queue
import secrets
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

# Everything of a database's schema a test could change and TRUNCATE does not put back, as
# one text; the temporary schemas a session leaves behind are not part of it.
_FINGERPRINT = """
SELECT md5(string_agg(x, E'\\n' ORDER BY x)) FROM (
  SELECT 'column ' || table_schema || '.' || table_name || '.' || column_name || ' '
         || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '')
    FROM information_schema.columns
   WHERE table_schema NOT IN ('pg_catalog', 'information_schema')
  UNION ALL
  SELECT 'relation ' || c.oid::regclass::text || ' ' || c.relkind::text || ' '
         || c.relpersistence::text || ' ' || coalesce(c.relacl::text, '') || ' '
         || c.relrowsecurity::text
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
     AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
  UNION ALL
  SELECT 'index ' || indexdef FROM pg_indexes
   WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
  UNION ALL
  SELECT 'constraint ' || conrelid::regclass::text || ' ' || conname || ' '
         || pg_get_constraintdef(oid)
    FROM pg_constraint
   WHERE connamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
  UNION ALL
  SELECT 'trigger ' || pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal
  UNION ALL
  SELECT 'function ' || p.oid::regprocedure::text FROM pg_proc p
   WHERE p.pronamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
  UNION ALL
  SELECT 'policy ' || polname || ' ' || polrelid::regclass::text FROM pg_policy
  UNION ALL
  SELECT 'schema ' || nspname || ' ' || coalesce(nspacl::text, '') FROM pg_namespace
   WHERE nspname NOT LIKE 'pg_temp%' AND nspname NOT LIKE 'pg_toast_temp%'
  UNION ALL
  SELECT 'extension ' || extname || ' ' || extversion FROM pg_extension
  UNION ALL
  SELECT 'type ' || t.oid::regtype::text FROM pg_type t
   WHERE t.typnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
     AND t.typnamespace::regnamespace::text NOT LIKE 'pg_t%'
) AS parts(x)
"""

# What of a database pg_database and the server hold beside its schema: its settings
# (ALTER DATABASE ... SET), whether it takes connections, and its prepared transactions.
_SETTINGS = """
SELECT d.datallowconn, d.datconnlimit,
       (SELECT coalesce(array_to_string(s.setconfig, ','), '') FROM pg_db_role_setting s
         WHERE s.setdatabase = d.oid AND s.setrole = 0),
       (SELECT count(*) FROM pg_db_role_setting s WHERE s.setdatabase = d.oid),
       (SELECT count(*) FROM pg_prepared_xacts p WHERE p.database = d.datname)
  FROM pg_database d WHERE d.datname = :name
"""


@dataclass(frozen=True)
class Pristine:
    """What a database just cloned from the template holds: its fingerprint, its tables, the
    rows of those that are not empty (as JSON, put back with ``json_populate_record``) in an
    order their foreign keys allow, and each sequence's state."""

    fingerprint: str
    settings: tuple[object, ...]
    tables: tuple[str, ...]
    rows: tuple[tuple[str, tuple[str, ...]], ...]
    sequences: tuple[tuple[str, int, bool], ...]

    @classmethod
    def read(cls, connection: Connection, settings: tuple[object, ...]) -> Pristine:
        tables = tuple(
            connection.execute(
                text(
                    "SELECT c.oid::regclass::text FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') "
                    "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
                    "AND n.nspname NOT LIKE 'pg_t%' ORDER BY 1"
                )
            ).scalars()
        )
        references: dict[str, set[str]] = {table: set() for table in tables}
        for child, parent in connection.execute(
            text(
                "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint "
                "WHERE contype = 'f'"
            )
        ):
            references.setdefault(child, set()).add(parent)
        rows = []
        for table in graphlib.TopologicalSorter(references).static_order():
            if table not in tables:
                continue
            found = tuple(
                connection.execute(text(f"SELECT row_to_json(t)::text FROM {table} AS t")).scalars()
            )
            if found:
                rows.append((table, found))
        sequences = tuple(
            (name, int(value if value is not None else start), value is not None)
            for name, value, start in connection.execute(
                text(
                    "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename), "
                    "last_value, start_value FROM pg_sequences ORDER BY 1"
                )
            )
        )
        return cls(
            fingerprint=connection.execute(text(_FINGERPRINT)).scalar_one(),
            settings=settings,
            tables=tables,
            rows=tuple(rows),
            sequences=sequences,
        )

    def restore(self, connection: Connection) -> None:
        """Make the database of ``connection`` hold what the template holds (one transaction)."""
        holding = connection.execute(
            text(
                " UNION ALL ".join(
                    f"(SELECT '{table}' FROM {table} LIMIT 1)" for table in self.tables
                )
            )
        ).scalars()
        emptied = set(holding) | {table for table, _ in self.rows}
        if emptied:
            connection.execute(text(f"TRUNCATE {', '.join(sorted(emptied))} CASCADE"))
        for table, rows in self.rows:
            for row in rows:
                connection.execute(
                    text(
                        f"INSERT INTO {table} SELECT * FROM "
                        f"json_populate_record(NULL::{table}, CAST(:row AS json))"
                    ),
                    {"row": row},
                )
        for name, value, called in self.sequences:
            connection.execute(
                text("SELECT setval(CAST(:name AS regclass), :value, :called)"),
                {"name": name, "value": value, "called": called},
            )


class DatabasePool:
    """Databases for the PostgreSQL tests of one test process (an xdist worker).

    ``take`` hands out a recycled database when one is ready, else the clone made one test
    ahead on a thread of its own (a clone costs the server ~0.1 s); ``give_back`` recycles the
    database on another thread, so a test waits for neither. A database that cannot be
    recycled is dropped, up to ``_DROPS_AT_ONCE`` at once (drops waiting together share a
    checkpoint). At the end every database left is dropped. A clone that failed raises in the
    test that takes it; a drop that failed is raised when the session ends (the database left
    behind is named in the error)."""

    _DROPS_AT_ONCE = 16

    def __init__(self, admin_url: str, template: str) -> None:
        self._url = make_url(admin_url)
        self._template = template
        self._engine = create_engine(
            admin_url,
            isolation_level="AUTOCOMMIT",
            connect_args={"connect_timeout": 5},
            pool_size=self._DROPS_AT_ONCE + 2,
        )
        self._cloner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kp-db-clone")
        self._recycler = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kp-db-recycle")
        self._dropper = ThreadPoolExecutor(self._DROPS_AT_ONCE, thread_name_prefix="kp-db-drop")
        self._ready: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._drops: dict[str, Future[None]] = {}
        self.recycled = 0  # how many databases were made like the template again
        self.dropped: list[str] = []  # those that could not be
        first = self._clone()
        try:
            with self._connect(first) as connection:
                self.pristine = Pristine.read(connection, self._settings(first))
        except BaseException:
            self._drop(first)
            raise
        self._ready.put(first)
        self._next: Future[str] = self._cloner.submit(self._clone)

    def url(self, name: str) -> str:
        return self._url.set(database=name).render_as_string(hide_password=False)

    def _connect(self, name: str) -> Connection:
        engine: Engine = create_engine(
            self.url(name), poolclass=NullPool, connect_args={"connect_timeout": 5}
        )
        return engine.connect()

    def _settings(self, name: str) -> tuple[object, ...]:
        with self._engine.connect() as connection:
            return tuple(connection.execute(text(_SETTINGS), {"name": name}).one())

    def _clone(self) -> str:
        name = f"kp_{secrets.token_hex(6)}"
        with self._engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{self._template}"'))
        return name

    def _drop(self, name: str) -> None:
        with self._engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def recycle(self, name: str) -> bool:
        """Make ``name`` like the template again and hand it out next, or drop it when it
        cannot be (what it holds or is differs from the template afterwards)."""
        try:
            with self._engine.connect() as connection:
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                )
            with self._connect(name) as connection:
                connection.execute(text("SET LOCAL lock_timeout = '10s'"))
                self.pristine.restore(connection)
                connection.commit()
                same = connection.execute(text(_FINGERPRINT)).scalar_one()
            alike = same == self.pristine.fingerprint
            alike = alike and self._settings(name) == self.pristine.settings
        except Exception:  # noqa: BLE001 - whatever failed, the database is not reused
            alike = False
        if alike:
            self.recycled += 1
            self._ready.put(name)
        else:
            self.dropped.append(name)
            self._drops[name] = self._dropper.submit(self._drop, name)
        return alike

    def dropping(self, name: str) -> Future[None] | None:
        """The drop of ``name``, when it was not recycled."""
        return self._drops.get(name)

    def take(self) -> str:
        try:
            return self._ready.get_nowait()
        except queue.Empty:
            pass
        ready, self._next = self._next, self._cloner.submit(self._clone)
        return ready.result()

    def give_back(self, name: str) -> None:
        self._recycler.submit(self.recycle, name)

    def close(self) -> None:
        try:
            left = [self._next.result()]
        finally:
            self._cloner.shutdown(wait=True)
            self._recycler.shutdown(wait=True)
        while True:
            try:
                left.append(self._ready.get_nowait())
            except queue.Empty:
                break
        for name in left:
            self._drops[name] = self._dropper.submit(self._drop, name)
        self._dropper.shutdown(wait=True)
        self._engine.dispose()
        failed = [
            f"{name}: {drop.exception()!r}"
            for name, drop in self._drops.items()
            if drop.exception() is not None
        ]
        if failed:
            raise RuntimeError("databases not dropped: " + "; ".join(failed))
