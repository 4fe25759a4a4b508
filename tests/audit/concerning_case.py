"""The Utrecht case of review12 F1: whom an access report line concerns.

A Mitros dwelling with a causer and a complainant (tests/cases/builders.report_body); the
police, Mitros and buurtteam-sociaal in the team; Mitros gives permission; the police record
an investigation running; the case manager asks the police for their reports and the
antecedents and the buurtteam whether it knows the causer and/or complainant; the police
answer the reports; the case manager reads the answers. The complainant's and the dwelling's
access reports must name none of the police's categories (U §5.3: the causer's); the
causer's names them all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from fastapi.testclient import TestClient

from tests.cases.builders import BSN_CAUSER, BSN_COMPLAINANT, report_body

Auth = Callable[..., dict[str, str]]

CAUSER = BSN_CAUSER
COMPLAINANT = BSN_COMPLAINANT
ADDRESS = "3511AB 12"
ANTECEDENTS = "police-nuisance-antecedents"
REPORTS = "police-reports"
KNOWN = "neighbourhood-team-known"
#: The antecedents' name in the covenant file, which the page shows.
ANTECEDENTS_NAME = "overlastantecedenten"
POLICE = "politie-midden-nederland"
BUURTTEAM = "buurtteam-sociaal"
CASE_MANAGER = ("u-centraal", "casemanager")
MITROS = ("mitros", "woonconsulent")


class ConcerningCase(NamedTuple):
    case_id: str
    request_id: str


def _ok(response: object, *codes: int) -> None:
    status = getattr(response, "status_code", None)
    assert status in (codes or (200, 201)), getattr(response, "text", response)


def manager(auth: Auth) -> dict[str, str]:
    """The case manager's headers (tokens are single-use: jti)."""
    return auth(*CASE_MANAGER, user="cm-1")


def team_case(client: TestClient, auth: Auth) -> str:
    """The case: reported by Mitros, the police and buurtteam-sociaal in the team, Mitros's
    permission given, an investigation running (so the antecedents are refused at request
    time: the OM has not consented)."""
    report = client.post("/v1/reports", json=report_body(), headers=auth(*MITROS))
    _ok(report, 201)
    case_id = str(report.json()["caseId"])
    for partner in (POLICE, BUURTTEAM):
        _ok(
            client.post(
                f"/v1/cases/{case_id}/team", json={"partnerId": partner}, headers=manager(auth)
            )
        )
    _ok(
        client.post(
            f"/v1/cases/{case_id}/consents",
            json={"kind": "corporation-permission"},
            headers=auth(*MITROS),
        ),
        201,
    )
    _ok(
        client.put(
            f"/v1/cases/{case_id}/investigation-status",
            json={"running": True},
            headers=auth(POLICE, "wijkagent", user="wa-1"),
        )
    )
    return case_id


def ask(client: TestClient, auth: Auth, case_id: str, recipients: dict[str, list[str]]) -> str:
    """The case manager asks each partner for its categories; the request's id."""
    asked = client.post(
        "/v1/information-requests",
        json={
            "caseId": case_id,
            "purpose": "case-handling",
            "recipients": [
                {"partnerId": partner, "categories": categories}
                for partner, categories in recipients.items()
            ],
        },
        headers=manager(auth),
    )
    _ok(asked, 201)
    return str(asked.json()["id"])


def concerning_case(client: TestClient, auth: Auth) -> ConcerningCase:
    """The case, with the police's reports read and the antecedents refused, and the
    request (the buurtteam has not answered it)."""
    case_id = team_case(client, auth)
    request_id = ask(client, auth, case_id, {POLICE: [REPORTS, ANTECEDENTS], BUURTTEAM: [KNOWN]})
    _ok(
        client.post(
            f"/v1/information-requests/{request_id}/answers",
            json={"answers": [{"category": REPORTS, "value": "3 meldingen geluidsoverlast"}]},
            headers=auth(POLICE, "adapter"),
        )
    )
    _ok(client.get(f"/v1/information-requests/{request_id}/answers", headers=manager(auth)))
    return ConcerningCase(case_id, request_id)


def api_report(
    client: TestClient, auth: Auth, identifier: str, identifier_type: str = "bsn"
) -> dict[str, object]:
    """The coordinating privacy officer's access report through the API."""
    response = client.post(
        "/v1/audit/access-report",
        json={"identifierType": identifier_type, "identifier": identifier},
        headers=auth("gemeente-utrecht", "privacy-officer"),
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]
