"""A meeting counts the agenda's cases and actions outside the reader's teams (``otherCases``,
``otherActions``) as the steering report counts by district: 0, or at least its minimum
group size (5), else null. The agenda is the district's open cases, fixed when the meeting
is planned, so every partner of the covenant read on a dated meeting that one case outside
its teams was open in a district the steering report leaves out for having fewer than five.
Review of 6 December (review4, finding 6)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.cases.overview import MIN_GROUP_SIZE
from tests.web.scenario import POLICE, seed_utrecht_case

Auth = Callable[..., dict[str, str]]
DISTRICT = "Noordoost"
ORGANISER = ("u-centraal", "casemanager")
OUTSIDER = ("lister", "woonbegeleider")  # in no case's team


def _plan(client: TestClient, auth: Auth) -> str:
    planned = client.post(
        "/v1/meetings",
        headers=auth(*ORGANISER, user="cm-1"),
        json={"district": DISTRICT, "scheduledOn": "2099-01-05"},
    )
    assert planned.status_code == 201, planned.text
    return str(planned.json()["id"])


def _cases(client: TestClient, auth: Auth, n: int) -> list[str]:
    """``n`` open cases in the district, the police in each team, Lister in none."""
    return [
        seed_utrecht_case(
            client, auth, district=DISTRICT, house_number=10 + i, causer_bsn=None
        ).case_id
        for i in range(n)
    ]


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
    assert listed.json()["_embedded"]["meetings"] == [alone.json()]
    return alone.json()


@pytest.mark.parametrize("n", [1, MIN_GROUP_SIZE - 1])
def test_an_outsider_is_not_told_how_few_cases_outside_its_teams_a_district_has(
    client: TestClient, auth: Auth, n: int
) -> None:
    cases = _cases(client, auth, n)
    meeting_id = _plan(client, auth)
    _act(client, auth, meeting_id, cases[0])
    # The steering report leaves the district out for the same reader ...
    steering = client.get("/v1/steering-report", headers=auth(*OUTSIDER))
    assert steering.status_code == 200, steering.text
    assert DISTRICT not in steering.json()["openByDistrict"]
    # ... and so does the meeting's count now (it read ``n``).
    seen = _meeting(client, auth, OUTSIDER, meeting_id)
    assert (seen["agenda"], seen["otherCases"]) == ([], None)
    assert (seen["actions"], seen["otherActions"]) == ([], None)
    # The positive control: the police, in each case's team, read every case and the action.
    seen = _meeting(client, auth, ("politie-midden-nederland", "wijkagent"), meeting_id)
    assert sorted(a["caseId"] for a in seen["agenda"]) == sorted(cases)
    assert (seen["otherCases"], len(seen["actions"]), seen["otherActions"]) == (0, 1, 0)


def test_control_five_cases_outside_the_readers_teams_are_counted(
    client: TestClient, auth: Auth
) -> None:
    cases = _cases(client, auth, MIN_GROUP_SIZE)
    meeting_id = _plan(client, auth)
    for case_id in cases:
        _act(client, auth, meeting_id, case_id)
    seen = _meeting(client, auth, OUTSIDER, meeting_id)
    assert (seen["agenda"], seen["otherCases"]) == ([], MIN_GROUP_SIZE)
    assert (seen["actions"], seen["otherActions"]) == ([], MIN_GROUP_SIZE)
