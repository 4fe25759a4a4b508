"""Instants in the hour after midnight in Amsterdam, where the UTC date is still the day
before, with the Dutch date each one has; and the control, an instant where both dates agree.
A test parametrized over these shows the Dutch date decides (and cannot pass by always
giving the UTC date or always the next day)."""

from __future__ import annotations

from datetime import UTC, date, datetime

AFTER_DUTCH_MIDNIGHT: list[tuple[datetime, date]] = [
    (datetime(2026, 12, 5, 23, 30, tzinfo=UTC), date(2026, 12, 6)),  # 00:30 in Amsterdam
    (datetime(2026, 7, 14, 22, 30, tzinfo=UTC), date(2026, 7, 15)),  # 00:30, summer time
    # The control: at noon the UTC date and the Dutch date agree.
    (datetime(2026, 12, 5, 12, 0, tzinfo=UTC), date(2026, 12, 5)),
]
