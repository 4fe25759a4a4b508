"""Cross-case views: a partner's deadlines, and the steering group's figures.

Neither contains personal data: deadlines name cases by id and reference; the steering report
is counts and durations per phase, district and period (U §8, R §4.3). Both read only what
they show, whatever the size of the covenant's history: the deadlines a page at a time
(:mod:`gateway.cases.deadline_pages`), the report over its period
(:mod:`gateway.cases.steering`). The web pages reach both through this module.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from gateway.cases.deadline_pages import (
    DeadlinePage,
    SortKey,
    all_deadlines,
    deadlines_page,
    decode_cursor,
)
from gateway.cases.runtime import CaseRuntime
from gateway.cases.schemas import DeadlineOut
from gateway.cases.steering import (
    MIN_GROUP_SIZE,
    evaluation_periods,
    reads_steering_report,
    require_steering_reader,
    steering_report,
)
from gateway.db import utcnow

__all__ = [
    "MIN_GROUP_SIZE",
    "DeadlinePage",
    "SortKey",
    "deadlines_page",
    "decode_cursor",
    "evaluation_periods",
    "partner_deadlines",
    "reads_steering_report",
    "require_steering_reader",
    "steering_report",
]


def partner_deadlines(
    session: Session,
    *,
    runtime: CaseRuntime,
    covenant_id: str,
    partner_id: str,
    partner_kind: str,
    now: datetime | None = None,
) -> list[DeadlineOut]:
    """Everything due for the partner's cases, its meeting actions and (for the organiser)
    the next meeting per district: overdue first, then by due date. The whole list, for the
    command line; the API and the pages read it a page at a time (:func:`deadlines_page`)."""
    return all_deadlines(
        session,
        runtime=runtime,
        covenant_id=covenant_id,
        partner_id=partner_id,
        partner_kind=partner_kind,
        now=now or utcnow(),
    )
