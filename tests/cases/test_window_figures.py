"""gateway/cases/window_figures.py over generated years: every published count within the
noise bound of its truth, and at least what every split of it a reader sees holds plus the
bound (the second review of the cell-key change: a total published at the least its shown
parts allow pinned a hidden part in about 1 in 5 windows). The controls: the exact figures
are the true counts, and on the rule before (no floor) the splits do pin counts."""

from __future__ import annotations

import random
from datetime import date

from gateway.cases import steering
from gateway.cases.cell_key import BOUND, KEY_MODULUS, Cell
from gateway.cases.window_figures import (
    CLOSED,
    LEGS,
    OPENED,
    TRANSITION,
    WITHIN,
    Bucket,
    Figure,
    Rules,
    Window,
    WindowFigures,
)

DISTRICTS = ("Noord", "Oost", "West")
JUDGED = (*steering.JUDGEMENTS, None)


def _key(rng: random.Random) -> Cell:
    return Cell(1, rng.randrange(KEY_MODULUS))


def _year(rng: random.Random) -> list[Bucket]:
    """Twelve months of a small covenant: a few openings per district, steps, closures with
    judgements (some declined), some closed within the target."""
    buckets = []
    for _ in range(12):
        bucket = Bucket()
        for district in DISTRICTS:
            for _ in range(rng.choice((0, 0, 1, 2, 4, 5, 6, 9))):
                bucket.add(bucket.opened, district, _key(rng))
        for _ in range(rng.choice((0, 1, 3, 5, 7))):
            bucket.add(bucket.transitions, "start-evaluation", _key(rng))
        for _ in range(rng.choice((0, 1, 2, 5, 6, 8, 11))):
            cell = _key(rng)
            mine = rng.choice(JUDGED)
            pair = (mine, None if mine is None else rng.choice(steering.JUDGEMENTS))
            bucket.legs[pair] = bucket.legs.get(pair, Cell()) + cell
            if rng.random() < 0.6:
                bucket.within += cell
        buckets.append(bucket)
    return buckets


def _figures(buckets: list[Bucket], *, exact: bool = False, floors: bool = True) -> WindowFigures:
    return WindowFigures(
        buckets,
        [date(2026, m, 1) for m in range(1, 13)],
        date(2027, 1, 1),
        months=True,
        rules=Rules(
            min_group_size=steering.MIN_GROUP_SIZE,
            judgements=steering.JUDGEMENTS,
            hidden_cells=steering.hidden_cells,
            show=steering.exact if exact else steering.published,
            bound=0 if exact else BOUND,
            # Rijswijk's half-year and then yearly periods (R §4.3).
            periods=lambda first, last: steering.evaluation_periods(first, last, 6, 12),
            floors=floors,
        ),
    )


WINDOWS: list[Window] = [(m, m) for m in range(12)] + [(q, q + 2) for q in range(0, 12, 3)]
WINDOWS += [(0, 5), (6, 11), (0, 11)]


def _all_figures(figures: WindowFigures, window: Window) -> list[Figure]:
    out: list[Figure] = [(OPENED, None), (CLOSED, None), (WITHIN, None)]
    out += [(OPENED, d) for d in figures.keys(window, OPENED)]
    out += [(TRANSITION, k) for k in figures.keys(window, TRANSITION)]
    out += [(leg, j) for leg in LEGS for j in steering.JUDGEMENTS]
    return out


def _splits(figures: WindowFigures, window: Window, figure: Figure) -> list[int]:
    """What each split a reader sees says the figure holds at least: its months, a year's
    or half-year's quarters, the year's two periods; a total's shown parts at least 5 each
    and each hidden one at least 1."""
    first, last = window
    out = []
    if last > first:
        out.append(sum(figures.lower((m, m), figure) for m in range(first, last + 1)))
    if (last - first + 1) % 3 == 0 and last - first + 1 > 3:
        out.append(sum(figures.lower((q, q + 2), figure) for q in range(first, last + 1, 3)))
    if window == (0, 11) and figure[0] in (CLOSED, *LEGS):  # what the periods publish
        out.append(figures.lower((0, 5), figure) + figures.lower((6, 11), figure))
    if figure == (OPENED, None):
        parts = [figures.cell(window, (OPENED, d)).count for d in figures.keys(window, OPENED)]
        hidden = figures.hidden(window, OPENED)
        shown = [figures.value(window, (OPENED, d)) for d in figures.keys(window, OPENED)]
        out.append(
            sum(
                (v or 0) - BOUND
                for d, v in zip(figures.keys(window, OPENED), shown, strict=True)
                if d not in hidden and v
            )
            + sum(
                1
                for d, n in zip(figures.keys(window, OPENED), parts, strict=True)
                if d in hidden and n
            )
        )
    if figure == (CLOSED, None):
        for leg in LEGS:
            out.append(
                sum(
                    v - BOUND
                    for j in steering.JUDGEMENTS
                    if (v := figures.value(window, (leg, j))) is not None
                )
            )
    return out


def test_every_count_is_within_the_bound_and_at_least_what_its_parts_hold() -> None:
    rng = random.Random(5)
    checked = raised = 0
    for _ in range(60):
        buckets = _year(rng)
        figures, exact = _figures(buckets), _figures(buckets, exact=True)
        for window in WINDOWS:
            for figure in _all_figures(figures, window):
                truth = figures.cell(window, figure).count
                value = figures.value(window, figure)
                # The control: the exact figures are the true counts where shown.
                assert exact.value(window, figure) in (None, truth)
                assert (value is None) == (exact.value(window, figure) is None)
                assert figures.lower(window, figure) <= truth
                if value is None:
                    continue
                checked += 1
                assert abs(value - truth) <= BOUND, (window, figure, value, truth)
                assert (value == 0) == (truth == 0)
                for least in _splits(figures, window, figure) if truth else []:
                    assert value >= least + BOUND, (window, figure, value, least)
                raised += value > steering.published(figures.cell(window, figure))
            within, closed = (
                figures.value(window, (WITHIN, None)),
                figures.value(window, (CLOSED, None)),
            )
            if within is not None:
                assert closed is not None
                assert within <= closed
    print(f"{checked} published counts checked, {raised} raised to what their parts hold")
    assert checked > 5000
    assert raised > 100  # the floor does act


def test_on_the_rule_before_a_split_pins_counts() -> None:
    """The control: without the floor, a published count is below what a split of it holds
    plus the bound in many windows (the reader then knows the count lies in the few values
    between them: the second review's attack)."""
    rng = random.Random(5)
    below = 0
    for _ in range(60):
        figures = _figures(_year(rng), floors=False)
        for window in WINDOWS:
            for figure in _all_figures(figures, window):
                value = figures.value(window, figure)
                if value:
                    below += any(
                        value < least + BOUND for least in _splits(figures, window, figure)
                    )
    print(f"on the rule before, {below} published counts below a split's least plus the bound")
    assert below > 100
