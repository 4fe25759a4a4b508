"""review9a F4: the steering report's evaluation periods undid the suppression of the whole
report's judgements in the same response. Six Utrecht cases closed, five in July judged
resolved, one in November judged worse by the neighbours and unchanged by the partners: the
whole report's judgements were all null (one of six judged worse), but the periods showed
"May-October: 5 closed, 5 resolved" and "November: null", so 6 - 5 told that one case
closed in November and was not judged resolved by either leg.

The periods' closed cases are now a breakdown of the whole report's (complementary
suppression across the periods), and a leg's judgements per period are shown only when no
cell of the period x judgement table (the unjudged cases included) is 1 to 4
(gateway/cases/steering.py ``period_legs_shown``). And the periods are the covenant's:
Utrecht's U §7/§8 set none, Rijswijk's R §4.3 does (covenant.yaml steering.evaluationPeriods).

Each test below tries the differencing on what one response publishes: every published
total minus the figures shown beside it, and every sum and difference of up to three of
the published totals (a period's cases, a whole judgement, the whole total), over the
reviewer's case and generated distributions. The control: two periods each with at least
five cases closed and five per judgement show everything.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.cases import steering
from gateway.cases.cell_key import Cell
from gateway.cases.models import CaseFile
from gateway.cases.steering import JUDGEMENTS, MIN_GROUP_SIZE
from gateway.cases.window_figures import CLOSED, Bucket, WindowFigures
from gateway.context import GatewayContext
from gateway.db import transaction
from tests.cases.builders import report_body
from tests.cases.overview_oracle import _tally as oracle_tally
from tests.steering_periods import exact_counts

Auth = Callable[..., dict[str, str]]
LEGS = ("neighbours", "partners")
#: The cases closed without a judgement (a declined report): a cell never shown.
NONE = "unjudged"
COLUMNS = (*JUDGEMENTS, NONE)
#: One closed case: (period index, neighbours' judgement, partners' judgement); None for a
#: case closed without a judgement.
Case = tuple[int, str | None, str | None]

UTRECHT_REPORTER = ("politie-midden-nederland", "wijkagent")
UTRECHT_READER = ("u-centraal", "casemanager")
RIJSWIJK_REPORTER = ("rijswijk-wonen", "woonconsulent")
#: R §4.3: "De resultaten van de evaluatie worden gecommuniceerd naar alle ketenpartners".
RIJSWIJK_READER = ("politie-den-haag", "wijkagent")
#: The year 2026 (a report is a month, a quarter or a year since review14): January-June is
#: the first half year, July-December the start of the next.
WINDOW = "from=2026-01-01&to=2026-12-31"
PERIOD_DAYS = (datetime(2026, 3, 10, 12, tzinfo=UTC), datetime(2026, 11, 20, 12, tzinfo=UTC))


@pytest.fixture(autouse=True)
def _exact_counts() -> Iterator[None]:
    """The true counts in every report of this file: what it tests is not the noise (the
    cell-key method, review14; tests/cases/test_steering_differences.py)."""
    with exact_counts():
        yield


@pytest.fixture(autouse=True)
def _in_december(monkeypatch: pytest.MonkeyPatch) -> None:
    """2026 has ended for the report (its "today" is 15 January 2027)."""
    monkeypatch.setattr(
        "gateway.cases.runtime.CaseRuntime.today", lambda self, covenant_id: date(2027, 1, 15)
    )


# -- the attack: what one response gives away ------------------------------------------


def _truth(cases: Sequence[Case], periods: int) -> dict[tuple[str, int, str], int]:
    """The true count of every cell (leg, period, column)."""
    cells: Counter[tuple[str, int, str]] = Counter()
    for period, mine, theirs in cases:
        cells[("neighbours", period, mine or NONE)] += 1
        cells[("partners", period, theirs or NONE)] += 1
    return {
        (leg, p, c): cells[(leg, p, c)] for leg in LEGS for p in range(periods) for c in COLUMNS
    }


def leaks(body: dict[str, Any], cases: Sequence[Case]) -> list[str]:
    """The counts of 1 to 4 cases one response gives away: each published total (a period's
    cases, a whole judgement, the whole total) is an equation over the cells; the cells
    shown are known; every sum and difference of up to three equations that leaves a sum
    of unknown cells (each once) with a value of 1 to 4 is a leak."""
    periods = body["evaluationPeriods"] or [{"casesClosed": None, "legs": body["legs"]}]
    listed = bool(body["evaluationPeriods"])
    truth = _truth(cases, len(periods))
    known: dict[tuple[str, int, str], int] = {}
    if listed:
        for p, period in enumerate(periods):
            for leg in LEGS:
                for judgement, shown in period["legs"][leg].items():
                    if shown is not None:
                        assert shown == truth[(leg, p, judgement)]
                        known[(leg, p, judgement)] = shown
    equations: list[tuple[str, dict[tuple[str, int, str], int], int]] = []
    total = body["casesClosed"]
    for leg in LEGS:
        if total is not None:
            every = {(leg, p, c): 1 for p in range(len(periods)) for c in COLUMNS}
            equations.append((f"casesClosed ({leg})", every, total))
        for judgement, shown in body["legs"][leg].items():
            if shown is not None:
                column = {(leg, p, judgement): 1 for p in range(len(periods))}
                equations.append((f"legs.{leg}.{judgement}", column, shown))
        for p, period in enumerate(periods):
            if listed and period["casesClosed"] is not None:
                row = {(leg, p, c): 1 for c in COLUMNS}
                equations.append((f"period {p} casesClosed ({leg})", row, period["casesClosed"]))
    found = []
    for size in (1, 2, 3):
        for chosen in itertools.combinations(equations, size):
            for signs in itertools.product((1, -1), repeat=size):
                if signs[0] != 1:
                    continue  # the negation tells the same
                cells: Counter[tuple[str, int, str]] = Counter()
                value = 0
                for sign, (_, coefficients, total_of) in zip(signs, chosen, strict=True):
                    for cell, a in coefficients.items():
                        cells[cell] += sign * a
                    value += sign * total_of
                for cell, a in list(cells.items()):
                    if cell in known:
                        value -= a * known[cell]
                        del cells[cell]
                unknown = {cell for cell, a in cells.items() if a}
                if unknown and all(cells[cell] == 1 for cell in unknown) and 0 < value < 5:
                    assert value == sum(truth[cell] for cell in unknown)  # the attack is sound
                    names = " ".join(
                        f"{s:+d} {name}" for s, (name, _, _) in zip(signs, chosen, strict=True)
                    )
                    found.append(f"{names} = {value}: {sorted(unknown)}")
    return found


def something_to_hide(cases: Sequence[Case], periods: int) -> bool:
    """Whether any count the report could publish (a cell, a period's cases, a whole
    judgement) is 1 to 4."""
    truth = _truth(cases, periods)
    per_period = Counter(p for p, _, _ in cases)
    whole: Counter[tuple[str, str]] = Counter()
    for (leg, _, column), n in truth.items():
        whole[(leg, column)] += n
    counts = [*truth.values(), *per_period.values(), *whole.values(), len(cases)]
    return any(0 < n < MIN_GROUP_SIZE for n in counts)


# -- the rule alone, over many generated distributions ---------------------------------


def published(cases: Sequence[Case], periods: int) -> dict[str, Any]:
    """What the report publishes of ``cases`` in ``periods`` evaluation periods, by the
    gateway's own functions (the steering report's closed-case part: one bucket per period,
    gateway/cases/window_figures.py, the exact figures)."""
    spans = [(date(2026, p + 1, 1), date(2026, p + 1, 28)) for p in range(periods)]
    buckets = [Bucket() for _ in spans]
    for p, mine, theirs in cases:
        buckets[p].add(buckets[p].legs, (mine, theirs), Cell(1, 0))

    def listed(first: date, last: date) -> list[tuple[date, date]]:
        return [s for s in spans if first <= s[0] and s[1] <= last]

    figures = WindowFigures(
        buckets,
        [begin for begin, _ in spans],
        spans[-1][1] + timedelta(days=1),
        months=False,
        rules=steering.figure_rules(steering.exact, listed),
    )
    whole = (0, periods - 1)
    out = steering._periods_out(figures, whole, [(b, f, None, None) for b, f in spans])
    return {
        "casesClosed": figures.value(whole, (CLOSED, None)),
        "legs": {leg: steering._judgements(figures, whole, leg) for leg in LEGS},
        "evaluationPeriods": [p.model_dump(by_alias=True) for p in out],
    }


def generated(seed: int) -> tuple[list[Case], int]:
    """A distribution: one to three periods, up to a dozen cases each, judgements skewed
    (most resolved or improved, some worse, some declined without a judgement)."""
    rng = random.Random(seed)
    periods = rng.choice((1, 2, 2, 3))
    weights = [rng.randint(0, 6) for _ in range(5)]
    if not any(weights):
        weights[0] = 1
    choices: list[str | None] = [*JUDGEMENTS, None]
    cases: list[Case] = []
    for p in range(periods):
        for _ in range(rng.choice((0, 1, 3, 5, 6, 8, 12))):
            mine = rng.choices(choices, weights)[0]
            judged = weights[:4] if sum(weights[:4]) else None
            theirs = None if mine is None else rng.choices(JUDGEMENTS, judged)[0]
            cases.append((p, mine, theirs))
    return cases, periods


def test_no_combination_of_published_counts_gives_away_fewer_than_five() -> None:
    tried = hidden = shown = 0
    for seed in range(400):
        cases, periods = generated(seed)
        tried += 1
        body = published(cases, periods)
        assert leaks(body, cases) == [], (seed, cases, body)
        legs = [
            v for p in body["evaluationPeriods"] for leg in LEGS for v in p["legs"][leg].values()
        ]
        shown += any(v is not None for v in legs)
        if something_to_hide(cases, periods):
            hidden += 1
        else:
            # The control within: nothing small, nothing left out (a 0 is null as before).
            assert body["casesClosed"] == len(cases)
            assert all(p["casesClosed"] is not None for p in body["evaluationPeriods"])
            truth = _truth(cases, periods)
            for p, period in enumerate(body["evaluationPeriods"]):
                for leg in LEGS:
                    for judgement, value in period["legs"][leg].items():
                        assert value == (truth[(leg, p, judgement)] or None)
    print(
        f"{tried} distributions, {hidden} with a count of 1 to 4 to hide, {shown} with "
        "period judgements shown: no leak"
    )
    assert hidden >= 200  # the distributions do test the suppression
    assert tried - hidden >= 5  # and the control


def test_the_old_rule_leaked_on_the_same_distributions() -> None:
    """The attack finds what the old rule (each period on its own) gave away: the test
    above is not passing for want of an attack."""

    def old(cases: Sequence[Case], periods: int) -> dict[str, Any]:
        body = published(cases, periods)
        for p, period in enumerate(body["evaluationPeriods"]):
            mine = [c for c in cases if c[0] == p]
            period["casesClosed"] = len(mine) if len(mine) >= MIN_GROUP_SIZE else None
            period["legs"] = {
                "neighbours": oracle_tally(Counter(n for _, n, _ in mine if n)),
                "partners": oracle_tally(Counter(t for _, _, t in mine if t)),
            }
        return body

    leaked = sum(bool(leaks(old(*generated(seed)), generated(seed)[0])) for seed in range(400))
    print(f"the old rule gave away a count under five in {leaked} of 400 distributions")
    reviewers = [(0, "resolved", "resolved")] * 5 + [(1, "worse", "unchanged")]
    assert leaks(old(reviewers, 2), reviewers)
    assert leaked >= 20, leaked


# -- through the API, on both databases ---------------------------------------------------


def _open(client: TestClient, auth: Auth, covenant: str, number: int) -> str:
    if covenant == "utrecht":
        body = report_body(postcode="3511 AB", number=number, district="Oost", persons=[])
        who = UTRECHT_REPORTER
    else:
        body = report_body(
            postcode="2281 AW",
            number=number,
            corporation="rijswijk-wonen",
            district="Te Werve",
            persons=[],
        )
        who = RIJSWIJK_REPORTER
    response = client.post("/v1/reports", json=body, headers=auth(*who))
    assert response.status_code == 201, response.text
    return str(response.json()["caseId"])


def _close(
    client: TestClient, auth: Auth, context: GatewayContext, covenant: str, cases: Sequence[Case]
) -> None:
    ids = [_open(client, auth, covenant, n + 1) for n in range(len(cases))]
    with transaction(context.session_factory) as session:
        for case_id, (period, mine, theirs) in zip(ids, cases, strict=True):
            case = session.get_one(CaseFile, case_id)
            case.state, case.closed_at = "closed", PERIOD_DAYS[period]
            case.neighbours_judgement, case.partners_judgement = mine, theirs
            case.aftercare_decision = "none" if mine else None


def _report(client: TestClient, auth: Auth, covenant: str) -> dict[str, Any]:
    reader = UTRECHT_READER if covenant == "utrecht" else RIJSWIJK_READER
    response = client.get(f"/v1/steering-report?{WINDOW}", headers=auth(*reader))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


REVIEWERS = [(0, "resolved", "resolved")] * 5 + [(1, "worse", "unchanged")]


def test_the_reviewers_case_in_utrecht_has_no_periods_to_difference(
    client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    """Utrecht's annex sets no evaluation periods (U §8: "De stuurgroep Woonproblematiek
    bespreekt de resultaten"); its report was cut into R §4.3's."""
    _close(client, auth, context, "utrecht", REVIEWERS)
    body = _report(client, auth, "utrecht")
    assert body["casesClosed"] == 6
    assert body["evaluationPeriods"] == []
    assert set(body["legs"]["neighbours"].values()) == {None}
    assert leaks(body, [(0, m, t) for _, m, t in REVIEWERS]) == []


# The reviewer's case, one case declined in November (no judgement), and three generated
# distributions with something to hide.
CASES = {
    "reviewer": REVIEWERS,
    "declined": [(0, "resolved", "improved")] * 6 + [(1, None, None)],
    "generated-a": [(0, "resolved", "resolved")] * 7
    + [(0, "improved", "improved")] * 2
    + [(1, "resolved", "resolved")] * 5
    + [(1, "worse", "worse")],
    "generated-b": [(0, "improved", "resolved")] * 5
    + [(1, "improved", "resolved")] * 5
    + [(1, "unchanged", "unchanged")] * 3,
    "generated-c": [(0, "resolved", "resolved")] * 3 + [(1, "resolved", "improved")] * 6,
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_periods_give_away_no_count_under_five_in_rijswijk(
    client: TestClient, auth: Auth, context: GatewayContext, name: str
) -> None:
    cases = CASES[name]
    assert something_to_hide(cases, 2)
    _close(client, auth, context, "rijswijk", cases)
    body = _report(client, auth, "rijswijk")
    periods = [(p["periodFrom"], p["periodTo"]) for p in body["evaluationPeriods"]]
    assert periods == [("2026-01-01", "2026-06-30"), ("2026-07-01", "2026-12-31")]
    assert body["casesClosed"] == len(cases)
    assert leaks(body, cases) == [], body


def test_control_two_periods_of_five_and_more_per_judgement_show_everything(
    client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    cases: list[Case] = [
        *[(0, "resolved", "resolved")] * 5,
        *[(0, "improved", "resolved")] * 5,
        *[(1, "resolved", "improved")] * 5,
    ]
    _close(client, auth, context, "rijswijk", cases)
    body = _report(client, auth, "rijswijk")
    first, second = body["evaluationPeriods"]
    assert (first["casesClosed"], second["casesClosed"]) == (10, 5)
    assert first["legs"]["neighbours"] == {
        "resolved": 5,
        "improved": 5,
        "unchanged": None,
        "worse": None,
    }
    assert first["legs"]["partners"]["resolved"] == 10
    assert second["legs"]["neighbours"]["resolved"] == 5
    assert second["legs"]["partners"]["improved"] == 5
    assert body["legs"]["neighbours"] == {
        "resolved": 10,
        "improved": 5,
        "unchanged": None,
        "worse": None,
    }
    assert leaks(body, cases) == []
