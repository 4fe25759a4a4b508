"""Alembic environment: models from gateway.models; the URL from gateway.db or the settings.

``ketenpoort db upgrade`` passes the URL in a programmatic config (gateway.db.alembic_config).
Alembic's own commands read ``alembic.ini`` at the repository root, which names no URL: it comes
from the gateway's settings (KETENPOORT_DATABASE_URL, else the SQLite file in the data dir), so
both ways migrate the same database.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

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


def run_migrations_online() -> None:
    engine = make_engine(_database_url())
    with engine.connect() as connection:
        is_postgres = connection.dialect.name == "postgresql"
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=not is_postgres,
            transaction_per_migration=False,
        )
        with context.begin_transaction():
            if is_postgres:
                # Several replicas may start at once: one migrates, the others wait.
                connection.execute(text("SELECT pg_advisory_xact_lock(74657465)"))
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
