"""The Dutch date: the one calendar a covenant's dates are on.

A covenant is Dutch: a date in it (the day an event occurred, the day a consent expires, a
meeting day, a retention term, a date of birth, the day a dossier was erased) is a date on
the calendar in the Netherlands. Timestamps are kept in UTC, whose date is still yesterday's
between midnight in Amsterdam and midnight UTC (00:00-01:00 in winter, 00:00-02:00 in
summer): ``moment.date()`` or ``date.today()`` on a server is the wrong day in that hour.

The clock is ``gateway.db.utcnow``, read when a function runs, so a test that pins it pins
every Dutch date too. It is imported when the clock is first read, not with this module, so
importing the module (the partner adapters do) does not load the database layer.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

DUTCH_TIME = ZoneInfo("Europe/Amsterdam")


def dutch_date(moment: datetime) -> date:
    """The date in the Netherlands at ``moment`` (an aware datetime)."""
    if moment.tzinfo is None:
        # A naive datetime would be read in the machine's zone: no date can be told from it.
        raise ValueError("a Dutch date needs an aware datetime")
    return moment.astimezone(DUTCH_TIME).date()


def dutch_today(now: datetime | None = None) -> date:
    """Today in the Netherlands (at ``now``, default the clock)."""
    if now is None:
        from gateway import db

        now = db.utcnow()
    return dutch_date(now)


def dutch_day_last_second(day: date) -> datetime:
    """The last whole second of ``day`` in the Netherlands, in UTC: what "until <day>" means
    for a consent that holds through that day."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=DUTCH_TIME).astimezone(UTC)
