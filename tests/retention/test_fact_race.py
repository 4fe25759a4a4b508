"""A fact recorded while the sweep erases the same resident's cases: the user's request
succeeds, the sweep does not fail, and no case is erased on a verdict the fact changed.

A fact locks its case's row and the rows of every live case about the same resident (they
are marked stale: a report restarts their clock); the sweep's first write locks the rows of
a batch. Two transactions that lock the same rows in different orders deadlock, and
PostgreSQL aborts one of them. The tests force the interleaving: the sweep is stopped after
it picked the batch, the request takes its first retention_case row lock, and goes on only
once the sweep waits for a lock (or has locked its batch and gone on)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select

from gateway.context import GatewayContext
from gateway.retention import erasure_of
from gateway.retention.models import RetentionFact
from tests.retention.conftest import Seeder, audit_verifies, waiting_for_a_lock

DUE = date(2025, 3, 10)
MUNI = "gemeente-rijswijk"
RESIDENT = "blind-index-of-the-resident"
SOLVED = ("mediation-ended", date(2024, 3, 10), "solved")
Auth = Callable[..., dict[str, str]]


def _locks_cases(statement: str) -> bool:
    """A statement that writes or row-locks retention_case."""
    sql = " ".join(statement.lower().split())
    return sql.startswith("update retention_case") or (
        "from retention_case" in sql and " for " in sql and "update" in sql
    )


class _Interleaving:
    """Stops the request after its first row lock on retention_case until the sweep (in
    the test's own thread) waits for a lock or has locked its batch."""

    def __init__(self, context: GatewayContext) -> None:
        self.context = context
        self.main = threading.current_thread()
        self.request_locked = threading.Event()
        self.sweep_locked = threading.Event()
        self.fired = False

    def after_execute(self, *args: Any) -> None:
        statement: str = args[2]
        if self.fired or threading.current_thread() is self.main or not _locks_cases(statement):
            return
        self.fired = True
        self.request_locked.set()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not self.sweep_locked.is_set():
            if waiting_for_a_lock(self.context):
                time.sleep(0.2)  # the sweep has gone on to its lock wait
                return
            time.sleep(0.02)


@pytest.fixture(autouse=True)
def facts_unchecked(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about the locks a fact's write takes against the sweep's: the fact's
    check against the workflow's record (a mediation's end is the one the workflow recorded;
    tests/retention/test_partner_facts.py) is taken out, so the request can record a later
    mediation that moves the case's due date past the sweep's."""
    monkeypatch.setattr("gateway.retention.facts.check_fact", lambda **_: None)


@pytest.fixture
def interleaving(context: GatewayContext) -> Iterator[_Interleaving]:
    if context.engine.dialect.name != "postgresql":
        pytest.skip("row locks and their order are PostgreSQL's (SQLite has one writer)")
    stop = _Interleaving(context)
    event.listen(context.engine, "after_cursor_execute", stop.after_execute)
    yield stop
    event.remove(context.engine, "after_cursor_execute", stop.after_execute)


class _FactRequest:
    """A user's request that records a later mediation on ``case_id`` (its due date moves
    past the sweep's), posted on a thread of its own: ``start``, then ``join`` and read
    ``response``."""

    def __init__(self, client: TestClient, auth: Auth, case_id: str) -> None:
        self.thread = threading.Thread(target=self._post, args=(client, auth, case_id))
        self.response: httpx.Response | None = None

    def _post(self, client: TestClient, auth: Auth, case_id: str) -> None:
        self.response = client.post(
            f"/v1/cases/{case_id}/retention/facts",
            json={"kind": "mediation-ended", "occurredOn": "2024-06-01", "detail": "solved"},
            headers=auth(MUNI, "casemanager"),
        )

    def start(self) -> None:
        self.thread.start()

    def join(self) -> httpx.Response:
        if self.thread.ident is not None:
            self.thread.join(timeout=30)
        assert self.response is not None, "the request did not answer"
        return self.response


def _stored_mediations(context: GatewayContext, case_id: str) -> list[date]:
    """The mediation-ended facts the requests recorded on ``case_id`` (not the seed's)."""
    with context.session_factory() as session:
        return list(
            session.scalars(
                select(RetentionFact.occurred_on).where(
                    RetentionFact.case_id == case_id,
                    RetentionFact.kind == "mediation-ended",
                    RetentionFact.recorded_by != "test",
                )
            )
        )


@pytest.mark.parametrize("fact_on", ["first", "last"])
def test_fact_recorded_while_the_sweep_erases_the_residents_cases_succeeds(
    context: GatewayContext,
    client: TestClient,
    auth: Auth,
    seed: Seeder,
    interleaving: _Interleaving,
    fact_on: str,
) -> None:
    # Two due cases about one resident, in one batch; the fact goes on the one the sweep
    # locks first or last (which one that is depends on the plan: both are tried).
    first, last = sorted(seed(resident=RESIDENT, facts=[SOLVED]).case_id for _ in range(2))
    target = first if fact_on == "first" else last
    other = last if fact_on == "first" else first
    service = context.require_retention()
    service.workers = 1
    request = _FactRequest(client, auth, target)

    def seam(stage: str, case_ids: list[str]) -> None:
        if stage == "picked":
            assert sorted(case_ids) == [first, last]
            request.start()
            assert interleaving.request_locked.wait(10)
        elif stage == "locked":
            interleaving.sweep_locked.set()

    try:
        report = service.sweep(as_of=DUE, seam=seam)
    finally:
        interleaving.sweep_locked.set()
        response = request.join()
    assert response.status_code == 201, response.text
    assert response.json()["dueOn"] == "2025-06-01"
    # The sweep erased nothing the fact changed; what it left, the next run takes.
    assert target not in [item.case_id for item in report.items]
    again = service.sweep(as_of=DUE)
    assert target not in [item.case_id for item in again.items]
    with context.session_factory() as session:
        assert erasure_of(session=session, case_id=target) is None
        assert erasure_of(session=session, case_id=other) is not None
    assert _stored_mediations(context, target) == [date(2024, 6, 1)]
    assert audit_verifies(context)


def test_fact_waiting_for_the_sweeps_lock_is_refused_as_erased(
    context: GatewayContext, client: TestClient, auth: Auth, seed: Seeder
) -> None:
    case = seed(resident=RESIDENT, facts=[SOLVED])
    service = context.require_retention()
    service.workers = 1
    request = _FactRequest(client, auth, case.case_id)

    def fact_while_locked(stage: str, case_ids: list[str]) -> None:
        if stage != "locked":
            return
        assert case_ids == [case.case_id]
        request.start()
        # The request waits for the sweep's lock (PostgreSQL shows the wait; SQLite has one
        # writer and no such view).
        postgres = context.engine.dialect.name == "postgresql"
        deadline = time.monotonic() + (10 if postgres else 1)
        while time.monotonic() < deadline and not (postgres and waiting_for_a_lock(context)):
            time.sleep(0.05)
        assert request.thread.is_alive()

    report = service.sweep(as_of=DUE, seam=fact_while_locked)
    response = request.join()
    assert report.redacted == 1
    assert response.status_code == 410, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"].startswith("Erased under rule R-3.4-licht-bemiddeld on ")
    assert _stored_mediations(context, case.case_id) == []


class _BothRequests:
    """Stops each request after its first row lock on retention_case until the other one
    has taken its own or waits for a lock."""

    def __init__(self, context: GatewayContext) -> None:
        self.context = context
        self.fired: dict[int, threading.Event] = {}
        self.guard = threading.Lock()

    def after_execute(self, *args: Any) -> None:
        statement: str = args[2]
        me = threading.get_ident()
        with self.guard:
            if me in self.fired or not _locks_cases(statement) or len(self.fired) == 2:
                return
            self.fired[me] = threading.Event()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if len(self.fired) == 2 or waiting_for_a_lock(self.context):
                time.sleep(0.2)
                return
            time.sleep(0.02)


def test_facts_on_two_cases_of_one_resident_at_once_both_succeed(
    context: GatewayContext, client: TestClient, auth: Auth, seed: Seeder
) -> None:
    if context.engine.dialect.name != "postgresql":
        pytest.skip("row locks and their order are PostgreSQL's (SQLite has one writer)")
    cases = sorted(seed(resident=RESIDENT, facts=[SOLVED]).case_id for _ in range(2))
    both = _BothRequests(context)
    requests = {case_id: _FactRequest(client, auth, case_id) for case_id in cases}
    event.listen(context.engine, "after_cursor_execute", both.after_execute)
    try:
        for request in requests.values():
            request.start()
        responses = {case_id: request.join() for case_id, request in requests.items()}
    finally:
        event.remove(context.engine, "after_cursor_execute", both.after_execute)
    assert len(both.fired) == 2
    for case_id in cases:
        assert responses[case_id].status_code == 201, responses[case_id].text
        assert responses[case_id].json()["dueOn"] == "2025-06-01"
