"""Information requests through the gateway, as the case manager and the partners see them."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from gateway.audit.models import AuditRecord
from gateway.audit.testing import failing_audit_writes
from gateway.context import GatewayContext
from gateway.exchange import enforcement
from gateway.exchange.models import CaseFact, Disclosure, InformationRequest
from gateway.policy.engine import RegorusEngine
from tests.exchange.conftest import (
    ANTECEDENTS,
    BUURTTEAM,
    CASE_MANAGER,
    POLICE,
    REPORTS,
    VIOLENCE,
    Auth,
    UtrechtCase,
)


def _by_category(disclosure: dict) -> dict[str, dict]:  # type: ignore[type-arg]
    return {v["category"]: v for v in disclosure["values"]}


def _count(context: GatewayContext, model: type) -> int:
    with context.session_factory() as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def test_police_answer_is_disclosed_to_the_case_manager_with_a_receipt(
    utrecht_case: UtrechtCase,
) -> None:
    request = utrecht_case.request([VIOLENCE, REPORTS])
    assert request["state"] == "open"
    assert {i["state"] for i in request["items"]} == {"asked"}

    inbox = utrecht_case.client.get("/v1/inbox", headers=utrecht_case.as_(POLICE)).json()
    assert [i["requestId"] for i in inbox["items"]] == [request["id"]]
    assert inbox["items"][0]["answerForms"][VIOLENCE] == "yes-no"

    answered = utrecht_case.answer(
        request["id"],
        [{"category": VIOLENCE, "yesNo": True}, {"category": REPORTS, "value": "3 meldingen"}],
    )
    assert answered.status_code == 200, answered.text
    assert {i["state"] for i in answered.json()["items"]} == {"answered"}

    disclosure = utrecht_case.read(request["id"])
    values = _by_category(disclosure)
    assert values[VIOLENCE]["outcome"] == "disclosed"
    assert values[VIOLENCE]["yesNo"] is True
    assert values[REPORTS]["value"] == "3 meldingen"
    assert values[REPORTS]["clauses"] == ["U-5.3-meldingen"]
    assert disclosure["disclosureId"]
    assert disclosure["receipt"]["index"] >= 0
    empty = utrecht_case.client.get("/v1/inbox", headers=utrecht_case.as_(POLICE)).json()
    assert empty["items"] == []


def test_whether_category_accepts_only_yes_or_no(utrecht_case: UtrechtCase) -> None:
    request = utrecht_case.request([VIOLENCE])
    response = utrecht_case.answer(request["id"], [{"category": VIOLENCE, "value": "details"}])
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")


def test_police_antecedents_withheld_while_investigation_runs_without_om_consent(
    utrecht_case: UtrechtCase,
) -> None:
    utrecht_case.investigation(True)
    request = utrecht_case.request([ANTECEDENTS, VIOLENCE])
    items = {i["category"]: i for i in request["items"]}
    assert items[ANTECEDENTS]["state"] == "denied"
    assert items[ANTECEDENTS]["reasons"] == ["om-consent-missing"]
    assert items[ANTECEDENTS]["clauses"] == ["U-5.3-antecedenten"]
    assert items[VIOLENCE]["state"] == "asked"

    utrecht_case.om_consent()
    again = utrecht_case.request([ANTECEDENTS])
    assert again["items"][0]["state"] == "asked"
    utrecht_case.answer(again["id"], [{"category": ANTECEDENTS, "yesNo": True}])
    values = _by_category(utrecht_case.read(again["id"]))
    assert values[ANTECEDENTS]["outcome"] == "disclosed"
    assert values[ANTECEDENTS]["yesNo"] is True


def test_consent_revoked_between_request_and_answer_withholds_the_antecedents(
    utrecht_case: UtrechtCase, context: GatewayContext
) -> None:
    utrecht_case.investigation(True)
    consent_id = utrecht_case.om_consent()
    request = utrecht_case.request([ANTECEDENTS])
    assert request["items"][0]["state"] == "asked"
    withdrawn = utrecht_case.client.post(
        f"/v1/cases/{utrecht_case.case_id}/consents/{consent_id}/withdrawal",
        headers=utrecht_case.as_(("politie-midden-nederland", "wijkagent")),
    )
    assert withdrawn.status_code in (200, 201), withdrawn.text

    answered = utrecht_case.answer(request["id"], [{"category": ANTECEDENTS, "yesNo": True}])
    assert answered.status_code == 200, answered.text
    item = answered.json()["items"][0]
    assert item["state"] == "withheld"
    assert item["reasons"] == ["om-consent-missing"]
    assert _count(context, CaseFact) == 0  # the withheld value was never stored

    value = _by_category(utrecht_case.read(request["id"]))[ANTECEDENTS]
    assert value["outcome"] == "redacted"
    assert value["reasons"] == ["om-consent-missing"]
    assert value["clauses"] == ["U-5.3-antecedenten"]


def test_partner_outside_the_case_team_gets_nothing(
    utrecht_case: UtrechtCase, context: GatewayContext
) -> None:
    # The neighbourhood team is a partner of the covenant but not in this case's team: the
    # case is not found (tests/exchange/test_case_boundaries.py compares it byte for byte
    # with a case that does not exist).
    request = utrecht_case.client.post(
        "/v1/case-facts/queries",
        json={"caseId": utrecht_case.case_id, "purpose": "case-handling", "categories": [VIOLENCE]},
        headers=utrecht_case.as_(("buurtteam-sociaal", "buurtteam-medewerker")),
    )
    assert request.status_code == 404, request.text
    assert "not-in-case-team" not in request.text
    assert _count(context, Disclosure) == 0

    push = utrecht_case.client.post(
        "/v1/case-facts",
        json={
            "caseId": utrecht_case.case_id,
            "category": "neighbourhood-team-known",
            "yesNo": True,
        },
        headers=utrecht_case.as_(BUURTTEAM),
    )
    assert push.status_code == 404


def test_partner_of_another_covenant_does_not_learn_the_case_exists(
    utrecht_case: UtrechtCase, auth: Auth
) -> None:
    response = utrecht_case.client.post(
        "/v1/information-requests",
        json={"caseId": utrecht_case.case_id, "purpose": "case-handling", "categories": [VIOLENCE]},
        headers=auth("gemeente-rijswijk", "casemanager"),
    )
    assert response.status_code == 404


def test_retried_request_with_the_same_idempotency_key_creates_nothing_twice(
    utrecht_case: UtrechtCase, context: GatewayContext
) -> None:
    first = utrecht_case.request([VIOLENCE], **{"Idempotency-Key": "retry-0001"})
    second = utrecht_case.request([VIOLENCE], **{"Idempotency-Key": "retry-0001"})
    assert second["id"] == first["id"]
    assert _count(context, InformationRequest) == 1

    reused = utrecht_case.client.post(
        "/v1/information-requests",
        json={"caseId": utrecht_case.case_id, "purpose": "safety", "categories": [VIOLENCE]},
        # The same caller (a key is the caller's, not the partner's: review5a F3).
        headers={**utrecht_case.as_(CASE_MANAGER, "cm-1"), "Idempotency-Key": "retry-0001"},
    )
    assert reused.status_code == 422
    assert _count(context, InformationRequest) == 1


def test_audit_failure_discloses_nothing_and_leaves_no_disclosure_row(
    utrecht_case: UtrechtCase, context: GatewayContext
) -> None:
    request = utrecht_case.request([REPORTS])
    utrecht_case.answer(request["id"], [{"category": REPORTS, "value": "2 meldingen"}])
    with failing_audit_writes(context.audit) as attempted:
        response = utrecht_case.client.get(
            f"/v1/information-requests/{request['id']}/answers",
            headers=utrecht_case.as_(CASE_MANAGER),
        )
    assert response.status_code == 503
    assert "2 meldingen" not in response.text
    assert attempted
    assert attempted[0].disclosed == (REPORTS,)
    assert _count(context, Disclosure) == 0


def test_pushed_fact_is_read_by_team_member_through_the_decision(
    utrecht_case: UtrechtCase,
) -> None:
    pushed = utrecht_case.client.post(
        "/v1/case-facts",
        json={"caseId": utrecht_case.case_id, "category": REPORTS, "value": "melding 12-03"},
        headers={**utrecht_case.as_(POLICE), "Idempotency-Key": "push-00001"},
    )
    assert pushed.status_code == 201, pushed.text
    wrong_owner = utrecht_case.client.post(
        "/v1/case-facts",
        json={"caseId": utrecht_case.case_id, "category": REPORTS, "value": "x"},
        headers=utrecht_case.as_(("mitros", "adapter")),
    )
    assert wrong_owner.status_code == 403

    read = utrecht_case.client.post(
        "/v1/case-facts/queries",
        json={"caseId": utrecht_case.case_id, "purpose": "case-handling", "categories": [REPORTS]},
        headers=utrecht_case.as_(CASE_MANAGER, "cm-1"),
    )
    assert read.status_code == 200, read.text
    value = read.json()["values"][0]
    assert value["outcome"] == "disclosed"
    assert value["value"] == "melding 12-03"

    wrong_purpose = utrecht_case.client.post(
        "/v1/case-facts/queries",
        json={
            "caseId": utrecht_case.case_id,
            "purpose": "eviction-procedure",
            "categories": [REPORTS],
        },
        headers=utrecht_case.as_(CASE_MANAGER, "cm-1"),
    )
    assert wrong_purpose.json()["values"][0]["outcome"] == "redacted"
    assert "purpose-not-allowed" in wrong_purpose.json()["values"][0]["reasons"]


def test_pushed_facts_are_read_newest_first_without_the_answers_to_requests(
    utrecht_case: UtrechtCase,
) -> None:
    for n, value in enumerate(("melding 01-02", "melding 03-04")):
        pushed = utrecht_case.client.post(
            "/v1/case-facts",
            json={"caseId": utrecht_case.case_id, "category": REPORTS, "value": value},
            headers={**utrecht_case.as_(POLICE), "Idempotency-Key": f"push-order-{n}"},
        )
        assert pushed.status_code == 201, pushed.text
    request = utrecht_case.request([REPORTS])
    answered = utrecht_case.answer(request["id"], [{"category": REPORTS, "value": "antwoord"}])
    assert answered.status_code == 200, answered.text
    # The answer is on file (its request discloses it) ...
    assert _by_category(utrecht_case.read(request["id"]))[REPORTS]["value"] == "antwoord"

    read = utrecht_case.client.post(
        "/v1/case-facts/queries",
        json={"caseId": utrecht_case.case_id, "purpose": "case-handling", "categories": [REPORTS]},
        headers=utrecht_case.as_(CASE_MANAGER, "cm-1"),
    )
    assert read.status_code == 200, read.text
    # ... but a query of the case's facts gives only the pushed ones, the newest first.
    assert [v["value"] for v in read.json()["values"]] == ["melding 03-04", "melding 01-02"]


def test_policy_engine_failure_is_a_503_and_nothing_is_asked(
    utrecht_case: UtrechtCase, context: GatewayContext
) -> None:
    # An engine with no policy loaded (a bundle that never compiled) decides nothing.
    engine, context.policy = context.policy, RegorusEngine()
    try:
        response = utrecht_case.client.post(
            "/v1/information-requests",
            json={
                "caseId": utrecht_case.case_id,
                "purpose": "case-handling",
                "categories": [VIOLENCE],
            },
            headers=utrecht_case.as_(CASE_MANAGER),
        )
    finally:
        context.policy = engine
    assert response.status_code == 503
    assert response.json()["type"].endswith("/policy-unavailable")
    assert _count(context, InformationRequest) == 0
    # Positive control: the same request with the gateway's own engine is decided.
    allowed = utrecht_case.client.post(
        "/v1/information-requests",
        json={"caseId": utrecht_case.case_id, "purpose": "case-handling", "categories": [VIOLENCE]},
        headers=utrecht_case.as_(CASE_MANAGER),
    )
    assert allowed.status_code == 201, allowed.text
    assert _count(context, InformationRequest) == 1


def test_inbox_long_poll_returns_when_work_arrives(
    exchange_client: TestClient, utrecht_case: UtrechtCase
) -> None:
    import threading

    results: list[dict] = []  # type: ignore[type-arg]
    headers = utrecht_case.as_(POLICE)

    def poll() -> None:
        results.append(exchange_client.get("/v1/inbox?waitSeconds=10", headers=headers).json())

    thread = threading.Thread(target=poll)
    thread.start()
    utrecht_case.request([VIOLENCE])
    thread.join(timeout=10)
    assert results
    assert len(results[0]["items"]) == 1


def test_a_second_answer_that_read_the_items_still_open_is_refused_and_stores_nothing(
    utrecht_case: UtrechtCase, context: GatewayContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two answers with different Idempotency-Keys that both read the item as asked: the one
    that commits second changes no row and is refused whole (409), its fact and audit entry
    rolled back. Simulated by handing the second answer the items as they were before the
    first committed. The control: the first answer stored its fact."""
    request = utrecht_case.request([REPORTS])
    before = enforcement.load_request
    with context.session_factory() as session:
        stale = before(session, request["id"])
    first = utrecht_case.answer(request["id"], [{"category": REPORTS, "value": "2 meldingen"}])
    assert first.status_code == 200, first.text
    facts, entries = _count(context, CaseFact), _count(context, AuditRecord)
    assert facts == 1

    monkeypatch.setattr(enforcement, "load_request", lambda session, request_id: stale)
    second = utrecht_case.answer(request["id"], [{"category": REPORTS, "value": "9 meldingen"}])
    assert second.status_code == 409, second.text
    assert second.headers["content-type"] == "application/problem+json"
    assert (_count(context, CaseFact), _count(context, AuditRecord)) == (facts, entries)
    monkeypatch.setattr(enforcement, "load_request", before)
    assert _by_category(utrecht_case.read(request["id"]))[REPORTS]["value"] == "2 meldingen"


def test_the_answers_are_read_only_with_a_valid_token(
    utrecht_case: UtrechtCase, context: GatewayContext
) -> None:
    """The hot read authenticates through HotUnit: without a token, or with a broken one, it
    is 401 and nothing is disclosed or audited. The control: the case manager's token reads."""
    request = utrecht_case.request([REPORTS])
    utrecht_case.answer(request["id"], [{"category": REPORTS, "value": "4 meldingen"}])
    url = f"/v1/information-requests/{request['id']}/answers"
    entries = _count(context, AuditRecord)
    for headers in ({}, {"Authorization": "Bearer not.a.token"}):
        refused = utrecht_case.client.get(url, headers=headers)
        assert refused.status_code == 401, refused.text
        assert "4 meldingen" not in refused.text
    assert (_count(context, Disclosure), _count(context, AuditRecord)) == (0, entries)
    assert _by_category(utrecht_case.read(request["id"]))[REPORTS]["value"] == "4 meldingen"
