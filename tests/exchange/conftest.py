"""Fixtures for the exchange API tests: a gateway with the /v1 routers and a Utrecht case."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from gateway.app import API_PREFIX, api_routers, install_hot_routes
from gateway.config import Settings
from gateway.context import GatewayContext
from gateway.core.headers import ResponseHeadersMiddleware
from gateway.core.problem import COMMON_RESPONSES, install_problem_handlers
from gateway.db import transaction
from gateway.retention.service import record_fact

Auth = Callable[..., dict[str, str]]

CASE_MANAGER = ("u-centraal", "casemanager")
POLICE = ("politie-midden-nederland", "adapter")
WIJKAGENT = ("politie-midden-nederland", "wijkagent")
MITROS = ("mitros", "woonconsulent")
BUURTTEAM = ("buurtteam-sociaal", "adapter")
ANTECEDENTS = "police-nuisance-antecedents"
VIOLENCE = "police-physical-violence"
REPORTS = "police-reports"


@pytest.fixture
def exchange_client(settings: Settings, context: GatewayContext) -> Iterator[TestClient]:
    """The /v1 API as served (without the web pages, which these tests do not need)."""
    app = FastAPI()
    app.state.context = context
    app.state.settings = settings
    install_problem_handlers(app)
    app.add_middleware(ResponseHeadersMiddleware)
    for router in api_routers():
        app.include_router(router, prefix=API_PREFIX, responses=COMMON_RESPONSES)
    install_hot_routes(app)  # the read served as the gateway serves it
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@dataclass
class UtrechtCase:
    """A corporation dwelling's case with permission given and the police in the team."""

    client: TestClient
    auth: Auth
    case_id: str

    def as_(self, who: tuple[str, str], user: str | None = None) -> dict[str, str]:
        return self.auth(*who, user=user)

    def request(
        self, categories: list[str], purpose: str = "case-handling", **headers: str
    ) -> dict:  # type: ignore[type-arg]
        response = self.client.post(
            "/v1/information-requests",
            json={"caseId": self.case_id, "purpose": purpose, "categories": categories},
            headers={**self.as_(CASE_MANAGER, "cm-1"), **headers},
        )
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    def ask(self, purpose: str, recipients: list[tuple[str, list[str]]]) -> str:
        """One request of the case manager to several partners (each added to the team
        first), each for its own categories: the request's id."""
        for partner, _ in recipients:
            added = self.client.post(
                f"/v1/cases/{self.case_id}/team",
                json={"partnerId": partner},
                headers=self.as_(CASE_MANAGER),
            )
            assert added.status_code in (200, 201), added.text
        asked = self.client.post(
            "/v1/information-requests",
            json={
                "caseId": self.case_id,
                "purpose": purpose,
                "recipients": [{"partnerId": p, "categories": c} for p, c in recipients],
            },
            headers=self.as_(CASE_MANAGER, "cm-1"),
        )
        assert asked.status_code == 201, asked.text
        return str(asked.json()["id"])

    def answer(self, request_id: str, answers: list[dict], who: tuple[str, str] = POLICE):  # type: ignore[no-untyped-def, type-arg]
        return self.client.post(
            f"/v1/information-requests/{request_id}/answers",
            json={"answers": answers},
            headers=self.as_(who),
        )

    def answered_request(self) -> str:
        """A request for the police's reports and violence, answered by the police: its id."""
        request = self.request([REPORTS, VIOLENCE])
        answered = self.answer(
            request["id"],
            [{"category": REPORTS, "value": "2 meldingen"}, {"category": VIOLENCE, "yesNo": True}],
        )
        assert answered.status_code == 200, answered.text
        return str(request["id"])

    def read(self, request_id: str, who: tuple[str, str] = CASE_MANAGER) -> dict:  # type: ignore[type-arg]
        response = self.client.get(
            f"/v1/information-requests/{request_id}/answers", headers=self.as_(who, "cm-1")
        )
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def investigation(self, running: bool) -> None:
        response = self.client.put(
            f"/v1/cases/{self.case_id}/investigation-status",
            json={"running": running},
            headers=self.as_(WIJKAGENT),
        )
        assert response.status_code == 200, response.text

    def om_consent(self, expires_at: str = "2099-01-01T00:00:00Z") -> str:
        response = self.client.post(
            f"/v1/cases/{self.case_id}/consents",
            json={"kind": "om-consent", "scope": [ANTECEDENTS], "expiresAt": expires_at},
            headers=self.as_(WIJKAGENT),
        )
        assert response.status_code == 201, response.text
        return response.json()["id"]  # type: ignore[no-any-return]

    def post(self, path: str, body: Any, who: tuple[str, str]) -> Any:
        """``POST /v1/cases/{id}/{path}`` as ``who``: the response, unchecked."""
        return self.client.post(
            f"/v1/cases/{self.case_id}/{path}", json=body, headers=self.as_(who)
        )

    def to_execution_with_portaal(self) -> None:
        """``to_execution``, with Portaal (a corporation that is not the landlord) in the team."""
        self.to_execution()
        team = self.post("team", {"partnerId": "portaal"}, CASE_MANAGER)
        assert team.status_code in (200, 201), team.text

    def to_execution(self) -> None:
        """Criteria met, taken on, plan adopted (by the case manager): the phase of the
        landlord's eviction procedure."""
        criteria = [
            {"criterion": "dwelling-related", "holds": True},
            {"criterion": "several-forms", "holds": True},
        ]
        steps = [
            ("criteria", {"criteria": criteria}),
            (
                "transitions",
                {"transition": "take-on", "oggzCheck": {"targetGroup": False, "referred": False}},
            ),
            ("transitions", {"transition": "adopt-plan", "bothSidesHeard": True}),
        ]
        for path, body in steps:
            response = self.client.post(
                f"/v1/cases/{self.case_id}/{path}", json=body, headers=self.as_(CASE_MANAGER)
            )
            assert response.status_code == 200, response.text


def open_utrecht_case(
    client: TestClient, auth: Auth, *, police_consulted: bool = False
) -> UtrechtCase:
    """The corporation's case with its permission and the police in the team (involved, or
    with ``police_consulted`` only consulted by the lead, U §5.6)."""
    report = client.post(
        "/v1/reports",
        json={
            "dwelling": {
                "address": {"postcode": "3511 AB", "houseNumber": 12},
                "ownership": "corporation",
                "corporationId": "mitros",
                "district": "binnenstad",
            },
            "persons": [{"role": "causer", "bsn": "111222333"}],
            "report": {"channel": "form", "description": "Nachtelijk lawaai en bedreigingen."},
        },
        headers=auth(*MITROS),
    )
    assert report.status_code == 201, report.text
    case_id = report.json()["caseId"]
    team = client.post(
        f"/v1/cases/{case_id}/team",
        json={"partnerId": "politie-midden-nederland", "consulted": police_consulted},
        headers=auth(*CASE_MANAGER),
    )
    assert team.status_code in (200, 201), team.text
    permission = client.post(
        f"/v1/cases/{case_id}/consents",
        json={"kind": "corporation-permission"},
        headers=auth(*MITROS),
    )
    assert permission.status_code == 201, permission.text
    return UtrechtCase(client=client, auth=auth, case_id=case_id)


@pytest.fixture
def utrecht_case(exchange_client: TestClient, auth: Auth) -> UtrechtCase:
    return open_utrecht_case(exchange_client, auth)


def close_in_the_register(context: GatewayContext, case_id: str, on: date) -> None:
    """A closure dated ``on`` straight into the retention register (the case must be
    registered), so a test can have a case closed long ago: a partner cannot date a closure
    through the API (only its workflow closes a case, on the day it does)."""
    with transaction(context.session_factory) as session:
        record_fact(
            session=session,
            rules=context.require_retention().rules,
            case_id=case_id,
            kind="case-closed",
            occurred_on=on,
            recorded_by="test",
        )


def audit_search(case: UtrechtCase, who: tuple[str, str], **search: Any) -> list[dict[str, Any]]:
    """The case's audit entries ``who`` finds with ``POST /v1/audit/entries/search``."""
    found = case.client.post(
        "/v1/audit/entries/search", json={"caseId": case.case_id, **search}, headers=case.as_(who)
    )
    assert found.status_code == 200, found.text
    return found.json()["entries"]  # type: ignore[no-any-return]


def audit_entry(case: UtrechtCase, who: tuple[str, str], activity: str) -> dict[str, Any]:
    """The case's one audit entry of ``activity`` that ``who`` finds."""
    [entry] = audit_search(case, who, activity=activity)
    return entry
