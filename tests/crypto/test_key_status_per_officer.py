"""``GET /v1/key-status`` counts an officer's own dossiers' data keys, not the gateway's
(review9d F1).

Gateway-wide, ``dataKeysByKekVersion`` and ``shreddedScopes`` told every privacy officer of
both covenants, by reading twice, that a case was opened anywhere and how many cases
retention erased: what review5 F4 took out of the sweeps' ``erased``. Now an officer counts
the keys of its covenant's case dossiers, and another partner's officer than the
coordinating one those of the cases its partner leads or is in the team of, as the retention
views do. The operator's ``ketenpoort keys status`` still counts every key.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from gateway.config import Settings
from gateway.context import GatewayContext
from gateway.crypto.cli import app as keys_cli
from gateway.crypto.service import key_status
from gateway.db import transaction
from tests.conftest import settings_without_jobs
from tests.retention.test_sweep_counts_per_reader import _erase_two_rijswijk_cases
from tests.web.scenario import seed_utrecht_case

Auth = Callable[..., dict[str, str]]

UTRECHT_COORDINATING = ("gemeente-utrecht", "privacy-officer")
UTRECHT_LEAD = ("u-centraal", "privacy-officer")
UTRECHT_TEAM = ("politie-midden-nederland", "privacy-officer")
UTRECHT_OUTSIDER = ("bo-ex", "privacy-officer")
RIJSWIJK_COORDINATING = ("gemeente-rijswijk", "privacy-officer")
RIJSWIJK_CORPORATION = ("vidomes", "privacy-officer")
RIJSWIJK_OUTSIDER = ("rijswijk-wonen", "privacy-officer")


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return settings_without_jobs(tmp_path, database_url)


def _status(client: TestClient, auth: Auth, who: tuple[str, str]) -> dict[str, Any]:
    response = client.get("/v1/key-status", headers=auth(*who))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _counts(client: TestClient, auth: Auth, who: tuple[str, str]) -> tuple[Any, Any]:
    body = _status(client, auth, who)
    return body["dataKeysByKekVersion"], body["shreddedScopes"]


def _operator_status(context: GatewayContext, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("KETENPOORT_DATABASE_URL", context.settings.resolved_database_url)
    shown = CliRunner().invoke(keys_cli, ["status", "--data-dir", str(context.settings.data_dir)])
    assert shown.exit_code == 0, shown.output
    return shown.output


def test_another_covenants_erasures_are_not_counted_for_an_officer(
    client: TestClient,
    auth: Auth,
    context: GatewayContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    blind = (UTRECHT_COORDINATING, UTRECHT_LEAD, RIJSWIJK_OUTSIDER)
    before = {who: _counts(client, auth, who) for who in blind}
    _erase_two_rijswijk_cases(context)
    for who in blind:
        assert _counts(client, auth, who) == before[who], who
        assert _status(client, auth, who)["shreddedScopes"] == 0
    # Controls: Rijswijk's coordinating officer counts both erased dossiers, Vidomes's
    # officer the one its partner is in the team of; the versions are everyone's.
    assert _status(client, auth, RIJSWIJK_COORDINATING)["shreddedScopes"] == 2
    assert _status(client, auth, RIJSWIJK_CORPORATION)["shreddedScopes"] == 1
    assert _status(client, auth, UTRECHT_LEAD)["kekVersions"] == [1]
    # The operator still reads the gateway's totals.
    assert "shredded scopes: 2" in _operator_status(context, monkeypatch)


def test_cases_opened_outside_an_officers_view_are_not_counted(
    client: TestClient,
    auth: Auth,
    context: GatewayContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    officers = (
        UTRECHT_COORDINATING,
        UTRECHT_LEAD,
        UTRECHT_TEAM,
        UTRECHT_OUTSIDER,
        RIJSWIJK_COORDINATING,
        RIJSWIJK_OUTSIDER,
    )
    assert all(_counts(client, auth, who) == ({}, 0) for who in officers)
    seed_utrecht_case(client, auth)  # led by U Centraal, the police in its team
    seen = {who: _counts(client, auth, who)[0] for who in officers}
    # Controls: the officers accountable for the case count its dossier's key.
    assert seen[UTRECHT_COORDINATING] == {"1": 1}
    assert seen[UTRECHT_LEAD] == {"1": 1}
    assert seen[UTRECHT_TEAM] == {"1": 1}
    # A partner outside its team and the other covenant are told of no new case.
    assert seen[UTRECHT_OUTSIDER] == {}
    assert seen[RIJSWIJK_COORDINATING] == {}
    assert seen[RIJSWIJK_OUTSIDER] == {}
    filed = client.post(
        "/v1/reports",
        headers=auth("gemeente-rijswijk", "casemanager", user="cm-r"),
        json={
            "dwelling": {
                "address": {"postcode": "2281 AA", "houseNumber": 5},
                "ownership": "owner-occupied",
                "district": "Centrum",
            },
            "persons": [{"role": "causer", "bsn": "111222333"}],
            "report": {"channel": "form", "description": "Lawaai"},
        },
    )
    assert filed.status_code == 201, filed.text
    assert _counts(client, auth, UTRECHT_LEAD)[0] == {"1": 1}
    assert _counts(client, auth, UTRECHT_COORDINATING)[0] == {"1": 1}
    assert _counts(client, auth, RIJSWIJK_COORDINATING)[0] == {"1": 1}
    # The operator's count is every key: both dossiers and whatever else holds one (the
    # blind-index key), as before.
    with transaction(context.session_factory) as session:
        total = key_status(session=session, provider=context.require_keys().provider)
    assert total.data_keys_by_kek_version[1] >= 2
    shown = _operator_status(context, monkeypatch)
    assert f"data keys under KEK v1: {total.data_keys_by_kek_version[1]}" in shown
