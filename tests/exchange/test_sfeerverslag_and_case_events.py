"""The landlord's further measures as recorded, audited case events (U §5.2), and the
sfeerverslag they unlock (U §5.3): only once the landlord started an eviction procedure, only
for its rented dwelling, only to that landlord and the case lead. And unknown is not no: a
new case does not know whether a police investigation runs. Each denial is next to the same
request allowed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.context import GatewayContext
from tests.cases.builders import audit_activities, report_body
from tests.exchange.conftest import (
    ANTECEDENTS,
    CASE_MANAGER,
    MITROS,
    WIJKAGENT,
    Auth,
    UtrechtCase,
)

SFEERVERSLAG = "police-atmosphere-report"
PORTAAL = ("portaal", "woonconsulent")
EVICTION = {"event": "eviction-procedure", "occurredOn": "2025-03-01"}


def _ask(case: UtrechtCase, who: tuple[str, str]) -> dict[str, Any]:
    response = case.client.post(
        "/v1/information-requests",
        json={
            "caseId": case.case_id,
            "purpose": "eviction-procedure",
            "categories": [SFEERVERSLAG],
        },
        headers=case.as_(who, "user-1"),
    )
    assert response.status_code == 201, response.text
    item: dict[str, Any] = response.json()["items"][0]
    return {**item, "requestId": response.json()["id"]}


# --- the landlord's measures as case events ---------------------------------------------------


def test_the_landlord_records_its_eviction_procedure_as_an_audited_case_event(
    utrecht_case: UtrechtCase, context: GatewayContext
) -> None:
    recorded = utrecht_case.post("events", EVICTION, MITROS)
    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["event"] == "eviction-procedure"
    assert recorded.json()["partnerId"] == "mitros"
    summary = utrecht_case.client.get(
        f"/v1/cases/{utrecht_case.case_id}", headers=utrecht_case.as_(CASE_MANAGER)
    ).json()
    assert [(e["event"], e["occurredOn"]) for e in summary["events"]] == [
        ("eviction-procedure", "2025-03-01")
    ]
    assert audit_activities(context, utrecht_case.case_id).count("case-event") == 1


def test_only_the_dwellings_landlord_records_its_measures(
    utrecht_case: UtrechtCase, context: GatewayContext
) -> None:
    team = utrecht_case.post("team", {"partnerId": "portaal"}, CASE_MANAGER)
    assert team.status_code in (200, 201)
    for who in (PORTAAL, WIJKAGENT, CASE_MANAGER, ("mitros", "privacy-officer")):
        refused = utrecht_case.post("events", EVICTION, who)
        assert refused.status_code == 403, (who, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
    unknown = utrecht_case.post("events", {"event": "demolition"}, MITROS)
    assert unknown.status_code == 422
    assert "eviction-procedure" in unknown.json()["detail"]
    assert audit_activities(context, utrecht_case.case_id).count("case-event") == 0
    # Positive control: the landlord itself.
    assert utrecht_case.post("events", {"event": "behavioural-order"}, MITROS).status_code == 201


def test_an_owner_occupied_dwelling_has_no_landlord_to_record_an_eviction(
    exchange_client: TestClient, auth: Auth
) -> None:
    body = report_body(ownership="owner-occupied", corporation=None)
    report = exchange_client.post("/v1/reports", json=body, headers=auth(*WIJKAGENT))
    case_id = report.json()["caseId"]
    exchange_client.post(
        f"/v1/cases/{case_id}/team", json={"partnerId": "mitros"}, headers=auth(*CASE_MANAGER)
    )
    refused = exchange_client.post(
        f"/v1/cases/{case_id}/events", json=EVICTION, headers=auth(*MITROS)
    )
    assert refused.status_code == 403


# --- the sfeerverslag -----------------------------------------------------------------------------


def test_sfeerverslag_is_withheld_until_the_landlord_started_an_eviction_procedure(
    utrecht_case: UtrechtCase,
) -> None:
    utrecht_case.to_execution_with_portaal()
    before = _ask(utrecht_case, CASE_MANAGER)
    assert before["state"] == "denied"
    assert before["reasons"] == ["event-not-recorded:eviction-procedure"]
    # Another measure does not unlock it.
    assert utrecht_case.post("events", {"event": "behavioural-order"}, MITROS).status_code == 201
    assert _ask(utrecht_case, CASE_MANAGER)["state"] == "denied"

    assert utrecht_case.post("events", EVICTION, MITROS).status_code == 201
    after = _ask(utrecht_case, CASE_MANAGER)
    assert after["state"] == "asked"
    answered = utrecht_case.answer(
        after["requestId"], [{"category": SFEERVERSLAG, "value": "Sfeerverslag wijkagent"}]
    )
    assert answered.status_code == 200, answered.text
    disclosure = utrecht_case.read(after["requestId"])
    value = next(v for v in disclosure["values"] if v["category"] == SFEERVERSLAG)
    assert value["outcome"] == "disclosed"
    assert value["clauses"] == ["U-5.3-sfeerverslag"]


def test_sfeerverslag_goes_to_the_dwellings_landlord_and_the_lead_not_another_corporation(
    utrecht_case: UtrechtCase,
) -> None:
    utrecht_case.to_execution_with_portaal()
    assert utrecht_case.post("events", EVICTION, MITROS).status_code == 201
    other = _ask(utrecht_case, PORTAAL)
    assert other["state"] == "denied"
    assert other["reasons"] == ["not-dwelling-landlord"]
    # Positive controls: the landlord and the case lead.
    assert _ask(utrecht_case, MITROS)["state"] == "asked"
    assert _ask(utrecht_case, CASE_MANAGER)["state"] == "asked"


# --- unknown is not no -----------------------------------------------------------------------


def test_a_new_case_does_not_know_whether_an_investigation_runs_and_withholds_antecedents(
    utrecht_case: UtrechtCase,
) -> None:
    summary = utrecht_case.client.get(
        f"/v1/cases/{utrecht_case.case_id}", headers=utrecht_case.as_(CASE_MANAGER)
    ).json()
    assert summary["investigationRunning"] is None
    item = utrecht_case.request([ANTECEDENTS])["items"][0]
    assert item["state"] == "denied"
    assert item["reasons"] == ["investigation-status-unknown", "om-consent-missing"]

    # Positive control 1: the OM consents while the status is still unknown.
    consent = utrecht_case.om_consent()
    assert utrecht_case.request([ANTECEDENTS])["items"][0]["state"] == "asked"
    withdrawn = utrecht_case.client.post(
        f"/v1/cases/{utrecht_case.case_id}/consents/{consent}/withdrawal",
        headers=utrecht_case.as_(WIJKAGENT),
    )
    assert withdrawn.status_code == 200
    assert utrecht_case.request([ANTECEDENTS])["items"][0]["state"] == "denied"
    # Positive control 2: the police record that no investigation runs.
    utrecht_case.investigation(False)
    assert utrecht_case.request([ANTECEDENTS])["items"][0]["state"] == "asked"


def test_an_event_of_today_in_the_netherlands_is_not_in_the_future_after_midnight(
    utrecht_case: UtrechtCase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 00:30 in Amsterdam the UTC date is still yesterday's: an eviction procedure started
    that day was refused as lying in the future. The covenant's own date decides; the day
    after it is still refused (the control)."""
    late = datetime(2026, 12, 4, 23, 30, tzinfo=UTC)  # 00:30 on 5 December in Amsterdam
    monkeypatch.setattr("gateway.cases.events.utcnow", lambda: late)
    tomorrow = {"event": "eviction-procedure", "occurredOn": "2026-12-06"}
    refused = utrecht_case.post("events", tomorrow, MITROS)
    assert refused.status_code == 422, refused.text
    today = {"event": "eviction-procedure", "occurredOn": "2026-12-05"}
    recorded = utrecht_case.post("events", today, MITROS)
    assert recorded.status_code == 201, recorded.text
