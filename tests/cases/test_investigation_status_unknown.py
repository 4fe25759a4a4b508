"""The police can take the investigation status back to "not recorded" (U §5.3).

Their adapter does so when their export stops saying whether an investigation runs
(docs/adapters.md): an earlier "no" must not outlive the record that said it, and the
policy treats "not recorded" as running.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from gateway.cases.service import case_policy_facts
from gateway.context import GatewayContext
from tests.cases.builders import audit_activities, report_body

Auth = Callable[..., dict[str, str]]
POLICE = ("politie-midden-nederland", "wijkagent")
MITROS = ("mitros", "woonconsulent")


def _status(
    client: TestClient,
    auth: Auth,
    case_id: str,
    body: object,
    who: tuple[str, str] = POLICE,
) -> tuple[int, object]:
    response = client.put(
        f"/v1/cases/{case_id}/investigation-status", headers=auth(*who), json=body
    )
    return response.status_code, response.json()


def test_the_police_take_a_recorded_no_back_to_not_recorded(
    client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    case_id = client.post("/v1/reports", json=report_body(), headers=auth(*POLICE)).json()["caseId"]
    assert _status(client, auth, case_id, {"running": False}) == (200, {"running": False})
    assert _status(client, auth, case_id, {"running": None}) == (200, {"running": None})
    summary = client.get(f"/v1/cases/{case_id}", headers=auth(*POLICE)).json()
    assert summary["investigationRunning"] is None
    with context.session_factory() as session:
        assert case_policy_facts(session, case_id)["case"]["policeInvestigation"] is None
    assert audit_activities(context, case_id).count("case-investigation-status") == 2


def test_only_the_police_take_it_back_and_the_body_must_say_it(
    client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    case_id = client.post("/v1/reports", json=report_body(), headers=auth(*POLICE)).json()["caseId"]
    assert _status(client, auth, case_id, {"running": False})[0] == 200
    code, problem = _status(client, auth, case_id, {"running": None}, who=MITROS)
    assert code == 403
    missing, _ = _status(client, auth, case_id, {})
    assert missing == 400
    summary = client.get(f"/v1/cases/{case_id}", headers=auth(*POLICE)).json()
    assert summary["investigationRunning"] is False
    assert audit_activities(context, case_id).count("case-investigation-status") == 1
