"""The privacy officer's lists searched from or to a day at the calendar's ends: a Dutch
422 page that says which days are accepted, never a 500 (review6a F5's sibling: the day's
midnight in Dutch time, or the day after ``tot``, overflowed)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import sign_in


@pytest.mark.parametrize("page", ["/privacy/verstrekkingen", "/privacy/weigeringen"])
@pytest.mark.parametrize(
    ("field", "day"),
    [("van", "0001-01-01"), ("tot", "9999-12-31"), ("van", "9999-12-31"), ("tot", "1999-12-31")],
)
def test_a_day_outside_the_range_is_a_dutch_422(
    browser: TestClient, page: str, field: str, day: str
) -> None:
    sign_in(browser, "u-centraal", "privacy-officer")
    refused = browser.get(page, params={field: day})
    assert refused.status_code == 422, refused.text[:300]
    assert "tussen 2000-01-01 en 2100-12-31" in refused.text
    # The positive control: a day inside the range searches.
    shown = browser.get(page, params={field: "2026-01-01"})
    assert shown.status_code == 200, shown.text[:300]
