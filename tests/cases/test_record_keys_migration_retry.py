"""Migration 0050 fails whole or not at all, and a retry completes (review of migration 0050).

The review found that on SQLite the migration's first ADD COLUMN was committed on its own:
when a later step failed (the schema edit refused in SQLite's defensive mode), every retry
failed on "duplicate column name: record_key" and the operator was stuck. Now:

- the whole upgrade is one transaction on SQLite as on PostgreSQL: a failure injected at any
  step leaves the database as it was at 0049, and the retry completes (positive control);
- a database that a failed attempt of the former migration left with ``case_file.record_key``
  (``INTEGER DEFAULT 0 NOT NULL``, every row 0) upgrades: the column is taken as it is, its
  rows get their keys and its default goes; one of another type is refused;
- in defensive mode the schema edit is tried before anything changes: the upgrade fails in
  one line and the database is as it was; the same database migrates with the mode off.

After each completed upgrade the file passes ``integrity_check`` and ``foreign_key_check``
and its schema is the models' (Alembic's comparison, as tests/standards/test_migrations.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, text

from gateway.cases.cell_key import KEY_MODULUS
from gateway.config import StartRefused
from gateway.context import GatewayContext
from gateway.db import alembic_config, make_engine
from tests.cases.test_steering_differences import MAR, _open, _step
from tests.cases.test_steering_record_keys import a_step_needs_its_key
from tests.sqlite_defensive import defensive_sqlite
from tests.standards.test_migrations import model_differences

Auth = Callable[..., dict[str, str]]
BEFORE = "0049_idempotency_sealed"
HEAD = "0050_steering_record_keys"
REPO = Path(__file__).resolve().parents[2]
#: The steps a failure is injected at, in the order the migration runs them: the first
#: table's keys (right after its ADD COLUMN), the second table's column (after the first
#: table's default was dropped: on SQLite an edit of the schema table), an index, the last.
STEPS = [
    "UPDATE case_file SET record_key",
    "ALTER TABLE case_transition ADD COLUMN record_key",
    "CREATE INDEX ix_case_transition_covenant_at",
    "ALTER TABLE steering_snapshot ADD COLUMN cell_keys",
]


class Injected(RuntimeError):
    """The failure a test makes a statement of the migration raise."""


@contextmanager
def _failing_at(step: str) -> Iterator[list[str]]:
    """The first statement of any engine that starts with ``step`` raises instead of
    running; yields the statements run before it."""
    ran: list[str] = []

    def before(_c: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if " ".join(statement.split()).startswith(step):
            raise Injected(step)
        ran.append(statement)

    event.listen(Engine, "before_cursor_execute", before)
    try:
        yield ran
    finally:
        event.remove(Engine, "before_cursor_execute", before)


def _query(url: str, sql: str) -> list[tuple[Any, ...]]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql))]
    finally:
        engine.dispose()


def _state(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """The schema (every table's and index's definition) and the rows of the tables the
    migration changes."""
    if url.startswith("sqlite"):
        schema = "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
    else:
        schema = (
            "SELECT table_name, column_name, data_type, is_nullable, column_default "
            "FROM information_schema.columns WHERE table_schema = current_schema() "
            "UNION ALL SELECT tablename, indexname, indexdef, '', '' FROM pg_indexes "
            "WHERE schemaname = current_schema() ORDER BY 1, 2"
        )
    state = {"schema": _query(url, schema), "version": _query(url, "SELECT * FROM alembic_version")}
    for table in ("case_file", "case_transition", "steering_snapshot"):
        state[table] = _query(url, f"SELECT * FROM {table} ORDER BY 1")
    return state


def _seed(client: TestClient, auth: Auth, context: GatewayContext, url: str) -> None:
    """Twelve cases with a step each, then the database back at 0049."""
    for n in range(12):
        _step(context, _open(client, auth, n + 1), MAR)
    context.engine.dispose()
    command.downgrade(alembic_config(url), BEFORE)


def _assert_migrated(url: str) -> None:
    """At 0050, every row's key drawn, no default left, the file sound, the models' schema."""
    assert _query(url, "SELECT version_num FROM alembic_version") == [(HEAD,)]
    for table in ("case_file", "case_transition"):
        keys = [key for (key,) in _query(url, f"SELECT record_key FROM {table}")]
        assert len(keys) >= 12
        assert all(0 <= key < KEY_MODULUS for key in keys)
        assert len(set(keys)) == len(keys)  # a repeat would be a default
    if url.startswith("sqlite"):
        assert _query(url, "PRAGMA integrity_check") == [("ok",)]
        assert _query(url, "PRAGMA foreign_key_check") == []
        definitions = _query(url, "SELECT sql FROM sqlite_master WHERE name = 'case_file'")
        assert "record_key INTEGER NOT NULL" in definitions[0][0]
    assert model_differences(url) == []
    # No default: a step inserted without its key fails; the positive control has one.
    engine = make_engine(url)
    try:
        a_step_needs_its_key(engine, 7)
    finally:
        engine.dispose()


def test_0050_failing_at_any_step_leaves_0049_as_it_was_and_the_retry_completes(
    client: TestClient, auth: Auth, context: GatewayContext, database_url: str
) -> None:
    _seed(client, auth, context, database_url)
    before = _state(database_url)
    config = alembic_config(database_url)
    for step in STEPS:
        with _failing_at(step) as ran, pytest.raises(Injected):
            command.upgrade(config, "head")
        # The failure came after the migration had changed something ...
        assert any(s.lstrip().upper().startswith("ALTER TABLE") for s in ran), step
        # ... and none of it is left.
        assert _state(database_url) == before, step
    command.upgrade(config, "head")
    _assert_migrated(database_url)


def test_an_upgrade_that_fails_in_its_last_migration_leaves_the_revision_it_started_at(
    database_url: str,
) -> None:
    """One transaction for the whole upgrade on SQLite as on PostgreSQL
    (gateway/migrations/env.py): 0048 and 0049 ran before the failure in 0050, and are gone
    with it. Before, on SQLite each migration committed on its own (and DDL before a
    migration's first write at once), so the database was left at 0049."""
    config = alembic_config(database_url)
    command.downgrade(config, "0047_erased_request_reasons")
    before = _state(database_url)
    with _failing_at(STEPS[-1]), pytest.raises(Injected):
        command.upgrade(config, "head")
    assert _state(database_url) == before
    command.upgrade(config, "head")
    assert _query(database_url, "SELECT version_num FROM alembic_version") == [(HEAD,)]
    assert model_differences(database_url) == []


def test_0050_completes_where_a_failed_attempt_left_case_file_record_key(
    client: TestClient, auth: Auth, context: GatewayContext, database_url: str
) -> None:
    """The database of an operator stuck on "duplicate column name": the former migration's
    first statement committed, nothing else."""
    _seed(client, auth, context, database_url)
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text("ALTER TABLE case_file ADD COLUMN record_key INTEGER DEFAULT 0 NOT NULL")
            )
    finally:
        engine.dispose()
    command.upgrade(alembic_config(database_url), "head")
    _assert_migrated(database_url)


def test_0050_refuses_a_record_key_column_it_did_not_add(
    client: TestClient, auth: Auth, context: GatewayContext, database_url: str
) -> None:
    _seed(client, auth, context, database_url)
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("ALTER TABLE case_transition ADD COLUMN record_key TEXT"))
    finally:
        engine.dispose()
    before = _state(database_url)
    with pytest.raises(RuntimeError, match=r"case_transition\.record_key is there already"):
        command.upgrade(alembic_config(database_url), "head")
    assert _state(database_url) == before


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_0050_in_sqlite_defensive_mode_fails_in_one_line_and_changes_nothing(
    client: TestClient, auth: Auth, context: GatewayContext, database_url: str, tmp_path: Path
) -> None:
    _seed(client, auth, context, database_url)
    before = _state(database_url)
    config = alembic_config(database_url)
    with defensive_sqlite(), pytest.raises(StartRefused) as refused:
        command.upgrade(config, "head")
    assert "defensive mode" in str(refused.value)
    assert "Nothing was changed" in str(refused.value)
    assert _state(database_url) == before
    # The command says it in one line, exit code 1, no traceback.
    program = (
        "import sys; from tests.sqlite_defensive import defensive_sqlite; "
        "from gateway.cli import main\n"
        "with defensive_sqlite(): main()"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("KETENPOORT_")}
    env.update(KETENPOORT_DATABASE_URL=database_url, PYTHONPATH=str(REPO))
    result = subprocess.run(
        [sys.executable, "-c", program, "db", "upgrade", "--data-dir", str(tmp_path / "cli")],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("error: migration 0050 cannot drop the default"), result.stderr
    assert "Traceback" not in result.stderr
    assert _state(database_url) == before
    # The positive control: the same database, the mode off, migrates.
    command.upgrade(config, "head")
    _assert_migrated(database_url)
