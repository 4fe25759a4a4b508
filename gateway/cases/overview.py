"""Cross-case views: a partner's deadlines, and the steering group's figures.

Neither contains personal data: deadlines name cases by id and reference; the steering report
is counts and durations per phase, district and period (U §8, R §4.3).
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.cases.calendar import add_months
from gateway.cases.deadline_pages import (
    DeadlinePage,
    SortKey,
    all_deadlines,
    deadlines_page,
    decode_cursor,
    overdue_count,
)
from gateway.cases.definition import Period
from gateway.cases.due_ranges import DueRule
from gateway.cases.models import CaseFile, CaseTransition
from gateway.cases.runtime import CaseRuntime
from gateway.cases.schemas import (
    DeadlineOut,
    EvaluationPeriodOut,
    LegsOut,
    SteeringReport,
    ThroughputOut,
)
from gateway.db import utcnow

__all__ = [
    "DeadlinePage",
    "SortKey",
    "deadlines_page",
    "decode_cursor",
    "evaluation_periods",
    "partner_deadlines",
    "steering_report",
]

DEFAULT_TARGET = Period(amount=3, unit="months")
#: No count under this size leaves the gateway in a breakdown by district or judgement: a
#: small district (or a single closed case) could identify the people in it. Five follows
#: common practice for published small counts (docs/cases.md).
MIN_GROUP_SIZE = 5
JUDGEMENTS = ("resolved", "improved", "unchanged", "worse")


def _suppress(counts: Counter[str]) -> tuple[dict[str, int], int]:
    """The counts of at least MIN_GROUP_SIZE, and how many keys were left out."""
    kept = {key: n for key, n in sorted(counts.items()) if n >= MIN_GROUP_SIZE}
    return kept, len(counts) - len(kept)


def _legs(closed: Sequence[Any]) -> LegsOut:
    """U §7: the neighbours' and the partners' judgement of the closed cases."""

    def tally(values: list[str | None]) -> dict[str, int | None]:
        counts = Counter(v for v in values if v)
        return {j: (counts[j] if counts[j] >= MIN_GROUP_SIZE else None) for j in JUDGEMENTS}

    return LegsOut(
        neighbours=tally([c.neighbours_judgement for c in closed]),
        partners=tally([c.partners_judgement for c in closed]),
    )


def evaluation_periods(start: date, until: date) -> list[tuple[date, date]]:
    """R §4.3: "een half jaar na inwerkingtreding tussentijds geëvalueerd ... Vervolgens
    ... jaarlijks": the first period is half a year from ``start``, then a year each, up
    to ``until`` (the last one may be cut short)."""
    periods = []
    begin, months = start, 6
    while begin <= until:
        end = add_months(begin, months) - timedelta(days=1)
        periods.append((begin, min(end, until)))
        begin, months = end + timedelta(days=1), 12
    return periods


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


def steering_report(
    session: Session,
    *,
    runtime: CaseRuntime,
    covenant_id: str,
    period_from: date,
    period_to: date,
    now: datetime | None = None,
) -> SteeringReport:
    """Figures for the steering group, without personal data.

    Reads what its period holds (cases opened or closed in it, through the indexes on
    ``opened_at`` and ``closed_at``, and its transitions) and counts the open cases in SQL:
    its cost follows the period and the open cases, not the covenant's whole history."""
    now = now or utcnow()
    definition = runtime.workflow(covenant_id)
    calendar = runtime.calendar(covenant_id)
    start = datetime.combine(period_from, time(0), tzinfo=calendar.zone)
    end = datetime.combine(period_to + timedelta(days=1), time(0), tzinfo=calendar.zone)
    in_covenant = CaseFile.covenant_id == covenant_id
    closed = session.execute(
        select(
            CaseFile.closed_at,
            CaseFile.first_report_at,
            CaseFile.neighbours_judgement,
            CaseFile.partners_judgement,
        ).where(in_covenant, CaseFile.closed_at >= start, CaseFile.closed_at < end)
    ).all()
    opened = Counter(
        dict(
            session.execute(
                select(CaseFile.district, func.count())
                .where(in_covenant, CaseFile.opened_at >= start, CaseFile.opened_at < end)
                .group_by(CaseFile.district)
            ).all()
        )
    )
    open_rows = session.execute(
        select(CaseFile.state, CaseFile.district, func.count())
        .where(in_covenant, CaseFile.state.not_in(definition.final_states))
        .group_by(CaseFile.state, CaseFile.district)
    ).all()
    open_by_phase: Counter[str] = Counter()
    open_districts: Counter[str] = Counter()
    for state, district, count in open_rows:
        open_by_phase[state] += count
        open_districts[district] += count
    target = definition.target.period if definition.target else DEFAULT_TARGET
    target_rule = DueRule.of(calendar, target)
    durations = [(c.closed_at - c.first_report_at).total_seconds() / 86400 for c in closed]
    within = sum(1 for c in closed if c.closed_at < target_rule.due_at(c.first_report_at))
    transitions = dict(
        session.execute(
            select(CaseTransition.transition, func.count())
            .join(CaseFile, CaseFile.id == CaseTransition.case_id)
            .where(in_covenant, CaseTransition.at >= start, CaseTransition.at < end)
            .group_by(CaseTransition.transition)
        ).all()
    )
    open_by_district, hidden_open = _suppress(open_districts)
    opened_by_district, hidden_opened = _suppress(opened)
    periods = []
    for begin, finish in evaluation_periods(period_from, period_to):
        low = datetime.combine(begin, time(0), tzinfo=calendar.zone)
        high = datetime.combine(finish + timedelta(days=1), time(0), tzinfo=calendar.zone)
        in_period = [c for c in closed if low <= c.closed_at < high]
        periods.append(
            EvaluationPeriodOut(
                period_from=begin,
                period_to=finish,
                cases_closed=len(in_period) if len(in_period) >= MIN_GROUP_SIZE else None,
                legs=_legs(in_period),
            )
        )
    return SteeringReport(
        covenant_id=covenant_id,
        period_from=period_from,
        period_to=period_to,
        generated_at=now,
        cases_opened=sum(opened.values()),
        cases_closed=len(closed),
        open_cases=sum(open_by_phase.values()),
        throughput=ThroughputOut(
            closed_cases=len(durations),
            median_days=round(statistics.median(durations), 1) if durations else None,
            mean_days=round(statistics.fmean(durations), 1) if durations else None,
            max_days=round(max(durations), 1) if durations else None,
        ),
        target_months=target.amount or 3,
        closed_within_target=within,
        share_closed_within_target=round(within / len(closed), 3) if closed else None,
        open_by_phase=dict(sorted(open_by_phase.items())),
        open_by_district=open_by_district,
        opened_by_district=opened_by_district,
        overdue_deadlines=overdue_count(session, runtime=runtime, covenant_id=covenant_id, now=now),
        transitions=dict(sorted(transitions.items())),
        min_group_size=MIN_GROUP_SIZE,
        suppressed_districts=len(
            (set(open_districts) | set(opened)) - set(open_by_district) - set(opened_by_district)
        )
        if (hidden_open or hidden_opened)
        else 0,
        legs=_legs(closed),
        evaluation_periods=periods,
    )
