"""The calendar deadlines are computed in: Dutch local time, Monday to Friday, without the
national holidays the workflow file names.

Holidays are computed, not listed, so the calendar never runs out: the fixed days, Easter by
the anonymous Gregorian algorithm (Meeus/Jones/Butcher) and the days that hang off it, and
King's Day on 27 April or, when that is a Sunday, on Saturday 26 April (Wet van 2013).
Liberation Day (5 May) is a holiday every year, as the Algemene termijnenwet art. 3 counts it.

Days are calendar days unless a source says "werkdagen" (U §5.1 "binnen vijf dagen", U §5.2
"binnen drie dagen"). A period with ``rollToWorkingDay`` follows the Algemene termijnenwet:
art. 1, a period that ends on a Saturday, Sunday or holiday ends on the next working day;
art. 2, a period of at least three days is extended until it holds at least two working days.
"""

from __future__ import annotations

import calendar as _stdlib_calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from gateway.cases.definition import Holiday, Period


def easter_sunday(year: int) -> date:
    """Western Easter Sunday (Gregorian calendar)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    leap = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * leap) // 451
    month, day = divmod(h + leap - 7 * m + 114, 31)
    return date(year, month, day + 1)


def kings_day(year: int) -> date:
    day = date(year, 4, 27)
    return day - timedelta(days=1) if day.weekday() == 6 else day


def holidays_in(year: int, names: Iterable[Holiday]) -> dict[date, Holiday]:
    easter = easter_sunday(year)
    every: dict[Holiday, date] = {
        "new-years-day": date(year, 1, 1),
        "good-friday": easter - timedelta(days=2),
        "easter-monday": easter + timedelta(days=1),
        "kings-day": kings_day(year),
        "liberation-day": date(year, 5, 5),
        "ascension-day": easter + timedelta(days=39),
        "whit-monday": easter + timedelta(days=50),
        "christmas-day": date(year, 12, 25),
        "boxing-day": date(year, 12, 26),
    }
    return {every[name]: name for name in names}


def add_months(day: date, months: int) -> date:
    """Same day of the month, clamped to the month's last day (31 Jan + 1 month = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    last = _stdlib_calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last))


@dataclass(frozen=True)
class Due:
    """When a deadline falls: ``at`` is the exact instant (UTC); ``on`` the local due day
    for periods counted in days (the deadline is met until the end of that day)."""

    at: datetime
    on: date | None


class WorkingCalendar:
    def __init__(self, timezone: str, holidays: Iterable[Holiday]) -> None:
        self.zone = ZoneInfo(timezone)
        self.holiday_names = tuple(holidays)

    def holiday(self, day: date) -> Holiday | None:
        return _holidays(day.year, self.holiday_names).get(day)

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and self.holiday(day) is None

    def next_working_day(self, day: date) -> date:
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def extend_per_termijnenwet(self, first: date, last: date) -> date:
        """The last day of a period that runs from the day after ``first`` to ``last``,
        extended as the Algemene termijnenwet extends it: art. 2 (a period of at least three
        days holds at least two working days) and art. 1 (it never ends on a Saturday, Sunday
        or holiday)."""
        if (last - first).days >= 3:
            working = sum(
                1
                for offset in range(1, (last - first).days + 1)
                if self.is_working_day(first + timedelta(days=offset))
            )
            while working < 2:
                last = self.next_working_day(last + timedelta(days=1))
                working += 1
        return self.next_working_day(last)

    def add_working_days(self, day: date, count: int) -> date:
        """The ``count``-th working day after ``day`` (``day`` itself never counts)."""
        while count > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count -= 1
        return day

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def end_of_day(self, day: date) -> datetime:
        """The first instant after ``day`` in local time, as an aware datetime."""
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.zone)

    def due(self, start: datetime, period: Period, amount: int | None = None) -> Due:
        """When a period of ``period`` (or ``amount`` units of it) starting at ``start`` ends."""
        count = amount if amount is not None else period.amount
        if count is None:
            raise ValueError("period without an amount")
        if period.unit == "hours":
            # In UTC: aware arithmetic in a local zone is wall-clock time, and 48 hours across
            # the switch to summer time are still 48 real hours.
            return Due(at=start.astimezone(UTC) + timedelta(hours=count), on=None)
        first = self.local_date(start)
        if period.unit == "working-days":
            day = self.add_working_days(first, count)
        elif period.unit == "calendar-days":
            day = first + timedelta(days=count)
        elif period.unit == "weeks":
            day = first + timedelta(weeks=count)
        else:
            day = add_months(first, count)
        if period.roll_to_working_day:
            day = self.extend_per_termijnenwet(first, day)
        return Due(at=self.end_of_day(day), on=day)


@lru_cache(maxsize=256)
def _holidays(year: int, names: tuple[Holiday, ...]) -> dict[date, Holiday]:
    return holidays_in(year, names)
