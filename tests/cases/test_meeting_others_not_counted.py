"""A meeting names the agenda's cases and the actions of the reader's teams, and says nothing
of the others, not even how many (``otherCases`` and ``otherActions`` until 6 December 2026).

The agenda is the district's open cases at the minute the meeting is planned. With the
counts, two meetings planned minutes apart told any partner of the covenant, the organiser
too, that one case outside its teams was opened (or closed) in that district in between:
the difference of the counts, past the suppression under five of each (review4 finding 6
left the difference between five and six); and a meeting read twice told that an action was
given about a case the reader may not see. No source asks for the count: a partner comes to
the meeting informed about its own cases (U §6). Each regression has its control: a reader
in the cases' teams sees the new case on the second agenda and the action.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.web.scenario import POLICE, seed_utrecht_case

Auth = Callable[..., dict[str, str]]
DISTRICT = "Noordoost"
ORGANISER = ("u-centraal", "casemanager")
OUTSIDER = ("lister", "woonbegeleider")  # in no case's team
TEAM = ("politie-midden-nederland", "wijkagent")  # in every case's team (it reported them)


def _plan(client: TestClient, auth: Auth) -> str:
    planned = client.post(
        "/v1/meetings",
        headers=auth(*ORGANISER, user="cm-1"),
        json={"district": DISTRICT, "scheduledOn": "2099-01-05"},
    )
    assert planned.status_code == 201, planned.text
    return str(planned.json()["id"])


def _case(client: TestClient, auth: Auth, n: int) -> str:
    """An open case in the district, the police in its team, Lister in none."""
    return seed_utrecht_case(
        client, auth, district=DISTRICT, house_number=10 + n, causer_bsn=None
    ).case_id


def _act(client: TestClient, auth: Auth, meeting_id: str, case_id: str) -> None:
    action = client.post(
        f"/v1/meetings/{meeting_id}/actions",
        headers=auth(*ORGANISER, user="cm-1"),
        json={"caseId": case_id, "ownerPartnerId": POLICE, "description": "Huisbezoek",
              "dueOn": "2099-01-19"},
    )  # fmt: skip
    assert action.status_code == 201, action.text


def _meeting(client: TestClient, auth: Auth, who: tuple[str, str], meeting_id: str) -> Any:
    """The meeting as ``who`` reads it, alone and in the district's list (the same)."""
    alone = client.get(f"/v1/meetings/{meeting_id}", headers=auth(*who))
    assert alone.status_code == 200, alone.text
    listed = client.get(f"/v1/meetings?district={DISTRICT}", headers=auth(*who))
    assert listed.status_code == 200, listed.text
    assert alone.json() in listed.json()["_embedded"]["meetings"]
    return alone.json()


def _but_the_id(meeting: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in meeting.items() if key != "id"}


def test_two_meetings_planned_minutes_apart_tell_no_case_opened_in_between(
    client: TestClient, auth: Auth
) -> None:
    cases = [_case(client, auth, n) for n in range(6)]  # counted before: six of at least five
    first = _plan(client, auth)
    cases.append(_case(client, auth, 6))
    second = _plan(client, auth)
    one, other = (_meeting(client, auth, OUTSIDER, m) for m in (first, second))
    assert _but_the_id(one) == _but_the_id(other)  # was otherCases 6, then 7
    assert (one["agenda"], "otherCases" in one) == ([], False)
    # Control: the team reads each agenda whole, the new case on the second only.
    one, other = (_meeting(client, auth, TEAM, m) for m in (first, second))
    assert sorted(a["caseId"] for a in one["agenda"]) == sorted(cases[:6])
    assert sorted(a["caseId"] for a in other["agenda"]) == sorted(cases)


def test_a_meeting_read_twice_tells_no_action_given_in_between(
    client: TestClient, auth: Auth
) -> None:
    cases = [_case(client, auth, n) for n in range(6)]
    meeting_id = _plan(client, auth)
    for case_id in cases[:5]:
        _act(client, auth, meeting_id, case_id)
    before = _meeting(client, auth, OUTSIDER, meeting_id)
    _act(client, auth, meeting_id, cases[5])
    after = _meeting(client, auth, OUTSIDER, meeting_id)
    assert after == before  # was otherActions 5, then 6
    assert (after["actions"], "otherActions" in after) == ([], False)
    # Control: the team reads every action, the last one too.
    seen = _meeting(client, auth, TEAM, meeting_id)
    assert sorted(a["caseId"] for a in seen["actions"]) == sorted(cases)
