"""U §5.4: "De afdeling Volksgezondheid ondersteunt de casemanagers als vervuiling van de
woning onderdeel is van de overlast." The hygiene advice (``municipality-hygiene-advice``,
special: health) went to the case manager in every case: no fact said whether pollution is
part of the nuisance, so a fact nobody recorded counted as yes (review5b, P3). The case lead
now records it with its assessment of the report (``POST /v1/cases/{id}/criteria``,
``dwellingPollution``), in any open phase; the clause U-5.4-volksgezondheid has the condition
``dwelling-pollution``, which only a recorded ``true`` meets. The value is the lead's
assessment: the summary shows it to the lead only, the audit log says that it was recorded,
not what."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.context import GatewayContext
from tests.cases.builders import (
    RIJSWIJK_LANDLORD,
    audit_activities,
    rijswijk_case_led_by_the_landlord,
)
from tests.exchange.conftest import CASE_MANAGER, MITROS, UtrechtCase

Auth = Callable[..., dict[str, str]]
HYGIENE = "municipality-hygiene-advice"
MUNICIPALITY = "gemeente-utrecht"


def _in_execution_with_the_municipality(case: UtrechtCase) -> None:
    case.to_execution()
    added = case.client.post(
        f"/v1/cases/{case.case_id}/team",
        json={"partnerId": MUNICIPALITY},
        headers=case.as_(CASE_MANAGER),
    )
    assert added.status_code == 200, added.text


def _record(case: UtrechtCase, body: dict[str, Any], who: tuple[str, str] = CASE_MANAGER) -> Any:
    return case.client.post(f"/v1/cases/{case.case_id}/criteria", json=body, headers=case.as_(who))


def _ask(case: UtrechtCase) -> dict[str, Any]:
    request = case.request([HYGIENE])
    [item] = request["items"]
    return item  # type: ignore[no-any-return]


def test_the_hygiene_advice_waits_until_the_lead_records_pollution(
    utrecht_case: UtrechtCase,
) -> None:
    _in_execution_with_the_municipality(utrecht_case)
    # Before the fix the municipality was asked for it: nobody had recorded pollution.
    item = _ask(utrecht_case)
    assert (item["state"], item["reasons"]) == ("denied", ["dwelling-pollution-not-established"])
    assert _summary(utrecht_case, CASE_MANAGER)["dwellingPollution"] is None

    # The positive control: the lead records it after the report was tested (execution).
    recorded = _record(utrecht_case, {"dwellingPollution": True})
    assert recorded.status_code == 200, recorded.text
    assert recorded.json()["dwellingPollution"] is True
    assert _ask(utrecht_case)["state"] == "asked"

    # And takes it back: no pollution, no advice.
    assert _record(utrecht_case, {"dwellingPollution": False}).status_code == 200
    item = _ask(utrecht_case)
    assert (item["state"], item["reasons"]) == ("denied", ["dwelling-pollution-not-established"])


def _summary(case: UtrechtCase, who: tuple[str, str]) -> Any:
    response = case.client.get(f"/v1/cases/{case.case_id}", headers=case.as_(who))
    assert response.status_code == 200, response.text
    return response.json()


def test_only_the_lead_reads_the_pollution_it_recorded_and_the_log_does_not_say_what(
    utrecht_case: UtrechtCase, context: GatewayContext
) -> None:
    _in_execution_with_the_municipality(utrecht_case)
    before = len(audit_activities(context))
    assert _record(utrecht_case, {"dwellingPollution": True}).status_code == 200
    entries = audit_activities(context)[before:]
    assert entries == ["case-criteria"]
    assert _summary(utrecht_case, CASE_MANAGER)["dwellingPollution"] is True
    for who in (MITROS, ("gemeente-utrecht", "gebiedsmanager"), ("u-centraal", "privacy-officer")):
        seen = _summary(utrecht_case, who)
        assert seen["dwellingPollution"] is None
        assert "dwellingPollution" in seen["withheld"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"dwellingPollution": "yes"}, "dwellingPollution"),
        ({"dwellingPollution": 1}, "dwellingPollution"),
        ({"dwellingPollution": "true"}, "dwellingPollution"),
        ({"dwellingPollution": True, "unknown": 1}, "unknown"),
    ],
    ids=["yes", "one", "string-true", "extra-field"],
)
def test_bad_input_is_a_problem_and_records_nothing(
    utrecht_case: UtrechtCase, context: GatewayContext, body: dict[str, Any], field: str
) -> None:
    """A true boolean only (lax "yes" or 1 would read as true): refused as every malformed
    body is (400 invalid-parameters, problem+json, naming the field); nothing recorded."""
    _in_execution_with_the_municipality(utrecht_case)
    before = len(audit_activities(context))
    refused = _record(utrecht_case, body)
    assert refused.status_code == 400, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["type"].endswith("/invalid-parameters")
    assert [p["name"] for p in refused.json()["invalidParams"]] == [field]
    assert len(audit_activities(context)) == before
    assert _summary(utrecht_case, CASE_MANAGER)["dwellingPollution"] is None


def test_criteria_are_still_recorded_only_while_the_report_is_tested(
    utrecht_case: UtrechtCase,
) -> None:
    """Pollution alone may come later; criteria with it may not, and then nothing is
    recorded."""
    _in_execution_with_the_municipality(utrecht_case)
    refused = _record(
        utrecht_case,
        {
            "dwellingPollution": True,
            "criteria": [{"criterion": "complex-problems", "holds": True}],
        },
    )
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert _summary(utrecht_case, CASE_MANAGER)["dwellingPollution"] is None


def test_only_the_lead_records_pollution(utrecht_case: UtrechtCase) -> None:
    _in_execution_with_the_municipality(utrecht_case)
    for who in (MITROS, ("gemeente-utrecht", "gebiedsmanager"), ("u-centraal", "privacy-officer")):
        refused = _record(utrecht_case, {"dwellingPollution": True}, who)
        assert refused.status_code == 403, (who, refused.text)
    assert _summary(utrecht_case, CASE_MANAGER)["dwellingPollution"] is None


def test_rijswijk_records_no_pollution_no_clause_depends_on(
    exchange_client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    case_id = rijswijk_case_led_by_the_landlord(exchange_client, auth)
    before = audit_activities(context)
    refused = exchange_client.post(
        f"/v1/cases/{case_id}/criteria",
        json={"dwellingPollution": True},
        headers=auth(*RIJSWIJK_LANDLORD),
    )
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["type"].endswith("/not-in-covenant")
    assert audit_activities(context) == before
