"""Steering figures (U §7/§8, R §4.3): the two legs per evaluation period (half a year,
then yearly) and no count under the minimum group size by district or judgement."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient

from gateway.cases.models import CaseFile
from gateway.cases.overview import MIN_GROUP_SIZE, evaluation_periods
from gateway.cases.steering import covenant_periods, hidden_cells
from gateway.context import GatewayContext
from gateway.db import transaction
from gateway.policy.covenant import load_covenants
from tests.cases.builders import report_body
from tests.steering_periods import exact_counts, this_month_ended

Auth = Callable[..., dict[str, str]]
POLICE = ("politie-midden-nederland", "wijkagent")
OFFICER = ("u-centraal", "privacy-officer")


@pytest.fixture(autouse=True)
def _exact_counts() -> Iterator[None]:
    """The true counts in every report of this file: what it tests is not the noise (the
    cell-key method, review14; tests/cases/test_steering_differences.py)."""
    with exact_counts():
        yield


def _open(client: TestClient, auth: Auth, number: int, district: str) -> str:
    body = report_body(postcode="3511 AB", number=number, district=district, persons=[])
    response = client.post("/v1/reports", json=body, headers=auth(*POLICE))
    assert response.status_code == 201, response.text
    case_id: str = response.json()["caseId"]
    return case_id


def test_r_4_3_evaluates_after_half_a_year_then_yearly() -> None:
    """The periods are the covenant file's (steering.evaluationPeriods): Rijswijk's R §4.3
    sets them, Utrecht's U §7/§8 do not (review9a F4: Utrecht's report was cut into R §4.3
    periods by a rule in the code)."""
    covenants = load_covenants()
    rijswijk = covenant_periods(
        covenants["rijswijk-woonoverlast"], date(2026, 1, 1), date(2027, 12, 31)
    )
    assert rijswijk == [
        (date(2026, 1, 1), date(2026, 6, 30)),
        (date(2026, 7, 1), date(2027, 6, 30)),
        (date(2027, 7, 1), date(2027, 12, 31)),
    ]
    assert evaluation_periods(date(2026, 1, 1), date(2027, 12, 31), 6, 12) == rijswijk
    utrecht = covenants["utrecht-extreme-woonoverlast"]
    assert covenant_periods(utrecht, date(2026, 1, 1), date(2027, 12, 31)) == []


def test_a_small_district_is_left_out_of_the_counts(client: TestClient, auth: Auth) -> None:
    for number in range(1, MIN_GROUP_SIZE + 1):
        _open(client, auth, number, "Oost")
        _open(client, auth, 100 + number, "Noord")
    _open(client, auth, 99, "West")
    with this_month_ended():
        body = client.get("/v1/steering-report", headers=auth(*OFFICER)).json()
    assert body["minGroupSize"] == MIN_GROUP_SIZE == 5
    # West's one case is left out, and so is the smallest other district: with Oost shown
    # as 5 next to the total of 11, West would be 11 - 5 - 5 = 1.
    assert len(body["openByDistrict"]) == 1
    assert set(body["openByDistrict"].values()) == {5}
    assert len(body["openedByDistrict"]) == 1
    assert body["suppressedDistricts"] == 2
    assert body["casesOpened"] == 11  # the covenant-wide total stays


def test_districts_of_five_and_more_are_all_shown(client: TestClient, auth: Auth) -> None:
    """The control: nothing small, nothing left out."""
    for number in range(1, MIN_GROUP_SIZE + 1):
        _open(client, auth, number, "Oost")
        _open(client, auth, 100 + number, "Noord")
    with this_month_ended():
        body = client.get("/v1/steering-report", headers=auth(*OFFICER)).json()
    assert body["openByDistrict"] == {"Noord": 5, "Oost": 5}
    assert body["suppressedDistricts"] == 0
    assert body["casesOpened"] == 10


@pytest.mark.parametrize(
    ("counts", "hidden"),
    [
        ({"a": 10, "b": 7, "c": 6}, set()),  # control: nothing under five
        ({"a": 10, "b": 7, "c": 2}, {"b", "c"}),  # c = total - a - b: b goes too
        ({"a": 10, "b": 3, "c": 2}, {"b", "c"}),  # 3 + 2 = 5: enough
        ({"a": 10, "b": 1, "c": 1, "d": 1}, {"a", "b", "c", "d"}),  # 3 hidden: a goes too
        ({"a": 10, "b": 0}, set()),  # an empty cell tells nothing
        ({"a": 4}, {"a"}),
    ],
)
def test_what_is_left_out_adds_up_to_none_or_to_at_least_five(
    counts: dict[str, int], hidden: set[str]
) -> None:
    assert hidden_cells(counts) == hidden
    left_out = sum(counts[key] for key in hidden)
    everything = hidden == {key for key, n in counts.items() if n}  # only the total is shown
    assert left_out == 0 or left_out >= MIN_GROUP_SIZE or everything


def test_the_two_legs_per_period_with_small_counts_suppressed(
    client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    closed = [_open(client, auth, n, "Oost") for n in range(1, MIN_GROUP_SIZE + 2)]
    with transaction(context.session_factory) as session:
        for index, case_id in enumerate(closed):
            case = session.get_one(CaseFile, case_id)
            case.state, case.closed_at = "closed", datetime(2026, 3, 1, 12, tzinfo=UTC)
            case.neighbours_judgement = "worse" if index == 0 else "resolved"
            case.partners_judgement = "improved"
            case.aftercare_decision = "none"
    body = client.get(
        "/v1/steering-report?from=2026-01-01&to=2026-03-31", headers=auth(*OFFICER)
    ).json()
    # One "worse" is left out, and with it "resolved": 6 closed cases minus 5 resolved
    # would tell that one was judged worse.
    assert body["legs"]["neighbours"] == {
        "resolved": None,
        "improved": None,
        "unchanged": None,
        "worse": None,
    }
    assert body["legs"]["partners"]["improved"] == 6
    # U §7/§8 set no evaluation periods: the report is one period (review9a F4; the R §4.3
    # periods of Rijswijk are tests/cases/test_steering_period_suppression.py).
    assert body["evaluationPeriods"] == []


def test_the_default_period_is_the_last_month_ended_in_the_netherlands(
    client: TestClient, auth: Auth, context: GatewayContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between midnight in the Netherlands and midnight UTC the server's date is yesterday's:
    the default period followed the server's date (seen at 23:05 UTC). It follows the
    covenant's own date: the last month that has ended by then (review5a F1; one month
    since review14, not twelve). The control: at noon both agree, and November has not
    ended."""
    late = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)  # 00:30 on 1 December in Amsterdam
    monkeypatch.setattr("gateway.db.utcnow", lambda: late)
    assert context.cases.today("utrecht-extreme-woonoverlast") == date(2026, 12, 1)
    assert _period(client, auth) == ("2026-11-01", "2026-11-30")
    noon = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    monkeypatch.setattr("gateway.db.utcnow", lambda: noon)
    assert context.cases.today("utrecht-extreme-woonoverlast") == date(2026, 11, 30)
    assert _period(client, auth) == ("2026-10-01", "2026-10-31")


def _period(client: TestClient, auth: Auth) -> tuple[str, str]:
    response = client.get("/v1/steering-report", headers=auth(*OFFICER))
    assert response.status_code == 200, response.text
    return str(response.json()["periodFrom"]), str(response.json()["periodTo"])


RIJSWIJK_LANDLORD = ("rijswijk-wonen", "woonconsulent")
FIRE_BRIGADE = ("brandweer-haaglanden", "brandweer-medewerker")  # in no case at all


def _classified(client: TestClient, auth: Auth, number: int) -> None:
    """A Rijswijk case, reported by its landlord and classified simple: one step taken,
    the case now in own-approach."""
    body = report_body(
        postcode="2281 AA", number=number, corporation="rijswijk-wonen", district="Te Werve"
    )
    body["persons"] = []
    filed = client.post("/v1/reports", json=body, headers=auth(*RIJSWIJK_LANDLORD))
    assert filed.status_code == 201, filed.text
    moved = client.post(
        f"/v1/cases/{filed.json()['caseId']}/transitions",
        json={"transition": "classify-simple"},
        headers=auth(*RIJSWIJK_LANDLORD),
    )
    assert moved.status_code == 200, moved.text


def test_one_case_s_phase_and_step_are_left_out_as_a_small_district_is(
    client: TestClient, auth: Auth
) -> None:
    """review3 finding 9: districts were suppressed, phases and steps were not, so a report
    over a day or two, open to every partner, told "one case moved to own-approach on day X"
    (any step: a temporary eviction too). They are left out now, by the same rule."""
    _classified(client, auth, 4)
    with this_month_ended():
        figures = client.get("/v1/steering-report", headers=auth(*FIRE_BRIGADE)).json()
    assert (figures["openByDistrict"], figures["suppressedDistricts"]) == ({}, 1)
    assert figures["openByPhase"] == {}
    assert figures["transitions"] == {}
    assert (figures["suppressedPhases"], figures["suppressedTransitions"]) == (1, 1)
    assert figures["openCases"] == 1  # the covenant-wide total stays


def test_control_phases_and_steps_of_five_and_more_are_shown(
    client: TestClient, auth: Auth
) -> None:
    for number in range(1, MIN_GROUP_SIZE + 1):
        _classified(client, auth, number)
    with this_month_ended():
        figures = client.get("/v1/steering-report", headers=auth(*FIRE_BRIGADE)).json()
    assert figures["openByPhase"] == {"own-approach": MIN_GROUP_SIZE}
    assert figures["transitions"] == {"classify-simple": MIN_GROUP_SIZE}
    assert (figures["suppressedPhases"], figures["suppressedTransitions"]) == (0, 0)


def _closed_on(
    client: TestClient, auth: Auth, context: GatewayContext, reported: list[datetime]
) -> None:
    """A Utrecht case per report date, each closed at noon on 1 March 2026."""
    for number, first_report_at in enumerate(reported, start=200):
        case_id = _open(client, auth, number, "Oost")
        with transaction(context.session_factory) as session:
            case = session.get_one(CaseFile, case_id)
            case.state, case.closed_at = "closed", datetime(2026, 3, 1, 12, tzinfo=UTC)
            case.first_report_at = first_report_at
            case.aftercare_decision = "none"


MARCH = "/v1/steering-report?from=2026-03-01&to=2026-03-31"
PERIOD_FIGURES = [
    "casesClosed",
    "closedWithinTarget",
    "shareClosedWithinTarget",
    "throughput.closedCases",
    "throughput.medianDays",
    "throughput.meanDays",
    "throughput.maxDays",
]


def test_one_closed_case_s_duration_over_a_month_is_left_out(
    client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    """Follow-up to review3 finding 9: over a one-day window the report told "one case
    closed on 1 March, after 45.5 days, within the target". A figure over fewer than the
    minimum group size is null now, and ``suppressedFigures`` names it (and a window is
    whole months since review5a F1)."""
    _closed_on(client, auth, context, [datetime(2026, 1, 15, 0, tzinfo=UTC)])
    figures = client.get(MARCH, headers=auth(*OFFICER)).json()
    assert figures["throughput"] == {
        "closedCases": None,
        "medianDays": None,
        "meanDays": None,
        "maxDays": None,
    }
    assert figures["casesClosed"] is None
    assert figures["closedWithinTarget"] is None
    assert figures["shareClosedWithinTarget"] is None
    assert figures["suppressedFigures"] == PERIOD_FIGURES
    assert figures["casesOpened"] == 0  # none opened in March: nobody described
    # A case opened this month is one case too: once the month has ended, its count is out.
    with this_month_ended():
        today = client.get("/v1/steering-report", headers=auth(*OFFICER)).json()
    assert today["casesOpened"] is None
    assert "casesOpened" in today["suppressedFigures"]
    assert today["openCases"] == 0  # the covenant's total now (the case is closed) stays


def test_control_five_closed_cases_show_their_figures(
    client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    # 44.5 days each: whole weeks, 42 (review5a F1).
    _closed_on(client, auth, context, [datetime(2026, 1, 16, 0, tzinfo=UTC)] * MIN_GROUP_SIZE)
    figures = client.get(MARCH, headers=auth(*OFFICER)).json()
    assert figures["casesClosed"] == MIN_GROUP_SIZE
    assert figures["throughput"] == {
        "closedCases": MIN_GROUP_SIZE,
        "medianDays": 42.0,
        "meanDays": 42.0,
        "maxDays": 42.0,
    }
    assert (figures["closedWithinTarget"], figures["shareClosedWithinTarget"]) == (5, 1.0)
    assert figures["suppressedFigures"] == []


def test_one_case_within_the_target_beside_five_beyond_is_left_out(
    client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    """Within and beyond the target are two cells of the closed cases: 1 within beside 5
    beyond names the one quick case; both go, the durations (over 6) stay."""
    year_before = datetime(2025, 3, 1, 0, tzinfo=UTC)
    _closed_on(client, auth, context, [datetime(2026, 2, 20, 0, tzinfo=UTC)] + [year_before] * 5)
    figures = client.get(MARCH, headers=auth(*OFFICER)).json()
    assert figures["casesClosed"] == 6
    assert figures["throughput"]["maxDays"] == 364.0  # 365.5 days: 52 whole weeks
    assert (figures["closedWithinTarget"], figures["shareClosedWithinTarget"]) == (None, None)
    assert figures["suppressedFigures"] == ["closedWithinTarget", "shareClosedWithinTarget"]
