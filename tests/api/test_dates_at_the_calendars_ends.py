"""Days and moments at the ends of the calendar are a 400/422 problem+json, never a 500
(review6a, finding 5, and its siblings).

``0001-01-01T00:00:00+01:00`` is a moment of the year 0 in UTC, ``9999-12-31T23:59:59-01:00``
one of the year 10000: binding either to the audit search overflowed (500). So did a
``receivedAt`` or an ``expiresAt`` whose Dutch date is outside the calendar (check_date
raised OverflowError, not ValueError), the steering report's ``to=9999-12-31`` (adding a day)
and the retention dry run's ``asOf`` at either end; a case event's ``occurredOn`` in the
year 1 was stored. Each is refused now, nothing is stored, and each has a positive control:
the same request inside the range is answered.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from gateway.cases.models import CaseEventRecord
from gateway.context import GatewayContext
from tests.exchange.conftest import CASE_MANAGER, MITROS, WIJKAGENT, open_utrecht_case

Auth = Callable[..., dict[str, str]]
OFFICER = ("gemeente-utrecht", "privacy-officer")
#: Outside the calendar in UTC (and so in Dutch time).
OUTSIDE = ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"]
#: At the calendar's ends in UTC: instants the audit search takes.
AT_THE_ENDS = ["0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59+00:00"]


def _refused(response: Any, field: str, status: int = 400) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in [p["name"] for p in response.json()["invalidParams"]], response.text


@pytest.mark.parametrize("moment", OUTSIDE)
def test_an_audit_search_bound_outside_the_calendar_is_a_400(
    client: TestClient, auth: Auth, moment: str
) -> None:
    for bound in ("from", "until"):
        searched = client.post(
            "/v1/audit/entries/search", json={bound: moment}, headers=auth(*OFFICER)
        )
        _refused(searched, bound)
        assert "0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z" in searched.text
        activity = client.get(
            "/v1/audit/partner-activity", params={bound: moment}, headers=auth(*OFFICER)
        )
        _refused(activity, bound)


@pytest.mark.parametrize("moment", AT_THE_ENDS)
def test_an_audit_search_bound_at_the_calendars_ends_is_searched(
    client: TestClient, auth: Auth, moment: str
) -> None:
    """The positive control: an instant in the calendar, however far, is a bound."""
    for bound in ("from", "until"):
        searched = client.post(
            "/v1/audit/entries/search", json={bound: moment}, headers=auth(*OFFICER)
        )
        assert searched.status_code == 200, searched.text
        activity = client.get(
            "/v1/audit/partner-activity", params={bound: moment}, headers=auth(*OFFICER)
        )
        assert activity.status_code == 200, activity.text


def _report(received_at: str) -> dict[str, Any]:
    return {
        "dwelling": {
            "address": {"postcode": "3511 AB", "houseNumber": 12},
            "ownership": "corporation",
            "corporationId": "mitros",
            "district": "binnenstad",
        },
        "persons": [{"role": "causer", "bsn": "111222333"}],
        "report": {"channel": "form", "description": "Lawaai.", "receivedAt": received_at},
    }


@pytest.mark.parametrize("moment", [*OUTSIDE, "9999-12-31T23:59:59+00:00"])
def test_a_received_at_or_expires_at_outside_the_calendar_is_a_400(
    client: TestClient, auth: Auth, moment: str
) -> None:
    # 9999-12-31T23:59:59Z is 10000-01-01 in Dutch time: outside the calendar too.
    _refused(
        client.post("/v1/reports", json=_report(moment), headers=auth(*MITROS)), "report.receivedAt"
    )
    case = open_utrecht_case(client, auth)
    consent = {"kind": "om-consent", "scope": ["police-nuisance-antecedents"], "expiresAt": moment}
    _refused(
        client.post(f"/v1/cases/{case.case_id}/consents", json=consent, headers=auth(*WIJKAGENT)),
        "expiresAt",
    )
    # The positive control: inside the range both are taken.
    consent["expiresAt"] = "2099-01-01T00:00:00+01:00"
    given = client.post(
        f"/v1/cases/{case.case_id}/consents", json=consent, headers=auth(*WIJKAGENT)
    )
    assert given.status_code == 201, given.text
    reported = client.post(
        "/v1/reports", json=_report("2026-03-02T09:30:00+01:00"), headers=auth(*MITROS)
    )
    # The same address as the case above: the report joins that case (200), a report taken.
    assert reported.status_code in (200, 201), reported.text
    assert reported.json()["reportId"]


@pytest.mark.parametrize("day", ["0001-01-01", "1999-12-31", "2101-01-01", "9999-12-31"])
def test_a_case_event_outside_the_workflows_range_is_a_400_and_not_stored(
    client: TestClient, auth: Auth, context: GatewayContext, day: str
) -> None:
    case = open_utrecht_case(client, auth)

    def record(occurred_on: str, key: str) -> Any:
        return client.post(
            f"/v1/cases/{case.case_id}/events",
            json={"event": "eviction-procedure", "occurredOn": occurred_on},
            headers={**auth(*MITROS), "Idempotency-Key": key},
        )

    _refused(record(day, f"event-{day}"), "occurredOn")
    with context.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(CaseEventRecord)) == 0
    recorded = record("2026-01-15", "event-in-range")  # the positive control
    assert recorded.status_code == 201, recorded.text


@pytest.mark.parametrize(
    ("bound", "day"),
    [
        ("to", "9999-12-31"),
        ("to", "0001-01-31"),
        ("from", "9999-12-01"),
        ("from", "0001-01-01"),
    ],
)
def test_a_steering_period_at_the_calendars_ends_is_a_422(
    client: TestClient, auth: Auth, bound: str, day: str
) -> None:
    response = client.get("/v1/steering-report", params={bound: day}, headers=auth(*CASE_MANAGER))
    assert response.status_code == 422, response.text
    assert response.json()["type"].endswith("/steering-period-not-accepted")
    assert bound in [p["name"] for p in response.json()["invalidParams"]]
    # The positive control: a quarter that has ended.
    quarter = client.get(
        "/v1/steering-report",
        params={"from": "2026-01-01", "to": "2026-03-31"},
        headers=auth(*CASE_MANAGER),
    )
    assert quarter.status_code == 200, quarter.text


@pytest.mark.parametrize("day", ["0001-01-01", "1999-12-31", "2101-01-01", "9999-12-31"])
def test_a_retention_dry_run_outside_the_workflows_range_is_a_400(
    client: TestClient, auth: Auth, day: str
) -> None:
    _refused(client.get("/v1/retention/due", params={"asOf": day}, headers=auth(*OFFICER)), "asOf")
    shown = client.get("/v1/retention/due", params={"asOf": "2100-01-01"}, headers=auth(*OFFICER))
    assert shown.status_code == 200, shown.text
