"""A legal hold racing the sweep: whichever commits first wins, and neither pretends.

The sweep's seam stops it at a stage of a batch while the test sets a hold from another
connection: after the batch was picked (the hold commits before the sweep locks the case's
row: the case must stay intact), and after the batch's rows were locked (the hold waits for
the sweep's lock; once the sweep commits, the case is erased and the hold is refused with
"erased under rule X on date")."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import date

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from audit.entry import Actor
from gateway.audit.models import AuditRecord
from gateway.context import GatewayContext
from gateway.crypto import case_scope
from gateway.crypto.models import DataKey
from gateway.db import transaction
from gateway.retention import erasure_of
from gateway.retention.service import set_legal_hold
from tests.retention.conftest import Seeder, audit_verifies, redaction_entries, waiting_for_a_lock

DUE = date(2025, 3, 10)
MUNI = "gemeente-rijswijk"
Auth = Callable[..., dict[str, str]]


def _hold_entries(context: GatewayContext, case_id: str) -> int:
    with context.session_factory() as session:
        return int(
            session.execute(
                select(func.count())
                .select_from(AuditRecord)
                .where(AuditRecord.activity == "legal-hold-set", AuditRecord.case_id == case_id)
            ).scalar_one()
        )


def test_hold_committed_after_the_pick_keeps_the_case_intact(
    context: GatewayContext, seed: Seeder
) -> None:
    held = seed(facts=[("mediation-ended", date(2024, 3, 10), "solved")])
    other = seed(facts=[("mediation-ended", date(2024, 3, 10), "solved")])
    service = context.require_retention()
    service.workers = 1
    picked: list[list[str]] = []

    def hold_after_pick(stage: str, case_ids: list[str]) -> None:
        if stage != "picked":
            return
        picked.append(sorted(case_ids))
        # Another connection, committed while the sweep's batch transaction is open.
        with transaction(context.session_factory) as session:
            set_legal_hold(
                session=session,
                audit=context.audit,
                case_id=held.case_id,
                reason="court procedure",
                actor=Actor(partner_id=MUNI, role="privacy-officer"),
                set_by=f"{MUNI}/privacy-officer",
            )

    report = service.sweep(as_of=DUE, seam=hold_after_pick)
    assert picked == [sorted([held.case_id, other.case_id])]  # the hold came after the pick
    assert [item.case_id for item in report.items] == [other.case_id]
    assert report.redacted == 1
    with context.session_factory() as session:
        assert erasure_of(session=session, case_id=held.case_id) is None
        assert redaction_entries(session, held.case_id) == 0
        key = session.scalar(select(DataKey).where(DataKey.scope == case_scope(held.case_id)))
        assert key is not None
        assert key.wrapped_key is not None
        assert erasure_of(session=session, case_id=other.case_id) is not None
    assert _hold_entries(context, held.case_id) == 1
    assert audit_verifies(context)


def test_hold_waiting_for_the_sweeps_lock_is_refused_as_erased(
    context: GatewayContext, client: TestClient, auth: Auth, seed: Seeder
) -> None:
    case = seed(facts=[("mediation-ended", date(2024, 3, 10), "solved")])
    service = context.require_retention()
    service.workers = 1
    responses: list[httpx.Response] = []

    def post_hold() -> None:
        responses.append(
            client.post(
                f"/v1/cases/{case.case_id}/retention/legal-hold",
                json={"reason": "court procedure"},
                headers=auth(MUNI, "privacy-officer"),
            )
        )

    thread = threading.Thread(target=post_hold)

    def hold_while_locked(stage: str, case_ids: list[str]) -> None:
        if stage != "locked":
            return
        assert case_ids == [case.case_id]
        thread.start()
        # The hold must be waiting for the sweep's lock before the sweep goes on: on
        # PostgreSQL it shows as a lock wait; SQLite has no such view (one writer: it waits).
        deadline = time.monotonic() + (10 if context.engine.dialect.name == "postgresql" else 1)
        while time.monotonic() < deadline and not waiting_for_a_lock(context):
            time.sleep(0.05)
        assert thread.is_alive()  # not answered while the sweep holds the lock

    report = service.sweep(as_of=DUE, seam=hold_while_locked)
    thread.join(timeout=30)
    assert report.redacted == 1
    [response] = responses
    assert response.status_code == 410, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["ruleId"] == "R-3.4-licht-bemiddeld"
    assert body["detail"].startswith("Erased under rule R-3.4-licht-bemiddeld on ")
    assert _hold_entries(context, case.case_id) == 0  # no hold pretends to protect it
    with context.session_factory() as session:
        assert redaction_entries(session, case.case_id) == 1
    assert audit_verifies(context)
