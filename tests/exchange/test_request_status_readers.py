"""``GET /v1/information-requests/{id}``: the requester reads every category of its request;
an addressed partner reads only what was asked of it. Before (review2 #5), the police read that
the case manager asked the neighbourhood team whether it knows the causer and the name of its
care worker, and that the team held nothing: U §5.6 tells that to the case manager
("Het buurtteam meldt de casemanager ...")."""

from __future__ import annotations

from typing import Any

from tests.exchange.conftest import CASE_MANAGER, POLICE, REPORTS, UtrechtCase

BUURTTEAM = ("buurtteam-sociaal", "adapter")
KNOWN = "neighbourhood-team-known"
CARE_WORKER = "neighbourhood-team-care-worker"


def _asked_of_police_and_buurtteam(case: UtrechtCase) -> str:
    team = case.client.post(
        f"/v1/cases/{case.case_id}/team",
        json={"partnerId": "buurtteam-sociaal"},
        headers=case.as_(CASE_MANAGER),
    )
    assert team.status_code in (200, 201), team.text
    created = case.client.post(
        "/v1/information-requests",
        json={
            "caseId": case.case_id,
            "purpose": "case-handling",
            "recipients": [
                {"partnerId": "politie-midden-nederland", "categories": [REPORTS]},
                {"partnerId": "buurtteam-sociaal", "categories": [KNOWN, CARE_WORKER]},
            ],
        },
        headers=case.as_(CASE_MANAGER, "cm-1"),
    )
    assert created.status_code == 201, created.text
    request_id = str(created.json()["id"])
    answered = case.answer(
        request_id,
        [{"category": KNOWN, "yesNo": False}, {"category": CARE_WORKER, "notAvailable": True}],
        who=BUURTTEAM,
    )
    assert answered.status_code == 200, answered.text
    return request_id


def _status(case: UtrechtCase, request_id: str, who: tuple[str, str]) -> dict[str, Any]:
    response = case.client.get(f"/v1/information-requests/{request_id}", headers=case.as_(who))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _items(body: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(i["partnerId"], i["category"], i["state"]) for i in body["items"]}


def test_an_addressed_partner_reads_only_what_was_asked_of_it(utrecht_case: UtrechtCase) -> None:
    request_id = _asked_of_police_and_buurtteam(utrecht_case)
    police = _status(utrecht_case, request_id, POLICE)
    assert _items(police) == {("politie-midden-nederland", REPORTS, "asked")}
    assert police["state"] == "open"  # its own part: not "partially answered" by the others
    assert _items(_status(utrecht_case, request_id, BUURTTEAM)) == {
        ("buurtteam-sociaal", KNOWN, "answered"),
        ("buurtteam-sociaal", CARE_WORKER, "not-available"),
    }


def test_the_requester_reads_every_category(utrecht_case: UtrechtCase) -> None:
    """The control: the case manager who asked reads all three, the team's answers too."""
    request_id = _asked_of_police_and_buurtteam(utrecht_case)
    assert _items(_status(utrecht_case, request_id, CASE_MANAGER)) == {
        ("politie-midden-nederland", REPORTS, "asked"),
        ("buurtteam-sociaal", KNOWN, "answered"),
        ("buurtteam-sociaal", CARE_WORKER, "not-available"),
    }
