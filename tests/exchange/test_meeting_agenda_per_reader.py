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
    assert "otherCases" not in meeting
    # ... and Lister, not in the team, cannot see the case itself ...
    hidden = utrecht_case.client.get(f"/v1/cases/{case_id}", headers=utrecht_case.as_(LISTER))
    assert hidden.status_code == 404, hidden.text
    # ... nor find it on the agenda, nor how many (not counted: a count planned twice told
    # a case opened in between; tests/cases/test_meeting_others_not_counted.py).
    (seen,) = _as_read_by(utrecht_case, LISTER, meeting["id"])
    assert (seen["agenda"], "otherCases" in seen) == ([], False)
    assert case_id not in str(seen)
    # A partner in the team reads the same agenda as the organiser.
    for member in (MITROS, WIJKAGENT):
        (seen,) = _as_read_by(utrecht_case, member, meeting["id"])
        assert [a["caseId"] for a in seen["agenda"]] == [case_id]


def test_actions_about_a_case_are_shown_to_its_team_and_to_their_owner_only(
    utrecht_case: UtrechtCase,
) -> None:
    case_id = utrecht_case.case_id
    meeting_id = _plan(utrecht_case)["id"]
    assert _action(utrecht_case, meeting_id, POLICE_ID, case_id) == 201
    assert _action(utrecht_case, meeting_id, "u-centraal", None) == 201  # about no case
    assert _action(utrecht_case, meeting_id, "lister", None) == 201  # Lister's own

    def owners(who: tuple[str, str]) -> tuple[list[tuple[str, str | None]], bool]:
        (seen,) = _as_read_by(utrecht_case, who, meeting_id)
        shown = sorted((a["ownerPartnerId"], a["caseId"]) for a in seen["actions"])
        return shown, "otherActions" in seen

    everything = sorted(
        [("lister", None), (POLICE_ID, case_id), ("u-centraal", None)],
        key=lambda row: (row[0], row[1] or ""),
    )
    # The positive control: the lead and a team member see every action.
    assert owners(CASE_MANAGER) == (everything, False)
    assert owners(WIJKAGENT) == (everything, False)
    # Lister sees the actions about no case, its own among them; not the police's, nor how
    # many (not counted).
    assert owners(LISTER) == ([("lister", None), ("u-centraal", None)], False)


def test_an_action_about_a_case_goes_only_to_a_partner_in_its_team(
    utrecht_case: UtrechtCase,
) -> None:
    """review3 finding 8: the organiser gave an action about a case to a partner outside its
    team (only "a partner of the covenant" was checked), and the owner then read the case's
    id on the meeting and in its deadlines while the case itself was 404 to it. Refused now;
    the control: once the lead adds the partner to the team, the same action is taken."""
    case_id = utrecht_case.case_id
    meeting_id = _plan(utrecht_case)["id"]
    body = {
        "caseId": case_id,
        "ownerPartnerId": "lister",
        "description": "Huisbezoek",
        "dueOn": "2099-01-19",
    }
    refused = utrecht_case.client.post(
        f"/v1/meetings/{meeting_id}/actions", json=body, headers=utrecht_case.as_(CASE_MANAGER)
    )
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["type"].endswith("/invalid-case-data")
    assert "not in the case team" in refused.json()["detail"]
    # Nothing was stored: Lister reads neither an action nor a deadline naming the case.
    (seen,) = _as_read_by(utrecht_case, LISTER, meeting_id)
    assert (seen["actions"], "otherActions" in seen) == ([], False)
    deadlines = utrecht_case.client.get("/v1/deadlines", headers=utrecht_case.as_(LISTER))
    assert deadlines.status_code == 200, deadlines.text
    assert case_id not in deadlines.text
    # The positive control: in the team, Lister is given the action and reads it.
    joined = utrecht_case.client.post(
        f"/v1/cases/{case_id}/team",
        json={"partnerId": "lister"},
        headers=utrecht_case.as_(CASE_MANAGER),
    )
    assert joined.status_code in (200, 201), joined.text
    taken = utrecht_case.client.post(
        f"/v1/meetings/{meeting_id}/actions", json=body, headers=utrecht_case.as_(CASE_MANAGER)
    )
    assert taken.status_code == 201, taken.text
    (seen,) = _as_read_by(utrecht_case, LISTER, meeting_id)
    assert [(a["ownerPartnerId"], a["caseId"]) for a in seen["actions"]] == [("lister", case_id)]


def test_an_organiser_outside_a_cases_team_neither_reads_it_on_the_agenda_nor_acts_on_it(
    utrecht_case: UtrechtCase, context: GatewayContext
) -> None:
    """The agenda is the district's open cases (U §5.1); a case the organiser neither leads
    nor is in the team of (a lead handed to the corporation, R §2.3) is counted (null: fewer
    than five), and an action about it is refused as for a case off the agenda."""
    with context.session_factory() as session, session.begin():
        case = session.get_one(CaseFile, utrecht_case.case_id)
        case.lead_partner_id = "mitros"
        session.delete(session.get_one(CaseTeamMember, (case.id, "u-centraal")))
    meeting = _plan(utrecht_case)
    assert (meeting["agenda"], "otherCases" in meeting) == ([], False)
    assert _action(utrecht_case, meeting["id"], "mitros", utrecht_case.case_id) == 422
    # The positive control: the new lead reads the case on the agenda.
    (seen,) = _as_read_by(utrecht_case, MITROS, meeting["id"])
    assert [a["caseId"] for a in seen["agenda"]] == [utrecht_case.case_id]
