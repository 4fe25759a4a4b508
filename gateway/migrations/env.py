"""Alembic environment: programmatic config from gateway.db, models from gateway.models."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

import gateway.models  # noqa: F401  (registers every table on Base.metadata)
from gateway.db import Base, make_engine

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = make_engine(url)
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
