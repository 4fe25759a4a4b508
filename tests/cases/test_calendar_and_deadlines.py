"""Due dates: working days around weekends and Dutch holidays, hours, weeks, months and the
ends of periods. Pure computations: no database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from gateway.cases.calendar import WorkingCalendar, add_months, easter_sunday, kings_day
from gateway.cases.definition import Period, load_workflows

AMS = ZoneInfo("Europe/Amsterdam")
ALL = load_workflows()["utrecht-extreme-woonoverlast"].calendar.holidays
CAL = WorkingCalendar("Europe/Amsterdam", ALL)


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=AMS)


@pytest.mark.parametrize(
    ("year", "easter"),
    [
        (2024, date(2024, 3, 31)),
        (2025, date(2025, 4, 20)),
        (2026, date(2026, 4, 5)),
        (2027, date(2027, 3, 28)),
        (2038, date(2038, 4, 25)),
        (2285, date(2285, 3, 22)),
    ],
)
def test_easter_is_computed_for_any_year(year: int, easter: date) -> None:
    assert easter_sunday(year) == easter


def test_kings_day_moves_to_saturday_when_27_april_is_a_sunday() -> None:
    assert kings_day(2025) == date(2025, 4, 26)
    assert kings_day(2026) == date(2026, 4, 27)


def test_the_dutch_holidays_of_2026_are_not_working_days() -> None:
    holidays = [
        date(2026, 1, 1),
        date(2026, 4, 3),
        date(2026, 4, 6),
        date(2026, 4, 27),
        date(2026, 5, 5),
        date(2026, 5, 14),
        date(2026, 5, 25),
        date(2026, 12, 25),
    ]
    assert [CAL.is_working_day(day) for day in holidays] == [False] * len(holidays)
    assert CAL.is_working_day(date(2026, 5, 15))  # the Friday after Ascension Day works


def test_five_working_days_from_a_friday_end_the_next_friday() -> None:
    due = CAL.due(at(date(2026, 3, 6)), Period(amount=5, unit="working-days"))
    assert due.on == date(2026, 3, 13)
    assert due.at == datetime(2026, 3, 14, tzinfo=AMS)


def test_a_report_on_saturday_starts_counting_on_monday() -> None:
    due = CAL.due(at(date(2026, 3, 7)), Period(amount=5, unit="working-days"))
    assert due.on == date(2026, 3, 13)


def test_three_working_days_skip_easter() -> None:
    # Thursday 2 April 2026: Good Friday and Easter Monday do not count.
    due = CAL.due(at(date(2026, 4, 2)), Period(amount=3, unit="working-days"))
    assert due.on == date(2026, 4, 9)


def test_five_working_days_across_christmas_and_new_year() -> None:
    five = Period(amount=5, unit="working-days")
    # Wednesday 23 Dec 2026: 24, 28, 29, 30, 31 Dec (Christmas and Boxing Day do not count).
    assert CAL.due(at(date(2026, 12, 23)), five).on == date(2026, 12, 31)
    # One day later the period crosses New Year's Day into Monday 4 January.
    assert CAL.due(at(date(2026, 12, 24)), five).on == date(2027, 1, 4)


def test_a_deadline_is_met_until_the_end_of_its_last_day_in_dutch_time() -> None:
    due = CAL.due(at(date(2026, 7, 1)), Period(amount=1, unit="working-days"))
    assert due.at.astimezone(UTC) == datetime(2026, 7, 2, 22, 0, tzinfo=UTC)
    assert due.at - timedelta(microseconds=1) < due.at


def test_48_hours_run_through_the_weekend() -> None:
    start = at(date(2026, 3, 6), 16)
    assert CAL.due(start, Period(amount=48, unit="hours")).at == start + timedelta(hours=48)


def test_48_hours_across_the_switch_to_summer_time_are_48_real_hours() -> None:
    start = datetime(2026, 3, 28, 12, tzinfo=AMS)
    due = CAL.due(start, Period(amount=48, unit="hours")).at
    assert (due.astimezone(UTC) - start.astimezone(UTC)) == timedelta(hours=48)


def test_six_weeks_rolled_to_a_working_day() -> None:
    # 6 weeks after Monday 13 April 2026 is Whit Monday 25 May: the evaluation is on Tuesday.
    period = Period(amount=6, unit="weeks", roll_to_working_day=True)
    assert CAL.due(at(date(2026, 4, 13)), period).on == date(2026, 5, 26)
    assert CAL.due(at(date(2026, 4, 14)), period).on == date(2026, 5, 26)


def test_three_months_clamp_to_the_end_of_a_shorter_month() -> None:
    period = Period(amount=3, unit="months")
    assert CAL.due(at(date(2026, 11, 30)), period).on == date(2027, 2, 28)
    assert CAL.due(at(date(2027, 11, 30)), period).on == date(2028, 2, 29)
    assert CAL.due(at(date(2026, 1, 31)), period).on == date(2026, 4, 30)
    assert add_months(date(2026, 12, 15), 1) == date(2027, 1, 15)


def test_a_report_late_in_the_evening_counts_from_its_dutch_date() -> None:
    # 23:30 UTC on Friday 6 March is already Saturday 7 March in Amsterdam.
    start = datetime(2026, 3, 6, 23, 30, tzinfo=UTC)
    assert CAL.due(start, Period(amount=1, unit="calendar-days")).on == date(2026, 3, 8)
    assert CAL.due(start, Period(amount=1, unit="working-days")).on == date(2026, 3, 9)
