"""A member the lead only consulted (U §5.6 "desgevraagd") is no party to the case meetings'
work on the case (review14 F3; ``add_action`` already refuses it an action): the meeting's
agenda and actions about the case are not in its view of the meeting, nor the case's meetings
on its case page, as its deadline list leaves the case out. Controls: the police, an involved
member, read them; so does the consulted member once the lead marks it involved (U §6)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.cases.test_meeting_others_not_counted import (
    ORGANISER,
    TEAM,
    Auth,
    _act,
    _case,
    _meeting,
    _plan,
)

ASKED = ("buurtteam-sociaal", "buurtteam-medewerker")


def _team(client: TestClient, auth: Auth, case_id: str, body: dict[str, object]) -> None:
    added = client.post(
        f"/v1/cases/{case_id}/team", headers=auth(*ORGANISER, user="cm-1"), json=body
    )
    assert added.status_code == 200, added.text


def _case_work(meeting: Any, case_id: str) -> tuple[list[Any], list[Any]]:
    agenda = [item for item in meeting["agenda"] if item["caseId"] == case_id]
    actions = [a for a in meeting["actions"] if a["caseId"] == case_id]
    return agenda, actions


def test_a_consulted_member_reads_no_meeting_work_on_the_case_until_involved(
    client: TestClient, auth: Auth
) -> None:
    case_id = _case(client, auth, 1)
    _team(client, auth, case_id, {"partnerId": ASKED[0], "consulted": True})
    meeting_id = _plan(client, auth)
    _act(client, auth, meeting_id, case_id)

    agenda, actions = _case_work(_meeting(client, auth, TEAM, meeting_id), case_id)
    assert agenda  # the police, involved, read the case's work
    assert actions
    assert _case_work(_meeting(client, auth, ASKED, meeting_id), case_id) == ([], [])

    _team(client, auth, case_id, {"partnerId": ASKED[0]})
    agenda, actions = _case_work(_meeting(client, auth, ASKED, meeting_id), case_id)
    assert agenda
    assert actions
