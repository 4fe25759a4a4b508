"""The demo's partner exports date their events and consents by the Dutch date: an eviction
procedure started "today" and an OM consent for thirty days from today, as the partner in
the Netherlands would write them, also in the hour after midnight there."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from gateway.demo.run import _mitros_export, _police_u_export
from tests.dutch_midnight import AFTER_DUTCH_MIDNIGHT


@pytest.mark.parametrize(
    ("now", "today"),
    AFTER_DUTCH_MIDNIGHT,
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
