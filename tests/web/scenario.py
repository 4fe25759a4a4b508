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
