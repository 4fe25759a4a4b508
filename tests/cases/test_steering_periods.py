"""review5a F1: the steering report took any ``from``/``to``, and two windows a day apart
gave back what the suppression of each window left out: "one case closed on 2 March, after
45 days" (the difference of the counts and of the sums of days) and "one case took this step
on 2 March" (review3 finding 9), and ``maxDays`` was the longest case's exact duration.

It covers a calendar month, quarter or year that has ended now (any other window is a 422
that says what is accepted; since review14 no other run of months either, so that no month
is the difference of many pairs of windows), durations are in whole weeks and ``maxDays`` is
the fifth longest. Each refusal has its control: the same cases over a whole ended month
are shown. The counts are perturbed (gateway/cases/cell_key.py): a count shown is within
the noise bound of the truth, and the same cases give the same figure in every report. The
report is read by the steering group (U §8): the reader here is the municipality's
gebiedsmanager."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from gateway.cases.models import CaseFile, CaseTransition
from gateway.cases.steering import report_window
from gateway.context import GatewayContext
from gateway.core.errors import Unprocessable
from gateway.core.problem import PROBLEM_BASE
from gateway.db import transaction
from tests.cases.builders import report_body
from tests.steering_periods import near

Auth = Callable[..., dict[str, str]]
REPORTER = ("politie-midden-nederland", "wijkagent")
READER = ("gemeente-utrecht", "gebiedsmanager")  # a steering group member (U §8)
DAY = datetime(2026, 3, 1, 12, tzinfo=UTC)
NOT_ACCEPTED = PROBLEM_BASE + "steering-period-not-accepted"


@pytest.fixture(autouse=True)
def _in_april(monkeypatch: pytest.MonkeyPatch) -> None:
    """The report's "today" is 15 April 2026 (the covenant's calendar); the tokens' clock
    stays the real one."""
    monkeypatch.setattr(
        "gateway.cases.runtime.CaseRuntime.today", lambda self, covenant_id: date(2026, 4, 15)
    )


def _open(client: TestClient, auth: Auth, number: int) -> str:
    body = report_body(postcode="3511 AB", number=number, district="Oost", persons=[])
    response = client.post("/v1/reports", json=body, headers=auth(*REPORTER))
    assert response.status_code == 201, response.text
    return str(response.json()["caseId"])


def _close(context: GatewayContext, case_id: str, first: datetime, closed: datetime) -> None:
    with transaction(context.session_factory) as session:
        case = session.get_one(CaseFile, case_id)
        case.state, case.first_report_at, case.closed_at = "closed", first, closed
        case.neighbours_judgement = "resolved"
        case.partners_judgement = "improved"
        case.aftercare_decision = "none"


def _step(context: GatewayContext, case_id: str, transition: str, at: datetime) -> None:
    with transaction(context.session_factory) as session:
        session.add(
            CaseTransition(
                id=str(uuid.uuid4()),
                case_id=case_id,
                covenant_id="utrecht-extreme-woonoverlast",
                transition=transition,
                from_state="execution",
                to_state="evaluation",
                at=at,
                actor_partner_id="u-centraal",
                actor_role="casemanager",
                actor_user=None,
                facts={},
            )
        )


def _get(client: TestClient, auth: Auth, query: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    response = client.get(f"/v1/steering-report?{query}", headers=auth(*READER))
    return response.status_code, response.json()


def _five_and_one(client: TestClient, auth: Auth, context: GatewayContext) -> None:
    """Five cases closed on 1 March after 30..34 days; the one of interest on 2 March after
    exactly 45.5 days."""
    for n in range(5):
        _close(context, _open(client, auth, n + 1), DAY - timedelta(days=30 + n), DAY)
    target = _open(client, auth, 99)
    _close(context, target, DAY + timedelta(days=1) - timedelta(days=45.5), DAY + timedelta(1))


@pytest.mark.parametrize(
    "query",
    [
        "from=2026-03-02&to=2026-03-02",  # the one day alone
        "from=2026-01-01&to=2026-03-01",  # the two windows a day apart
        "from=2026-01-01&to=2026-03-02",
        "to=2026-03-01",
        "from=2026-03-02",
        # review14: runs of months other than a month, a quarter, a year.
        "from=2026-01-01&to=2026-02-28",
        "from=2026-02-01&to=2026-04-30",
        "from=2026-02-01&to=2026-03-31",
        "from=2025-02-01&to=2026-01-31",
        "to=2026-03-31",
        "from=2026-03-01",
    ],
)
def test_windows_of_days_are_422_and_say_what_is_accepted(
    client: TestClient, auth: Auth, context: GatewayContext, query: str
) -> None:
    _five_and_one(client, auth, context)
    status, body = _get(client, auth, query)
    assert status == 422, body
    assert body["type"] == NOT_ACCEPTED
    assert "one calendar month, one calendar quarter or one calendar year" in body["detail"]
    assert "casesClosed" not in body


def test_control_the_same_cases_over_whole_ended_months_in_whole_weeks(
    client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    """The control: March (and the quarter) shows the six cases; the durations are whole
    weeks and maxDays is the fifth longest (31 days: 28), not the one case's 45.5. The
    count is perturbed, the same in both (the same six cases: the same cell key)."""
    _five_and_one(client, auth, context)
    bodies = []
    for query in ["from=2026-03-01&to=2026-03-31", "from=2026-01-01&to=2026-03-31"]:
        status, body = _get(client, auth, query)
        assert status == 200, body
        assert (body["perturbed"], body["noiseBound"]) == (True, 2)
        assert near(body["casesClosed"], 6), body
        assert body["throughput"]["closedCases"] == body["casesClosed"]
        # 30, 31, 32, 33, 34 and 45.5 days: median 32.5 is 35 in weeks; the mean (34.25)
        # carries noise of up to the median over six cases before it is rounded.
        assert body["throughput"]["medianDays"] == 35.0
        assert body["throughput"]["maxDays"] == 28.0
        assert body["throughput"]["meanDays"] in (28.0, 35.0, 42.0)
        bodies.append(body)
    assert bodies[0]["casesClosed"] == bodies[1]["casesClosed"]
    assert bodies[0]["throughput"] == bodies[1]["throughput"]
    # February (a whole month, none closed) beside March: 0 is exact.
    status, before = _get(client, auth, "from=2026-02-01&to=2026-02-28")
    assert (status, before["casesClosed"]) == (200, 0)


def test_one_step_on_one_day_is_no_longer_a_difference_of_two_windows(
    client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    """review3 finding 9 left steps under five out; two windows a day apart gave the step
    back (5 then 6 on 2 March). Windows of days are 422; March shows all six (control)."""
    cases = [_open(client, auth, n + 1) for n in range(6)]
    for case_id in cases[:5]:
        _step(context, case_id, "start-evaluation", DAY)
    _step(context, cases[5], "start-evaluation", DAY + timedelta(days=1))
    assert _get(client, auth, "from=2026-01-01&to=2026-03-01")[0] == 422
    assert _get(client, auth, "from=2026-01-01&to=2026-03-02")[0] == 422
    status, march = _get(client, auth, "from=2026-03-01&to=2026-03-31")
    assert status == 200, march
    assert near(march["transitions"]["start-evaluation"], 6), march


def test_the_month_in_progress_is_not_reported(
    client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    """Up to "yesterday" the month in progress would move day by day: April is 422 on
    15 April, whole or in part; the default is March (control)."""
    for query in [
        "from=2026-04-01&to=2026-04-30",
        "from=2026-04-01",
        "to=2026-04-30",
        "from=2026-04-01&to=2026-06-30",
        "from=2026-01-01&to=2026-12-31",
    ]:
        status, body = _get(client, auth, query)
        assert status == 422, (query, body)
        assert body["type"] == NOT_ACCEPTED
    status, body = _get(client, auth, "")
    assert status == 200, body
    assert (body["periodFrom"], body["periodTo"]) == ("2026-03-01", "2026-03-31")


@pytest.mark.parametrize(
    ("asked", "window"),
    [
        ((None, None), (date(2026, 3, 1), date(2026, 3, 31))),
        ((date(2026, 1, 1), date(2026, 3, 31)), (date(2026, 1, 1), date(2026, 3, 31))),
        ((date(2025, 10, 1), date(2025, 12, 31)), (date(2025, 10, 1), date(2025, 12, 31))),
        ((date(2024, 1, 1), date(2024, 12, 31)), (date(2024, 1, 1), date(2024, 12, 31))),
        ((date(2026, 2, 1), date(2026, 2, 28)), (date(2026, 2, 1), date(2026, 2, 28))),
    ],
)
def test_the_accepted_windows(
    asked: tuple[date | None, date | None], window: tuple[date, date]
) -> None:
    assert report_window(date(2026, 4, 15), *asked) == window


@pytest.mark.parametrize(
    "asked",
    [
        (date(2026, 2, 2), date(2026, 2, 28)),
        (date(2026, 2, 1), date(2026, 2, 27)),
        (date(2026, 3, 1), date(2026, 2, 28)),
        (date(2026, 4, 1), None),
        (None, date(2026, 4, 30)),
        (date(1999, 12, 1), None),
        (date(2026, 1, 1), None),  # both or neither
        (None, date(2026, 3, 31)),
        (date(2025, 4, 1), date(2026, 3, 31)),  # twelve months, not a calendar year
        (date(2025, 11, 1), date(2026, 1, 31)),  # three months, not a calendar quarter
        (date(2026, 1, 1), date(2026, 2, 28)),  # two months
    ],
)
def test_the_windows_not_accepted(asked: tuple[date | None, date | None]) -> None:
    with pytest.raises(Unprocessable):
        report_window(date(2026, 4, 15), *asked)
