"""A deadline's due moment turned round: which start instants give a due moment in a range.

Due moments are computed, not stored (gateway/cases/deadlines.py): they follow from one column
of the case (the first report, or the entry of its state) and the covenant's calendar, so a
corrected workflow file corrects every open deadline at once. To count overdue deadlines or
page through them in SQL at any history size, the question is asked the other way round:
which values of the start column make the due moment fall in ``[low, high)``?

For a period in hours the answer is ``[low - h, high - h)``. For a period in days the due
moment depends only on the local day of the start and lies between ``min_span`` and
``max_span`` days after it, so only the start days within ``max_span`` of a bound need the
calendar, each evaluated with :meth:`WorkingCalendar.due` itself (no second implementation
of the Algemene termijnenwet to keep in step); every day between is in. The due day need not
grow with the start day (a one-working-day period rolled per the termijnenwet ends on Tuesday
from a Friday, on Monday from a Saturday), so the answer is a list of ranges, not one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from gateway.cases.calendar import WorkingCalendar
from gateway.cases.definition import Period

#: Days a roll per the Algemene termijnenwet can add at most (art. 2 and art. 1 together:
#: Christmas, Boxing Day and a weekend, then two working days); generous on purpose.
ROLL_DAYS = 10


@dataclass(frozen=True)
class StartRange:
    """Start instants ``low <= start < high`` (UTC); None is unbounded on that side."""

    low: datetime | None
    high: datetime | None


@dataclass(frozen=True)
class DueRule:
    """One period of one deadline as the start column sees it: ``count`` units of ``unit``
    (the case's ``state_days`` for a period with ``amountFromDays``)."""

    calendar: WorkingCalendar
    unit: str
    count: int
    roll: bool

    @classmethod
    def of(cls, calendar: WorkingCalendar, period: Period, count: int | None = None) -> DueRule:
        amount = count if count is not None else period.amount
        if amount is None:
            raise ValueError("period without an amount")
        return cls(calendar, period.unit, amount, period.roll_to_working_day)

    # -- the spans every bound below rests on ------------------------------------------

    @property
    def min_span(self) -> int:
        """Days from the start day to the due day at least (the roll only extends)."""
        per_unit = {"calendar-days": 1, "working-days": 1, "weeks": 7, "months": 28}
        return per_unit.get(self.unit, 0) * self.count

    @property
    def max_span(self) -> int:
        """Days from the start day to the due day at most: a working day is at most four
        calendar days on (a weekend with Good Friday or Christmas), a month 31 days."""
        per_unit = {"calendar-days": 1, "working-days": 4, "weeks": 7, "months": 31}
        return per_unit.get(self.unit, 0) * self.count + ROLL_DAYS

    # -- due moments ------------------------------------------------------------------

    def due_at(self, start: datetime) -> datetime:
        if self.unit == "hours":
            return start.astimezone(UTC) + timedelta(hours=self.count)
        return self.due_for_day(self.calendar.local_date(start))

    def due_for_day(self, day: date) -> datetime:
        """The due moment of a start on local ``day`` (a period in days)."""
        return _due_for_day(
            self.calendar.zone.key,
            self.calendar.holiday_names,
            self.unit,
            self.count,
            self.roll,
            day,
        )

    def day_start(self, day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=self.calendar.zone).astimezone(UTC)

    # -- turned round -----------------------------------------------------------------

    def horizon(self, start: datetime) -> datetime:
        """The earliest due moment of any start at or after ``start``."""
        if self.unit == "hours":
            return self.due_at(start)
        first = self.calendar.local_date(start)
        # Past ``first + reach`` a start day's due day lies beyond ``first + reach +
        # min_span``, later than the bound it is compared with.
        reach = self.max_span - self.min_span + 2
        beyond = self.day_start(first + timedelta(reach + self.min_span + 1))
        return min([self.due_for_day(first + timedelta(n)) for n in range(reach + 1)] + [beyond])

    def start_ranges(self, low: datetime | None, high: datetime | None) -> list[StartRange]:
        """The starts whose due moment ``d`` satisfies ``low <= d < high``."""
        if self.unit == "hours":
            shift = timedelta(hours=self.count)
            return [
                StartRange(
                    None if low is None else low.astimezone(UTC) - shift,
                    None if high is None else high.astimezone(UTC) - shift,
                )
            ]
        low_day = None if low is None else self.calendar.local_date(low)
        high_day = None if high is None else self.calendar.local_date(high)
        margin = self.max_span + 2
        checked: set[date] = set()
        if low_day is not None:
            checked.update(low_day - timedelta(n) for n in range(margin + 1))
        if high_day is not None:
            checked.update(high_day - timedelta(n) for n in range(1, margin + 1))
        # Days sure to be in: after low's day (a due day lies after its start day), and more
        # than max_span before high's day.
        sure_from = None if low_day is None else low_day + timedelta(1)
        sure_to = None if high_day is None else high_day - timedelta(margin + 1)
        days: list[tuple[date | None, date | None]] = []
        if sure_from is None or sure_to is None or sure_from <= sure_to:
            days.append((sure_from, sure_to))
        for day in sorted(checked):
            due = self.due_for_day(day)
            if (low is None or due >= low) and (high is None or due < high):
                days.append((day, day))
        return [
            StartRange(
                None if first is None else self.day_start(first),
                None if last is None else self.day_start(last + timedelta(1)),
            )
            for first, last in _merge(days)
        ]


def _merge(days: list[tuple[date | None, date | None]]) -> list[tuple[date | None, date | None]]:
    """Inclusive day ranges (None unbounded), overlapping or adjacent ones joined."""
    ordered = sorted(days, key=lambda r: date.min if r[0] is None else r[0])
    merged: list[tuple[date | None, date | None]] = []
    for first, last in ordered:
        if merged:
            prev_first, prev_last = merged[-1]
            if prev_last is None:
                continue
            if first is None or first <= prev_last + timedelta(1):
                if last is None or last > prev_last:
                    merged[-1] = (prev_first, last)
                continue
        merged.append((first, last))
    return merged


@lru_cache(maxsize=65536)
def _due_for_day(
    zone: str, holidays: tuple[str, ...], unit: str, count: int, roll: bool, day: date
) -> datetime:
    calendar = WorkingCalendar(zone, holidays)  # type: ignore[arg-type]
    period = Period.model_validate({"amount": count, "unit": unit, "rollToWorkingDay": roll})
    noon = datetime.combine(day, time(12), tzinfo=calendar.zone)
    return calendar.due(noon, period).at
