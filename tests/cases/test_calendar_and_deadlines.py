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
        date(2026, 4, 6),
        date(2026, 4, 27),
        date(2026, 5, 5),
        date(2026, 5, 14),
        date(2026, 5, 25),
        date(2026, 12, 25),
    ]
    assert [CAL.is_working_day(day) for day in holidays] == [False] * len(holidays)
    assert CAL.is_working_day(date(2026, 5, 15))  # the Friday after Ascension Day works
    # Algemene termijnenwet art. 3(1) does not name Good Friday.
    assert CAL.is_working_day(date(2026, 4, 3))


def test_five_working_days_from_a_friday_end_the_next_friday() -> None:
    due = CAL.due(at(date(2026, 3, 6)), Period(amount=5, unit="working-days"))
    assert due.on == date(2026, 3, 13)
    assert due.at == datetime(2026, 3, 14, tzinfo=AMS)


def test_a_report_on_saturday_starts_counting_on_monday() -> None:
    due = CAL.due(at(date(2026, 3, 7)), Period(amount=5, unit="working-days"))
    assert due.on == date(2026, 3, 13)


def test_three_working_days_skip_easter_monday() -> None:
    # Thursday 2 April 2026: Friday 3 (Good Friday works), Tuesday 7 and Wednesday 8 April.
    due = CAL.due(at(date(2026, 4, 2)), Period(amount=3, unit="working-days"))
    assert due.on == date(2026, 4, 8)


# -- calendar days under the Algemene termijnenwet (U §5.1 "binnen vijf dagen", U §5.2
# "binnen drie dagen") --------------------------------------------------------------------

FIVE_DAYS = Period(amount=5, unit="calendar-days", roll_to_working_day=True)
THREE_DAYS = Period(amount=3, unit="calendar-days", roll_to_working_day=True)


def test_five_calendar_days_from_a_monday_end_on_saturday_and_move_to_monday() -> None:
    # Monday 9 March 2026 + 5 days = Saturday 14 March: Atw art. 1 moves it to Monday 16.
    assert CAL.due(at(date(2026, 3, 9)), FIVE_DAYS).on == date(2026, 3, 16)
    # Positive control: from Tuesday 10 March the fifth day is Sunday 15: Monday 16 too;
    # from Wednesday 11 March it is Monday 16 itself, a working day, and it stays.
    assert CAL.due(at(date(2026, 3, 11)), FIVE_DAYS).on == date(2026, 3, 16)
    # From Thursday 5 March the fifth day is Tuesday 10: calendar days, no weekend skipped.
    assert CAL.due(at(date(2026, 3, 5)), FIVE_DAYS).on == date(2026, 3, 10)


def test_three_calendar_days_across_easter_end_after_easter_monday() -> None:
    # Thursday 2 April 2026 + 3 days = Easter Sunday 5 April; Monday 6 is Easter Monday:
    # the period ends on Tuesday 7 April.
    assert CAL.due(at(date(2026, 4, 2)), THREE_DAYS).on == date(2026, 4, 7)
    # Five days from Wednesday 1 April end on Easter Monday 6 April: also Tuesday 7.
    assert CAL.due(at(date(2026, 4, 1)), FIVE_DAYS).on == date(2026, 4, 7)


def test_three_calendar_days_ending_on_kings_day_move_to_the_next_day() -> None:
    # Wednesday 22 April 2026 + 5 days = Monday 27 April, King's Day: Tuesday 28 April.
    assert CAL.due(at(date(2026, 4, 22)), FIVE_DAYS).on == date(2026, 4, 28)
    # 2025: King's Day is Saturday 26 April (27 April was a Sunday). Wednesday 23 April +
    # 3 days = Saturday 26: Monday 28 April.
    assert CAL.due(at(date(2025, 4, 23)), THREE_DAYS).on == date(2025, 4, 28)
    # Positive control: Tuesday 21 April 2026 + 3 days = Friday 24 April, a working day.
    assert CAL.due(at(date(2026, 4, 21)), THREE_DAYS).on == date(2026, 4, 24)


def test_three_days_hold_at_least_two_working_days() -> None:
    # Atw art. 2: Thursday 24 December 2026 + 3 days = Sunday 27; Monday 28 is a working
    # day, but 25, 26 and 27 December are not, so the period also takes Tuesday 29.
    assert CAL.due(at(date(2026, 12, 24)), THREE_DAYS).on == date(2026, 12, 29)
    # Friday 24 April 2026 + 3 days = Monday 27 April, King's Day: the period (25, 26, 27
    # April) holds no working day, so it runs to Wednesday 29 April.
    assert CAL.due(at(date(2026, 4, 24)), THREE_DAYS).on == date(2026, 4, 29)
    # Friday 1 May 2026 + 3 days = Monday 4 May: the period (2, 3, 4 May) holds one working
    # day, so it runs to Wednesday 6 May (5 May is Liberation Day).
    assert CAL.due(at(date(2026, 5, 1)), THREE_DAYS).on == date(2026, 5, 6)


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
