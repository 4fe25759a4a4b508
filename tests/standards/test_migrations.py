"""The Alembic history: one head, models and migrations in agreement, Alembic's own commands work.

Operators are told they can use ``alembic upgrade head`` (alembic.ini at the repository root);
that needs a single head, and ``alembic check`` must find nothing to do on either database.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

import gateway.models  # noqa: F401  (registers every table)
from gateway.db import Base, alembic_config, make_engine

REPO = Path(__file__).resolve().parents[2]


def _alembic(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KETENPOORT_")}
    env["KETENPOORT_DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "alembic", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_migration_history_has_a_single_head() -> None:
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1, (
        f"gateway/migrations/versions has {len(heads)} heads {sorted(heads)}: point the newest "
        "migration's down_revision at the other head (or add a merge revision)"
    )


def model_differences(database_url: str) -> list[Any]:
    """What Alembic's autogenerate finds between the schema of ``database_url`` and the
    models (also for the tests of one migration's upgrade)."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))
    finally:
        engine.dispose()


def test_models_and_migrations_agree(database_url: str) -> None:
    differences = model_differences(database_url)
    assert differences == [], (
        "the migrated schema differs from gateway/models.py (a model without a migration, or a "
        f"model module gateway/models.py does not import): {differences}"
    )


def test_alembic_command_line_downgrades_to_empty_and_upgrades_to_the_head(
    database_url: str,
) -> None:
    down = _alembic("downgrade", "base", database_url=database_url)
    assert down.returncode == 0, down.stderr
    engine = make_engine(database_url)
    try:
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        up = _alembic("upgrade", "head", database_url=database_url)
        assert up.returncode == 0, up.stderr
        current = _alembic("current", database_url=database_url)
        head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
        assert f"{head} (head)" in current.stdout
        check = _alembic("check", database_url=database_url)
        assert check.returncode == 0, check.stdout + check.stderr
        assert "No new upgrade operations detected" in check.stdout + check.stderr
        assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
