"""The gateway runs only on the schema its code was written for (review9c, findings 1 and 6).

F1: started on a database three migrations behind, with ``KETENPOORT_AUTO_MIGRATE=false``
(the Kubernetes setting), the gateway answered ``/v1/health/ready`` 200 and then 500 on the
steering report (a missing table); an empty database gave a traceback. Now the start
compares the database's alembic revision with the code's single head and refuses anything
else in one line (behind, empty, or a newer release's revision, which alembic could not
upgrade either); with auto-migrate on, it migrates first. A running gateway's ``database``
readiness check reads the revision on every probe: a schema moved back under it is not
ready, and ready again once migrated.

F6: an unreachable database at start gave a traceback of 516 lines; now one line names the
database (host, port, name; never the password), exit code 1.

The positive controls: at the head the gateway starts, answers ready and serves.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from gateway.config import Settings, StartRefused
from gateway.context import GatewayContext, build_context
from gateway.db import alembic_config, current_revisions, schema_script, upgrade_database
from tests.cli.test_commands import _serve

ROOT = Path(__file__).resolve().parents[2]
BEHIND = "0044_idempotency_awaiting_case"  # the review's probe: three migrations back
NEWER = "0099_a_newer_release"


def _head() -> str:
    (head,) = schema_script().heads
    return head


def _settings(tmp_path: Path, database_url: str, **changes: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "database_url": database_url,
        "auto_migrate": False,
        "demo_mode": True,
        "retention_sweep_interval_seconds": 0,
        "audit_checkpoint_interval_seconds": 0,
        "used_token_purge_interval_seconds": 0,
        **changes,
    }
    return Settings(**values)


def _set_revision(database_url: str, revision: str) -> None:
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    finally:
        engine.dispose()


def test_the_code_has_one_head_and_it_is_the_newest_migration() -> None:
    script = schema_script()
    assert len(script.heads) == 1
    assert BEHIND in script.known
    assert NEWER not in script.known


def test_the_gateway_refuses_to_start_on_an_older_schema_when_it_does_not_migrate(
    tmp_path: Path, database_url: str
) -> None:
    command.downgrade(alembic_config(database_url), BEHIND)
    with pytest.raises(StartRefused) as refused:
        build_context(_settings(tmp_path, database_url))
    message = str(refused.value)
    assert "\n" not in message
    assert BEHIND in message
    assert _head() in message
    assert "ketenpoort db upgrade" in message
    # The positive control: once migrated (the Kubernetes init container), it starts.
    upgrade_database(database_url)
    build_context(_settings(tmp_path, database_url)).close()


def test_with_auto_migrate_an_older_schema_is_brought_to_the_head(
    tmp_path: Path, database_url: str
) -> None:
    command.downgrade(alembic_config(database_url), BEHIND)
    build_context(_settings(tmp_path, database_url, auto_migrate=True)).close()
    assert current_revisions(database_url) == {_head()}


@pytest.mark.parametrize("auto_migrate", [False, True])
def test_a_newer_releases_schema_is_refused_in_one_line(
    tmp_path: Path, database_url: str, auto_migrate: bool
) -> None:
    """Code rolled back under a schema a newer release migrated: alembic cannot upgrade a
    revision it does not know (it raised a traceback), and the old code may write what the
    new schema forbids."""
    _set_revision(database_url, NEWER)
    with pytest.raises(StartRefused, match="does not know") as refused:
        build_context(_settings(tmp_path, database_url, auto_migrate=auto_migrate))
    assert NEWER in str(refused.value)
    assert _head() in str(refused.value)


def test_an_empty_database_is_one_line_when_the_gateway_does_not_migrate(
    tmp_path: Path, database_url: str
) -> None:
    if database_url.startswith("sqlite"):
        empty = f"sqlite:///{tmp_path / 'empty.db'}"
    else:
        from tests.conftest import _admin_engine

        name = f"kp_empty_{os.getpid()}_{tmp_path.name[-12:]}".replace("-", "_").lower()
        admin = _admin_engine()
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        empty = database_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        with pytest.raises(StartRefused, match="has no schema yet") as refused:
            build_context(_settings(tmp_path, empty))
        assert "\n" not in str(refused.value)
    finally:
        if not empty.startswith("sqlite"):
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def test_readiness_names_a_schema_moved_back_under_a_running_gateway_and_heals(
    client: TestClient,
    context: GatewayContext,
    database_url: str,
    auth: Callable[..., dict[str, str]],
) -> None:
    # The positive control: at the head, ready and serving.
    ready = client.get("/v1/health/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"]["database"] == "ok"
    me = client.get("/v1/me", headers=auth("u-centraal", "casemanager"))
    assert me.status_code == 200, me.text

    context.engine.dispose()  # the migration's DDL waits for no pooled connection
    previous = sorted(r for r in schema_script().known if r < _head())[-1]
    command.downgrade(alembic_config(database_url), previous)
    not_ready = client.get("/v1/health/ready")
    assert not_ready.status_code == 503, not_ready.text
    reason = not_ready.json()["checks"]["database"]
    assert previous in reason
    assert _head() in reason
    assert "ketenpoort db upgrade" in reason

    # Re-checked on every probe: the migration heals it without a restart.
    upgrade_database(database_url)
    assert client.get("/v1/health/ready").status_code == 200


def test_readiness_stays_ok_on_a_newer_releases_schema_during_a_rolling_upgrade(
    client: TestClient, context: GatewayContext, database_url: str
) -> None:
    """A new release's migration runs while this release's replicas still serve: turning
    them all unready at once would take the service down until the new pods are ready."""
    context.engine.dispose()
    _set_revision(database_url, NEWER)
    ready = client.get("/v1/health/ready")
    assert ready.status_code == 200, ready.text


def test_serve_refuses_an_older_schema_in_one_line_and_serves_at_the_head(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str
) -> None:
    env = {"KETENPOORT_DATABASE_URL": database_url, "KETENPOORT_AUTO_MIGRATE": "false"}
    command.downgrade(alembic_config(database_url), BEHIND)
    refused = _serve(monkeypatch, tmp_path, "--no-demo", real_database=True, **env)
    assert refused.exit_code == 1, refused.output
    (line,) = [line for line in refused.output.splitlines() if line.strip()]
    assert line.startswith("error: ")
    assert BEHIND in line
    assert _head() in line
    upgrade_database(database_url)
    served = _serve(monkeypatch, tmp_path, "--no-demo", real_database=True, **env)
    assert served.exit_code == 0, served.output


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.mark.parametrize("auto_migrate", ["true", "false"])
def test_serve_names_an_unreachable_database_in_one_line_without_its_password(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, auto_migrate: str
) -> None:
    port = _closed_port()
    url = f"postgresql+psycopg://gw:SeCrEt9c@127.0.0.1:{port}/ketenpoort"
    result = _serve(
        monkeypatch,
        tmp_path,
        "--no-demo",
        real_database=True,
        KETENPOORT_DATABASE_URL=url,
        KETENPOORT_AUTO_MIGRATE=auto_migrate,
    )
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error: cannot reach the database")
    assert f"127.0.0.1:{port}/ketenpoort" in lines[0]
    assert "SeCrEt9c" not in result.output
    assert "Traceback" not in result.output


def test_a_scheduled_command_names_an_unreachable_database_in_one_line(tmp_path: Path) -> None:
    """The CronJobs' commands, as the container runs them (``ketenpoort`` itself, no
    test runner in between): one line on stderr, exit code 1."""
    port = _closed_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "KETENPOORT_DATA_DIR": str(tmp_path / "data"),
        "KETENPOORT_DATABASE_URL": f"postgresql+psycopg://gw@127.0.0.1:{port}/ketenpoort",
        "KETENPOORT_DATABASE_PASSWORD": "SeCrEt9c",
        "KETENPOORT_AUTO_MIGRATE": "false",
    }
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "tokens", "purge"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert f"127.0.0.1:{port}/ketenpoort" in lines[0]
    assert "SeCrEt9c" not in done.stderr + done.stdout


def test_the_kubernetes_gateway_migrates_before_it_starts_and_needs_no_job() -> None:
    """The rollout ordered nothing: the migrate Job ran beside the Deployment (and could not
    be re-applied under a new image tag, a Job's template being immutable), so new pods came
    up on the old schema. Now each pod's first init container runs the migration (under
    alembic's lock: pods starting together wait for each other), so the gateway container
    starts only on a migrated schema; old pods serve on until new ones are ready."""
    import yaml

    kube = ROOT / "deploy" / "kubernetes"
    listed = yaml.safe_load((kube / "kustomization.yaml").read_text())["resources"]
    assert "migrate-job.yaml" not in listed
    deployment = yaml.safe_load((kube / "gateway.yaml").read_text().split("\n---")[0])
    spec = deployment["spec"]["template"]["spec"]
    first = spec["initContainers"][0]
    assert first["args"] == ["db", "upgrade"]
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    config = yaml.safe_load((kube / "configmap.yaml").read_text())["data"]
    assert config["KETENPOORT_AUTO_MIGRATE"] == "false"  # the gateway itself never migrates
