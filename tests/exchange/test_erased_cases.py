"""After retention erased a case, the exchange answers 410 with the rule and the date: never
a plaintext value, never a 500. Also: inbox items name the case's reference."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient

from gateway.context import GatewayContext
from tests.exchange.conftest import (
    CASE_MANAGER,
    POLICE,
    REPORTS,
    VIOLENCE,
    WIJKAGENT,
    UtrechtCase,
    close_in_the_register,
)

SECRET = "3 meldingen, adres Domstraat 1"


def _erase(context: GatewayContext, case: UtrechtCase) -> None:
    """Closed long ago (Utrecht keeps the default 24 months), then the sweep runs."""
    retention = context.require_retention()
    retention.sweep(as_of=date(2020, 1, 1))  # registers the case with retention
    close_in_the_register(context, case.case_id, date(2020, 1, 6))
    report = retention.sweep(as_of=date(2030, 1, 1))
    assert report.redacted >= 1


def _assert_erased(response_text: str, status: int, content_type: str) -> None:
    assert status == 410, response_text
    assert content_type.startswith("application/problem+json")
    assert "Erased under rule U-default-na-afsluiting on " in response_text
    assert SECRET not in response_text


def _answered_request(case: UtrechtCase) -> str:
    request = case.request([VIOLENCE, REPORTS])
    answered = case.answer(
        request["id"],
        [{"category": VIOLENCE, "yesNo": True}, {"category": REPORTS, "value": SECRET}],
    )
    assert answered.status_code == 200, answered.text
    return str(request["id"])


def test_reading_answers_of_an_erased_case_is_410_with_rule_and_date(
    utrecht_case: UtrechtCase, context: GatewayContext
) -> None:
    request_id = _answered_request(utrecht_case)
    _erase(context, utrecht_case)
    response = utrecht_case.client.get(
        f"/v1/information-requests/{request_id}/answers",
        headers=utrecht_case.as_(CASE_MANAGER, "cm-1"),
    )
    _assert_erased(response.text, response.status_code, response.headers["content-type"])
    assert response.json()["ruleId"] == "U-default-na-afsluiting"


def test_request_status_of_an_erased_case_is_410(
    utrecht_case: UtrechtCase, context: GatewayContext
) -> None:
    request_id = _answered_request(utrecht_case)
    _erase(context, utrecht_case)
    response = utrecht_case.client.get(
        f"/v1/information-requests/{request_id}", headers=utrecht_case.as_(CASE_MANAGER, "cm-1")
    )
    _assert_erased(response.text, response.status_code, response.headers["content-type"])


def test_new_information_request_on_an_erased_case_is_410(
    utrecht_case: UtrechtCase, context: GatewayContext
) -> None:
    _erase(context, utrecht_case)
    response = utrecht_case.client.post(
        "/v1/information-requests",
        json={"caseId": utrecht_case.case_id, "purpose": "case-handling", "categories": [REPORTS]},
        headers=utrecht_case.as_(CASE_MANAGER, "cm-1"),
    )
    _assert_erased(response.text, response.status_code, response.headers["content-type"])


def test_answering_a_request_on_an_erased_case_is_410_and_stores_nothing(
    utrecht_case: UtrechtCase, context: GatewayContext
) -> None:
    request = utrecht_case.request([REPORTS])
    _erase(context, utrecht_case)
    response = utrecht_case.answer(request["id"], [{"category": REPORTS, "value": SECRET}])
    _assert_erased(response.text, response.status_code, response.headers["content-type"])
    inbox = utrecht_case.client.get("/v1/inbox", headers=utrecht_case.as_(POLICE)).json()
    assert request["id"] not in [item.get("requestId") for item in inbox["items"]]


def test_case_facts_of_an_erased_case_are_410_to_read_and_to_add(
    utrecht_case: UtrechtCase, context: GatewayContext
) -> None:
    pushed = utrecht_case.client.post(
        "/v1/case-facts",
        json={"caseId": utrecht_case.case_id, "category": REPORTS, "value": SECRET},
        headers=utrecht_case.as_(WIJKAGENT),
    )
    assert pushed.status_code == 201, pushed.text
    _erase(context, utrecht_case)
    query = utrecht_case.client.post(
        "/v1/case-facts/queries",
        json={"caseId": utrecht_case.case_id, "purpose": "case-handling", "categories": [REPORTS]},
        headers=utrecht_case.as_(CASE_MANAGER, "cm-1"),
    )
    _assert_erased(query.text, query.status_code, query.headers["content-type"])
    again = utrecht_case.client.post(
        "/v1/case-facts",
        json={"caseId": utrecht_case.case_id, "category": REPORTS, "value": SECRET},
        headers=utrecht_case.as_(WIJKAGENT),
    )
    _assert_erased(again.text, again.status_code, again.headers["content-type"])


def test_inbox_information_request_names_the_case_reference(
    utrecht_case: UtrechtCase, exchange_client: TestClient
) -> None:
    request = utrecht_case.request([VIOLENCE])
    case = exchange_client.get(
        f"/v1/cases/{utrecht_case.case_id}", headers=utrecht_case.as_(CASE_MANAGER)
    ).json()
    inbox = exchange_client.get("/v1/inbox", headers=utrecht_case.as_(POLICE)).json()
    (item,) = [i for i in inbox["items"] if i.get("requestId") == request["id"]]
    assert item["kind"] == "information-request"
    assert item["caseReference"] == case["reference"]
