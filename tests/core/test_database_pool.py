"""The test databases of PostgreSQL are recycled (tests/databases.py): a database another test
used must hold exactly what the template holds, or be dropped. A recycled database that kept
a row, a sequence's value or a schema change would let one test see another's work."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.pool import NullPool

from tests.databases import DatabasePool

pytestmark = pytest.mark.postgres


def _connect(pool: DatabasePool, name: str) -> Connection:
    return create_engine(pool.url(name), poolclass=NullPool).connect()


def _contents(pool: DatabasePool, connection: Connection) -> dict[str, object]:
    """Every table's rows (as sorted JSON texts) and every sequence's state."""
    contents: dict[str, object] = {
        table: sorted(
            connection.execute(text(f"SELECT row_to_json(t)::text FROM {table} AS t")).scalars()
        )
        for table in pool.pristine.tables
    }
    contents["sequences"] = connection.execute(
        text("SELECT sequencename, last_value FROM pg_sequences ORDER BY 1")
    ).all()
    return contents


@pytest.fixture
def taken(postgres_pool: DatabasePool) -> Iterator[str]:
    name = postgres_pool.take()
    yield name
    drop = postgres_pool.dropping(name)
    if drop is not None:
        drop.result()


def test_a_recycled_database_holds_what_the_template_holds(
    postgres_pool: DatabasePool, taken: str
) -> None:
    with _connect(postgres_pool, taken) as connection:
        pristine = _contents(postgres_pool, connection)
        for (sequence,) in connection.execute(text("SELECT sequencename FROM pg_sequences")):
            connection.execute(text("SELECT nextval(CAST(:s AS regclass))"), {"s": sequence})
        connection.execute(text("UPDATE audit_head SET next_index = 41"))
        connection.execute(text("DELETE FROM alembic_version"))
        connection.execute(
            text("INSERT INTO used_token VALUES ('issuer', 'jti-1', now() + interval '1 hour')")
        )
        connection.commit()
        used = _contents(postgres_pool, connection)
    # the control: the test's writes did change what the database holds
    assert used["used_token"]
    assert used["audit_head"] != pristine["audit_head"]
    assert used["alembic_version"] == []
    assert used["sequences"] != pristine["sequences"]
    assert pristine["alembic_version"]
    assert pristine["audit_head"]

    assert postgres_pool.recycle(taken)
    with _connect(postgres_pool, taken) as connection:
        assert _contents(postgres_pool, connection) == pristine


def test_a_connection_left_open_does_not_keep_the_database_from_being_recycled(
    postgres_pool: DatabasePool, taken: str
) -> None:
    holder = _connect(postgres_pool, taken)
    holder.execute(text("LOCK TABLE used_token IN ACCESS EXCLUSIVE MODE"))
    try:
        assert postgres_pool.recycle(taken)
    finally:
        holder.invalidate()


@pytest.mark.parametrize(
    "change",
    [
        "ALTER TABLE used_token ADD COLUMN extra integer",
        "ALTER TABLE used_token ADD CONSTRAINT never CHECK (false) NOT VALID",
        "CREATE INDEX ix_extra ON used_token (jti)",
        "CREATE TABLE extra (id integer)",
        "REVOKE ALL ON used_token FROM PUBLIC; GRANT SELECT ON used_token TO PUBLIC",
        "ALTER DATABASE {name} SET work_mem = '8MB'",
        "ALTER DATABASE {name} CONNECTION LIMIT 50",
    ],
)
def test_a_database_a_test_changed_otherwise_is_dropped(
    postgres_pool: DatabasePool, taken: str, change: str
) -> None:
    with _connect(postgres_pool, taken) as connection:
        for statement in change.format(name=f'"{taken}"').split("; "):
            connection.execute(text(statement))
        connection.commit()
    assert not postgres_pool.recycle(taken)
    drop = postgres_pool.dropping(taken)
    assert drop is not None
    drop.result()
    with _connect(postgres_pool, "postgres") as connection:
        assert not connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": taken}
        ).all()
