"""The guard every write to a case takes (``lock_for_write``: gateway/cases/access.writable_case
and the exchange's writes) locks the case's retention row **and those of the resident's other
live cases**, in one statement, as every retention writer does (``lock_cases``). A write's own
retention sync (a step, a report) locks that set later in its transaction; a guard that had
locked only the case's own row left two writes on two cases of one resident each holding one
row and waiting for the other's: a deadlock, which PostgreSQL ends by aborting one of them.

The test runs the two lock steps of such a write in two threads that meet between the steps
(a barrier: with the former guard both hold their own row by then). The control runs the
former guard in the same way and sees the deadlock, so the test can fail."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from gateway.context import GatewayContext
from gateway.db import transaction
from gateway.retention.service import lock_cases, lock_for_write
from tests.retention.conftest import RIJSWIJK, Seeder

RESIDENT = "b" * 64


def _own_row_only(session: Session, *, case_id: str) -> None:
    """The guard as it was first written (76951ab): the case's own row alone."""
    lock_cases(session, case_ids=[case_id], residents=[])


def _write(
    context: GatewayContext,
    guard: Callable[..., object],
    case_id: str,
    met: threading.Barrier,
    errors: list[BaseException],
) -> None:
    try:
        with transaction(context.session_factory) as session:
            guard(session, case_id=case_id)
            # The other write may be waiting for this one's locks: then the barrier breaks.
            with contextlib.suppress(threading.BrokenBarrierError):
                met.wait(timeout=3)
            # What the write's retention sync locks later (casefacts._mark_changed_stale).
            lock_cases(session, case_ids=[case_id], residents=[(RIJSWIJK, RESIDENT)])
    except BaseException as error:  # noqa: BLE001 - reported by the test
        errors.append(error)


@pytest.mark.parametrize("guard", ["resident-set", "own-row-only"])
def test_two_writes_on_two_cases_of_one_resident_do_not_deadlock(
    context: GatewayContext, seed: Seeder, guard: str
) -> None:
    if context.engine.dialect.name != "postgresql":
        pytest.skip("concurrent writers are PostgreSQL's (SQLite has one writer)")
    first = seed(resident=RESIDENT).case_id
    second = seed(resident=RESIDENT).case_id
    taken = lock_for_write if guard == "resident-set" else _own_row_only
    met = threading.Barrier(2)
    errors: list[BaseException] = []
    writes = [
        threading.Thread(target=_write, args=(context, taken, case_id, met, errors))
        for case_id in (first, second)
    ]
    for write in writes:
        write.start()
    for write in writes:
        write.join(timeout=60)
        assert not write.is_alive()
    if guard == "resident-set":
        assert errors == []
    else:
        # The control: the former guard deadlocks (one write aborted by PostgreSQL).
        assert len(errors) == 1, errors
        assert isinstance(errors[0], OperationalError)
        assert "deadlock" in str(errors[0]).lower()
