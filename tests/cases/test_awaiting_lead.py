"""The stored "awaiting the lead" flag of a report equals its computed truth after every write
path that can change it (gateway/cases/awaiting.py, migration 0025).

The truth is the rule the lead's decision has always followed (reports.pending_reports: no
decision yet, the reporter neither the lead nor in the team) on an open case. Through the
API, one case: filing a report (outside the team: awaiting; the lead's own: not), the lead
moving (a waiting reporter becoming the lead), a team member added and removed, the lead's
decision either way, and the case closing. After each step every report's flag is compared
with the truth, and the set of waiting reporters is asserted, so each step shows the flag
moving both ways (the positive controls: without the session keeping it, the flag would stay
at its default and the first comparison fails).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from gateway.cases.models import CaseFile, CaseReport
from gateway.cases.reports import pending_reports
from gateway.context import GatewayContext
from gateway.db import transaction
from tests.cases.builders import file_report

Auth = Callable[..., dict[str, str]]
MAYOR = ("gemeente-rijswijk", "casemanager")
RW = ("rijswijk-wonen", "woonconsulent")
POLICE = ("politie-den-haag", "wijkagent")


def _ok(response: Any) -> Any:
    assert response.status_code in (200, 201), response.text
    return response.json()


def _move(client: TestClient, auth: Auth, case_id: str, transition: str, **facts: Any) -> Any:
    return _ok(
        client.post(
            f"/v1/cases/{case_id}/transitions",
            headers=auth(*MAYOR),
            json={"transition": transition, **facts},
        )
    )


def _waiting(context: GatewayContext) -> list[str]:
    """The reporters whose reports are flagged as awaiting the lead, after checking every
    report's flag against the truth."""
    with transaction(context.session_factory) as session:
        flagged = []
        for case in session.scalars(select(CaseFile)):
            truth = (
                {r.id for r in pending_reports(session, case)} if case.closed_at is None else set()
            )
            for report in session.scalars(select(CaseReport).where(CaseReport.case_id == case.id)):
                assert report.awaiting_lead == (report.id in truth), (
                    report.source_partner_id,
                    report.lead_decision,
                    case.lead_partner_id,
                    case.state,
                )
                if report.awaiting_lead:
                    flagged.append(report.source_partner_id)
    return sorted(flagged)


def _pending(client: TestClient, auth: Auth, case_id: str, partner: str) -> str:
    summary = _ok(client.get(f"/v1/cases/{case_id}", headers=auth(*MAYOR)))
    (report_id,) = [r["id"] for r in summary["pendingReports"] if r["partnerId"] == partner]
    return str(report_id)


def test_the_flag_follows_every_write_path(
    client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    # Filing: the corporation opens the case and leads it (landlord first); its own report
    # waits for nobody; the police's and the municipality's do (neither is in the team).
    case_id = file_report(client, auth, RW)["caseId"]
    assert _waiting(context) == []
    assert file_report(client, auth, POLICE)["awaitingLead"] is True
    file_report(client, auth, MAYOR)
    assert _waiting(context) == ["gemeente-rijswijk", "politie-den-haag"]

    # The lead moves to the municipality: its own report no longer waits for a lead.
    moved = _ok(
        client.post(
            f"/v1/cases/{case_id}/transitions",
            headers=auth(*RW),
            json={"transition": "classify-complex"},
        )
    )
    assert moved["leadPartnerId"] == "gemeente-rijswijk"
    assert _waiting(context) == ["politie-den-haag"]

    # The team: the police added (no longer waiting), removed again (waiting again).
    team = f"/v1/cases/{case_id}/team"
    _ok(client.post(team, json={"partnerId": "politie-den-haag"}, headers=auth(*MAYOR)))
    assert _waiting(context) == []
    removed = client.delete(f"{team}/politie-den-haag", headers=auth(*MAYOR))
    assert removed.status_code in (200, 204), removed.text
    assert _waiting(context) == ["politie-den-haag"]

    # The lead's decision: declined, then (on a new report) joined.
    decide = f"/v1/cases/{case_id}/reports/{{}}/reporter-decision"
    report_id = _pending(client, auth, case_id, "politie-den-haag")
    _ok(client.post(decide.format(report_id), json={"addToTeam": False}, headers=auth(*MAYOR)))
    assert _waiting(context) == []
    file_report(client, auth, POLICE)
    assert _waiting(context) == ["politie-den-haag"]
    report_id = _pending(client, auth, case_id, "politie-den-haag")
    _ok(client.post(decide.format(report_id), json={"addToTeam": True}, headers=auth(*MAYOR)))
    assert _waiting(context) == []

    # Out of the team once more and a new report: waiting; the case closes: nothing waits.
    removed = client.delete(f"{team}/politie-den-haag", headers=auth(*MAYOR))
    assert removed.status_code in (200, 204), removed.text
    file_report(client, auth, POLICE)
    assert _waiting(context) == ["politie-den-haag"]
    _move(client, auth, case_id, "form-team")
    _move(
        client,
        auth,
        case_id,
        "start-mediation",
        mediationScreening={"crime": False, "seriousPsychosocial": False, "multiProblem": False},
        bothSidesHeard=True,
    )
    _move(client, auth, case_id, "nuisance-stopped")
    assert _waiting(context) == ["politie-den-haag"]  # moving on is not closing
    closed = _move(
        client,
        auth,
        case_id,
        "close",
        result={
            "neighboursJudgement": "resolved",
            "partnersJudgement": "improved",
            "aftercare": "none",
        },
    )
    assert closed["state"] == "closed"
    assert _waiting(context) == []


def test_a_stale_flag_is_caught(client: TestClient, auth: Auth, context: GatewayContext) -> None:
    """The check above can fail: a flag set by hand, past the session, is found."""
    file_report(client, auth, RW)
    assert _waiting(context) == []
    with transaction(context.session_factory) as session:
        session.execute(update(CaseReport).values(awaiting_lead=True))
    with pytest.raises(AssertionError):
        _waiting(context)
