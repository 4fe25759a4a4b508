"""End to end: an OPA server that answers what the policy cannot is an engine failure, not a
disclosure (review6a, finding 1).

The gateway runs with ``KETENPOORT_OPA_URL`` at the OPA stand-in, which decides with OPA's
own Go evaluator on the gateway's bundle; for the read it then changes one field of its
answer. The police answered the reports ("3 meldingen", detail) and the violence (yes).
Every change is answered 503 ``policy-unavailable``: nothing disclosed, no disclosure row,
no audit entry (as any engine failure: the decision is refused before anything is written),
and the log line of a decision that failed closed, with reason ``inconsistent-result``.
The positive control: the same read with OPA's unchanged answer discloses "3 meldingen"
under U-5.3-meldingen, and its audit entry says so. The case-fact query (the other way a
disclosure is opened) is checked the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from gateway.audit.models import AuditRecord
from gateway.config import Settings
from gateway.context import GatewayContext
from gateway.exchange.models import Disclosure
from tests.exchange.conftest import CASE_MANAGER, POLICE, REPORTS, VIOLENCE, UtrechtCase
from tests.policy.opa_stand_in import OpaStandIn, opa_stand_in

OFFICER = ("u-centraal", "privacy-officer")
Change = Callable[[dict[str, Any]], None]


def _reports(key: str, value: Any) -> Change:
    def change(result: dict[str, Any]) -> None:
        if REPORTS in result["categories"]:
            result["categories"][REPORTS][key] = value

    return change


def _top(key: str, value: Any) -> Change:
    def change(result: dict[str, Any]) -> None:
        result[key] = value

    return change


def _reports_under(clauses: list[str]) -> Change:
    """The reports disclosed under ``clauses``, and the decision's clauses to match."""

    def change(result: dict[str, Any]) -> None:
        if REPORTS in result["categories"]:
            result["categories"][REPORTS]["clauses"] = clauses
            others = [c for c in result["clauses"] if c != "U-5.3-meldingen"]
            result["clauses"] = sorted({*others, *clauses})

    return change


CHANGES: dict[str, Change] = {
    "allow-false": _top("allow", False),
    "allow-as-string": _top("allow", "true"),
    "errors-unknown-partner": _top("errors", ["unknown-partner"]),
    "extra-field": _top("unexpected", True),
    "report-answer-none": _reports("answer", "none"),
    "report-answer-yes-no": _reports("answer", "yes-no"),
    "report-without-clause": _reports_under([]),
    "report-under-the-violence-clause": _reports_under(["U-5.3-geweld"]),
    "report-under-an-unknown-clause": _reports_under(["NO-SUCH-CLAUSE"]),
}


@pytest.fixture
def opa() -> Iterator[OpaStandIn]:
    with opa_stand_in("answer") as server:
        yield server


@pytest.fixture
def settings(tmp_path: Path, database_url: str, opa: OpaStandIn) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        demo_mode=True,
        auto_migrate=False,
        opa_url=opa.url,
    )


def _count(context: GatewayContext, model: type) -> int:
    with context.session_factory() as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def _answered(case: UtrechtCase) -> str:
    request = case.request([VIOLENCE, REPORTS])
    answered = case.answer(
        request["id"],
        [{"category": VIOLENCE, "yesNo": True}, {"category": REPORTS, "value": "3 meldingen"}],
    )
    assert answered.status_code == 200, answered.text
    return str(request["id"])


def _read(case: UtrechtCase, request_id: str) -> Any:
    return case.client.get(
        f"/v1/information-requests/{request_id}/answers", headers=case.as_(CASE_MANAGER, "cm-1")
    )


def _failed_closed(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.reason  # type: ignore[attr-defined]
        for r in caplog.records
        if r.getMessage() == "policy decision failed closed"
    ]


def test_opas_unchanged_answer_discloses(
    utrecht_case: UtrechtCase, opa: OpaStandIn, context: GatewayContext
) -> None:
    """The positive control: the read that every change below is refused for."""
    request_id = _answered(utrecht_case)
    response = _read(utrecht_case, request_id)
    assert response.status_code == 200, response.text
    shown = {v["category"]: v for v in response.json()["values"]}
    assert (shown[REPORTS]["outcome"], shown[REPORTS]["value"]) == ("disclosed", "3 meldingen")
    assert shown[REPORTS]["clauses"] == ["U-5.3-meldingen"]
    assert (shown[VIOLENCE]["outcome"], shown[VIOLENCE]["yesNo"]) == ("disclosed", True)
    [entry] = [
        e
        for e in utrecht_case.client.post(
            "/v1/audit/entries/search",
            json={"caseId": utrecht_case.case_id, "activity": "disclosure"},
            headers=utrecht_case.as_(OFFICER),
        ).json()["entries"]
    ]
    assert sorted(entry["disclosed"]) == [VIOLENCE, REPORTS]
    assert entry["decision"]["engine"] == "opa"
    assert _count(context, Disclosure) == 1


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_an_inconsistent_opa_answer_is_a_503_that_discloses_and_records_nothing(
    utrecht_case: UtrechtCase,
    opa: OpaStandIn,
    context: GatewayContext,
    change: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    request_id = _answered(utrecht_case)  # asked and answered on OPA's unchanged answers
    entries, disclosures = _count(context, AuditRecord), _count(context, Disclosure)
    opa.change = CHANGES[change]
    with caplog.at_level(logging.WARNING, logger="gateway.policy"):
        response = _read(utrecht_case, request_id)
    assert response.status_code == 503, f"{change}: {response.status_code} {response.text}"
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith("/policy-unavailable")
    assert "3 meldingen" not in response.text
    assert (_count(context, AuditRecord), _count(context, Disclosure)) == (entries, disclosures)
    assert _failed_closed(caplog) == ["inconsistent-result"]


def test_an_inconsistent_opa_answer_to_a_case_fact_query_is_a_503(
    utrecht_case: UtrechtCase, opa: OpaStandIn, context: GatewayContext
) -> None:
    pushed = utrecht_case.client.post(
        "/v1/case-facts",
        json={"caseId": utrecht_case.case_id, "category": REPORTS, "value": "melding 01-02"},
        headers={**utrecht_case.as_(POLICE), "Idempotency-Key": "push-fact-1"},
    )
    assert pushed.status_code == 201, pushed.text

    def query() -> Any:
        return utrecht_case.client.post(
            "/v1/case-facts/queries",
            json={
                "caseId": utrecht_case.case_id,
                "purpose": "case-handling",
                "categories": [REPORTS],
            },
            headers=utrecht_case.as_(CASE_MANAGER, "cm-1"),
        )

    shown = query()  # the positive control
    assert shown.status_code == 200, shown.text
    assert [v["value"] for v in shown.json()["values"]] == ["melding 01-02"]
    entries = _count(context, AuditRecord)
    for change in ("report-answer-none", "report-under-the-violence-clause"):
        opa.change = CHANGES[change]
        refused = query()
        assert refused.status_code == 503, f"{change}: {refused.text}"
        assert "melding 01-02" not in refused.text
    assert _count(context, AuditRecord) == entries
