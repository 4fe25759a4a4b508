"""Alembic environment: models from gateway.models; the URL from gateway.db or the settings.

``ketenpoort db upgrade`` passes the URL in a programmatic config (gateway.db.alembic_config).
Alembic's own commands read ``alembic.ini`` at the repository root, which names no URL: it comes
from the gateway's settings (KETENPOORT_DATABASE_URL, else the SQLite file in the data dir), so
both ways migrate the same database.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection, Engine, event, text

import gateway.models  # noqa: F401  (registers every table on Base.metadata)
from gateway.db import Base, make_engine

config = context.config
target_metadata = Base.metadata


def _database_url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from gateway.config import Settings

    settings = Settings()
    if not settings.database_url:
        settings.ensure_data_dir()
    return settings.resolved_database_url


def run_migrations_offline() -> None:
    context.configure(
        url=_database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _sqlite_in_one_transaction(engine: Engine) -> None:
    """SQLite: an upgrade runs in one real transaction, its DDL included, as on PostgreSQL.

    Python's sqlite3 driver (pysqlite, in its default transaction handling) begins a
    transaction only before an INSERT, UPDATE, DELETE or REPLACE, and Alembic assumes no
    transactional DDL on SQLite: DDL before a migration's first write was committed as it
    ran. Migration 0050's first ADD COLUMN outlived a failure of a later step, and every
    retry failed on "duplicate column name" (review of migration 0050). SQLite itself rolls
    DDL back like any other change, so the driver's own handling is switched off and
    SQLAlchemy's begin emits the BEGIN (SQLAlchemy's documented recipe for pysqlite).
    ``IMMEDIATE`` takes the write lock before the revision is read: a second process that
    migrates at the same time waits (the busy timeout) and then finds the head, as the
    advisory lock makes it on PostgreSQL."""
    event.listen(engine, "connect", _driver_transactions_off)
    event.listen(engine, "begin", _begin_immediate)


def _driver_transactions_off(dbapi_connection: Any, _: Any) -> None:
    dbapi_connection.isolation_level = None


def _begin_immediate(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def run_migrations_online() -> None:
    engine = make_engine(_database_url())
    if engine.dialect.name == "sqlite":
        _sqlite_in_one_transaction(engine)
    try:
        with engine.connect() as connection:
            is_postgres = connection.dialect.name == "postgresql"
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=not is_postgres,
                # One transaction for the whole upgrade on either database: a failure anywhere
                # leaves the schema at the revision it had (PostgreSQL has transactional DDL
                # already; SQLite has it too, given the BEGIN above).
                transactional_ddl=True,
                transaction_per_migration=False,
            )
            with context.begin_transaction():
                if is_postgres:
                    # Several replicas may start at once: one migrates, the others wait.
                    connection.execute(text("SELECT pg_advisory_xact_lock(74657465)"))
                context.run_migrations()
    finally:
        # Also after a failed migration: its connection closed now, not by the collector.
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
