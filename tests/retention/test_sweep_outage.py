"""A connection dropped under one of the sweep's own driver reads (``gateway.db.driver_rows``:
the batch's data subjects while it erases, a batch's facts while it recomputes verdicts)
surfaces as the outage it is: the driver's disconnect error, which ``is_outage`` takes, raised
from that read. Before, SQLAlchemy was not told of the disconnect, so the rollback that
followed talked to the dead socket and its own error took the original's place. Controls: the
run after the outage (the pool replaced the dropped connections) erases the case, as the same
sweep does when nothing is dropped."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import psycopg
import pytest

from gateway.context import GatewayContext
from gateway.db import is_outage
from gateway.retention import service as retention_service
from gateway.retention.service import erasure_of
from tests.outage import terminate_other_backends
from tests.retention.conftest import Seeder

DUE = date(2025, 3, 10)
SOLVED = ("mediation-ended", date(2024, 3, 10), "solved")


def _drop_connections(context: GatewayContext) -> None:
    """Terminate every other backend of the test's database, as a server restart would, and
    wait until they are gone."""
    assert terminate_other_backends(context.engine.url) >= 1


def _raised_by_the_read(error: pytest.ExceptionInfo[BaseException]) -> None:
    assert isinstance(error.value, psycopg.OperationalError), repr(error.value)
    assert is_outage(error.value)
    assert any(entry.name == "driver_rows" for entry in error.traceback), error.getrepr()


@pytest.fixture
def postgresql(context: GatewayContext) -> None:
    if context.engine.dialect.name != "postgresql":
        pytest.skip("the sweep's driver reads are PostgreSQL's")


@pytest.mark.usefixtures("postgresql")
@pytest.mark.parametrize("dropped", [True, False])
def test_a_connection_dropped_while_the_sweep_erases_is_the_outage(
    context: GatewayContext, seed: Seeder, dropped: bool
) -> None:
    case = seed(facts=[SOLVED])
    service = context.require_retention()
    service.workers = 1

    def drop_when_locked(stage: str, case_ids: list[str]) -> None:
        if stage == "locked":  # next: the batch's data subjects, a driver read
            _drop_connections(context)

    if dropped:
        with pytest.raises(psycopg.Error) as raised:
            service.sweep(as_of=DUE, seam=drop_when_locked)
        _raised_by_the_read(raised)
        with context.session_factory() as session:
            assert erasure_of(session=session, case_id=case.case_id) is None
    report = service.sweep(as_of=DUE)
    assert report.redacted == 1


@pytest.mark.usefixtures("postgresql")
def test_a_connection_dropped_while_the_sweep_reads_a_batchs_facts_is_the_outage(
    context: GatewayContext, seed: Seeder, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = seed(facts=[SOLVED])
    service = context.require_retention()
    service.workers = 1
    reads: list[str] = []
    original: Callable[..., list[Any]] = retention_service.driver_rows

    def drop_before_the_facts(session: Any, statement: str, params: dict[str, Any]) -> list[Any]:
        if statement is retention_service._PG_BATCH_FACTS and not reads:
            reads.append(statement)
            _drop_connections(context)
        return original(session, statement, params)

    monkeypatch.setattr(retention_service, "driver_rows", drop_before_the_facts)
    with pytest.raises(psycopg.Error) as raised:
        service.sweep(as_of=DUE)
    assert reads, "the sweep did not read a batch's facts"
    _raised_by_the_read(raised)
    report = service.sweep(as_of=DUE)  # the control: the next run goes through
    assert report.redacted == 1
    with context.session_factory() as session:
        assert erasure_of(session=session, case_id=case.case_id) is not None
