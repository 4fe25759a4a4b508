"""Rijswijk, through the API: a corporation's report, a second report joining the dossier
(the lead adds its reporter to the team), escalation to a complex case (lead to the
municipality), the escalation ladder up to eviction, aftercare and closure."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from gateway.context import GatewayContext
from gateway.db import transaction
from gateway.demo.clock import date_case_back
from tests.cases.builders import audit_activities, report_body
from tests.steering_periods import near, this_month_ended

Auth = Callable[..., dict[str, str]]
MAYOR = ("gemeente-rijswijk", "casemanager")
CORPORATION = ("rijswijk-wonen", "woonconsulent")
POLICE = ("politie-den-haag", "wijkagent")


def _move(client: TestClient, who: Any, case_id: str, transition: str, **facts: Any) -> Any:
    response = client.post(
        f"/v1/cases/{case_id}/transitions", headers=who, json={"transition": transition, **facts}
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_rijswijk_case_runs_from_first_report_to_closure(
    client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    body = report_body(postcode="2281 AA", corporation="rijswijk-wonen", district="Te Werve")
    first = client.post("/v1/reports", json=body, headers=auth(*CORPORATION))
    assert first.status_code == 201, first.text
    case_id = first.json()["caseId"]

    # R Bijlage C step 1: a known situation goes into the existing dossier.
    again = report_body(
        postcode="2281aa",
        corporation="rijswijk-wonen",
        district="Te Werve",
        persons=[],
        description="Opnieuw lawaai.",
    )
    second = client.post("/v1/reports", json=again, headers=auth(*POLICE))
    # The police are not in the team: their report joins the dossier, the case stays hidden
    # from them, and the lead decides whether they join (U §6; test_reporter_and_team.py).
    assert second.status_code == 202, second.text
    assert second.json()["caseId"] is None
    decided = client.post(
        f"/v1/cases/{case_id}/reports/{second.json()['reportId']}/reporter-decision",
        json={"addToTeam": True},
        headers=auth(*CORPORATION),
    )
    assert decided.status_code == 200, decided.text

    summary = client.get(f"/v1/cases/{case_id}", headers=auth(*CORPORATION)).json()
    assert summary["leadPartnerId"] == "rijswijk-wonen"
    assert summary["reportCount"] == 2
    assert {d["deadline"] for d in summary["deadlines"]} == {"weigh-report", "three-month-target"}

    corporation = auth(*CORPORATION)
    moved = _move(client, corporation, case_id, "classify-complex")
    assert moved["leadPartnerId"] == "gemeente-rijswijk"
    assert moved["complexity"] == "complex"

    def mayor() -> dict[str, str]:
        return auth(*MAYOR)  # a fresh single-use token per request

    _move(client, mayor(), case_id, "form-team")
    _move(
        client,
        mayor(),
        case_id,
        "start-mediation",
        mediationScreening={"crime": False, "seriousPsychosocial": False, "multiProblem": False},
        bothSidesHeard=True,
    )
    summary = client.get(f"/v1/cases/{case_id}", headers=mayor()).json()
    assert "mediation-evaluation" in {d["deadline"] for d in summary["deadlines"]}
    _move(client, mayor(), case_id, "start-integrated-approach")
    warned = _move(client, mayor(), case_id, "issue-warning", days=14)
    assert "grace-period-ends" in {d["deadline"] for d in warned["deadlines"]}
    # R Bijlage C, E: the next rung only after the term (review8a F4); the history is dated
    # back past it, as the demo does.
    with transaction(context.session_factory) as session:
        date_case_back(session, case_id, 15)
    _move(client, mayor(), case_id, "announce-intention", days=14)
    with transaction(context.session_factory) as session:
        date_case_back(session, case_id, 15)
    _move(client, mayor(), case_id, "impose-behavioural-order", measure="behavioural-order")
    for _ in range(5):
        _move(client, mayor(), case_id, "impose-penalty", breachEstablished=True, amountEur=5000)
    refused = client.post(
        f"/v1/cases/{case_id}/transitions",
        headers=mayor(),
        json={"transition": "impose-penalty", "breachEstablished": True, "amountEur": 1},
    )
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["guard"] == "penalty-within-limits"
    # The community officer, in the team since the police's report, ends the nuisance on the spot.
    _move(
        client, auth(*POLICE), case_id, "apply-administrative-enforcement", breachEstablished=True
    )
    evicted = _move(client, mayor(), case_id, "evict-temporarily", days=10, adult=True)
    ends = next(d for d in evicted["deadlines"] if d["deadline"] == "temporary-eviction-ends")
    assert ends["dueOn"] is not None
    _move(client, mayor(), case_id, "extend-temporary-eviction", days=18)
    _move(client, mayor(), case_id, "nuisance-stopped")
    closed = _move(
        client,
        mayor(),
        case_id,
        "close",
        result={
            "neighboursJudgement": "resolved",
            "partnersJudgement": "improved",
            "aftercare": "none",
        },
    )

    assert closed["state"] == "closed"
    assert sum(m["amountEur"] or 0 for m in closed["measures"]) == 25000
    assert [m["instrument"] for m in closed["measures"]][:3] == [
        "warning",
        "intention",
        "behavioural-order",
    ]
    assert audit_activities(context, case_id).count("workflow-transition") == len(closed["history"])

    # The corporation stayed in the team and still sees the case and its closure.
    mine = client.get("/v1/cases", headers=auth(*CORPORATION)).json()
    assert [c["id"] for c in mine["_embedded"]["cases"]] == [case_id]
    with this_month_ended():
        report = client.get("/v1/steering-report", headers=mayor()).json()
    assert report["casesClosed"] is None  # one case: under the minimum group size
    assert "casesClosed" in report["suppressedFigures"]
    assert report["targetMonths"] == 3
    assert report["openByPhase"] == {}
    assert near(report["transitions"]["impose-penalty"], 5)  # perturbed (review14)
