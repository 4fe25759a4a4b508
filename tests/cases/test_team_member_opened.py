"""A team membership carries its case's opening moment (``case_team_member.case_opened_at``,
migration 0028), by which ``GET /v1/cases`` reads a partner's team cases in the list's order.

Every path that adds a member writes it: the intake's seeded team, the lead moving (the new
lead joins the team), a member added by the lead, and the lead's decision to add a reporter.
After each, every membership's moment equals its case's ``opened_at``, and the member's case
list shows the case (the positive control: the list reads the memberships by that moment).
The check can fail: a moment set wrong by hand is found.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from gateway.cases.models import CaseFile, CaseTeamMember
from gateway.context import GatewayContext
from gateway.db import transaction
from tests.cases.builders import file_report

Auth = Callable[..., dict[str, str]]
MAYOR = ("gemeente-rijswijk", "casemanager")
RW = ("rijswijk-wonen", "woonconsulent")
POLICE = ("politie-den-haag", "wijkagent")
TEAM = ("sociaal-wijkteam-rijswijk", "buurtteam-medewerker")


def _ok(response: Any) -> Any:
    assert response.status_code in (200, 201, 202), response.text
    return response.json()


def _members(context: GatewayContext) -> list[str]:
    """The members of every team, after checking each one's moment against its case's."""
    with transaction(context.session_factory) as session:
        rows = session.execute(
            select(CaseTeamMember, CaseFile.opened_at).join(
                CaseFile, CaseFile.id == CaseTeamMember.case_id
            )
        ).all()
        for member, opened_at in rows:
            assert member.case_opened_at == opened_at, member.partner_id
        return sorted(member.partner_id for member, _ in rows)


def _listed(client: TestClient, auth: Auth, who: tuple[str, str]) -> list[str]:
    body = _ok(client.get("/v1/cases?limit=5", headers=auth(*who)))
    return [case["id"] for case in body["_embedded"]["cases"]]


def test_every_path_that_adds_a_member_writes_the_cases_opening(
    client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    # Intake: the corporation reports its own dwelling, leads, and is the team.
    case_id = file_report(client, auth, RW)["caseId"]
    assert _members(context) == ["rijswijk-wonen"]
    assert _listed(client, auth, MAYOR) == []

    # The lead moves to the municipality, which joins the team.
    _ok(
        client.post(
            f"/v1/cases/{case_id}/transitions",
            headers=auth(*RW),
            json={"transition": "classify-complex"},
        )
    )
    assert _members(context) == ["gemeente-rijswijk", "rijswijk-wonen"]
    # The former lead sees the case as a team member (it leads it no more).
    assert _listed(client, auth, RW) == [case_id]

    # Added by the lead.
    _ok(
        client.post(
            f"/v1/cases/{case_id}/team",
            json={"partnerId": "politie-den-haag"},
            headers=auth(*MAYOR),
        )
    )
    assert "politie-den-haag" in _members(context)
    assert _listed(client, auth, POLICE) == [case_id]

    # A reporter added by the lead's decision.
    assert _listed(client, auth, TEAM) == []  # control: not in the team yet
    file_report(client, auth, TEAM)
    summary = _ok(client.get(f"/v1/cases/{case_id}", headers=auth(*MAYOR)))
    (report_id,) = [
        r["id"] for r in summary["pendingReports"] if r["partnerId"] == "sociaal-wijkteam-rijswijk"
    ]
    _ok(
        client.post(
            f"/v1/cases/{case_id}/reports/{report_id}/reporter-decision",
            json={"addToTeam": True},
            headers=auth(*MAYOR),
        )
    )
    assert "sociaal-wijkteam-rijswijk" in _members(context)
    assert _listed(client, auth, TEAM) == [case_id]


def test_a_wrong_moment_is_caught(client: TestClient, auth: Auth, context: GatewayContext) -> None:
    """The check above can fail: a moment set by hand, past the model, is found."""
    file_report(client, auth, RW)
    assert _members(context) == ["rijswijk-wonen"]
    with transaction(context.session_factory) as session:
        first = session.scalars(select(CaseFile.opened_at)).one()
        session.execute(update(CaseTeamMember).values(case_opened_at=first.replace(year=2001)))
    with pytest.raises(AssertionError):
        _members(context)


def test_a_cases_opening_moment_is_set_once(
    client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    """The copy in the memberships stays right because the original does not move: the model
    refuses a second opening moment (and keeps the same one, the control)."""
    case_id = file_report(client, auth, RW)["caseId"]
    with transaction(context.session_factory) as session:
        case = session.get_one(CaseFile, case_id)
        case.opened_at = case.opened_at  # the same moment: allowed
        with pytest.raises(ValueError, match="opening moment"):
            case.opened_at = case.opened_at.replace(year=2001)
    assert _members(context) == ["rijswijk-wonen"]
