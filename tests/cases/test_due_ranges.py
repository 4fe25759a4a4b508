"""gateway.cases.due_ranges against the calendar itself: for every start instant tried, the
start lies in ``start_ranges(low, high)`` exactly when ``calendar.due`` falls in [low, high),
and ``horizon`` is the earliest due moment of any later start (the deadline pages rest on
both)."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

import pytest

from gateway.cases.calendar import WorkingCalendar
from gateway.cases.definition import Period
from gateway.cases.due_ranges import DueRule, StartRange

CALENDAR = WorkingCalendar(
    "Europe/Amsterdam",
    [
        "new-years-day",
        "good-friday",
        "easter-monday",
        "kings-day",
        "liberation-day",
        "ascension-day",
        "whit-monday",
        "christmas-day",
        "boxing-day",
    ],
)
PERIODS = [
    {"amount": 48, "unit": "hours"},
    {"amount": 1, "unit": "working-days", "rollToWorkingDay": True},
    {"amount": 5, "unit": "working-days"},
    {"amount": 3, "unit": "calendar-days", "rollToWorkingDay": True},
    {"amount": 5, "unit": "calendar-days", "rollToWorkingDay": True},
    {"amount": 6, "unit": "weeks", "rollToWorkingDay": True},
    {"amount": 3, "unit": "months"},
    {"amount": 1, "unit": "months", "rollToWorkingDay": True},
]


def _inside(start: datetime, ranges: list[StartRange]) -> bool:
    return any(
        (r.low is None or start >= r.low) and (r.high is None or start < r.high) for r in ranges
    )


def _starts(rng: random.Random, around: date, days: int, n: int) -> list[datetime]:
    """Random instants, and each local midnight and the microsecond before it, near a day."""
    zone = CALENDAR.zone
    out = []
    for offset in range(-days, days + 1):
        midnight = datetime.combine(around + timedelta(offset), time(0), tzinfo=zone)
        out += [midnight, midnight - timedelta(microseconds=1)]
    base = datetime.combine(around, time(0), tzinfo=zone)
    out += [base + timedelta(seconds=rng.uniform(-days, days) * 86400) for _ in range(n)]
    return out


@pytest.mark.parametrize("spec", PERIODS, ids=lambda s: f"{s['amount']}-{s['unit']}")
def test_start_ranges_hold_exactly_the_starts_due_in_the_range(spec: dict[str, object]) -> None:
    period = Period.model_validate(spec)
    rule = DueRule.of(CALENDAR, period)
    rng = random.Random(20)
    # Around Easter, King's Day, Christmas and New Year, and a summer switch of the clocks.
    for around in (date(2026, 4, 3), date(2026, 12, 24), date(2027, 3, 28), date(2026, 8, 1)):
        zone = CALENDAR.zone
        for _ in range(3):
            low = datetime.combine(around, time(0), tzinfo=zone) + timedelta(
                hours=rng.randint(-200, 200)
            )
            high = low + timedelta(hours=rng.choice([1, 24, 25, 24 * 7, 24 * 40]))
            for bounds in ((low, high), (None, high), (low, None)):
                ranges = rule.start_ranges(*bounds)
                for start in _starts(rng, around, 130, 150):
                    due = CALENDAR.due(start, period).at
                    expected = (bounds[0] is None or due >= bounds[0]) and (
                        bounds[1] is None or due < bounds[1]
                    )
                    assert _inside(start, ranges) == expected, (spec, bounds, start, due)


@pytest.mark.parametrize("spec", PERIODS, ids=lambda s: f"{s['amount']}-{s['unit']}")
def test_horizon_is_the_earliest_due_moment_of_any_later_start(spec: dict[str, object]) -> None:
    period = Period.model_validate(spec)
    rule = DueRule.of(CALENDAR, period)
    rng = random.Random(21)
    for around in (date(2026, 4, 3), date(2026, 12, 24), date(2026, 10, 24)):
        for start in _starts(rng, around, 20, 20):
            later = [start + timedelta(hours=h) for h in range(0, 24 * 130, 5)]
            earliest = min(CALENDAR.due(s, period).at for s in later)
            horizon = rule.horizon(start)
            assert horizon <= earliest, (spec, start)
            if period.unit != "hours":
                # Exact for periods in days: the minimum over the start days after it.
                assert horizon == min(
                    CALENDAR.due(datetime.combine(d, time(12), tzinfo=CALENDAR.zone), period).at
                    for d in (
                        CALENDAR.local_date(start) + timedelta(n) for n in range(rule.max_span + 3)
                    )
                )


def test_a_one_working_day_period_rolled_per_the_termijnenwet_is_not_monotone() -> None:
    """Why the ranges are a list: from Friday the period ends on Tuesday (art. 2: at least
    two working days), from Saturday on Monday; so a window of due moments ending on Monday
    holds Saturday's start and not Friday's."""
    period = Period.model_validate({"amount": 1, "unit": "working-days", "rollToWorkingDay": True})
    zone = CALENDAR.zone
    friday = datetime(2026, 11, 6, 10, tzinfo=zone)
    saturday = friday + timedelta(days=1)
    assert CALENDAR.due(friday, period).on == date(2026, 11, 10)
    assert CALENDAR.due(saturday, period).on == date(2026, 11, 9)
    monday_end = datetime(2026, 11, 10, 0, tzinfo=zone)
    window = (monday_end - timedelta(hours=1), monday_end + timedelta(seconds=1))
    ranges = DueRule.of(CALENDAR, period).start_ranges(*window)
    assert _inside(saturday, ranges)
    assert not _inside(friday, ranges)
