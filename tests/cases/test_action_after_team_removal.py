"""A meeting action about a case exists for its owner only while the owner's partner leads
the case or is in its team (review5 F5). Removed from the team, the case is 404 for it
(gateway/cases/access.py, U §6 "de andere partijen die bij de casus zijn betrokken"); before,
``GET /v1/deadlines`` (and the zaken page) still listed its action with the case id and due
day, the meeting (API and page) still showed it as its own, and it could complete it. Now
the action is neither shown nor counted on the meeting, left off its deadlines, and its
completion is the 404 of an unknown action. Controls: the owner in the team sees and
completes it; the organiser (the lead) still sees and completes it after the removal."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from gateway.core.dutch_date import dutch_today
from tests.exchange.conftest import CASE_MANAGER, WIJKAGENT, UtrechtCase, open_utrecht_case
from tests.web.conftest import sign_in

Auth = Callable[..., dict[str, str]]
POLICE = "politie-midden-nederland"


@pytest.fixture
def browser(app: FastAPI) -> Iterator[TestClient]:
    """As the pages' tests: https, so the Secure session cookie is sent."""
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as client:
        yield client


def _action(client: TestClient, auth: Auth) -> tuple[UtrechtCase, str, str]:
    case = open_utrecht_case(client, auth)
    meeting = client.post(
        "/v1/meetings",
        json={"district": "binnenstad", "scheduledOn": str(dutch_today() + timedelta(days=3))},
        headers=auth(*CASE_MANAGER, user="cm-1"),
    )
    assert meeting.status_code == 201, meeting.text
    meeting_id = meeting.json()["id"]
    action = client.post(
        f"/v1/meetings/{meeting_id}/actions",
        json={
            "caseId": case.case_id,
            "ownerPartnerId": POLICE,
            "description": "Wijkagent legt huisbezoek af.",
            "dueOn": str(dutch_today() + timedelta(days=10)),
        },
        headers=auth(*CASE_MANAGER, user="cm-1"),
    )
    assert action.status_code == 201, action.text
    return case, meeting_id, action.json()["id"]


def _remove_police(client: TestClient, auth: Auth, case: UtrechtCase) -> None:
    removed = client.delete(
        f"/v1/cases/{case.case_id}/team/{POLICE}", headers=auth(*CASE_MANAGER, user="cm-1")
    )
    assert removed.status_code == 200, removed.text
    gone = client.get(f"/v1/cases/{case.case_id}", headers=auth(*WIJKAGENT, user="wa-1"))
    assert gone.status_code == 404


def _deadline_cases(client: TestClient, auth: Auth, who: tuple[str, str]) -> list[Any]:
    listed = client.get("/v1/deadlines", headers=auth(*who, user="u-1"))
    assert listed.status_code == 200, listed.text
    return [d.get("caseId") for d in listed.json()["_embedded"]["deadlines"]]


def _meeting(client: TestClient, auth: Auth, who: tuple[str, str], meeting_id: str) -> Any:
    shown = client.get(f"/v1/meetings/{meeting_id}", headers=auth(*who, user="u-1"))
    assert shown.status_code == 200, shown.text
    return shown.json()


def _complete(
    client: TestClient, auth: Auth, who: tuple[str, str], meeting_id: str, action_id: str
) -> Any:
    return client.post(
        f"/v1/meetings/{meeting_id}/actions/{action_id}/completion",
        headers=auth(*who, user="u-1"),
    )


def test_a_removed_owner_reads_its_action_about_the_case_no_more(
    client: TestClient, auth: Auth
) -> None:
    case, meeting_id, action_id = _action(client, auth)
    # Control: in the team, the owner reads the action on its deadlines and the meeting.
    assert case.case_id in _deadline_cases(client, auth, WIJKAGENT)
    assert [a["id"] for a in _meeting(client, auth, WIJKAGENT, meeting_id)["actions"]] == [
        action_id
    ]
    _remove_police(client, auth, case)
    assert case.case_id not in _deadline_cases(client, auth, WIJKAGENT)
    meeting = _meeting(client, auth, WIJKAGENT, meeting_id)
    assert meeting["actions"] == []
    assert case.case_id not in str(meeting)
    assert "otherActions" not in meeting  # nor counted
    listed = client.get("/v1/meetings?district=binnenstad", headers=auth(*WIJKAGENT))
    assert listed.status_code == 200, listed.text
    assert case.case_id not in listed.text
    # Control: the organiser, the lead, still reads it with its case.
    organisers = _meeting(client, auth, CASE_MANAGER, meeting_id)["actions"]
    assert [(a["id"], a["caseId"]) for a in organisers] == [(action_id, case.case_id)]


def test_a_removed_owner_cannot_complete_it_the_organiser_can(
    client: TestClient, auth: Auth
) -> None:
    case, meeting_id, action_id = _action(client, auth)
    unknown = _complete(
        client, auth, WIJKAGENT, meeting_id, "0" * 8 + "-0000-4000-8000-" + "0" * 12
    )
    _remove_police(client, auth, case)
    refused = _complete(client, auth, WIJKAGENT, meeting_id, action_id)
    assert refused.status_code == 404, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["detail"] == unknown.json()["detail"]
    [still] = _meeting(client, auth, CASE_MANAGER, meeting_id)["actions"]
    assert still["doneAt"] is None  # nothing stored
    done = _complete(client, auth, CASE_MANAGER, meeting_id, action_id)
    assert done.status_code == 200, done.text
    assert done.json()["doneAt"] is not None


def test_control_the_owner_in_the_team_completes_it(client: TestClient, auth: Auth) -> None:
    _, meeting_id, action_id = _action(client, auth)
    done = _complete(client, auth, WIJKAGENT, meeting_id, action_id)
    assert done.status_code == 200, done.text


def test_the_meeting_page_and_the_cases_page_leave_the_action_out(
    browser: TestClient, auth: Auth
) -> None:
    case, meeting_id, action_id = _action(browser, auth)
    sign_in(browser, *WIJKAGENT)
    assert action_id in browser.get(f"/overleggen/{meeting_id}").text  # control
    _remove_police(browser, auth, case)
    page = browser.get(f"/overleggen/{meeting_id}")
    assert page.status_code == 200, page.text
    assert action_id not in page.text
    assert case.case_id not in page.text
    zaken = browser.get("/zaken")
    assert zaken.status_code == 200, zaken.text
    assert case.case_id not in zaken.text
