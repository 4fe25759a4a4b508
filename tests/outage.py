"""Outages made on purpose, for the tests that check the gateway survives them."""

from __future__ import annotations

from sqlalchemy import URL, create_engine, text
from sqlalchemy.pool import NullPool


def terminate_other_backends(url: URL) -> int:
    """Terminate every other backend of the database at ``url``, as a server restart would,
    and wait (up to 5 s each) until they are gone: without the wait a backend busy on a
    loaded machine could still answer the pool's ping and then die under the next request.
    Returns how many were terminated."""
    admin = create_engine(url, poolclass=NullPool)
    try:
        with admin.connect() as connection:
            return int(
                connection.execute(
                    text(
                        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000)) "
                        "FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                ).scalar_one()
            )
    finally:
        admin.dispose()
