"""Outside a case's team the case does not exist (404 on GET /v1/cases/{caseId}); the
district meetings, which every partner of the covenant lists, name on their agendas and
actions only the reader's cases (those its partner leads or is in the team of) and count the
others. Found by the review of 6 December (F6)."""

from __future__ import annotations

from typing import Any

from gateway.cases.models import CaseFile, CaseTeamMember
from gateway.context import GatewayContext
from tests.exchange.conftest import CASE_MANAGER, MITROS, WIJKAGENT, UtrechtCase

LISTER = ("lister", "woonbegeleider")
POLICE_ID = "politie-midden-nederland"


def _plan(case: UtrechtCase) -> dict[str, Any]:
    planned = case.client.post(
        "/v1/meetings",
        json={"district": "binnenstad", "scheduledOn": "2099-01-05"},
        headers=case.as_(CASE_MANAGER),
    )
    assert planned.status_code == 201, planned.text
    return planned.json()  # type: ignore[no-any-return]


def _action(case: UtrechtCase, meeting_id: str, owner: str, case_id: str | None) -> int:
    body = {"ownerPartnerId": owner, "description": "Huisbezoek", "dueOn": "2099-01-19"}
    response = case.client.post(
        f"/v1/meetings/{meeting_id}/actions",
        json={**body, **({"caseId": case_id} if case_id else {})},
        headers=case.as_(CASE_MANAGER),
    )
    return response.status_code


def _as_read_by(case: UtrechtCase, who: tuple[str, str], meeting_id: str) -> list[dict[str, Any]]:
    """The meeting as ``who`` reads it in the list and on its own: the two must agree."""
    listed = case.client.get("/v1/meetings", headers=case.as_(who))
    assert listed.status_code == 200, listed.text
    (in_list,) = [m for m in listed.json()["_embedded"]["meetings"] if m["id"] == meeting_id]
    alone = case.client.get(f"/v1/meetings/{meeting_id}", headers=case.as_(who))
    assert alone.status_code == 200, alone.text
    assert alone.json() == in_list
    return [in_list]


def test_a_partner_outside_the_team_is_not_told_which_cases_are_on_the_agenda(
    utrecht_case: UtrechtCase,
) -> None:
    case_id = utrecht_case.case_id
    meeting = _plan(utrecht_case)
    # The organiser (the case's lead) sees the case on the agenda (the positive control) ...
    assert [a["caseId"] for a in meeting["agenda"]] == [case_id]
    assert meeting.get("otherCases", 0) == 0
    # ... and Lister, not in the team, cannot see the case itself ...
    hidden = utrecht_case.client.get(f"/v1/cases/{case_id}", headers=utrecht_case.as_(LISTER))
    assert hidden.status_code == 404, hidden.text
    # ... nor find it on the agenda: the meeting counts it, without its id or reference.
    (seen,) = _as_read_by(utrecht_case, LISTER, meeting["id"])
    assert (seen["agenda"], seen.get("otherCases")) == ([], 1)
    assert case_id not in str(seen)
    # A partner in the team reads the same agenda as the organiser.
    for member in (MITROS, WIJKAGENT):
        (seen,) = _as_read_by(utrecht_case, member, meeting["id"])
        assert ([a["caseId"] for a in seen["agenda"]], seen.get("otherCases", 0)) == ([case_id], 0)


def test_actions_about_a_case_are_shown_to_its_team_and_to_their_owner_only(
    utrecht_case: UtrechtCase,
) -> None:
    case_id = utrecht_case.case_id
    meeting_id = _plan(utrecht_case)["id"]
    assert _action(utrecht_case, meeting_id, POLICE_ID, case_id) == 201
    assert _action(utrecht_case, meeting_id, "u-centraal", None) == 201  # about no case
    assert _action(utrecht_case, meeting_id, "lister", case_id) == 201  # Lister's own

    def owners(who: tuple[str, str]) -> tuple[list[tuple[str, str | None]], int]:
        (seen,) = _as_read_by(utrecht_case, who, meeting_id)
        shown = sorted((a["ownerPartnerId"], a["caseId"]) for a in seen["actions"])
        return shown, seen.get("otherActions", 0)

    everything = sorted(
        [("lister", case_id), (POLICE_ID, case_id), ("u-centraal", None)],
        key=lambda row: (row[0], row[1] or ""),
    )
    # The positive control: the lead and a team member see every action.
    assert owners(CASE_MANAGER) == (everything, 0)
    assert owners(WIJKAGENT) == (everything, 0)
    # Lister sees the action it must carry out and the general one; the police's is counted.
    assert owners(LISTER) == ([("lister", case_id), ("u-centraal", None)], 1)


def test_an_organiser_outside_a_cases_team_neither_reads_it_on_the_agenda_nor_acts_on_it(
    utrecht_case: UtrechtCase, context: GatewayContext
) -> None:
    """The agenda is the district's open cases (U §5.1); a case the organiser neither leads
    nor is in the team of (a lead handed to the corporation, R §2.3) is counted, and an action
    about it is refused as for a case off the agenda."""
    with context.session_factory() as session, session.begin():
        case = session.get_one(CaseFile, utrecht_case.case_id)
        case.lead_partner_id = "mitros"
        session.delete(session.get_one(CaseTeamMember, (case.id, "u-centraal")))
    meeting = _plan(utrecht_case)
    assert (meeting["agenda"], meeting.get("otherCases")) == ([], 1)
    assert _action(utrecht_case, meeting["id"], "mitros", utrecht_case.case_id) == 422
    # The positive control: the new lead reads the case on the agenda.
    (seen,) = _as_read_by(utrecht_case, MITROS, meeting["id"])
    assert [a["caseId"] for a in seen["agenda"]] == [utrecht_case.case_id]
