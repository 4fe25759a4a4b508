"""Rijswijk's warning and intention give the resident a term before the next rung (review8a
F4).

R Bijlage E (waarschuwing): "Er wordt alleen een begunstigingstermijn gegeven voor wanneer de
overlast moet ophouden"; (voornemen) "De overlast houdt niet op na de begunstigingstermijn in
de waarschuwing"; (gedragsaanwijzing) "De overlast houdt niet op na het voornemen tot het
opleggen van een maatregel na een gesteld termijn"; Bijlage C: "Waarschuwing ... met
begunstigingstermijn", then "Houdt de overlast op?" before each next rung.

Before the fix the warning, the intention and the behavioural order went through one after
the other in milliseconds. Now the warning and the intention require the term in ``days``,
the deadline ``grace-period-ends`` runs from the step, and the next rung (announce-intention
from the warning, hand-over-to-corporation, impose-behavioural-order) is refused with 409
``guard-failed`` / ``grace-period-ended`` until it has ended. Positive controls: the same
request once the term has passed (the case's history dated back, as the demo does), the
straight intention when a warning would have little effect (Bijlage C "Ja"), and the
nuisance stopping within the term.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from itertools import count
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from gateway.cases.models import CaseFile
from gateway.context import GatewayContext
from gateway.core.dutch_date import DUTCH_TIME
from gateway.db import transaction, utcnow
from gateway.demo.clock import date_case_back
from tests.cases.builders import report_body

Auth = Callable[..., dict[str, str]]
MAYOR = ("gemeente-rijswijk", "casemanager")
RW = ("rijswijk-wonen", "woonconsulent")
_numbers = count(1)


def _move(client: TestClient, auth: Auth, who: tuple[str, str], case_id: str, name: str,
          **facts: Any) -> Any:  # fmt: skip
    return client.post(
        f"/v1/cases/{case_id}/transitions",
        headers=auth(*who),
        json={"transition": name, **facts},
    )


def _ok(response: Any) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def _integrated_approach(client: TestClient, auth: Auth) -> str:
    body = report_body(
        postcode="2283 AD",
        number=next(_numbers),
        corporation="rijswijk-wonen",
        district="Te Werve",
        persons=[],
    )
    created = client.post("/v1/reports", json=body, headers=auth(*RW))
    assert created.status_code == 201, created.text
    case_id: str = created.json()["caseId"]
    _ok(_move(client, auth, RW, case_id, "classify-complex"))
    _ok(_move(client, auth, MAYOR, case_id, "form-team"))
    _ok(_move(client, auth, MAYOR, case_id, "weigh-serious", bothSidesHeard=True))
    return case_id


def _pass(context: GatewayContext, case_id: str, days: int) -> None:
    with transaction(context.session_factory) as session:
        date_case_back(session, case_id, days)


def _refused_within_term(response: Any) -> dict[str, Any]:
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["guard"] == "grace-period-ended"
    assert "Bijlage E" in problem["source"]
    return problem


def _dutch_day(moment: str, *, plus: int) -> str:
    """The Dutch date of ``moment`` plus ``plus`` days (calendar days, not rolled)."""
    day = datetime.fromisoformat(moment).astimezone(DUTCH_TIME).date() + timedelta(days=plus)
    return day.isoformat()


def _grace(summary: dict[str, Any]) -> dict[str, Any]:
    (deadline,) = [d for d in summary["deadlines"] if d["deadline"] == "grace-period-ends"]
    return deadline


def test_the_intention_waits_for_the_warning_s_term(
    client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    """The finding: warning and intention one after the other, in the same minute."""
    case_id = _integrated_approach(client, auth)
    warned = _ok(_move(client, auth, MAYOR, case_id, "issue-warning", days=14))
    due = _grace(warned)
    assert due["dueOn"] == _dutch_day(warned["stateEnteredAt"], plus=14)
    problem = _refused_within_term(
        _move(client, auth, MAYOR, case_id, "announce-intention", days=14)
    )
    assert due["dueOn"] in problem["detail"]
    # Still refused on the term's last day; allowed the day after it.
    _pass(context, case_id, 14)
    _refused_within_term(_move(client, auth, MAYOR, case_id, "announce-intention", days=14))
    _pass(context, case_id, 1)
    announced = _ok(_move(client, auth, MAYOR, case_id, "announce-intention", days=21))
    # The intention's own term runs from the intention.
    assert _grace(announced)["dueOn"] == _dutch_day(announced["stateEnteredAt"], plus=21)


def test_the_behavioural_order_waits_for_the_intention_s_term(
    client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    case_id = _integrated_approach(client, auth)
    _ok(_move(client, auth, MAYOR, case_id, "issue-warning", days=7))
    _pass(context, case_id, 8)
    _ok(_move(client, auth, MAYOR, case_id, "announce-intention", days=10))
    _refused_within_term(
        _move(client, auth, MAYOR, case_id, "impose-behavioural-order", measure="behavioural-order")
    )
    _pass(context, case_id, 11)
    ordered = _ok(
        _move(client, auth, MAYOR, case_id, "impose-behavioural-order", measure="behavioural-order")
    )
    assert ordered["state"] == "behavioural-order"
    assert [m["instrument"] for m in ordered["measures"]] == [
        "warning",
        "intention",
        "behavioural-order",
    ]
    assert [m["days"] for m in ordered["measures"]][:2] == [7, 10]


def test_the_hand_over_to_the_corporation_waits_for_the_intention_s_term(
    client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    """Bijlage E: the hand-over is the sanction of the intention ("overdracht overlastcasus
    huurwoning aan woningcorporatie"), so after its term too; the corporation's own order
    after the hand-over needs no second wait."""
    case_id = _integrated_approach(client, auth)
    _ok(_move(client, auth, MAYOR, case_id, "announce-intention", days=5))
    _refused_within_term(_move(client, auth, RW, case_id, "hand-over-to-corporation"))
    _pass(context, case_id, 6)
    assert _ok(_move(client, auth, RW, case_id, "hand-over-to-corporation"))["state"] == (
        "corporation-measures"
    )
    order = {"measure": "behavioural-order"}
    ordered = _move(client, auth, RW, case_id, "impose-behavioural-order", **order)
    assert _ok(ordered)["state"] == "behavioural-order"


def test_the_intention_straight_from_the_integrated_approach_needs_no_wait(
    client: TestClient, auth: Auth
) -> None:
    """Bijlage C: "Is de overlast langdurig en dermate ernstig dat een waarschuwing weinig
    effect heeft? Ja" -> the intention, without a warning before it."""
    case_id = _integrated_approach(client, auth)
    announced = _ok(_move(client, auth, MAYOR, case_id, "announce-intention", days=14))
    assert announced["state"] == "warning"
    assert _grace(announced)["overdue"] is False


def test_the_nuisance_may_stop_within_the_term(client: TestClient, auth: Auth) -> None:
    case_id = _integrated_approach(client, auth)
    _ok(_move(client, auth, MAYOR, case_id, "issue-warning", days=14))
    stopped = _ok(_move(client, auth, MAYOR, case_id, "nuisance-stopped"))
    assert stopped["state"] == "aftercare-evaluation"
    assert "grace-period-ends" not in {d["deadline"] for d in stopped["deadlines"]}


@pytest.mark.parametrize("name", ["issue-warning", "announce-intention"])
def test_the_warning_and_the_intention_need_their_term(
    client: TestClient, auth: Auth, name: str
) -> None:
    case_id = _integrated_approach(client, auth)
    missing = _move(client, auth, MAYOR, case_id, name)
    assert missing.status_code == 422, missing.text
    assert missing.json()["invalidParams"] == [{"name": "days", "reason": "required"}]
    zero = _move(client, auth, MAYOR, case_id, name, days=0)
    assert zero.status_code == 409, zero.text
    assert zero.json()["guard"] == "grace-period-given"
    assert _ok(_move(client, auth, MAYOR, case_id, name, days=1))["state"] == "warning"


def test_a_warning_phase_without_a_term_on_record_is_refused(
    client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    """A case warned before the term was asked: unknown is not "ended" (fail closed), also
    long after; the nuisance can still be recorded as stopped."""
    case_id = _integrated_approach(client, auth)
    _ok(_move(client, auth, MAYOR, case_id, "issue-warning", days=3))
    with transaction(context.session_factory) as session:
        session.execute(update(CaseFile).where(CaseFile.id == case_id).values(state_days=None))
    _pass(context, case_id, 365)
    refused = _refused_within_term(
        _move(client, auth, MAYOR, case_id, "announce-intention", days=14)
    )
    assert "not recorded" in refused["detail"]
    assert _ok(_move(client, auth, MAYOR, case_id, "nuisance-stopped"))["state"] == (
        "aftercare-evaluation"
    )


def test_the_term_ends_at_the_end_of_its_last_dutch_day(
    client: TestClient, auth: Auth, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The deadline's instant is the guard's: refused a moment before the end of the last
    day (Europe/Amsterdam), allowed at it."""
    case_id = _integrated_approach(client, auth)
    warned = _ok(_move(client, auth, MAYOR, case_id, "issue-warning", days=2))
    ends = datetime.fromisoformat(_grace(warned)["dueAt"])
    monkeypatch.setattr("gateway.cases.workflow.utcnow", lambda: ends - timedelta(seconds=1))
    _refused_within_term(_move(client, auth, MAYOR, case_id, "announce-intention", days=2))
    monkeypatch.setattr("gateway.cases.workflow.utcnow", lambda: ends)
    assert _ok(_move(client, auth, MAYOR, case_id, "announce-intention", days=2))["state"] == (
        "warning"
    )
    assert ends > utcnow()
