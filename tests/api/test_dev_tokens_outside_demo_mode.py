"""A development token (``ketenpoort dev-token``, the demo, the demo cases' seeding) is
accepted by a gateway in demo mode only. Its key stays in the data directory after a demo
ran there; a gateway started on that directory without demo mode does not trust it and
refuses the token like any unknown key."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.auth.dev import mint_dev_token
from gateway.config import Settings
from gateway.context import build_context


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("demo_mode", [True, False])
def test_a_dev_token_is_accepted_in_demo_mode_only(
    tmp_path: Path, database_url: str, demo_mode: bool
) -> None:
    def settings(demo: bool) -> Settings:
        return Settings(
            data_dir=tmp_path / "data",
            database_url=database_url,
            demo_mode=demo,
            audit_log_origin="ketenpoort.test/audit-log",
            audience="ketenpoort.test",
            auto_migrate=False,
            retention_sweep_interval_seconds=0,
            audit_checkpoint_interval_seconds=0,
        )

    build_context(settings(True)).close()  # a demo ran here: its development keys are kept
    token = mint_dev_token(
        settings(True),
        partner_id="u-centraal",
        role="casemanager",
        user="cm-1",
        lifetime_seconds=60,
    )
    gateway_settings = settings(demo_mode)
    context = build_context(gateway_settings)
    try:
        with TestClient(create_app(gateway_settings, context)) as client:
            response = client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    finally:
        context.close()
    if demo_mode:  # positive control
        assert response.status_code == 200, response.text
        assert response.json()["partnerId"] == "u-centraal"
    else:
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["detail"] == (
            "The token's key id (kid) is not registered for its issuer."
        )
