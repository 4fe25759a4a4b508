"""The steering group's figures (U §7, §8; R §4.3), counted in SQL over the report's period.

Who reads them and whether they are cut into evaluation periods is the covenant file's
(``steering`` in covenant.yaml, review9a F4): no rule here names a covenant.

No personal data: counts and durations per phase, district and period, small counts left
out of every breakdown (districts, phases, steps, judgements). The report reads what its
period holds, through the indexes on ``opened_at``, ``closed_at`` and the transitions'
``(covenant_id, at)`` (migrations 0019, 0025; covering since 0021, so the closed cases are
read from the index alone), and counts the open cases
with GROUP BY; nothing it reads grows with the covenant's whole history. The counts by
group go to the database as one statement. Python sees single rows only where a figure
must be exact to the microsecond: the median and the fifth longest case, and the cases whose
duration lies within a day or two of the target (the target falls on a working-day
calendar SQL does not have).

Which periods (review5a F1, review14): one calendar month, quarter or year that has ended,
in the covenant's own calendar (:func:`report_window`). The report is read by many partners
(those the covenant's ``steering.readers`` names: U §8's steering group, every partner in
Rijswijk, R §4.3); with free ``from``/``to`` two windows a day apart differed by "one case
closed on 2 March, after 45 days" and "one case took this step that day", whatever the
suppression of each window did. Whole months alone did not protect a month's own suppressed
figures (review14 F1, F2): January-February subtracted from January-March gave March's
hidden step, closure, judgement and (roughly) duration, and the month-end open totals with
the month's closures gave its hidden openings, per district too. So every count is now
perturbed by the cell-key method (gateway/cases/cell_key.py: noise fixed by the set of cases
counted, bounded by 2, summed from each record's random key in SQL), the mean duration's sum
of days gets noise of its own, and the windows are a fixed set, so that a month's count is
not the average of a dozen differences of runs of months (docs/cases.md, "Differences of
windows"). Which cells are left out is still decided on the true counts. The operator's CLI
reads the exact figures (``perturb=False``). The month in progress is
not reported at all: up to "yesterday" it would move day by day, and rounding does not stop
a difference of one. The durations are whole weeks, and the longest is the fifth longest
(``MIN_GROUP_SIZE``): the longest case's own duration was one case's exact figure.
"""

from __future__ import annotations

import math
import statistics
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Mapping, Sequence, Set
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from gateway.cases.calendar import WorkingCalendar, add_months
from gateway.cases.cell_key import BOUND, KEY_MODULUS, Cell, derived_key, perturbed, sum_noise
from gateway.cases.deadline_pages import open_in, overdue_count
from gateway.cases.definition import Period, WorkflowDefinition
from gateway.cases.due_ranges import DueRule
from gateway.cases.models import CaseFile, CaseTransition, SteeringSnapshot
from gateway.cases.runtime import CaseRuntime
from gateway.cases.schemas import (
    EvaluationPeriodOut,
    LegsOut,
    SteeringReport,
    ThroughputOut,
)
from gateway.cases.state_at import OverdueAt, moved_cases_at, moved_since, unmoved_open_at
from gateway.cases.window_figures import (
    CLOSED,
    LEGS,
    OPENED,
    TRANSITION,
    WITHIN,
    Bucket,
    Rules,
    Window,
    WindowFigures,
    held_least,
)
from gateway.core.errors import Forbidden, Unprocessable
from gateway.core.schemas import EARLIEST, LATEST
from gateway.db import utcnow

if TYPE_CHECKING:
    from gateway.policy.covenant import Covenant

DEFAULT_TARGET = Period(amount=3, unit="months")
#: No count under this size leaves the gateway in a breakdown by district, phase, step or
#: judgement: a small district (or a single closed case, or the one case that took a step
#: in a short period) could identify the people in it. Five follows
#: common practice for published small counts (docs/cases.md).
MIN_GROUP_SIZE = 5
JUDGEMENTS = ("resolved", "improved", "unchanged", "worse")
#: Durations are shown in whole weeks (as a number of days, a multiple of 7).
WEEK = 7
#: A report covers one of these (months), starting on a month that is a multiple of it
#: from January: a month, a calendar quarter, a calendar year (:func:`report_window`).
WINDOW_MONTHS = (1, 3, 12)
ACCEPTED = (
    "The steering report covers one calendar month, one calendar quarter or one calendar "
    "year that has ended: 'from' its first day and 'to' its last (from=2026-03-01&to=2026-"
    "03-31, from=2026-01-01&to=2026-03-31, from=2025-01-01&to=2025-12-31), both or neither. "
    "Without them: the last month that has ended."
)


class PeriodNotAccepted(Unprocessable):
    problem = "steering-period-not-accepted"
    title = "The steering report covers whole months that have ended"


class SteeringReportNotYours(Forbidden):
    problem = "steering-report-not-yours"
    title = "The covenant does not give the steering report to your partner"


def reads_steering_report(runtime: CaseRuntime, covenant_id: str, partner_id: str) -> bool:
    """Whether ``partner_id`` receives the steering report of its covenant: the partners
    ``steering.readers`` of the covenant's file names (U §8 the steering group, R §4.3
    "alle ketenpartners"). A covenant that names none gives it to nobody (fail closed)."""
    covenant = runtime.covenants.get(covenant_id)
    return covenant is not None and covenant.reads_steering_report(partner_id)


def require_steering_reader(runtime: CaseRuntime, covenant_id: str, partner_id: str) -> None:
    """:class:`SteeringReportNotYours` (403) unless ``partner_id`` receives the report; the
    detail names who does and the clause, not a figure (review9a F4)."""
    if reads_steering_report(runtime, covenant_id, partner_id):
        return
    covenant = runtime.covenants.get(covenant_id)
    names = [p.name for p in covenant.steering_readers()] if covenant is not None else []
    if covenant is None or covenant.steering is None or not names:
        raise SteeringReportNotYours("The covenant names no partner that receives the report.")
    raise SteeringReportNotYours(
        f"The covenant gives the steering report to {', '.join(names)} "
        f"({covenant.steering.source}); partner {partner_id!r} is not among them."
    )


def report_window(
    today: date, period_from: date | None = None, period_to: date | None = None
) -> tuple[date, date]:
    """The report's period: a calendar month, quarter or year that has ended by ``today``
    (the covenant's own date), or :class:`PeriodNotAccepted` (422) that says what is
    accepted. Without both: the last month that has ended (its state figures as of this
    month's start: the cases that moved since are few to replay, gateway/cases/state_at.py).

    A fixed set of windows, not any run of months (review14 F1, F2): the counts are
    perturbed (gateway/cases/cell_key.py), and with free runs of months a month's count
    was the difference of a dozen pairs of windows (December-March minus December-February,
    November-March minus November-February, ...), each with noise of its own, whose average
    is the count. A month is in one quarter and one year only."""
    last_ended = today.replace(day=1) - timedelta(days=1)
    problems: list[dict[str, str]] = []
    # Out of EARLIEST..LATEST first: at the calendar's ends the arithmetic below overflowed
    # (a 500, review6a F5).
    if period_from is not None and not (period_from.day == 1 and EARLIEST <= period_from <= LATEST):
        problems.append({"name": "from", "reason": f"the first day of a month from {EARLIEST}"})
    if period_to is not None and not EARLIEST <= period_to <= LATEST:
        problems.append({"name": "to", "reason": f"the last day of a month from {EARLIEST}"})
    elif period_to is not None and (period_to + timedelta(days=1)).day != 1:
        problems.append({"name": "to", "reason": "the last day of a month"})
    elif period_to is not None and period_to > last_ended:
        problems.append({"name": "to", "reason": f"a month that has ended: {last_ended} or before"})
    if (period_from is None) != (period_to is None):
        missing = "to" if period_to is None else "from"
        problems.append({"name": missing, "reason": "given with the other, or neither"})
    if not problems and period_from is None:
        period_to, period_from = last_ended, last_ended.replace(day=1)
    if not problems and period_from is not None and period_to is not None:
        months = (period_to.year - period_from.year) * 12 + period_to.month - period_from.month + 1
        if months not in WINDOW_MONTHS or (period_from.month - 1) % months:
            problems.append({"name": "from", "reason": "a month, a calendar quarter or a year"})
    if problems or period_from is None or period_to is None:
        raise PeriodNotAccepted(ACCEPTED, invalid_params=problems)
    return period_from, period_to


def whole_weeks(days: float) -> float:
    """A duration in days to the nearest whole week."""
    return float(round(days / WEEK) * WEEK)


def evaluation_periods(
    start: date, until: date, first_months: int = 6, then_months: int = 12
) -> list[tuple[date, date]]:
    """The covenant's evaluation periods over ``start`` to ``until`` (its
    ``steering.evaluationPeriods``; R §4.3: "een half jaar na inwerkingtreding tussentijds
    geëvalueerd ... Vervolgens ... jaarlijks"): the first is ``first_months`` from
    ``start``, then ``then_months`` each, up to ``until`` (the last one may be cut short)."""
    periods = []
    begin, months = start, first_months
    while begin <= until:
        end = add_months(begin, months) - timedelta(days=1)
        periods.append((begin, min(end, until)))
        begin, months = end + timedelta(days=1), then_months
    return periods


def covenant_periods(
    covenant: Covenant | None, start: date, until: date
) -> list[tuple[date, date]]:
    """The evaluation periods the covenant's file sets (``steering.evaluationPeriods``):
    none when it sets none. Utrecht's U §7/§8 do not ("De stuurgroep ... bespreekt de
    resultaten"), Rijswijk's R §4.3 does; the periods are the covenant's data, not a rule
    of one covenant applied to every other (review9a F4)."""
    rule = covenant.steering.evaluation_periods if covenant and covenant.steering else None
    if rule is None:
        return []
    return evaluation_periods(start, until, rule.first_months, rule.then_months)


def hidden_cells(counts: Mapping[str, int], unpublished: Set[str] = frozenset()) -> set[str]:
    """The cells of a breakdown that are not shown: each under MIN_GROUP_SIZE, and then the
    smallest others until what is hidden adds up to none or to at least MIN_GROUP_SIZE.
    The total is published next to the breakdown, so a single small cell left out would be
    the total minus the cells shown (complementary suppression, as statistics offices do).
    ``unpublished`` cells are never shown (the cases closed without a judgement): they are
    part of the total minus the cells shown, so they count as hidden."""
    hidden = {key for key, n in counts.items() if 0 < n < MIN_GROUP_SIZE}
    hidden |= {key for key in unpublished if counts.get(key, 0) > 0}
    shown = sorted((n, key) for key, n in counts.items() if key not in hidden and n > 0)
    while shown and 0 < sum(counts[key] for key in hidden) < MIN_GROUP_SIZE:
        hidden.add(shown.pop(0)[1])
    return hidden


def _suppress(counts: Counter[str]) -> tuple[dict[str, int], int]:
    """The counts shown, and how many keys were left out (:func:`hidden_cells`)."""
    hidden = hidden_cells(counts)
    kept = {key: n for key, n in sorted(counts.items()) if key not in hidden and n > 0}
    return kept, sum(1 for n in counts.values() if n > 0) - len(kept)


def over_enough(n: int) -> int | None:
    """A figure counted over ``n`` cases: shown at none or at least MIN_GROUP_SIZE, else
    null, by the same rule as a cell (:func:`hidden_cells`)."""
    return None if hidden_cells({"n": n}) else n


#: How a count is published: exactly (the operator's CLI, the tests' oracle) or perturbed
#: (:func:`gateway.cases.cell_key.perturbed`: every partner's channel).
Show = Callable[[Cell], int]


def exact(cell: Cell) -> int:
    return cell.count


#: The least a shown non-zero count of a cell that can be suppressed is published as
#: (review of the cell-key change, finding 1): such a count is 0 or at least MIN_GROUP_SIZE,
#: so published as plain ``perturbed`` a value p told "the truth is in [max(5, p - 2),
#: p + 2]", a 5 or a 6 a tighter range than the noise gave, and "quarter 4 (<= 6), February
#: shown (>= 5)" left March exactly 1. From MIN_GROUP_SIZE + BOUND up, "shown, so at least
#: 5" adds nothing to [p - 2, p + 2].
SHOWN_AT_LEAST = MIN_GROUP_SIZE + BOUND


#: Whether a count is published at least what its parts hold (gateway/cases/window_figures.py);
#: off only in the tests' controls, to measure the rule before it.
FLOOR_BY_PARTS = True


def published(cell: Cell) -> int:
    """A count of a cell that is shown only at 0 or MIN_GROUP_SIZE and up (a district, a
    phase, a step, a judgement, the period's totals): its perturbed value, and at least
    :data:`SHOWN_AT_LEAST` when it is not 0; a 0 stays exact. Still within BOUND of the
    truth (5 and 6 are published as 7). The totals that are never suppressed
    (``openCases``, ``overdueDeadlines``) are plain ``perturbed``: their true count can be
    1 to 4, and a floor for 5 and up there would make a published 5 or 6 one of 3 or 4."""
    value = perturbed(cell)
    return max(value, SHOWN_AT_LEAST) if cell.count >= MIN_GROUP_SIZE else value


def period_legs_shown(periods: Sequence[tuple[int, Counter[str]]]) -> bool:
    """Whether the evaluation periods' judgements of one leg are shown: only when every cell
    of the table (period x judgement, the unjudged cases included) is 0 or at least
    MIN_GROUP_SIZE. ``periods`` are each period's cases closed and judgements.

    The periods are a breakdown of the whole report's closed cases, and each period's
    judgements of the whole report's (review9a F4): suppressed each on its own, "6 closed,
    judgements hidden" beside "first period: 5 closed, 5 resolved" told that the one case of
    the last month was not judged resolved. Cell by cell complementary suppression across
    a table's rows and columns needs a search over the linear combinations of the cells
    (statistics offices run a solver for it); the periods are a handful of rows, so the
    rule is all or nothing: with one small cell anywhere every period's judgements of the
    leg are null, and what is published of the leg is the whole report's judgements (with
    their own suppression) and the periods' closed counts (a breakdown of their own).
    Then no count below the minimum follows from any combination: every cell shown is 0 or
    at least five, the unjudged cells are the counts minus the cells, so 0 or at least
    five as well, and the periods' counts and the whole judgements meet only in the
    total."""
    for closed, counts in periods:
        cells = [counts[j] for j in JUDGEMENTS]
        cells.append(closed - sum(cells))
        if any(0 < n < MIN_GROUP_SIZE for n in cells):
            return False
    return True


def _days(session: Session) -> ColumnElement[Any]:
    """``closed_at - first_report_at`` in days, as each database computes it."""
    if session.get_bind().dialect.name == "postgresql":
        seconds = func.extract("epoch", CaseFile.closed_at - CaseFile.first_report_at)
        return cast(seconds, Float) / 86400.0
    return func.julianday(CaseFile.closed_at) - func.julianday(CaseFile.first_report_at)


def _exact_days(row: Any) -> float:
    return float((row.closed_at - row.first_report_at).total_seconds() / 86400)


@dataclass(frozen=True)
class _Figures:
    """What the report needs of the period's closed cases."""

    count: int
    total: float
    #: The median one or two, the fifth longest, and the cases near the target (closed_at,
    #: first_report_at each).
    middle: list[Any]
    #: None with fewer than MIN_GROUP_SIZE closed (every figure is suppressed then).
    fifth_longest: Any
    between: list[Any]
    #: Closed more than a day before the shortest the target can be, and their keys' sum.
    sure: int
    sure_key: int


class ClosedFigures(NamedTuple):
    """The period's closed cases: how many, their throughput (exact), the cases closed
    within the target as a cell, and the exact sum and median of their durations in days
    (for the mean's noise, gateway/cases/cell_key.py ``sum_noise``)."""

    closed: int
    throughput: ThroughputOut
    within: Cell
    total_days: float
    median_days: float
    #: The cases near the target that closed within it: (closed_at, record key) each.
    inside: list[tuple[datetime, int]]


def _near_target(rule: DueRule) -> tuple[float, float]:
    """The durations in days between which a case is put to the calendar: from a day before
    the shortest the target can be to a day after the longest (sure within it below)."""
    if rule.unit == "hours":
        shortest = longest = rule.count / 24
    else:
        shortest, longest = rule.min_span, rule.max_span + 1
    return shortest - 1.0, longest + 1.0


class _Closed:
    """The cases closed in ``[low, high)`` of one covenant."""

    def __init__(self, session: Session, covenant_id: str, low: datetime, high: datetime):
        self.session = session
        self.where = [
            CaseFile.covenant_id == covenant_id,
            CaseFile.closed_at >= low,
            CaseFile.closed_at < high,
        ]
        self.days = _days(session)

    def _rows(self, query: Any) -> list[Any]:
        return list(self.session.execute(query).all())

    def figures(self, rule: DueRule) -> ClosedFigures:
        """How many, their throughput, and how many closed before the target fell (and
        those cases' cell, gateway/cases/cell_key.py).

        The count and the sum, and how many closed more than a day before the shortest the
        target can be (sure within it), are counted in SQL; the cases up to a day past the
        longest it can be are put to the calendar one by one. The median (ties by id) and
        the fifth longest come back as rows, their durations computed exactly in Python and
        shown in whole weeks: the median and mean to the nearest, ``maxDays`` (the longest
        duration at least MIN_GROUP_SIZE cases reached) rounded down, so that no figure is
        one case's duration (review5a F1)."""
        low, high = _near_target(rule)
        if self.session.get_bind().dialect.name == "postgresql":
            found = self._in_one_read(low, high)
        else:
            found = self._in_four_reads(low, high)
        if found is None:
            empty = ThroughputOut(closed_cases=0, median_days=None, mean_days=None, max_days=None)
            return ClosedFigures(0, empty, Cell(), 0.0, 0.0, [])
        inside = [r for r in found.between if r.closed_at < rule.due_at(r.first_report_at)]
        within = Cell.of(found.sure, found.sure_key) + Cell.of(
            len(inside), sum(r.record_key for r in inside)
        )
        median = statistics.fmean(_exact_days(r) for r in found.middle)
        return ClosedFigures(
            found.count,
            ThroughputOut(
                closed_cases=found.count,
                median_days=whole_weeks(median),
                mean_days=whole_weeks(float(found.total) / found.count),
                max_days=None
                if found.fifth_longest is None
                else float(math.floor(_exact_days(found.fifth_longest) / WEEK) * WEEK),
            ),
            within,
            float(found.total),
            median,
            [(r.closed_at, int(r.record_key)) for r in inside],
        )

    def _in_one_read(self, low: float, high: float) -> _Figures | None:
        """PostgreSQL: one read of the period's closed cases (index-only, migration 0026),
        window functions for the figures over all of them; the rows back are the median
        (numbered by duration, ties by id), the fifth longest and the cases near the target. Each
        statement is a round trip that waits for a core under load: this was four."""
        days = self.days
        closed = (
            select(
                CaseFile.closed_at.label("closed_at"),
                CaseFile.first_report_at.label("first_report_at"),
                CaseFile.record_key.label("record_key"),
                days.label("days"),
                func.row_number().over(order_by=(days, CaseFile.id)).label("n"),
                func.count().over().label("closed"),
                func.sum(days).over().label("total"),
                func.sum(case((days < literal(low), 1), else_=0)).over().label("sure"),
                func.sum(case((days < literal(low), CaseFile.record_key), else_=0))
                .over()
                .label("sure_key"),
            )
            .where(*self.where)
            .subquery()
        )
        rows = self._rows(
            select(closed).where(
                or_(
                    # The median: row (n + 1) / 2 of an odd count n, rows n / 2 and n / 2 + 1
                    # of an even one; in integers, 2 * row from n to n + 2.
                    and_(closed.c.n * 2 >= closed.c.closed, closed.c.n * 2 <= closed.c.closed + 2),
                    closed.c.n == closed.c.closed - (MIN_GROUP_SIZE - 1),
                    and_(closed.c.days >= literal(low), closed.c.days <= literal(high)),
                )
            )
        )
        if not rows:
            return None
        count = rows[0].closed
        return _Figures(
            count=count,
            total=rows[0].total,
            middle=[r for r in rows if count <= 2 * r.n <= count + 2],
            fifth_longest=next((r for r in rows if r.n == count - (MIN_GROUP_SIZE - 1)), None),
            between=[r for r in rows if low <= r.days <= high],
            sure=int(rows[0].sure or 0),
            sure_key=int(rows[0].sure_key or 0),
        )

    def _in_four_reads(self, low: float, high: float) -> _Figures | None:
        """SQLite: the sums in one scan of the covering index, then the cases near the
        target, the median and the fifth longest by OFFSET. SQLite has no round trips to save,
        and its window functions buffer and sort every row: measured at 50,000 cases, the
        one read above took twice as long there as these four."""
        days = self.days
        closed, total, sure, sure_key = self.session.execute(
            select(
                func.count(),
                func.sum(days),
                func.sum(case((days < literal(low), 1), else_=0)),
                func.sum(case((days < literal(low), CaseFile.record_key), else_=0)),
            ).where(*self.where)
        ).one()
        if not closed:
            return None
        pair = (CaseFile.closed_at, CaseFile.first_report_at)
        between = self._rows(
            select(*pair, CaseFile.record_key).where(
                *self.where, days >= literal(low), days <= literal(high)
            )
        )
        middle = self._rows(
            select(*pair)
            .where(*self.where)
            .order_by(days, CaseFile.id)
            .offset((closed - 1) // 2)
            .limit(2 - closed % 2)
        )
        # Ties by id as the median's order, backwards: row n - 4 of n in (days, id).
        fifth = self._rows(
            select(*pair)
            .where(*self.where)
            .order_by(days.desc(), CaseFile.id.desc())
            .offset(MIN_GROUP_SIZE - 1)
            .limit(1)
        )
        return _Figures(
            count=closed,
            total=total,
            middle=middle,
            fifth_longest=fifth[0] if fifth else None,
            between=between,
            sure=int(sure or 0),
            sure_key=int(sure_key or 0),
        )


@dataclass(frozen=True)
class StateFigures:
    """The covenant's open cases at a moment by phase and by district, and their deadlines
    overdue then: the steering report's state figures before suppression."""

    open_by_phase: Counter[str]
    open_by_district: Counter[str]
    overdue_deadlines: int
    #: The key sums of the phases' and the districts' cells (gateway/cases/cell_key.py):
    #: {"phase": {state: key}, "district": {district: key}}.
    cell_keys: dict[str, dict[str, int]]

    @classmethod
    def kept(cls, snapshot: SteeringSnapshot, computed: StateFigures | None) -> StateFigures:
        """The kept figures; the cells' keys kept with them, or (a month kept before
        migration 0050) those of the ``computed`` figures: the same open cases by phase and
        district (replaying changes only the overdue count, which is the kept one)."""
        keys = snapshot.cell_keys or (computed.cell_keys if computed else None)
        if keys is None:
            raise ValueError("a snapshot without cell keys needs the computed figures")
        return cls(
            Counter(snapshot.open_by_phase),
            Counter(snapshot.open_by_district),
            snapshot.overdue_deadlines,
            keys,
        )

    def cells(self, by: str) -> dict[str, Cell]:
        counts = self.open_by_phase if by == "phase" else self.open_by_district
        keys = self.cell_keys.get(by, {})
        return {name: Cell.of(n, keys.get(name, 0)) for name, n in counts.items()}


def _open_unmoved(definition: WorkflowDefinition, covenant_id: str, end: datetime) -> Any:
    """Rows ("open", state, district, no bucket, count, key sum) of the cases open at ``end``
    as their rows have them: no step since, not erased (an erased open case is no open work
    from its erasure on; one erased since is counted as it stood, by
    :func:`_state_figures`). The others are replayed from their history
    (gateway/cases/state_at.py). "closed_at IS NULL" and "erased_at IS NULL" read them from
    ix_case_file_open_live (migration 0042 added opened_at and id to it)."""
    text = String(100)
    return (
        select(
            literal("open", text),
            CaseFile.state.cast(text),
            CaseFile.district.cast(text),
            null().cast(Integer),
            func.count(),
            func.sum(CaseFile.record_key),
        )
        .where(
            *open_in(definition, covenant_id),
            *unmoved_open_at(covenant_id, end, moved_since(covenant_id, end)),
        )
        .group_by(CaseFile.state, CaseFile.district)
    )


def _state_figures(
    session: Session,
    runtime: CaseRuntime,
    covenant_id: str,
    end: datetime,
    unmoved: list[tuple[str, str, int, int]],
) -> StateFigures:
    """The state figures at ``end`` from the unmoved cases' counts (:func:`_open_unmoved`),
    the overdue counts and the moved cases replayed."""
    definition = runtime.workflow(covenant_id)
    open_by_phase: Counter[str] = Counter()
    open_districts: Counter[str] = Counter()
    keys: dict[str, Counter[str]] = {"phase": Counter(), "district": Counter()}
    for state, district, count, key in unmoved:
        open_by_phase[state] += count
        open_districts[district] += count
        keys["phase"][state] += int(key or 0)
        keys["district"][district] += int(key or 0)
    overdue = overdue_count(session, runtime=runtime, covenant_id=covenant_id, at=end)
    overdue_at = OverdueAt(definition, runtime.calendar(covenant_id), end)
    for moved in moved_cases_at(session, definition=definition, covenant_id=covenant_id, at=end):
        open_by_phase[moved.state] += 1
        open_districts[moved.district] += 1
        keys["phase"][moved.state] += moved.record_key
        keys["district"][moved.district] += moved.record_key
        overdue += overdue_at.count(moved)
    return StateFigures(
        open_by_phase,
        open_districts,
        overdue,
        {by: {name: k % KEY_MODULUS for name, k in sorted(ks.items())} for by, ks in keys.items()},
    )


def state_figures_at(
    session: Session, runtime: CaseRuntime, covenant_id: str, end: datetime
) -> StateFigures:
    """The state figures at ``end`` computed from the cases' history (not a kept snapshot)."""
    unmoved = [
        (state, district, count, key)
        for _, state, district, _, count, key in session.execute(
            _open_unmoved(runtime.workflow(covenant_id), covenant_id, end)
        )
    ]
    return _state_figures(session, runtime, covenant_id, end, unmoved)


def day_start(calendar: WorkingCalendar, day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=calendar.zone)


def whole_months(period_from: date, period_to: date) -> list[date]:
    """The first days of the calendar months ``period_from`` to ``period_to`` covers, when
    it is a run of whole months (a quarter, a year); else none."""
    if period_from.day != 1 or (period_to + timedelta(days=1)).day != 1:
        return []
    months, month = [], period_from
    while month <= period_to:
        months.append(month)
        month = add_months(month, 1)
    return months


def steering_report(
    session: Session,
    *,
    runtime: CaseRuntime,
    covenant_id: str,
    period_from: date,
    period_to: date,
    now: datetime | None = None,
    perturb: bool = True,
) -> SteeringReport:
    """Figures for the steering group over ``period_from`` to ``period_to`` (local days).

    Any days are counted here (the tests compare them with the oracle); what a reader may
    ask for is :func:`report_window`'s month, quarter or year (the API, the page, the CLI).
    Every count is perturbed by the cell-key method (gateway/cases/cell_key.py) unless
    ``perturb`` is false: only the operator's CLI and the tests' oracle ask for the exact
    figures; every partner's channel gets the perturbed ones (review14 F1, F2)."""
    now = now or utcnow()
    # The cells shown only at 0 or from MIN_GROUP_SIZE (``published``, at least 7 when not
    # 0), and the two totals never suppressed (plain ``perturbed``).
    show: Show = published if perturb else exact
    show_total: Show = perturbed if perturb else exact
    definition = runtime.workflow(covenant_id)
    calendar = runtime.calendar(covenant_id)
    start = day_start(calendar, period_from)
    end = day_start(calendar, period_to + timedelta(days=1))
    in_covenant = CaseFile.covenant_id == covenant_id
    kept = session.get(SteeringSnapshot, (covenant_id, end))
    # The judgements are counted per evaluation period (the covenant's, if it sets any),
    # else over the whole report as one span that is not listed as a period.
    evaluation = covenant_periods(runtime.covenants.get(covenant_id), period_from, period_to)
    spans = [
        (begin, finish, day_start(calendar, begin), day_start(calendar, finish + timedelta(1)))
        for begin, finish in evaluation or [(period_from, period_to)]
    ]
    target = definition.target.period if definition.target else DEFAULT_TARGET
    rule = DueRule.of(calendar, target)
    # The report's buckets: its calendar months (a quarter or a year is published at least
    # what its months are, gateway/cases/window_figures.py), else its evaluation periods
    # (days asked for by the tests alone). Every flow is counted per bucket.
    months = whole_months(period_from, period_to)
    starts = months or [begin for begin, *_ in spans]
    bounds = [day_start(calendar, first) for first in starts[1:]]
    # The period's counts by group and bucket, each an aggregate over its own index, sent as
    # one UNION ALL: rows of (figure, first key, second key, bucket, count, sum of the record
    # keys). On PostgreSQL each statement is a round trip; these were five or more. The
    # record keys are in the covering indexes (migration 0050).
    text = String(100)
    opened_rows = _bucketed(
        CaseFile.opened_at, bounds, CaseFile.district, null().cast(text), CaseFile.record_key
    ).where(in_covenant, CaseFile.opened_at >= start, CaseFile.opened_at < end)
    transition_rows = _bucketed(
        CaseTransition.at,
        bounds,
        CaseTransition.transition.cast(text),
        null().cast(text),
        CaseTransition.record_key,
    ).where(
        CaseTransition.covenant_id == covenant_id,
        CaseTransition.at >= start,
        CaseTransition.at < end,
    )
    closed_rows = _bucketed(
        CaseFile.closed_at,
        bounds,
        CaseFile.neighbours_judgement.cast(text),
        CaseFile.partners_judgement.cast(text),
        CaseFile.record_key,
        sure=_days(session) < literal(_near_target(rule)[0]),
    ).where(in_covenant, CaseFile.closed_at >= start, CaseFile.closed_at < end)
    parts: list[Any] = [
        _grouped_rows("opened", opened_rows.subquery()),
        # The state figures at the period's end, when no sweep kept them (gateway/cases/
        # snapshots.py): the cases open then as their rows have them, in the same round trip.
        # For a month kept without its cells' keys (before migration 0050), for those.
        *(
            []
            if kept is not None and kept.cell_keys is not None
            else [_open_unmoved(definition, covenant_id, end)]
        ),
        # The transition's own covenant (migration 0025): the period's transitions of the
        # covenant are one range of ix_case_transition_covenant_at, read from the index alone.
        _grouped_rows("transition", transition_rows.subquery()),
        _grouped_rows("legs", closed := closed_rows.subquery()),
        # The cases closed more than a day before the shortest the target can be, per bucket
        # (the others near it are put to the calendar below).
        select(
            literal("sure", text),
            null().cast(text),
            null().cast(text),
            closed.c.m,
            func.sum(closed.c.sure),
            func.sum(case((closed.c.sure == 1, closed.c.k), else_=0)),
        ).group_by(closed.c.m),
    ]
    buckets = [Bucket() for _ in starts]
    unmoved: list[tuple[str, str, int, int]] = []
    for figure, a, b, m, count, key in session.execute(union_all(*parts)):
        cell = Cell.of(count, key)
        if figure == "open":
            unmoved.append((a, b, count, key))
        elif figure == "opened":
            buckets[m].add(buckets[m].opened, a, cell)
        elif figure == "transition":
            buckets[m].add(buckets[m].transitions, a, cell)
        elif figure == "sure":
            buckets[m].within += cell
        else:
            buckets[m].add(buckets[m].legs, (a, b), cell)
    found = _Closed(session, covenant_id, start, end).figures(rule)
    for closed_at, record_key in found.inside:
        buckets[bisect_right(bounds, closed_at)].within += Cell(1, record_key)
    if kept is not None:
        computed = (
            None
            if kept.cell_keys is not None
            else _state_figures(session, runtime, covenant_id, end, unmoved)
        )
        state = StateFigures.kept(kept, computed)
    else:
        state = _state_figures(session, runtime, covenant_id, end, unmoved)
    open_by_phase, open_districts, overdue = (
        state.open_by_phase,
        state.open_by_district,
        state.overdue_deadlines,
    )
    phase_cells, district_cells = state.cells("phase"), state.cells("district")
    open_total = sum(phase_cells.values(), Cell())
    noisy = show is not exact
    figures = WindowFigures(
        buckets,
        starts,
        period_to + timedelta(days=1),
        months=bool(months),
        rules=figure_rules(
            show,
            lambda first, last: covenant_periods(runtime.covenants.get(covenant_id), first, last),
        ),
    )
    whole = (0, len(buckets) - 1)
    closed, throughput = found.closed, found.throughput
    # Which cells are shown is decided on the true counts, as before (review3 finding 9,
    # review5a F1, review9a F4); what is shown of a count is its perturbed value, at least
    # what its shown parts hold (gateway/cases/window_figures.py).
    shown_open_districts, hidden_open = _suppress(open_districts)
    opened_districts = {
        d: figures.cell(whole, (OPENED, d)).count for d in figures.keys(whole, OPENED)
    }
    hidden_opened = len(
        figures.hidden(whole, OPENED) & {d for d, n in opened_districts.items() if n}
    )
    # Phases and steps as districts (review3 finding 9): a period of a day or two made
    # "one case moved to temporary-eviction on day X" of a count of one.
    shown_phases, hidden_phases = _suppress(open_by_phase)
    steps = figures.keys(whole, TRANSITION)
    hidden_steps = figures.hidden(whole, TRANSITION)
    # The period's own totals and durations as cells (follow-up to finding 9): over a day
    # or two, "1 closed, after 41.2 days" described one case. A total under the minimum is
    # null, and so is every figure over the closed cases then; of five or more, the within
    # and beyond the target counts are a breakdown of two cells.
    suppressed: list[str] = []
    cases_opened = figures.value(whole, (OPENED, None))
    if cases_opened is None:
        suppressed.append("casesOpened")
    closed_shown = figures.value(whole, (CLOSED, None))
    if noisy and closed:
        # The mean's sum of days gets noise of its own, as large as the cell's median
        # duration: otherwise the mean times the count was the sum, and two windows' sums
        # gave one case's duration (review14 F1: ~77 of its 80 days).
        closed_cell = figures.cell(whole, (CLOSED, None))
        days = found.total_days + sum_noise(closed_cell, max(found.median_days, WEEK))
        throughput = throughput.model_copy(
            update={"closed_cases": closed_shown, "mean_days": whole_weeks(max(days, 0) / closed)}
        )
    within_shown = figures.value(whole, (WITHIN, None))
    share = (
        round(within_shown / closed_shown, 3) if within_shown is not None and closed_shown else None
    )
    if closed_shown is None:
        throughput = ThroughputOut(
            closed_cases=None, median_days=None, mean_days=None, max_days=None
        )
        suppressed += [
            "casesClosed",
            "closedWithinTarget",
            "shareClosedWithinTarget",
            "throughput.closedCases",
            "throughput.medianDays",
            "throughput.meanDays",
            "throughput.maxDays",
        ]
    elif within_shown is None:
        suppressed += ["closedWithinTarget", "shareClosedWithinTarget"]
    # A quarter's or a year's order statistics (not perturbed) when a month of it hides its
    # closures (1 to 4, public through the month's own report; review of the cell-key
    # change, finding 2): February's 5 closures (4 of 200 days, 1 of 30) and March's hidden
    # one of 150 gave the quarter a fifth longest of 147 days, which could only be March's.
    if (
        throughput.closed_cases is not None
        and len(months) > 1
        and any(not figures.shown((m, m), (CLOSED, None)) for m in range(len(months)))
    ):
        throughput = throughput.model_copy(update={"median_days": None, "max_days": None})
        suppressed += ["throughput.medianDays", "throughput.maxDays"]
    periods = _periods_out(figures, whole, spans) if evaluation else []
    # The open cases at the period's end: at least what its shown phases and districts hold
    # (gateway/cases/window_figures.py, as for the flows).
    open_cases = open_cases_published(
        open_total,
        [
            (phase_cells, set(shown_phases), True),
            (district_cells, set(shown_open_districts), False),
        ],
        show,
        show_total,
    )
    opened_by_district = {
        d: figures.value(whole, (OPENED, d))
        for d, n in opened_districts.items()
        if n and figures.shown(whole, (OPENED, d))
    }
    return SteeringReport(
        covenant_id=covenant_id,
        period_from=period_from,
        period_to=period_to,
        as_of=end,
        generated_at=now,
        perturbed=perturb,
        noise_bound=BOUND if perturb else 0,
        cases_opened=cases_opened,
        cases_closed=throughput.closed_cases,
        open_cases=open_cases,
        throughput=throughput,
        target_months=target.amount or 3,
        closed_within_target=within_shown,
        share_closed_within_target=share,
        open_by_phase={name: show(phase_cells[name]) for name in shown_phases},
        open_by_district={name: show(district_cells[name]) for name in shown_open_districts},
        opened_by_district=opened_by_district,
        overdue_deadlines=show_total(Cell(overdue, derived_key(open_total, "overdue"))),
        transitions={
            step: figures.value(whole, (TRANSITION, step))
            for step in steps
            if step not in hidden_steps and figures.cell(whole, (TRANSITION, step)).count
        },
        min_group_size=MIN_GROUP_SIZE,
        suppressed_phases=hidden_phases,
        suppressed_transitions=sum(
            1
            for step in steps
            if step in hidden_steps and figures.cell(whole, (TRANSITION, step)).count
        ),
        suppressed_figures=suppressed,
        suppressed_districts=len(
            (set(open_districts) | set(opened_districts))
            - set(shown_open_districts)
            - set(opened_by_district)
        )
        if (hidden_open or hidden_opened)
        else 0,
        legs=LegsOut(**{leg: _judgements(figures, whole, leg) for leg in LEGS}),
        evaluation_periods=periods,
    )


def _judgements(figures: WindowFigures, window: Window, leg: str) -> dict[str, int | None]:
    """One leg's judgements as the window's report shows them (U §7)."""
    return {j: figures.value(window, (leg, j)) for j in JUDGEMENTS}


def _periods_out(
    figures: WindowFigures, whole: Window, spans: Sequence[tuple[date, date, Any, Any]]
) -> list[EvaluationPeriodOut]:
    """The evaluation periods as shown: their closed cases a breakdown of the whole
    report's (:func:`hidden_cells` across the periods), each leg's judgements by
    :func:`period_legs_shown` (review9a F4); which are shown decided on the true counts,
    each count as a report over the period publishes it (gateway/cases/window_figures.py)."""
    windows = figures.periods(whole)
    if len(windows) != len(spans):
        raise ValueError("the evaluation periods are not whole buckets of the report")
    closed = [figures.cell(w, (CLOSED, None)).count for w in windows]
    hidden = hidden_cells({str(n): count for n, count in enumerate(closed)})
    shown = {
        leg: period_legs_shown(
            [
                (count, Counter({j: figures.cell(w, (leg, j)).count for j in JUDGEMENTS}))
                for count, w in zip(closed, windows, strict=True)
            ]
        )
        for leg in LEGS
    }
    return [
        EvaluationPeriodOut(
            period_from=begin,
            period_to=finish,
            cases_closed=None if str(n) in hidden else figures.value(w, (CLOSED, None)),
            legs=LegsOut(
                **{
                    leg: _judgements(figures, w, leg) if shown[leg] else dict.fromkeys(JUDGEMENTS)
                    for leg in LEGS
                }
            ),
        )
        for n, (w, (begin, finish, _, _)) in enumerate(zip(windows, spans, strict=True))
    ]


def figure_rules(
    show: Show,
    periods: Callable[[date, date], list[tuple[date, date]]],
    *,
    bound: int | None = None,
    floors: bool | None = None,
) -> Rules:
    """The report's rules for its window figures (gateway/cases/window_figures.py): shown
    by ``show`` (no floor for the exact figures), the evaluation periods by ``periods``."""
    return Rules(
        min_group_size=MIN_GROUP_SIZE,
        judgements=JUDGEMENTS,
        hidden_cells=hidden_cells,
        show=show,
        bound=(0 if show is exact else BOUND) if bound is None else bound,
        periods=periods,
        period_legs_shown=lambda spans: period_legs_shown(
            [(closed, Counter(judged)) for closed, judged in spans]
        ),
        floors=FLOOR_BY_PARTS if floors is None else floors,
    )


def open_cases_published(
    total: Cell,
    breakdowns: Sequence[tuple[Mapping[str, Cell], Set[str], bool]],
    show: Show,
    show_total: Show,
) -> int:
    """``openCases`` as published: its perturbed value (never suppressed: no floor of 7),
    at least what each of its breakdowns holds by what is published, plus the bound
    (gateway/cases/window_figures.py). A breakdown is its cells, the names shown, and
    whether the report says how many are hidden (the phases: ``suppressedPhases``; the
    districts' ``suppressedDistricts`` counts the openings' too, so a district left out is
    0 or hidden, which the reader cannot tell apart)."""
    value = show_total(total)
    if show is exact or not FLOOR_BY_PARTS or not total.count:
        return value
    for cells, shown, counted in breakdowns:
        hidden = [1 for name, cell in cells.items() if name not in shown and cell.count]
        least = held_least(
            [show(cells[name]) - BOUND for name in shown],
            hidden if counted else [],
            MIN_GROUP_SIZE,
        )
        value = max(value, least + BOUND)
    return value


def _bucketed(
    moment: Any, bounds: Sequence[datetime], a: Any, b: Any, key: Any, sure: Any = None
) -> Any:
    """The rows of a flow with their bucket (``m``: how many ``bounds`` fall at or before
    ``moment``), as a select to restrict and group (:func:`_grouped_rows`)."""
    integer = Integer()
    bucket = (
        case(
            *((moment < bound, literal_column(str(n), integer)) for n, bound in enumerate(bounds)),
            else_=literal_column(str(len(bounds)), integer),
        )
        if bounds
        else literal_column("0", integer)
    )
    columns = [a.label("a"), b.label("b"), key.label("k"), bucket.label("m")]
    if sure is not None:
        columns.append(case((sure, 1), else_=0).label("sure"))
    return select(*columns)


def _grouped_rows(figure: str, rows: Any) -> Any:
    """(figure, a, b, bucket, count, sum of the record keys) of :func:`_bucketed` rows."""
    return select(
        literal(figure, String(100)),
        rows.c.a,
        rows.c.b,
        rows.c.m,
        func.count(),
        func.sum(rows.c.k),
    ).group_by(rows.c.a, rows.c.b, rows.c.m)
