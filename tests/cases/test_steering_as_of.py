"""The steering report's state figures (openCases, openByPhase, openByDistrict,
overdueDeadlines) are as of the end of its period (``asOf``), not the moment it is read.

Live, two reads an hour apart told any partner of the covenant "one case moved from
plan-of-approach to execution since", "one case in Oost was closed", or "one case was
erased" past the small-group suppression of each read. As of the end of the last ended month
they change only when another month ends (gateway/cases/state_at.py). Each regression has
its control: once the month has ended, the same figures show the change.

The history here is made through the API, then moved back forty days (every moment of every
case: a month before the current one began), so that the steps taken after it fall in the
month in progress, after ``asOf``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from gateway.cases.models import CaseConsent, CaseFile, CaseReport, CaseTransition
from gateway.context import GatewayContext
from gateway.db import transaction
from tests.cases.builders import report_body
from tests.steering_periods import this_month_ended

Auth = Callable[..., dict[str, str]]
CM = ("u-centraal", "casemanager")
POLICE = ("politie-midden-nederland", "wijkagent")
READER = ("mitros", "woonconsulent")  # any partner of the covenant reads the report
STATE = ("asOf", "openCases", "openByPhase", "openByDistrict", "overdueDeadlines")
BACK = timedelta(days=40)


@pytest.fixture(autouse=True)
def _every_count_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    # What the moment does to the figures, not small counts (test_steering_figures.py):
    # every count is shown here, one case too.
    monkeypatch.setattr("gateway.cases.steering.MIN_GROUP_SIZE", 1)


def _open(client: TestClient, auth: Auth, number: int, district: str) -> str:
    body = report_body(
        number=number,
        ownership="private-rental",
        corporation=None,
        district=district,
        persons=[],
    )
    response = client.post("/v1/reports", json=body, headers=auth(*POLICE))
    assert response.status_code == 201, response.text
    return str(response.json()["caseId"])


def _move(client: TestClient, auth: Auth, case_id: str, transition: str, **facts: Any) -> None:
    response = client.post(
        f"/v1/cases/{case_id}/transitions",
        json={"transition": transition, **facts},
        headers=auth(*CM),
    )
    assert response.status_code == 200, response.text


def _take_on(client: TestClient, auth: Auth, case_id: str) -> None:
    """U §2, §5.1: two criteria, then taken on (plan-of-approach)."""
    response = client.post(
        f"/v1/cases/{case_id}/criteria",
        headers=auth(*CM),
        json={
            "criteria": [
                {"criterion": "dwelling-related", "holds": True},
                {"criterion": "several-forms", "holds": True, "evidence": "Drie buren."},
            ]
        },
    )
    assert response.status_code in (200, 201), response.text
    _move(client, auth, case_id, "take-on", oggzCheck={"targetGroup": False, "referred": False})


def _move_back(context: GatewayContext) -> None:
    """Every moment of every case forty days earlier: before the month in progress."""
    with transaction(context.session_factory) as session:
        for case in session.scalars(select(CaseFile)):
            case.first_report_at -= BACK
            case.state_entered_at -= BACK
            if case.closed_at is not None:
                case.closed_at -= BACK
        session.flush()
        # opened_at is set once (CaseFile._opened_once): moved past the ORM.
        for case_id, opened_at in session.execute(select(CaseFile.id, CaseFile.opened_at)).all():
            session.execute(
                update(CaseFile.__table__)
                .where(CaseFile.__table__.c.id == case_id)
                .values(opened_at=opened_at - BACK)
            )
        session.expire_all()
        for step in session.scalars(select(CaseTransition)):
            step.at -= BACK
        for consent in session.scalars(select(CaseConsent)):
            consent.recorded_at -= BACK
        for report in session.scalars(select(CaseReport)):
            report.received_at -= BACK
            report.registered_at -= BACK


def _state(client: TestClient, auth: Auth) -> dict[str, Any]:
    response = client.get("/v1/steering-report", headers=auth(*READER))
    assert response.status_code == 200, response.text
    body = response.json()
    return {name: body[name] for name in STATE}


def test_a_step_and_a_closure_within_the_month_change_no_state_figure(
    client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    taken, declined, waiting = (
        _open(client, auth, 1, "Oost"),
        _open(client, auth, 2, "Oost"),
        _open(client, auth, 3, "West"),
    )
    _take_on(client, auth, taken)
    _move_back(context)
    before = _state(client, auth)
    # By hand: three cases open at the end of last month, two in intake (their decision was
    # due five days after the report, forty days ago: overdue), one taken on.
    assert before["openCases"] == 3
    assert before["openByPhase"] == {"intake": 2, "plan-of-approach": 1}
    assert before["openByDistrict"] == {"Oost": 2, "West": 1}
    assert before["overdueDeadlines"] == 2
    assert date.fromisoformat(before["asOf"][:10]).day == 1

    _move(client, auth, taken, "adopt-plan", bothSidesHeard=True)  # into execution
    _move(client, auth, declined, "decline", reason="Geen extreme overlast.")  # closed
    # Read twice in the month: the same state (the old live figures: 2 open, one in
    # execution, one in Oost, one overdue).
    assert _state(client, auth) == before
    assert _state(client, auth) == before

    # Control: once the month has ended, the report describes its end.
    with this_month_ended():
        after = _state(client, auth)
    assert after["asOf"] > before["asOf"]
    assert after["openCases"] == 2
    assert after["openByPhase"] == {"execution": 1, "intake": 1}
    assert after["openByDistrict"] == {"Oost": 1, "West": 1}
    # The waiting case's decision; the plan's first evaluation is six weeks away.
    assert after["overdueDeadlines"] == 1
    assert waiting


def test_an_erasure_within_the_month_changes_no_state_figure(
    client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    first, second = _open(client, auth, 1, "Oost"), _open(client, auth, 2, "West")
    _move_back(context)
    before = _state(client, auth)
    assert (before["openCases"], before["overdueDeadlines"]) == (2, 2)
    assert before["openByDistrict"] == {"Oost": 1, "West": 1}

    # Years later by the rules' clock: both past their period, erased today.
    report = context.require_retention().sweep(as_of=date(2030, 1, 1))
    assert report.redacted >= 2
    with context.session_factory() as session:
        erased = session.scalars(
            select(CaseFile.erased_at).where(CaseFile.id.in_([first, second]))
        ).all()
    assert all(at is not None for at in erased)
    # They were open at the end of last month, and still count as they stood then (the
    # old live figures: none open, none overdue; which one went, by district).
    assert _state(client, auth) == before

    # Control: from the end of this month on, an erased case is no open work.
    with this_month_ended():
        after = _state(client, auth)
    assert (after["openCases"], after["overdueDeadlines"]) == (0, 0)
    assert (after["openByPhase"], after["openByDistrict"]) == ({}, {})
