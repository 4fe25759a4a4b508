"""The record of real sweeps (``retention_run``): opened before any work, closed with the
number of cases it erased, marked failed when it raised, and, when its process died (killed,
crashed), closed by the next run with the count its committed batches erased.

A run's count is read from the cases themselves (``retention_case.erased_run_id``), which
commit with each batch: a killed run's own counter died with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from gateway.db import utcnow
from gateway.retention.models import RetentionCase, RetentionRun

RUNNING = "running"
FINISHED = "finished"
FAILED = "failed"
#: A run whose process died; closed by the next run (which holds the sweep lock, so no run
#: still marked running can be alive).
INTERRUPTED = "interrupted"
#: Readiness reports retention as failing after this many failed runs in a row.
FAILING_AFTER = 3


def erased_by(session: Session, run_id: str) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(RetentionCase)
            .where(RetentionCase.erased_run_id == run_id)
        )
        or 0
    )


def erased_in_view(
    session: Session, *, run_ids: list[str], covenant_id: str, partner_id: str | None
) -> dict[str, int]:
    """How many cases of ``covenant_id`` each of ``run_ids`` erased, for one covenant's
    reader (review5 F4): a run sweeps every covenant, and its total told one covenant's
    privacy officers how many of the other's cases went, and when. With ``partner_id``, only
    the cases that partner leads or is in the team of (the officer's retention view, as the
    overview's ``erased`` count; None: the coordinating privacy officer's, the whole
    covenant). Counted from the cases (``erased_run_id``), so it holds for the runs before
    this count was shown too, and for a run still going (what its committed batches erased).
    Runs that erased none of these cases are absent."""
    if not run_ids:
        return {}
    statement = select(RetentionCase.erased_run_id, func.count()).where(
        RetentionCase.erased_run_id.in_(run_ids), RetentionCase.covenant_id == covenant_id
    )
    if partner_id is not None:
        from gateway.cases.districts import partner_cases
        from gateway.cases.models import CaseFile

        statement = statement.join(CaseFile, CaseFile.id == RetentionCase.case_id).where(
            partner_cases(partner_id)
        )
    counted = session.execute(statement.group_by(RetentionCase.erased_run_id))
    return {str(run_id): int(n) for run_id, n in counted}


def open_run(session: Session, *, run_id: str, as_of: date, started_by: str) -> list[str]:
    """Record a new run (call under the sweep lock); close runs left ``running`` by a dead
    process with their true count. Returns the ids of the runs it closed."""
    closed = close_interrupted_runs(session)
    session.add(
        RetentionRun(
            id=run_id,
            started_at=utcnow(),
            dry_run=False,
            as_of=as_of,
            redacted=0,
            status=RUNNING,
            started_by=started_by,
        )
    )
    return closed


def close_interrupted_runs(session: Session) -> list[str]:
    stale = list(
        session.scalars(
            select(RetentionRun.id).where(
                RetentionRun.status == RUNNING, RetentionRun.dry_run.is_(False)
            )
        )
    )
    for run_id in stale:
        close_run(session, run_id=run_id, status=INTERRUPTED)
    return stale


def close_run(session: Session, *, run_id: str, status: str) -> None:
    session.execute(
        update(RetentionRun)
        .where(RetentionRun.id == run_id)
        .values(finished_at=utcnow(), redacted=erased_by(session, run_id), status=status)
    )


@dataclass(frozen=True)
class RunView:
    run_id: str
    started_at: datetime
    finished_at: datetime | None
    as_of: date
    status: str
    erased: int


def recent_runs(session: Session, *, limit: int = 20) -> list[RunView]:
    rows = session.scalars(
        select(RetentionRun)
        .where(RetentionRun.dry_run.is_(False))
        .order_by(RetentionRun.started_at.desc(), RetentionRun.id)
        .limit(limit)
    )
    return [RunView(r.id, r.started_at, r.finished_at, r.as_of, r.status, r.redacted) for r in rows]


def failures_in_a_row(runs: list[RunView]) -> int:
    """Failed runs since the last one that finished (runs still going are skipped)."""
    count = 0
    for run in runs:
        if run.status == RUNNING:
            continue
        if run.status != FAILED:
            break
        count += 1
    return count


def failing_sweeps(session: Session) -> str | None:
    """The readiness check's verdict: a reason when the sweep keeps failing, else None."""
    failed = failures_in_a_row(recent_runs(session, limit=FAILING_AFTER + 5))
    if failed >= FAILING_AFTER:
        return f"the last {failed} retention sweeps failed"
    return None
