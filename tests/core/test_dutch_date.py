"""The Dutch date (gateway/core/dutch_date.py) against the rule it stands for: the date on a
calendar in Amsterdam, which is a day ahead of the UTC date from midnight there to midnight
UTC, one hour in winter and two in summer."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from gateway.core.dutch_date import dutch_date, dutch_day_last_second, dutch_today


@pytest.mark.parametrize(
    ("moment", "day"),
    [
        (datetime(2026, 12, 5, 23, 0, tzinfo=UTC), date(2026, 12, 6)),  # midnight, winter
        (datetime(2026, 12, 5, 22, 59, 59, tzinfo=UTC), date(2026, 12, 5)),
        (datetime(2026, 7, 14, 22, 0, tzinfo=UTC), date(2026, 7, 15)),  # midnight, summer
        (datetime(2026, 7, 14, 21, 59, 59, tzinfo=UTC), date(2026, 7, 14)),
        # The control: at noon the UTC date and the Dutch date agree.
        (datetime(2026, 12, 5, 12, 0, tzinfo=UTC), date(2026, 12, 5)),
    ],
)
def test_the_dutch_date_turns_at_midnight_in_amsterdam(moment: datetime, day: date) -> None:
    assert dutch_date(moment) == day


def test_today_is_the_dutch_date_of_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("gateway.db.utcnow", lambda: datetime(2026, 12, 5, 23, 30, tzinfo=UTC))
    assert dutch_today() == date(2026, 12, 6)
    assert dutch_today(datetime(2026, 12, 5, 12, 0, tzinfo=UTC)) == date(2026, 12, 5)


def test_a_moment_without_an_offset_has_no_dutch_date() -> None:
    with pytest.raises(ValueError, match="aware"):
        dutch_date(datetime(2026, 12, 5, 23, 30))


@pytest.mark.parametrize(
    ("day", "last"),
    [
        (date(2026, 12, 5), datetime(2026, 12, 5, 22, 59, 59, tzinfo=UTC)),
        (date(2026, 7, 14), datetime(2026, 7, 14, 21, 59, 59, tzinfo=UTC)),
        # The days the clocks change: 23 and 25 hours long, both ending at midnight there.
        (date(2026, 3, 29), datetime(2026, 3, 29, 21, 59, 59, tzinfo=UTC)),
        (date(2026, 10, 25), datetime(2026, 10, 25, 22, 59, 59, tzinfo=UTC)),
    ],
)
def test_the_last_second_of_a_dutch_day(day: date, last: datetime) -> None:
    assert dutch_day_last_second(day) == last
    assert dutch_date(last) == day
