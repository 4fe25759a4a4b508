"""Who is told that a new report about the same resident restarted a case's term (review4
F10).

R §3.4's condition ("geen nieuwe overlastmelding over dezelfde bewoner") restarts the term
on a report in any case of the covenant about the same resident, also at another address.
The sweep keeps doing so; but the case's retention state (``GET /v1/cases/{id}/retention``,
its records, ``/privacy/bewaartermijnen``) said "restarted by a new report on <date>" to
every member of the case's team, telling the landlord of the causer's former dwelling that
the causer was reported again elsewhere, and when. Now the restart is told only to readers
who may read a case that holds a report of that day: the lead of both, the covenant's
coordinating privacy officer, and anyone when the report is in the case itself. Everyone
else sees the rule and the (moved) due date, no source date, no word of a report.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from gateway.context import GatewayContext
from gateway.core.dutch_date import dutch_today
from tests.exchange.conftest import CASE_MANAGER, MITROS, UtrechtCase, close_in_the_register
from tests.web.conftest import sign_in

ELSEWHERE = ("groenwest", "woonconsulent")  # reports case B; not in case A's team
MITROS_OFFICER = ("mitros", "privacy-officer")  # in case A's team, not in B's
COORDINATING = ("gemeente-utrecht", "privacy-officer")
CAUSER = "111222333"
RESTARTED = "restarted by a new report"


@pytest.fixture
def browser(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as client:
        yield client


def _report(client: TestClient, auth: Any, who: tuple[str, str], **dwelling: Any) -> str:
    received: datetime = dwelling.pop("received", datetime.now(UTC))
    response = client.post(
        "/v1/reports",
        json={
            "dwelling": {"ownership": "corporation", **dwelling},
            "persons": [{"role": "causer", "bsn": CAUSER}],
            "report": {
                "channel": "form",
                "description": "Nachtelijk lawaai.",
                "receivedAt": received.isoformat(),
            },
        },
        headers=auth(*who),
    )
    assert response.status_code in (200, 201), response.text  # 200: joined a known case
    return str(response.json()["caseId"])


def _case_a(client: TestClient, auth: Any, received: datetime) -> str:
    return _report(
        client,
        auth,
        MITROS,
        address={"postcode": "3511 AB", "houseNumber": 12},
        corporationId="mitros",
        district="binnenstad",
        received=received,
    )


@pytest.fixture
def case_a(browser: TestClient, auth: Any, context: GatewayContext) -> UtrechtCase:
    """Mitros's case about its tenant, reported 30 days ago and closed 10 days ago (in the
    register: a partner cannot date a closure)."""
    case_id = _case_a(browser, auth, datetime.now(UTC) - timedelta(days=30))
    context.require_retention().sweep(as_of=dutch_today())  # registers it; nothing is due
    close_in_the_register(context, case_id, dutch_today() - timedelta(days=10))
    return UtrechtCase(client=browser, auth=auth, case_id=case_id)


def _reported_elsewhere(case: UtrechtCase, context: GatewayContext) -> str:
    """Case B: the same causer at another address, GroenWest's; then the sweep brings the
    register up to date (a read of case A syncs case A only)."""
    other = _report(
        case.client,
        case.auth,
        ELSEWHERE,
        address={"postcode": "3531 ZZ", "houseNumber": 99},
        corporationId="groenwest",
        district="west",
    )
    assert other != case.case_id
    context.require_retention().sweep(as_of=dutch_today())
    return other


def _state(case: UtrechtCase, who: tuple[str, str]) -> dict[str, Any]:
    response = case.client.get(f"/v1/cases/{case.case_id}/retention", headers=case.as_(who))
    assert response.status_code == 200, response.text
    state: dict[str, Any] = response.json()
    return state


def _records_reasons(case: UtrechtCase, who: tuple[str, str]) -> str:
    response = case.client.get(f"/v1/cases/{case.case_id}/retention/records", headers=case.as_(who))
    assert response.status_code == 200, response.text
    return " ".join(r["reason"] for r in response.json()["records"])


def _page(browser: TestClient, who: tuple[str, str]) -> str:
    sign_in(browser, *who)
    page = browser.get("/privacy/bewaartermijnen")
    assert page.status_code == 200, page.text
    return page.text


def test_control_without_a_new_report_nothing_is_said(case_a: UtrechtCase) -> None:
    state = _state(case_a, MITROS)
    assert state["reason"].startswith("U-default-na-afsluiting: case-closed on "), state
    assert state["sourceDate"] == (dutch_today() - timedelta(days=10)).isoformat()


def test_a_team_member_is_not_told_of_a_report_in_another_case(
    case_a: UtrechtCase, context: GatewayContext
) -> None:
    _reported_elsewhere(case_a, context)
    told = _state(case_a, CASE_MANAGER)  # the due date as it stands, from the lead of both
    for who in (MITROS, MITROS_OFFICER):
        state = _state(case_a, who)
        assert RESTARTED not in state["reason"], (who, state)
        assert state["sourceDate"] is None, (who, state)
        assert dutch_today().isoformat() not in state["reason"], (who, state)
        # The sweep keeps the restart: the due date is the moved one (the residual, docs).
        assert state["dueOn"] == told["dueOn"], (who, state)
        assert state["brondatumArchiefprocedure"]["einddatumBekend"] is True
        assert RESTARTED not in _records_reasons(case_a, who)


def test_control_the_lead_of_both_cases_and_the_coordinating_officer_are_told(
    case_a: UtrechtCase, context: GatewayContext
) -> None:
    _reported_elsewhere(case_a, context)
    for who in (CASE_MANAGER, COORDINATING):
        state = _state(case_a, who)
        assert f"{RESTARTED} on {dutch_today().isoformat()}" in state["reason"], (who, state)
        assert state["sourceDate"] == dutch_today().isoformat()


def test_control_a_new_report_in_the_case_itself_is_told_to_its_team(
    case_a: UtrechtCase, context: GatewayContext
) -> None:
    """The same address: the report joins case A, a fact of the reader's own case."""
    joined = _case_a(case_a.client, case_a.auth, datetime.now(UTC))
    assert joined == case_a.case_id
    context.require_retention().sweep(as_of=dutch_today())
    assert RESTARTED in _state(case_a, MITROS)["reason"]


def test_the_privacy_page_tells_only_the_readers_of_the_other_case(
    case_a: UtrechtCase, context: GatewayContext, browser: TestClient
) -> None:
    _reported_elsewhere(case_a, context)
    restart = "Nieuwe melding over dezelfde bewoner"
    assert restart not in _page(browser, MITROS_OFFICER)
    assert restart in _page(browser, COORDINATING)


def test_an_erased_case_keeps_the_report_elsewhere_to_itself(
    case_a: UtrechtCase, context: GatewayContext
) -> None:
    """After the erasure the state still carries the last verdict's source date; the
    resident's blind index is gone with the dossier, so a report of another case is told to
    no one (fail closed)."""
    _reported_elsewhere(case_a, context)
    context.require_retention().sweep(as_of=dutch_today() + timedelta(days=3 * 366))
    state = _state(case_a, MITROS)
    assert state["status"] == "erased", state
    assert state["sourceDate"] is None, state
    assert RESTARTED not in state["reason"], state
