"""Utrecht, through the API: from the police's report to closure with the result on two legs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from gateway.context import GatewayContext
from tests.cases.builders import (
    BSN_CAUSER,
    CAUSER_NAME,
    STREET,
    audit_activities,
    listed_deadlines,
    report_body,
)
from tests.steering_periods import this_month_ended

Auth = Callable[..., dict[str, str]]
CM = ("u-centraal", "casemanager")


def _move(client: TestClient, auth: Auth, case_id: str, transition: str, **facts: Any) -> Any:
    response = client.post(
        f"/v1/cases/{case_id}/transitions",
        json={"transition": transition, **facts},
        headers=auth(*CM, user="cm-1"),
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_utrecht_case_runs_from_police_report_to_closure(
    client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    created = client.post(
        "/v1/reports", json=report_body(), headers=auth("politie-midden-nederland", "wijkagent")
    )
    assert created.status_code == 201, created.text
    case_id = created.json()["caseId"]
    assert created.json()["state"] == "intake"

    summary = client.get(f"/v1/cases/{case_id}", headers=auth(*CM)).json()
    assert summary["leadPartnerId"] == "u-centraal"
    assert set(summary["team"]) == {"u-centraal", "politie-midden-nederland", "mitros"}
    assert [d["deadline"] for d in summary["deadlines"]] == ["intake-decision"]

    # U §2: one criterion is not enough.
    client.post(
        f"/v1/cases/{case_id}/criteria",
        headers=auth(*CM),
        json={"criteria": [{"criterion": "dwelling-related", "holds": True}]},
    )
    refused = client.post(
        f"/v1/cases/{case_id}/transitions",
        headers=auth(*CM),
        json={"transition": "request-permission"},
    )
    assert refused.status_code == 409
    assert refused.json()["guard"] == "criteria-met"
    client.post(
        f"/v1/cases/{case_id}/criteria",
        headers=auth(*CM),
        json={
            "criteria": [
                {
                    "criterion": "several-forms",
                    "holds": True,
                    "evidence": "Meldingen van drie buren.",
                }
            ]
        },
    )

    _move(client, auth, case_id, "request-permission")
    deadlines = listed_deadlines(client, auth("mitros", "woonconsulent"))
    assert {d["deadline"] for d in deadlines} >= {"corporation-permission-answer"}
    answer = next(d for d in deadlines if d["deadline"] == "corporation-permission-answer")
    assert answer["responsiblePartnerId"] == "mitros"

    # Without the corporation's permission the case manager cannot start (U §5.1).
    early = client.post(
        f"/v1/cases/{case_id}/transitions",
        headers=auth(*CM),
        json={"transition": "take-on", "oggzCheck": {"targetGroup": True, "referred": True}},
    )
    assert early.status_code == 409
    assert early.json()["guard"] == "corporation-permission"
    permission = client.post(
        f"/v1/cases/{case_id}/consents",
        headers=auth("mitros", "woonconsulent"),
        json={"kind": "corporation-permission", "granted": True},
    )
    assert permission.status_code == 201, permission.text
    after = listed_deadlines(client, auth("mitros", "woonconsulent"))
    assert "corporation-permission-answer" not in {d["deadline"] for d in after}

    _move(client, auth, case_id, "take-on", oggzCheck={"targetGroup": True, "referred": True})
    _move(client, auth, case_id, "adopt-plan", bothSidesHeard=True)
    summary = _move(client, auth, case_id, "record-evaluation")
    assert [d["deadline"] for d in summary["deadlines"]] == ["evaluation-moment"]
    _move(client, auth, case_id, "start-final-evaluation")
    _move(client, auth, case_id, "start-aftercare")
    closed = _move(
        client,
        auth,
        case_id,
        "close",
        result={
            "neighboursJudgement": "improved",
            "partnersJudgement": "resolved",
            "aftercare": "aftercare-plan",
        },
    )

    assert closed["state"] == "closed"
    assert closed["caseManager"] == "cm-1"
    assert closed["closedAt"] is not None
    assert closed["result"]["neighboursJudgement"] == "improved"
    assert closed["deadlines"] == []
    assert closed["allowedTransitions"] == []
    assert [h["transition"] for h in closed["history"]] == [
        "request-permission",
        "take-on",
        "adopt-plan",
        "record-evaluation",
        "start-final-evaluation",
        "start-aftercare",
        "close",
    ]
    text = client.get(f"/v1/cases/{case_id}", headers=auth(*CM)).text
    for personal in (BSN_CAUSER, CAUSER_NAME, STREET, "3511", "bedreiging"):
        assert personal not in text

    activities = audit_activities(context, case_id)
    assert activities.count("workflow-transition") == 7
    assert activities.count("consent-change") == 1
    assert activities[0] == "case-intake"

    with this_month_ended():
        report = client.get("/v1/steering-report", headers=auth(*CM)).json()
    # One closed case: its count, duration and share are under the minimum group size
    # (five closed cases show them: tests/cases/test_steering_figures.py).
    assert report["casesClosed"] is None
    assert report["closedWithinTarget"] is None
    assert report["shareClosedWithinTarget"] is None
