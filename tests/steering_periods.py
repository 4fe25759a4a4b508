"""The steering report covers whole months that have ended (review5a F1,
gateway/cases/steering.py ``report_window``). A test that reads in the report's default
period what it has just done reads it as if this month had ended: the covenant's "today" is
the first of next month for the report alone (the clock and the tokens stay as they are). The
report's state figures are as of the end of its period (``asOf``), so with it they describe
this month's end: every case opened and every step taken so far."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pytest

from gateway.cases.calendar import add_months
from gateway.cases.runtime import CaseRuntime


@contextmanager
def this_month_ended() -> Iterator[None]:
    real = CaseRuntime.today

    def next_month(self: CaseRuntime, covenant_id: str) -> date:
        return add_months(real(self, covenant_id).replace(day=1), 1)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(CaseRuntime, "today", next_month)
        yield
