"""The record of real sweeps (``retention_run``): opened before any work, closed with the
number of cases it erased, marked failed when it raised, and, when its process died (killed,
crashed), closed by the next run with the count its committed batches erased.

A run's count is read from the cases themselves (``retention_case.erased_run_id``), which
commit with each batch: a killed run's own counter died with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import Select, false, func, or_, select, update
from sqlalchemy.orm import Session

from gateway.audit.reports import accountable_partner
from gateway.auth.principal import Principal
from gateway.cases.districts import partner_cases
from gateway.cases.models import CaseFile
from gateway.cases.runtime import CaseRuntime
from gateway.db import utcnow
from gateway.retention.models import RetentionCase, RetentionRun
from gateway.retention.rules import RetentionRules
from gateway.retention.sanctions import dates_tell_sanctions, withheld_from

#: A select statement over the retention cases (erased_in_view).
_Select = TypeVar("_Select", bound=Select[*tuple[Any, ...]])

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
    session: Session,
    *,
    run_ids: list[str],
    reader: Principal,
    rules: RetentionRules | None,
    runtime: CaseRuntime,
) -> dict[str, int]:
    """How many cases each of ``run_ids`` erased, as ``reader`` (a privacy officer) is told:
    of its own covenant only (review5 F4: a run sweeps every covenant, and its total told one
    covenant's privacy officers how many of the other's cases went, and when); for another
    partner's officer than the coordinating one, the cases its partner leads or is in the
    team of (the officer's retention view, as the overview's ``erased`` count); and only the
    cases whose erasure's day the reader is told. A run's moment is the day of each erasure it
    counts: a case whose state and 410 withhold that day (its rule chosen by sanctions, or
    the open-case rule's dates, from an officer who could not be shown the landlord's
    measures; sanctions.erased_withheld) is counted by no run for that reader (review of
    c85d928, F1/F2: the count of a run, next to the sweep's entries the officer finds, gave
    the day of the erasure hidden from it). Decided by ``sanctions.withheld_from`` over the
    case's erased rule, as the 410 decides it. Counted from the cases (``erased_run_id``),
    so it holds for the runs before this count was shown too, and for a run still going
    (what its committed batches erased). Runs that erased none of these cases are absent.

    Cases erased under a rule whose dates tell nothing of sanctions
    (``sanctions.dates_tell_sanctions``) are counted in SQL; only those under a rule that
    may (a handful of rules) are read and decided one by one, in a fixed number of queries."""
    if not run_ids:
        return {}
    covenant_id = reader.covenant_id
    partner_id = accountable_partner(reader)
    in_view = [RetentionCase.erased_run_id.in_(run_ids), RetentionCase.covenant_id == covenant_id]

    def mine(statement: _Select) -> _Select:
        if partner_id is None:
            return statement.where(*in_view)
        return statement.join(CaseFile, CaseFile.id == RetentionCase.case_id).where(
            *in_view, partner_cases(partner_id)
        )

    counted: dict[str, int] = {}
    telling: set[str | None] = set()
    for run_id, rule_id, n in session.execute(
        mine(
            select(RetentionCase.erased_run_id, RetentionCase.erased_rule_id, func.count())
        ).group_by(RetentionCase.erased_run_id, RetentionCase.erased_rule_id)
    ):
        # An erased case without a rule reads as the 410 reads it (service.erasure_of: "").
        if dates_tell_sanctions(rules, covenant_id, rule_id or ""):
            telling.add(rule_id)
        else:
            counted[str(run_id)] = counted.get(str(run_id), 0) + int(n)
    if telling:
        erased = {
            str(case_id): (str(run_id), rule_id or "")
            for case_id, run_id, rule_id in session.execute(
                mine(
                    select(
                        RetentionCase.case_id,
                        RetentionCase.erased_run_id,
                        RetentionCase.erased_rule_id,
                    )
                ).where(
                    or_(
                        RetentionCase.erased_rule_id.in_(sorted(r for r in telling if r)),
                        RetentionCase.erased_rule_id.is_(None) if None in telling else false(),
                    ),
                )
            )
        }
        withheld = withheld_from(
            session,
            rules=rules,
            runtime=runtime,
            reader=reader,
            verdicts={case_id: (covenant_id, rule) for case_id, (_, rule) in erased.items()},
        )
        for case_id, (run_id, _) in erased.items():
            if case_id not in withheld.rules and case_id not in withheld.dates:
                counted[run_id] = counted.get(run_id, 0) + 1
    return counted


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
