"""``GET /v1/deadlines`` a page at a time (NL API Design Rules, HAL style): the items under
``_embedded.deadlines``, ``_links.self`` and, while more follow, ``_links.next``; and the
"Mijn zaken" page (tests/web/test_my_cases_pages.py). Over a seeded history of a few hundred
cases, so that there are pages to follow."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from gateway.cases import overview
from gateway.cases.runtime import CaseRuntime
from gateway.context import GatewayContext
from tests.cases.history import History, seed_history

Auth = Callable[..., dict[str, str]]
COVENANT = "rijswijk-woonoverlast"
MAYOR = ("gemeente-rijswijk", "casemanager")


@pytest.fixture
def history(context: GatewayContext, runtime: CaseRuntime) -> History:
    return seed_history(
        context.engine,
        runtime.workflow(COVENANT),
        cases=400,
        now=datetime.now(UTC),
        years=2,
        open_share=0.4,
    )


def _service_list(context: GatewayContext, runtime: CaseRuntime) -> list[str]:
    with context.session_factory() as session:
        items = overview.partner_deadlines(
            session,
            runtime=runtime,
            covenant_id=COVENANT,
            partner_id=MAYOR[0],
            partner_kind="municipality",
        )
    return [f"{d.deadline}|{d.case_id}|{d.district}" for d in items]


def test_pages_follow_next_links_to_the_whole_list_without_repeats(
    client: TestClient, auth: Auth, context: GatewayContext, runtime: CaseRuntime, history: History
) -> None:
    href: str | None = "/v1/deadlines?limit=25"
    seen: list[str] = []
    pages = 0
    while href is not None:
        response = client.get(href, headers=auth(*MAYOR))
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["_links"]["self"]["href"] == href
        items = body["_embedded"]["deadlines"]
        assert len(items) <= 25
        seen += [f"{d['deadline']}|{d['caseId']}|{d['district']}" for d in items]
        href = body["_links"].get("next", {}).get("href")
        if href is not None:
            assert len(items) == 25
            assert "limit=25" in href
        pages += 1
    assert pages > 3
    assert len(seen) == len(set(seen))
    assert seen == _service_list(context, runtime)


def test_the_default_page_is_a_hundred_and_the_last_has_no_next(
    client: TestClient, auth: Auth, history: History
) -> None:
    first = client.get("/v1/deadlines", headers=auth(*MAYOR)).json()
    assert len(first["_embedded"]["deadlines"]) == 100
    assert first["_links"]["self"]["href"] == "/v1/deadlines"
    assert "next" in first["_links"]
    police = client.get(
        "/v1/deadlines?limit=500", headers=auth("politie-den-haag", "wijkagent")
    ).json()
    # The police leads no case in this history: only those it is in the team of.
    assert len(police["_embedded"]["deadlines"]) < 500
    assert "next" not in police["_links"]


@pytest.mark.parametrize(
    "query",
    [
        "cursor=zz",
        "cursor=00",
        "cursor=" + b'["2026-01-01T00:00:00",  "case"]'.hex(),
        "cursor=" + b"not json".hex(),
        "limit=0",
        "limit=501",
    ],
)
def test_a_cursor_or_limit_the_list_never_gave_is_refused_as_problem_json(
    client: TestClient, auth: Auth, history: History, query: str
) -> None:
    response = client.get(f"/v1/deadlines?{query}", headers=auth(*MAYOR))
    assert response.status_code in (400, 422)
    assert response.headers["content-type"].startswith("application/problem+json")
    # Positive control: the same list with a cursor it gave out.
    first = client.get("/v1/deadlines?limit=3", headers=auth(*MAYOR)).json()
    following = client.get(first["_links"]["next"]["href"], headers=auth(*MAYOR))
    assert following.status_code == 200


def test_the_deadlines_need_a_token(client: TestClient, auth: Auth, history: History) -> None:
    assert client.get("/v1/deadlines").status_code == 401
    assert client.get("/v1/deadlines", headers=auth(*MAYOR)).status_code == 200
