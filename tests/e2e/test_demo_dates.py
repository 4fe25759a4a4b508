"""The demo's partner exports date their events and consents by the Dutch date: an eviction
procedure started "today" and an OM consent for thirty days from today, as the partner in
the Netherlands would write them, also in the hour after midnight there."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from gateway.demo.run import _mitros_export, _police_u_export


@pytest.mark.parametrize(
    ("now", "today"),
    [
        (datetime(2026, 12, 5, 23, 30, tzinfo=UTC), date(2026, 12, 6)),  # 00:30 in Amsterdam
        (datetime(2026, 7, 14, 22, 30, tzinfo=UTC), date(2026, 7, 15)),  # 00:30, summer time
        # The control: at noon the UTC date and the Dutch date agree.
        (datetime(2026, 12, 5, 12, 0, tzinfo=UTC), date(2026, 12, 5)),
    ],
)
def test_the_demo_exports_are_dated_by_the_dutch_date(
    monkeypatch: pytest.MonkeyPatch, now: datetime, today: date
) -> None:
    monkeypatch.setattr("gateway.db.utcnow", lambda: now)
    (mitros,) = _mitros_export("UTR-DEMO-1", permission=True, eviction=True)
    assert mitros["caseEvents"] == [
        {"event": "eviction-procedure", "occurredOn": today.isoformat()}
    ]
    (police,) = _police_u_export("UTR-DEMO-1", om_consent=True)
    assert [c["expiresOn"] for c in police["omConsents"]] == [
        (today + timedelta(days=30)).isoformat()
    ]
