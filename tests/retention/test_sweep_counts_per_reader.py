"""``GET /v1/retention/sweeps`` counts a run's erasures per reader (review5 F4): a sweep runs
over every covenant, and each run's total (``erased``) told Utrecht's privacy officers how
many Rijswijk cases went, and when. Now ``erased`` counts the officer's own covenant's cases,
and for a partner's officer other than the coordinating one those its partner leads or is
in the team of (the officer's retention view, as the overview's count). The times, status and
``failing`` stay the same for every officer. Each refusal has its control."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.cases.models import CaseFile, CaseTeamMember, Dwelling
from gateway.config import Settings
from gateway.context import GatewayContext
from gateway.db import transaction
from tests.conftest import settings_without_jobs
from tests.retention.conftest import seed_case

Auth = Callable[..., dict[str, str]]
RIJSWIJK_COORDINATING = ("gemeente-rijswijk", "privacy-officer")
RIJSWIJK_CORPORATION = ("vidomes", "privacy-officer")
UTRECHT_COORDINATING = ("gemeente-utrecht", "privacy-officer")
UTRECHT_LEAD = ("u-centraal", "privacy-officer")


@pytest.fixture
def settings(tmp_path, database_url: str) -> Settings:  # type: ignore[no-untyped-def]
    return settings_without_jobs(tmp_path, database_url)


def _runs(client: TestClient, auth: Auth, who: tuple[str, str]) -> Any:
    response = client.get("/v1/retention/sweeps", headers=auth(*who))
    assert response.status_code == 200, response.text
    return response.json()


def _erase_two_rijswijk_cases(context: GatewayContext) -> str:
    """Two Rijswijk cases erased by one run (R §3.4: one year after solved mediation), the
    second with the corporation Vidomes in its team, its dwelling's landlord (so its
    officer is told the rule chosen by sanctions and the erasure's day: it records the
    measures; tests/retention/test_erasure_entry_readers.py withholds them from an officer
    not told them); returns the run's id."""
    seed_case(context, facts=[("mediation-ended", date(2024, 3, 10), "solved")])
    teamed = seed_case(context, facts=[("mediation-ended", date(2024, 3, 11), "solved")])
    with transaction(context.session_factory) as session:
        case = session.get(CaseFile, teamed.case_id)
        assert case is not None
        session.get_one(Dwelling, case.dwelling_id).corporation_id = RIJSWIJK_CORPORATION[0]
        session.add(CaseTeamMember.of(case, RIJSWIJK_CORPORATION[0], now=case.opened_at, by="t"))
    report = context.require_retention().sweep(as_of=date(2025, 3, 11))
    assert report.redacted == 2
    return str(report.run_id)


def test_another_covenants_officers_read_none_of_the_runs_erasures(
    client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    run_id = _erase_two_rijswijk_cases(context)
    # Control: the Rijswijk coordinating officer reads both of its covenant's cases.
    rijswijk = _runs(client, auth, RIJSWIJK_COORDINATING)
    assert [(r["runId"], r["erased"]) for r in rijswijk["runs"]] == [(run_id, 2)]
    for who in (UTRECHT_COORDINATING, UTRECHT_LEAD):
        utrecht = _runs(client, auth, who)
        # The same run, with its time and status, but none of the other covenant's cases.
        assert [(r["runId"], r["status"], r["erased"]) for r in utrecht["runs"]] == [
            (run_id, "finished", 0)
        ]
        assert utrecht["failing"] == rijswijk["failing"]


def test_a_partners_officer_reads_the_erasures_of_its_partners_cases(
    client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    _erase_two_rijswijk_cases(context)
    # Vidomes is in the team of one of the two: it is told of that one only.
    assert [r["erased"] for r in _runs(client, auth, RIJSWIJK_CORPORATION)["runs"]] == [1]
    # A Rijswijk partner in neither team is told of none.
    other = _runs(client, auth, ("rijswijk-wonen", "privacy-officer"))
    assert [r["erased"] for r in other["runs"]] == [0]
