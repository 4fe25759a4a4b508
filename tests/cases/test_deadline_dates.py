"""Deadlines as the sources count them, seen through the API: U §5.1 "binnen vijf dagen"
and U §5.2 "binnen drie dagen" are calendar days, moved by the Algemene termijnenwet when
they end on a weekend or holiday; and a deadline shows one date everywhere."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from tests.cases.builders import report_body

Auth = Callable[..., dict[str, str]]
AMS = ZoneInfo("Europe/Amsterdam")
CM = ("u-centraal", "casemanager")
POLICE = ("politie-midden-nederland", "wijkagent")


def _intake_deadline(client: TestClient, auth: Auth, received: datetime, **kw: Any) -> Any:
    body = report_body(received_at=received, **kw)
    created = client.post("/v1/reports", json=body, headers=auth(*POLICE))
    assert created.status_code == 201, created.text
    summary = client.get(f"/v1/cases/{created.json()['caseId']}", headers=auth(*CM)).json()
    (deadline,) = [d for d in summary["deadlines"] if d["deadline"] == "intake-decision"]
    return deadline


class TestCalendarDays:
    def test_five_days_ending_on_a_saturday_move_to_monday(
        self, client: TestClient, auth: Auth
    ) -> None:
        # Monday 9 March 2026 + 5 calendar days = Saturday 14 March -> Monday 16 March.
        deadline = _intake_deadline(client, auth, datetime(2026, 3, 9, 10, tzinfo=AMS))
        assert deadline["dueOn"] == "2026-03-16"
        assert deadline["source"].startswith('U §5.1 ("binnen vijf dagen")')

    def test_five_days_that_end_on_a_working_day_are_not_working_days(
        self, client: TestClient, auth: Auth
    ) -> None:
        # Positive control: Thursday 5 March + 5 = Tuesday 10 March (working days would
        # have given Thursday 12 March).
        deadline = _intake_deadline(client, auth, datetime(2026, 3, 5, 10, tzinfo=AMS))
        assert deadline["dueOn"] == "2026-03-10"

    def test_five_days_ending_on_easter_monday_move_to_tuesday(
        self, client: TestClient, auth: Auth
    ) -> None:
        deadline = _intake_deadline(client, auth, datetime(2026, 4, 1, 10, tzinfo=AMS))
        assert deadline["dueOn"] == "2026-04-07"

    def test_five_days_ending_on_kings_day_move_to_the_next_day(
        self, client: TestClient, auth: Auth
    ) -> None:
        deadline = _intake_deadline(client, auth, datetime(2026, 4, 22, 10, tzinfo=AMS))
        assert deadline["dueOn"] == "2026-04-28"
