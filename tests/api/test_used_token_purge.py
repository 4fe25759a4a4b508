"""Spent token ids are forgotten once their tokens have expired: ``used_token`` stays
bounded, and a token that can still be presented is still refused as a replay."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import insert, select, text
from typer.testing import CliRunner

from gateway.auth.models import UsedToken
from gateway.auth.wiring import purge_expired_token_ids
from gateway.cli import app as cli
from gateway.config import Settings
from gateway.context import GatewayContext, build_context
from gateway.db import transaction, utcnow

Token = Callable[..., str]


def _purge(context: GatewayContext) -> int:
    return purge_expired_token_ids(context.settings, context.session_factory)


def spent(context: GatewayContext, jti: str, *, expired_for: timedelta) -> None:
    with transaction(context.session_factory) as session:
        session.execute(
            insert(UsedToken).values(
                issuer="u-centraal", jti=jti, expires_at=utcnow() - expired_for
            )
        )


def remembered(context: GatewayContext) -> set[str]:
    with context.session_factory() as session:
        return set(session.scalars(select(UsedToken.jti)))


def test_the_purge_forgets_only_ids_of_tokens_expired_beyond_the_clock_skew(
    context: GatewayContext, client: TestClient, token: Token
) -> None:
    spent(context, "long-expired-1", expired_for=timedelta(hours=1))
    spent(context, "within-the-skew", expired_for=timedelta(seconds=5))
    live = token("u-centraal", "casemanager")
    assert client.get("/v1/me", headers={"Authorization": f"Bearer {live}"}).status_code == 200

    assert _purge(context) == 1

    assert "long-expired-1" not in remembered(context)
    assert "within-the-skew" in remembered(context)
    replay = client.get("/v1/me", headers={"Authorization": f"Bearer {live}"})
    assert replay.status_code == 401
    assert "replayed" in replay.json()["detail"]


def test_the_server_runs_the_purge_as_a_job_and_stops_it_on_close(
    tmp_path: Path, database_url: str
) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        demo_mode=True,
        auto_migrate=False,
        used_token_purge_interval_seconds=0.05,
        retention_sweep_interval_seconds=0,
        audit_checkpoint_interval_seconds=0,
    )
    context = build_context(settings)
    try:
        (job,) = [job for job in context.jobs if job.name == "used-token-purge"]
        spent(context, "long-expired-2", expired_for=timedelta(hours=1))
        deadline = time.monotonic() + 20
        while "long-expired-2" in remembered(context) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "long-expired-2" not in remembered(context)
    finally:
        context.close()
    assert not job.running


def test_only_one_replica_purges_at_a_time(context: GatewayContext) -> None:
    spent(context, "long-expired-3", expired_for=timedelta(hours=1))
    if context.engine.dialect.name != "postgresql":
        assert _purge(context) == 1  # one writer: nothing to coordinate
        return
    with context.engine.connect() as other:  # another replica, mid-purge
        other.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": 0x6B70_7472})
        assert _purge(context) == 0
        assert "long-expired-3" in remembered(context)
        other.rollback()
    assert _purge(context) == 1


def test_tokens_purge_command_forgets_expired_ids(
    context: GatewayContext, settings: Settings
) -> None:
    spent(context, "long-expired-4", expired_for=timedelta(hours=1))
    result = CliRunner().invoke(
        cli,
        ["tokens", "purge", "--data-dir", str(settings.data_dir)],
        env={"KETENPOORT_DATABASE_URL": settings.resolved_database_url},
    )
    assert result.exit_code == 0, result.output
    assert "Forgot 1 expired token ids." in result.output
    assert "long-expired-4" not in remembered(context)
