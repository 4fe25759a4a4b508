"""The `ketenpoort` command line: help, db upgrade, dev-token."""

from __future__ import annotations

import logging
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


#: What ``serve`` puts in its own environment for its workers. Left behind, they changed later
#: tests in the same process: PROMETHEUS_MULTIPROC_DIR named a directory removed when serve
#: returned (the metrics tests then found no request counter), KETENPOORT_DEMO_MODE=false
#: made the demo's gateway refuse its own dev tokens. (monkeypatch.delenv of an unset
#: variable records nothing to restore.)
_SET_BY_SERVE = (
    "KETENPOORT_DATA_DIR",
    "KETENPOORT_DEMO_MODE",
    "KETENPOORT_AUDIT_CHECKPOINT_INTERVAL_SECONDS",
    "KETENPOORT_AUDIT_WITNESSES",
    "KETENPOORT_AUDIT_LOG_KEY",
    "PROMETHEUS_MULTIPROC_DIR",
)


#: What ``serve`` with several workers would run (``gateway.server.run_workers``, stubbed).
_WORKER_RUNS: list[tuple[str, dict[str, Any]]] = []


def _serve(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    *args: str,
    real_database: bool = False,
    **env: str,
) -> Any:
    """``ketenpoort serve`` up to where it would start uvicorn (which is stubbed out). Its
    database is a name that is never reached (its checks stubbed out) unless
    ``real_database``: then ``KETENPOORT_DATABASE_URL`` in ``env`` is checked as at start."""
    import uvicorn

    import gateway.audit.wiring
    import gateway.db
    import gateway.server

    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: None)
    monkeypatch.setattr(
        gateway.server, "run_workers", lambda app, **options: _WORKER_RUNS.append((app, options))
    )
    if not real_database:
        monkeypatch.setattr(gateway.db, "prepare_database", lambda url, migrate: None)
        monkeypatch.setattr(gateway.audit.wiring, "log_origins", lambda url: ())
    for name in _SET_BY_SERVE:  # put back as they were after the test, set or not
        monkeypatch.setenv(name, os.environ.get(name, ""))
        if not os.environ[name]:
            monkeypatch.delenv(name)
    return CliRunner().invoke(
        app,
        ["serve", "--data-dir", str(tmp_path / "data"), *args],
        env={
            "KETENPOORT_DATABASE_URL": "postgresql+psycopg://gw@db/ketenpoort",
            # Outside demo mode serve refuses the example origin (review6a F2) and the
            # default token audience.
            "KETENPOORT_AUDIT_LOG_ORIGIN": "ketenpoort.test/audit-log",
            "KETENPOORT_AUDIENCE": "ketenpoort.test",
            **env,
        },
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
    # The second serve in this process made (and removed) a metrics directory of its own
    # instead of re-creating the first one's, which then stayed behind in /tmp.
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ


def test_serve_on_a_taken_port_says_so_and_how_to_pick_another(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import socket

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        taken = _serve(monkeypatch, tmp_path, "--port", str(port))
    assert taken.exit_code == 1, taken.output
    assert f"port {port} on 127.0.0.1 is already in use" in taken.output
    assert f"make run PORT={port + 1}" in taken.output
    assert f"ketenpoort serve --port {port + 1}" in taken.output
    assert "listening" not in taken.output  # said before anything claims to listen
    # Positive control: the same port once free.
    free = _serve(monkeypatch, tmp_path, "--port", str(port))
    assert free.exit_code == 0, free.output
    assert f"listening on http://127.0.0.1:{port}/v1" in free.output


def _serve_demo(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *args: str
) -> tuple[Any, list[tuple[Any, ...]]]:
    """``serve --demo`` up to uvicorn, with the demo witness and the seeding thread
    recorded instead of started."""
    import gateway.cli

    seeding: list[tuple[Any, ...]] = []
    monkeypatch.setattr(gateway.cli, "_seed_when_ready", lambda *a: seeding.append(a))
    for name in ("KETENPOORT_AUDIT_CHECKPOINT_INTERVAL_SECONDS", "KETENPOORT_DATA_DIR",
                 "KETENPOORT_DEMO_MODE", "KETENPOORT_AUDIT_WITNESSES"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)  # restored after the test: serve sets them
    witness = '["witness.example/w+01020304+AAAA http://127.0.0.1:9"]'
    result = _serve(monkeypatch, tmp_path, "--demo", *args, KETENPOORT_AUDIT_WITNESSES=witness)
    return result, seeding


def test_serve_demo_prints_a_curl_hint_that_works_from_here(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    result, _ = _serve_demo(monkeypatch, tmp_path, "--port", "8123")
    assert result.exit_code == 0, result.output
    (hint,) = [line for line in result.output.splitlines() if line.startswith("Try: curl")]
    # The venv's script (never on PATH under make run), with a user, the data dir, the port.
    command = hint.split("$(")[1].split(" dev-token")[0]
    assert command == "ketenpoort" or Path(command).name == "ketenpoort", hint
    assert Path(sys.executable).parent.joinpath("ketenpoort").exists()
    assert "--partner u-centraal --role casemanager --user cm-1" in hint
    assert f"--data-dir {tmp_path / 'data'}" in hint
    assert hint.endswith("http://127.0.0.1:8123/v1/me")


def test_serve_demo_seeds_demo_cases_unless_told_not_to(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seeded, seeding = _serve_demo(monkeypatch, tmp_path)
    assert seeded.exit_code == 0, seeded.output
    assert len(seeding) == 1  # tests/e2e/test_demo_data.py runs the seeding itself
    # In demo mode a checkpoint is signed every few seconds (receipts get proofs quickly).
    assert os.environ["KETENPOORT_AUDIT_CHECKPOINT_INTERVAL_SECONDS"] == "5"
    skipped, seeding = _serve_demo(monkeypatch, tmp_path, "--no-demo-data")
    assert skipped.exit_code == 0, skipped.output
    assert seeding == []


@pytest.mark.parametrize(
    ("args", "env_demo_mode"),
    [
        (["--no-demo"], None),
        (["--no-demo", "--demo-data"], None),
        ([], None),  # the default
        ([], "false"),  # as the Dockerfile's and Kubernetes' configuration say
        (["--no-demo"], "true"),  # the command line wins over a stray environment variable
    ],
)
def test_serve_outside_demo_mode_never_seeds_demo_cases(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, args: list[str], env_demo_mode: str | None
) -> None:
    # Positive control: test_serve_demo_seeds_demo_cases_unless_told_not_to (--demo seeds).
    import gateway.cli

    seeding: list[tuple[Any, ...]] = []
    monkeypatch.setattr(gateway.cli, "_seed_when_ready", lambda *a: seeding.append(a))
    monkeypatch.delenv("KETENPOORT_DEMO_MODE", raising=False)  # restored: serve sets it
    env = {} if env_demo_mode is None else {"KETENPOORT_DEMO_MODE": env_demo_mode}
    result = _serve(monkeypatch, tmp_path, *args, **env)
    assert result.exit_code == 0, result.output
    assert "(demo mode: False)" in result.output
    assert seeding == []
    if env_demo_mode is None:  # (CliRunner puts back a variable it was given)
        assert os.environ["KETENPOORT_DEMO_MODE"] == "false"  # what the workers read


def test_the_readme_names_every_top_level_command_and_keeps_the_two_on_its_first_screen() -> None:
    import typer.main

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    names = set(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
    assert {"serve", "demo", "deadlines", "tokens"} <= names
    missing = sorted(name for name in names if f"`ketenpoort {name}" not in readme)
    assert missing == [], f"commands not in README.md: {missing}"
    first_screen = "\n".join(readme.splitlines()[:25])
    assert "make run " in first_screen
    assert "make test " in first_screen
    assert "### What to try next" in readme


def test_pyproject_license_is_an_spdx_string_with_a_setuptools_that_reads_it() -> None:
    """setuptools 77+ warns on the old `license = {text = ...}` table (PEP 639)."""
    import tomllib

    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    assert pyproject["project"]["license"] == "EUPL-1.2"
    assert "setuptools>=77" in pyproject["build-system"]["requires"]


def test_serve_gives_its_workers_a_minute_to_answer_the_supervisor(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """uvicorn's 5 s worker ping killed every worker of a 4-worker start on a busy host, with
    no reason logged (review9c F8): serve passes a minute, or KETENPOORT_WORKER_TIMEOUT_SECONDS,
    and runs several workers under the supervisor that logs why it replaces one."""
    _WORKER_RUNS.clear()
    for env in ({}, {"KETENPOORT_WORKER_TIMEOUT_SECONDS": "90"}):
        result = _serve(monkeypatch, tmp_path, "--workers", "2", **env)
        assert result.exit_code == 0, result.output
    calls = list(_WORKER_RUNS)
    assert [(app, o["workers"], o["timeout_worker_healthcheck"]) for app, o in calls] == [
        ("gateway.asgi:app", 2, 60),
        ("gateway.asgi:app", 2, 90),
    ]
    assert all(o["http"] == "gateway.server:BoundedHttpToolsProtocol" for _, o in calls)


class _Worker:
    """A stand-in for uvicorn's worker Process: its process state and ping answer."""

    def __init__(self, *, alive: bool, answers: bool) -> None:
        self.process = type("P", (), {"pid": 4242, "exitcode": None if alive else -9})()
        self.process.is_alive = lambda: alive  # type: ignore[attr-defined]
        self.answers = answers
        self.pinged: list[float] = []

    def ping(self, timeout: float = 5) -> bool:
        self.pinged.append(timeout)
        return self.answers


def test_the_supervisor_logs_why_it_replaces_a_worker(caplog: pytest.LogCaptureFixture) -> None:
    from gateway.server import _ExplainedLiveness

    with caplog.at_level(logging.INFO, logger="ketenpoort.server"):
        answering = _Worker(alive=True, answers=True)
        assert _ExplainedLiveness(answering)(timeout=60)  # type: ignore[arg-type]
        assert answering.pinged == [60]
        assert caplog.records == []  # positive control: a live worker is not reported
        assert not _ExplainedLiveness(_Worker(alive=True, answers=False))(timeout=60)  # type: ignore[arg-type]
        assert not _ExplainedLiveness(_Worker(alive=False, answers=False))(timeout=60)  # type: ignore[arg-type]
    hung, exited = (record.getMessage() for record in caplog.records)
    assert "worker [4242] did not answer the supervisor's ping within 60 s" in hung
    assert "--worker-timeout" in hung
    assert exited == "worker [4242] exited with code -9; a new worker is started"
