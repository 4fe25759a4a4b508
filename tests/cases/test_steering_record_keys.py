"""Migration 0050's record keys (review of the cell-key change, findings 3 and 4).

- Finding 3: ``record_key`` kept ``server_default 0``, so an insert that left it out wrote
  key 0, and a set of cases plus 0-key records kept its cell key (the same noise, an exact
  difference). The columns have no default now: such an insert fails. The positive control:
  the same insert with a key is taken.
- Finding 4: the existing rows' keys were drawn with SQL ``random()`` (no CSPRNG); they are
  drawn in Python from ``secrets`` now. Checked here: after a downgrade to 0049 and back, every
  row has a key in range, all different, and the partial indexes are as they were.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from gateway.cases.cell_key import KEY_MODULUS
from gateway.context import GatewayContext
from gateway.db import alembic_config
from tests.cases.test_steering_differences import MAR, _in_april, _open, _step

Auth = Callable[..., dict[str, str]]
__all__ = ["_in_april"]


def _index_sql(context: GatewayContext) -> dict[str, str]:
    """Every index of the two tables with its definition (columns and partial condition)."""
    with context.engine.connect() as connection:
        if context.engine.dialect.name == "postgresql":
            rows = connection.execute(
                text(
                    "SELECT indexname, indexdef FROM pg_indexes "
                    "WHERE tablename IN ('case_file', 'case_transition')"
                )
            )
        else:
            rows = connection.execute(
                text(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                    "AND tbl_name IN ('case_file', 'case_transition') AND sql IS NOT NULL"
                )
            )
        return {name: " ".join(str(sql).split()) for name, sql in rows}


def _keys(context: GatewayContext, table: str) -> list[int]:
    with context.engine.connect() as connection:
        return [k for (k,) in connection.execute(text(f"SELECT record_key FROM {table}"))]


def test_0050_draws_every_rows_key_and_leaves_no_default(
    client: TestClient, auth: Auth, context: GatewayContext, database_url: str
) -> None:
    for n in range(30):
        _step(context, _open(client, auth, n + 1), MAR)
    before = _index_sql(context)
    assert any("record_key" in sql for sql in before.values())
    context.engine.dispose()
    config = alembic_config(database_url)
    command.downgrade(config, "0049_idempotency_sealed")
    command.upgrade(config, "head")
    for table in ("case_file", "case_transition"):
        keys = _keys(context, table)
        assert len(keys) >= 30
        assert all(0 <= k < KEY_MODULUS for k in keys)
        assert len(set(keys)) == len(keys)  # 2^31 values: a repeat would be a default
    # The indexes (the partial ones' conditions included) are what they were before.
    assert _index_sql(context) == before
    if context.engine.dialect.name == "sqlite":
        # The default was dropped from the table's definition in place: the file is sound.
        with context.engine.connect() as connection:
            assert connection.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
            assert not connection.execute(text("PRAGMA foreign_key_check")).all()
    # No default: an insert that leaves the key out fails; with a key it is taken.
    a_step_needs_its_key(context.engine, 12345)
    assert 12345 in _keys(context, "case_transition")


def a_step_needs_its_key(engine: Engine, key: int) -> None:
    """A copy of a step inserted without its record key fails (no default); the positive
    control: the same copy with ``key`` is taken."""
    with engine.connect() as connection:
        row = connection.execute(text("SELECT * FROM case_transition ORDER BY id LIMIT 1"))
        model = row.mappings().one()
    columns = ", ".join(c for c in model if c not in ("id", "record_key"))
    copy = (
        f"INSERT INTO case_transition (id, {columns}{{key}}) "
        f"SELECT :new, {columns}{{value}} FROM case_transition WHERE id = :id"
    )
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(
            text(copy.format(key="", value="")), {"new": "no-key", "id": model["id"]}
        )
    with engine.begin() as connection:
        connection.execute(
            text(copy.format(key=", record_key", value=f", {int(key)}")),
            {"new": "with-key", "id": model["id"]},
        )
