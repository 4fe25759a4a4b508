"""The steering report's state figures of the last ended month, kept before an erasure.

The state figures as of a month's end (gateway/cases/state_at.py) are replayed from the cases'
history. One fact of that history is deleted with an erased dossier: the corporation's
permission (``case_consent`` is ``erasure_delete``). For a case erased after the month's end
that sat past the corporation's answer deadline then, with the permission on file, the replay
would count that deadline as unanswered once the case is gone, and the ended month's
``overdueDeadlines`` would go up by one. The retention sweep, the only thing that erases,
therefore keeps each covenant's figures of the last ended month (``steering_snapshot``)
before it erases anything; the report reads them from there (gateway/cases/steering.py).

A month whose end no sweep followed (the gateway was down for the whole next month, or a
database from before migration 0045) has no snapshot: its figures are replayed as before.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from gateway.cases.models import SteeringSnapshot
from gateway.cases.runtime import CaseRuntime
from gateway.cases.steering import StateFigures, day_start, state_figures_at
from gateway.db import utcnow

log = logging.getLogger("ketenpoort.cases")


def snapshot_of(
    figures: StateFigures, covenant_id: str, as_of: datetime, taken_at: datetime
) -> SteeringSnapshot:
    """The state figures as kept: counts only, unsuppressed, with their cells' keys."""
    return SteeringSnapshot(
        covenant_id=covenant_id,
        as_of=as_of,
        open_by_phase=dict(sorted(figures.open_by_phase.items())),
        open_by_district=dict(sorted(figures.open_by_district.items())),
        overdue_deadlines=figures.overdue_deadlines,
        cell_keys=figures.cell_keys,
        taken_at=taken_at,
    )


def last_month_end(runtime: CaseRuntime, covenant_id: str, now: datetime) -> datetime:
    """00:00 of the current month's first day, the covenant's time: the end of the last
    ended month, the default report's ``asOf``."""
    calendar = runtime.calendar(covenant_id)
    return day_start(calendar, now.astimezone(calendar.zone).date().replace(day=1))


def keep_state_figures(
    factory: sessionmaker[Session], runtime: CaseRuntime, *, now: datetime | None = None
) -> list[str]:
    """Keep every covenant's state figures as of its last ended month's end, where they are
    not kept yet; returns the covenants whose figures this call kept. Each covenant in a
    transaction of its own; a snapshot once kept is never changed."""
    now = now or utcnow()
    kept = []
    for covenant_id in sorted(runtime.workflows):
        as_of = last_month_end(runtime, covenant_id, now)
        with factory() as session:
            if session.get(SteeringSnapshot, (covenant_id, as_of)) is not None:
                continue
            figures = state_figures_at(session, runtime, covenant_id, as_of)
            session.add(snapshot_of(figures, covenant_id, as_of, now))
            try:
                session.commit()
            except IntegrityError:
                # Another process kept the same month's figures first: computed from the
                # same history, so the same figures.
                session.rollback()
                continue
        kept.append(covenant_id)
        log.info("steering figures of %s kept as of %s", covenant_id, as_of.isoformat())
    return kept
