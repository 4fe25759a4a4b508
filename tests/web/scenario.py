"""A Utrecht case built through the public API, as partners would: a report by U Centraal,
the police in the case team, and a police investigation running without OM consent (so the
antecedents are withheld, U §5.3). Used by the page tests and the browser test."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx
from fastapi.testclient import TestClient

Headers = Callable[..., dict[str, str]]
# The page tests pass a TestClient, the browser test an httpx client to the live server.
Client = httpx.Client | TestClient

POLICE = "politie-midden-nederland"
CAUSER_BSN = "111222333"


@dataclass(frozen=True)
class SeededCase:
    case_id: str
    reference: str


def seed_utrecht_case(
    client: Client,
    auth: Headers,
    *,
    district: str = "Noordoost",
    house_number: int = 12,
    causer_bsn: str | None = CAUSER_BSN,
) -> SeededCase:
    """A new case; another address and no causer's BSN make a second, separate one."""
    manager = {"user": "cm-1"}
    created = client.post(
        "/v1/reports",
        headers=auth("u-centraal", "casemanager", **manager),
        json={
            "dwelling": {
                "address": {"postcode": "3511 AB", "houseNumber": house_number},
                "ownership": "owner-occupied",
                "district": district,
            },
            "persons": [{"role": "causer", "bsn": causer_bsn}] if causer_bsn else [],
            "report": {"channel": "form", "description": "Harde muziek en bedreigingen"},
        },
    )
    assert created.status_code == 201, created.text
    case_id = created.json()["caseId"]
    team = client.post(
        f"/v1/cases/{case_id}/team",
        headers=auth("u-centraal", "casemanager", **manager),
        json={"partnerId": POLICE},
    )
    assert team.status_code == 200, team.text
    investigation = client.put(
        f"/v1/cases/{case_id}/investigation-status",
        headers=auth(POLICE, "wijkagent", user="wa-1"),
        json={"running": True},
    )
    assert investigation.status_code == 200, investigation.text
    return SeededCase(case_id=case_id, reference=created.json()["reference"])


def answer_police_reports(client: Client, auth: Headers, request_id: str) -> None:
    """The police adapter answers the reports category of an open request."""
    answered = client.post(
        f"/v1/information-requests/{request_id}/answers",
        headers=auth(POLICE, "adapter"),
        json={"answers": [{"category": "police-reports", "value": "3 meldingen geluidsoverlast"}]},
    )
    assert answered.status_code == 200, answered.text


@dataclass(frozen=True)
class ExplorableCase:
    """A case with something on every page: the U §2 criteria recorded, one request
    answered in part and refused in part (the OM's consent is missing, U §5.3), one not
    answered at all, one answered with "we hold nothing", a phase change, a legal hold and a
    planned district meeting."""

    case: SeededCase
    partial_request: str
    waiting_request: str
    not_held_request: str
    meeting_id: str


def _request(client: Client, auth: Headers, case_id: str, categories: list[str]) -> str:
    made = client.post(
        "/v1/information-requests",
        headers=auth("u-centraal", "casemanager", user="cm-1"),
        json={
            "caseId": case_id,
            "purpose": "intake-assessment",
            "recipients": [{"partnerId": POLICE, "categories": categories}],
        },
    )
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def _read(client: Client, auth: Headers, request_id: str) -> None:
    read = client.get(
        f"/v1/information-requests/{request_id}/answers",
        headers=auth("u-centraal", "casemanager", user="cm-1"),
    )
    assert read.status_code == 200, read.text


def seed_explorable_case(client: Client, auth: Headers, *, district: str) -> ExplorableCase:
    seeded = seed_utrecht_case(client, auth, district=district, house_number=77)

    # A token is used once (jti replay protection): a new one per call.
    def manager() -> dict[str, str]:
        return auth("u-centraal", "casemanager", user="cm-1")

    def officer() -> dict[str, str]:
        return auth("u-centraal", "privacy-officer", user="po-1")

    criteria = client.post(
        f"/v1/cases/{seeded.case_id}/criteria",
        headers=manager(),
        json={
            "criteria": [
                {"criterion": "dwelling-related", "holds": True},
                {"criterion": "serious-or-long", "holds": True, "evidence": "Sinds maart."},
                {"criterion": "multidisciplinary", "holds": False},
            ]
        },
    )
    assert criteria.status_code == 200, criteria.text
    partial = _request(
        client,
        auth,
        seeded.case_id,
        ["police-reports", "police-nuisance-antecedents", "police-physical-violence"],
    )
    answer_police_reports(client, auth, partial)
    waiting = _request(client, auth, seeded.case_id, ["police-serious-intimidation"])
    not_held = _request(client, auth, seeded.case_id, ["police-reports"])
    answered = client.post(
        f"/v1/information-requests/{not_held}/answers",
        headers=auth(POLICE, "adapter"),
        json={"answers": [{"category": "police-reports", "notAvailable": True}]},
    )
    assert answered.status_code == 200, answered.text
    for request_id in (partial, waiting, not_held):
        _read(client, auth, request_id)
    # Reading the retention state computes it (the overview lists it from then on).
    state = client.get(f"/v1/cases/{seeded.case_id}/retention", headers=officer())
    assert state.status_code == 200, state.text
    hold = client.post(
        f"/v1/cases/{seeded.case_id}/retention/legal-hold",
        headers=officer(),
        json={"reason": "Bezwaarprocedure loopt"},
    )
    assert hold.status_code == 201, hold.text
    meeting = client.post(
        "/v1/meetings",
        headers=manager(),
        json={"district": district, "scheduledOn": "2026-12-15"},
    )
    assert meeting.status_code == 201, meeting.text
    action = client.post(
        f"/v1/meetings/{meeting.json()['id']}/actions",
        headers=manager(),
        json={
            "caseId": seeded.case_id,
            "ownerPartnerId": "u-centraal",
            "description": "Huisbezoek plannen",
            "dueOn": "2026-12-20",
        },
    )
    assert action.status_code == 201, action.text
    taken_on = client.post(
        f"/v1/cases/{seeded.case_id}/transitions",
        headers=manager(),
        json={
            "transition": "take-on",
            "oggzCheck": {"targetGroup": False, "referred": False},
        },
    )
    assert taken_on.status_code == 200, taken_on.text
    return ExplorableCase(
        case=seeded,
        partial_request=partial,
        waiting_request=waiting,
        not_held_request=not_held,
        meeting_id=str(meeting.json()["id"]),
    )
