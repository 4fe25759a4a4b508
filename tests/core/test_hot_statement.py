"""HotStatement: the hot read's statements on the DBAPI cursor give what SQLAlchemy gives."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    bindparam,
    create_engine,
    exc,
    insert,
    literal,
    null,
    select,
    text,
    union_all,
)
from sqlalchemy.engine import make_url

from gateway.db import HotStatement, UTCDateTime

metadata = MetaData()
sample = Table(
    "hot_statement_sample",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("n", Integer),
    Column("tags", JSON),
    Column("at", UTCDateTime),
    Column("sealed", LargeBinary),
    Column("flag", Boolean),
    Column("note", String(50), nullable=True),
)
AT = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
ROWS = [
    {"id": "a", "n": 1, "tags": ["x", "y"], "at": AT, "sealed": b"\x00\x01", "flag": True},
    {"id": "b", "n": 2, "tags": [], "at": AT + timedelta(hours=1), "sealed": b"", "flag": False},
]


@pytest.fixture
def connection(database_url: str) -> Iterator[Connection]:
    engine = create_engine(database_url)
    metadata.create_all(engine)
    with engine.connect() as conn:
        conn.execute(insert(sample), [{**row, "note": None} for row in ROWS])
        conn.commit()
        yield conn
    engine.dispose()


_BY_ID = select(sample, literal("lit").label("kind")).where(sample.c.id == bindparam("id"))


def test_rows_are_what_sqlalchemy_returns(connection: Connection) -> None:
    hot = HotStatement(_BY_ID)
    for row in ROWS:
        expected = connection.execute(_BY_ID, {"id": row["id"]}).all()
        got = hot.rows(connection, {"id": row["id"]})
        assert [tuple(r) for r in expected] == [tuple(r) for r in got]
        (one,) = got
        # Named like a Row's columns; aware UTC datetimes, decoded JSON, bytes, booleans.
        assert one.at == row["at"]
        assert one.at.tzinfo is not None
        assert (one.tags, one.sealed, one.flag, one.note, one.kind) == (
            row["tags"],
            row["sealed"],
            row["flag"],
            None,
            "lit",
        )
    assert hot.rows(connection, {"id": "missing"}) == []


def test_a_parameter_used_twice_and_nulls_in_a_union(connection: Connection) -> None:
    statement = union_all(
        select(sample.c.id, sample.c.n).where(sample.c.id == bindparam("id")),
        select(null(), sample.c.n).where(sample.c.id == bindparam("id")),
    )
    got = HotStatement(statement).rows(connection, {"id": "b"})
    assert sorted(got, key=lambda r: r.id or "") == [(None, 2), ("b", 2)]


def test_execute_writes_through_the_type_processors(connection: Connection) -> None:
    statement = insert(sample).values(
        {c: bindparam(c) for c in ("id", "n", "tags", "at", "sealed", "flag")}
    )
    later = AT + timedelta(days=1)
    HotStatement(statement).execute(
        connection,
        {"id": "c", "n": 3, "tags": {"k": [1]}, "at": later, "sealed": b"z", "flag": True},
    )
    row = connection.execute(select(sample).where(sample.c.id == "c")).one()
    assert (row.tags, row.at, row.sealed, row.flag) == ({"k": [1]}, later, b"z", True)


def test_a_driver_error_is_sqlalchemys_and_leaves_the_row_alone(connection: Connection) -> None:
    statement = HotStatement(insert(sample).values(id=bindparam("id"), n=bindparam("n")))
    with pytest.raises(exc.IntegrityError):
        statement.execute(connection, {"id": "a", "n": 99})
    connection.rollback()
    assert connection.execute(select(sample.c.n).where(sample.c.id == "a")).scalar_one() == 1


def test_a_dropped_connection_is_invalidated(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("pg_terminate_backend is PostgreSQL's")
    engine = create_engine(database_url)
    metadata.create_all(engine)
    try:
        with engine.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
            conn.rollback()
            with engine.connect() as admin:
                admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            with pytest.raises(exc.DBAPIError) as raised:
                HotStatement(_BY_ID).rows(conn, {"id": "a"})
            assert raised.value.connection_invalidated
            assert conn.invalidated
    finally:
        engine.dispose()


def test_the_hot_statements_of_a_pooled_connection_share_one_cursor(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL one psycopg cursor serves every hot statement of a pooled connection,
    across checkouts (a cursor per statement started with empty type caches each time: issue
    20), and each statement still gets its own rows; a connection replaced after a disconnect
    gets a cursor of its own, whose rows are right too."""
    if not database_url.startswith("postgresql"):
        pytest.skip("the cursor is kept for psycopg connections only")
    import psycopg

    made: list[object] = []
    cursor = psycopg.Connection.cursor
    database = make_url(database_url).database

    def counting(self: psycopg.Connection[object], *args: object, **kwargs: object) -> object:
        # The cursors of this test's database only: the test databases of other tests are
        # recycled on a thread of their own meanwhile (tests/databases.py), through psycopg too.
        if self.info.dbname == database:
            made.append(self)
        return cursor(self, *args, **kwargs)  # type: ignore[call-overload]

    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    other = create_engine(database_url)
    metadata.create_all(engine)
    try:
        with engine.connect() as conn:
            conn.execute(insert(sample), [{**row, "note": None} for row in ROWS])
            conn.commit()
        hot = HotStatement(_BY_ID)
        monkeypatch.setattr(psycopg.Connection, "cursor", counting)
        with engine.connect() as conn:
            assert [r.n for r in hot.rows(conn, {"id": "a"})] == [1]
            assert [r.n for r in hot.rows(conn, {"id": "b"})] == [2]
            assert hot.rows(conn, {"id": "missing"}) == []
            first = conn.connection.driver_connection
        with engine.connect() as conn:
            assert conn.connection.driver_connection is first
            assert [r.n for r in hot.rows(conn, {"id": "b"})] == [2]
        assert made == [first]
        with engine.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
            conn.rollback()
            with other.connect() as admin:
                admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            with pytest.raises(exc.DBAPIError):
                hot.rows(conn, {"id": "a"})
        made.clear()
        with engine.connect() as conn:
            assert [r.n for r in hot.rows(conn, {"id": "a"})] == [1]
            assert [r.n for r in hot.rows(conn, {"id": "b"})] == [2]
            replaced = conn.connection.driver_connection
        assert replaced is not first
        assert made == [replaced]
    finally:
        engine.dispose()
        other.dispose()
