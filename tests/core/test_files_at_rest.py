"""The data directory and the SQLite database are owner-only, as the keys beside them."""

from __future__ import annotations

import stat
from pathlib import Path

from sqlalchemy import text

from gateway.config import Settings
from gateway.context import build_context


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_data_dir_and_its_sqlite_database_are_owner_only(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        demo_mode=True,
        retention_sweep_interval_seconds=0,
        audit_checkpoint_interval_seconds=0,
    )
    context = build_context(settings)
    try:
        with context.engine.begin() as connection:
            connection.execute(text("SELECT 1 FROM audit_head"))
        database = settings.data_dir / "ketenpoort.db"
        assert mode(settings.data_dir) == 0o700
        assert mode(database) == 0o600
        wal = database.with_name("ketenpoort.db-wal")
        assert wal.exists()
        assert mode(wal) == 0o600
    finally:
        context.close()


def test_an_existing_world_readable_data_dir_and_database_are_narrowed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    database = data / "ketenpoort.db"
    database.touch()
    database.chmod(0o644)
    settings = Settings(
        data_dir=data,
        demo_mode=True,
        retention_sweep_interval_seconds=0,
        audit_checkpoint_interval_seconds=0,
    )
    context = build_context(settings)
    try:
        assert mode(data) == 0o700
        assert mode(database) == 0o600
    finally:
        context.close()
