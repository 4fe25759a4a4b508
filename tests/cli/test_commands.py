"""The `ketenpoort` command line: help, db upgrade, dev-token."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from gateway.cli import app

KETENPOORT = [sys.executable, "-m", "gateway"]


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("KETENPOORT_")}
    full_env.update(env or {})
    return subprocess.run(
        [*KETENPOORT, *args], capture_output=True, text=True, env=full_env, timeout=120
    )


def test_help_explains_each_command() -> None:
    result = _run("--help")
    assert result.returncode == 0, result.stderr
    for command in ("serve", "db", "dev-token"):
        assert command in result.stdout


def test_db_upgrade_migrates_the_sqlite_file_in_the_data_dir(tmp_path: Path) -> None:
    result = _run("db", "upgrade", "--data-dir", str(tmp_path / "data"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "ketenpoort.db").exists()
    again = _run("db", "upgrade", "--data-dir", str(tmp_path / "data"))
    assert "unchanged" in again.stdout


def test_db_upgrade_uses_database_url_when_set(database_url: str, tmp_path: Path) -> None:
    data_dir = tmp_path / "elsewhere"
    result = _run(
        "db", "upgrade", "--data-dir", str(data_dir), env={"KETENPOORT_DATABASE_URL": database_url}
    )
    assert result.returncode == 0, result.stderr
    assert "unchanged" in result.stdout  # the fixture's database is already migrated
    assert not (data_dir / "ketenpoort.db").exists()


def test_dev_token_without_demo_keys_fails_with_a_clear_message(tmp_path: Path) -> None:
    result = _run(
        "dev-token", "--partner", "u-centraal", "--role", "casemanager", "--data-dir", str(tmp_path)
    )
    assert result.returncode == 2
    assert "demo mode" in result.stderr


@pytest.mark.usefixtures("context")
def test_dev_token_prints_a_token_the_gateway_accepts(settings, client) -> None:  # type: ignore[no-untyped-def]
    result = _run(
        "dev-token",
        "--partner",
        "mitros",
        "--role",
        "woonconsulent",
        "--user",
        "wc-7",
        "--data-dir",
        str(settings.data_dir),
    )
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    response = client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    assert response.json()["partnerId"] == "mitros"
    assert response.json()["user"] == "wc-7"


def _serve(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *args: str, **env: str) -> Any:
    """``ketenpoort serve`` up to where it would start uvicorn (which is stubbed out)."""
    import uvicorn

    import gateway.db

    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: None)
    monkeypatch.setattr(gateway.db, "upgrade_database", lambda url: None)
    return CliRunner().invoke(
        app,
        ["serve", "--data-dir", str(tmp_path / "data"), *args],
        env={"KETENPOORT_DATABASE_URL": "postgresql+psycopg://gw@db/ketenpoort", **env},
    )


def test_serve_warns_when_its_workers_could_open_more_connections_than_the_budget(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    over = _serve(monkeypatch, tmp_path, "--workers", "5")  # 5 x (5 + 5) = 50 > 40
    assert over.exit_code == 0, over.output
    assert "5 workers x (5 pool + 5 overflow) = 50 database connections" in over.output
    assert "budget of 40" in over.output


def test_serve_with_the_default_workers_fits_the_budget_without_a_warning(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    within = _serve(monkeypatch, tmp_path, "--workers", "4")  # 4 x (5 + 5) = 40
    assert within.exit_code == 0, within.output
    assert "budget" not in within.output
    raised = _serve(monkeypatch, tmp_path, "--workers", "4", KETENPOORT_DB_MAX_OVERFLOW="10")
    assert "= 60 database connections, over the budget of 40" in raised.output
