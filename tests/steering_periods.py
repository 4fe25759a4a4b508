"""The steering report covers a calendar month, quarter or year that has ended (review5a F1,
review14; gateway/cases/steering.py ``report_window``), by default the last month that has
ended. A test that reads in the report's default period what it has just done reads it as if
this month had ended: the covenant's "today" is the first of next month for the report alone
(the clock and the tokens stay as they are). The report's state figures are as of the end of
its period (``asOf``), so with it they describe this month's end: every case opened and every
step taken so far."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from gateway.cases.calendar import add_months
from gateway.cases.runtime import CaseRuntime
from gateway.cases.window_figures import Bucket, Rules, WindowFigures

_MONTH_ENDED = [False]


@contextmanager
def this_month_ended() -> Iterator[None]:
    real = CaseRuntime.today

    def next_month(self: CaseRuntime, covenant_id: str) -> date:
        return add_months(real(self, covenant_id).replace(day=1), 1)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(CaseRuntime, "today", next_month)
        _MONTH_ENDED[0] = True
        try:
            yield
        finally:
            _MONTH_ENDED[0] = False


def ended_month_query() -> str:
    """``from=&to=`` of the last month that has ended in the Netherlands (both covenants'
    calendar): last month, or this month within :func:`this_month_ended`."""
    today = datetime.now(ZoneInfo("Europe/Amsterdam")).date().replace(day=1)
    first = today if _MONTH_ENDED[0] else add_months(today, -1)
    return f"from={first}&to={add_months(first, 1) - timedelta(days=1)}"


def near(published: int | None, truth: int) -> bool:
    """Whether a perturbed count (gateway/cases/cell_key.py) can be of ``truth``: within the
    noise bound, never negative, 0 exactly when the truth is 0."""
    from gateway.cases.cell_key import BOUND

    if published is None:
        return False
    if truth == 0 or published == 0:
        return published == truth
    return abs(published - truth) <= BOUND


@contextmanager
def exact_counts() -> Iterator[None]:
    """The partners' report without its noise (gateway/cases/cell_key.py): for the tests of
    what else the report says (which cells are shown, the state as of the period's end, the
    kept months), whose expected figures are the true counts. The noise itself, through the
    API, is tests/cases/test_steering_differences.py's."""
    from gateway.cases import steering

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(steering, "perturbed", steering.exact)
        patch.setattr(steering, "published", steering.exact)
        patch.setattr(steering, "sum_noise", lambda cell, scale: 0.0)
        yield


def year_2026(buckets: list[Bucket], rules: Rules) -> WindowFigures:
    """gateway/cases/window_figures.py's figures of 2026's twelve months (``buckets``)."""
    return WindowFigures(
        buckets,
        [date(2026, m, 1) for m in range(1, 13)],
        date(2027, 1, 1),
        months=True,
        rules=rules,
    )
