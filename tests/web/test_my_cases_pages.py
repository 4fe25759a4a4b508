""" "Mijn zaken" a page of deadlines at a time: a "Volgende termijnen" link while more follow,
a page further shows other cases, a cursor the page never gave is a 404 page."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from fastapi.testclient import TestClient

from gateway.context import GatewayContext
from tests.cases.history import seed_history
from tests.web.conftest import sign_in

MAYOR = ("gemeente-rijswijk", "casemanager")


def _references(html: str) -> set[str]:
    return set(re.findall(r">(H-\d+-\d+)<", html))


def test_my_cases_page_links_to_the_next_deadlines(
    browser: TestClient, context: GatewayContext
) -> None:
    runtime = context.cases
    seed_history(
        context.engine,
        runtime.workflow("rijswijk-woonoverlast"),
        cases=300,
        now=datetime.now(UTC),
        years=2,
        open_share=0.5,
    )
    sign_in(browser, *MAYOR)
    first = browser.get("/zaken")
    assert first.status_code == 200
    (cursor,) = set(re.findall(r'href="/zaken\?na=([a-p]+)"', first.text))
    second = browser.get(f"/zaken?na={cursor}")
    assert second.status_code == 200
    # A page further shows cases the first did not (not the same page again).
    assert _references(second.text) - _references(first.text)
    assert "Terug naar de eerste termijnen" in second.text
    assert browser.get("/zaken?na=aa").status_code == 404
