"""The steering figures of the last ended month are kept before the retention sweep erases
anything (gateway/cases/snapshots.py, migration 0045).

The residual this closes (docs/cases.md): a Utrecht case sitting in permission-requested at
the end of last month, the corporation's permission on file (its three-day answer met),
erased since. Its permission is deleted with the dossier, so replaying the month from the
history counted the answer as missing once the case was gone: last month's
``overdueDeadlines`` went up by one with the erasure. The control shows the replay alone
still does that; the snapshot taken by the sweep keeps the figure."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select, update

from gateway.cases.models import CaseFile, SteeringSnapshot
from gateway.cases.snapshots import keep_state_figures, last_month_end
from gateway.context import GatewayContext
from gateway.db import transaction, utcnow
from tests.cases.builders import report_body
from tests.cases.test_steering_as_of import CM, POLICE, _move, _move_back, _state
from tests.steering_periods import exact_counts

Auth = Callable[..., dict[str, str]]
COVENANT = "utrecht-extreme-woonoverlast"


@pytest.fixture(autouse=True)
def _exact_counts() -> Iterator[None]:
    """The true counts in every report of this file: what it tests is not the noise (the
    cell-key method, review14; tests/cases/test_steering_differences.py)."""
    with exact_counts():
        yield


@pytest.fixture(autouse=True)
def _every_count_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("gateway.cases.steering.MIN_GROUP_SIZE", 1)


def _asked_and_permitted(client: TestClient, auth: Auth) -> str:
    """A Mitros dwelling's case: two criteria, the permission asked and given (the answer's
    deadline met); the intake decision still open, so overdue once moved back."""
    created = client.post("/v1/reports", json=report_body(number=7), headers=auth(*POLICE))
    assert created.status_code == 201, created.text
    case_id = str(created.json()["caseId"])
    criteria = client.post(
        f"/v1/cases/{case_id}/criteria",
        headers=auth(*CM),
        json={
            "criteria": [
                {"criterion": "dwelling-related", "holds": True},
                {"criterion": "several-forms", "holds": True, "evidence": "Drie buren."},
            ]
        },
    )
    assert criteria.status_code in (200, 201), criteria.text
    _move(client, auth, case_id, "request-permission")
    permission = client.post(
        f"/v1/cases/{case_id}/consents",
        headers=auth("mitros", "woonconsulent"),
        json={"kind": "corporation-permission", "granted": True},
    )
    assert permission.status_code == 201, permission.text
    return case_id


def _erased(context: GatewayContext, case_id: str) -> bool:
    with context.session_factory() as session:
        return session.scalar(select(CaseFile.erased_at).where(CaseFile.id == case_id)) is not None


def _last_months(context: GatewayContext) -> Any:
    runtime = context.cases
    with context.session_factory() as session:
        return session.get(
            SteeringSnapshot, (COVENANT, last_month_end(runtime, COVENANT, utcnow()))
        )


def test_the_sweep_keeps_last_months_figures_before_it_erases(
    client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    case_id = _asked_and_permitted(client, auth)
    _move_back(context)
    before = _state(client, auth)
    # By hand: one case open at the end of last month, in permission-requested; its intake
    # decision overdue, the corporation's answer given (met).
    assert before["openByPhase"] == {"permission-requested": 1}
    assert before["overdueDeadlines"] == 1

    report = context.require_retention().sweep(as_of=date(2030, 1, 1))
    assert report.redacted >= 1
    assert _erased(context, case_id)
    kept = _last_months(context)
    assert kept is not None
    assert (kept.open_by_phase, kept.overdue_deadlines) == ({"permission-requested": 1}, 1)
    assert _state(client, auth) == before


def test_without_the_snapshot_the_erasure_moves_last_months_overdue_count(
    client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    """The control: the same history with nothing kept (a sweep before migration 0045) is
    replayed, and the permission deleted with the dossier counts as never given."""
    case_id = _asked_and_permitted(client, auth)
    _move_back(context)
    before = _state(client, auth)
    retention = context.require_retention()
    retention.before_erasure = None
    retention.sweep(as_of=date(2030, 1, 1))
    assert _erased(context, case_id)
    assert _last_months(context) is None
    after = _state(client, auth)
    assert after["openByPhase"] == before["openByPhase"]
    assert (before["overdueDeadlines"], after["overdueDeadlines"]) == (1, 2)


def test_a_kept_month_is_read_from_its_snapshot_and_never_taken_again(
    client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    _asked_and_permitted(client, auth)
    _move_back(context)
    replayed = _state(client, auth)
    assert keep_state_figures(context.session_factory, context.cases) == [
        "rijswijk-woonoverlast",
        COVENANT,
    ]
    # The same figures as the replay, read from the snapshot...
    assert _state(client, auth) == replayed
    # ...and it is the snapshot that is read: a figure changed in it shows.
    with transaction(context.session_factory) as session:
        session.execute(
            update(SteeringSnapshot)
            .where(SteeringSnapshot.covenant_id == COVENANT)
            .values(overdue_deadlines=41)
        )
    assert _state(client, auth)["overdueDeadlines"] == 41
    # Kept once: a second call keeps nothing and changes nothing.
    assert keep_state_figures(context.session_factory, context.cases) == []
    assert _state(client, auth)["overdueDeadlines"] == 41
    # Without it, the month is replayed again.
    with transaction(context.session_factory) as session:
        session.execute(delete(SteeringSnapshot))
    assert _state(client, auth) == replayed


def test_a_failing_snapshot_does_not_stop_the_erasure(
    client: TestClient, auth: Auth, context: GatewayContext, caplog: pytest.LogCaptureFixture
) -> None:
    case_id = _asked_and_permitted(client, auth)
    _move_back(context)

    def broken() -> None:
        raise RuntimeError("figures unavailable")

    retention = context.require_retention()
    retention.before_erasure = broken
    with caplog.at_level(logging.ERROR, logger="ketenpoort.retention"):
        retention.sweep(as_of=date(2030, 1, 1))
    assert _erased(context, case_id)
    assert "steering figures of the last ended month were not kept" in caplog.text


def test_a_dry_run_keeps_nothing(client: TestClient, auth: Auth, context: GatewayContext) -> None:
    _asked_and_permitted(client, auth)
    _move_back(context)
    context.require_retention().sweep(as_of=date(2030, 1, 1), dry_run=True)
    assert _last_months(context) is None
