"""A page request that fails stores nothing (review8d F2).

A page route answers its errors with a Dutch page instead of raising, inside the scope of
the request's database session: the session saw a request that went well and committed
what the failed request wrote (a 503 "audit log unavailable" page with the change stored,
while the API rolls the same request back). The page route now ends the unit of work
itself: committed with the page, rolled back with the error page.

Each form post below fails with the project's audit-write failure injection
(``failing_audit_writes``: the audit rows are written, then the append fails): the error
page is shown and every table is exactly as before. Control: the same post without the
injected failure stores its change (and its audit entries)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import _IncludedRouter
from fastapi.testclient import TestClient
from sqlalchemy import select

from gateway.audit.testing import failing_audit_writes
from gateway.context import GatewayContext
from gateway.core.dutch_date import dutch_today
from gateway.core.errors import Conflict
from gateway.db import Base, utcnow
from gateway.web import api as web_api
from gateway.web.models import OidcLoginAttempt
from gateway.web.pages import Page, PageRoute
from tests.cases.builders import report_body
from tests.web.conftest import csrf_of, sign_in
from tests.web.scenario import seed_utrecht_case

Auth = Callable[..., dict[str, str]]


def snapshot(context: GatewayContext) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table."""
    with context.session_factory() as db:
        return {
            table.name: sorted(
                (tuple(row) for row in db.execute(select(table))), key=lambda r: repr(r)
            )
            for table in Base.metadata.sorted_tables
        }


@dataclass(frozen=True)
class FormPost:
    """A form post on a page: who signs in, the page with the form, the post, and how the
    stored change shows (over the API or on a page) once it succeeded."""

    name: str
    prepare: Callable[[TestClient, Auth], str]  # signs in; returns the form page's path
    path: Callable[[str], str]
    data: dict[str, str]
    stored: Callable[[TestClient, Auth, str], bool]


def _landlord_case(browser: TestClient, auth: Auth) -> str:
    created = browser.post(
        "/v1/reports", json=report_body(), headers=auth("mitros", "woonconsulent")
    )
    assert created.status_code == 201, created.text
    case_id: str = created.json()["caseId"]
    return case_id


def _pollution_case(browser: TestClient, auth: Auth) -> str:
    case_id = _landlord_case(browser, auth)
    sign_in(browser, "u-centraal", "casemanager")
    return f"/zaken/{case_id}"


def _pollution_stored(browser: TestClient, auth: Auth, page: str) -> bool:
    summary = browser.get(
        f"/v1/cases/{page.split('/')[-1]}", headers=auth("u-centraal", "casemanager")
    )
    return summary.json()["dwellingPollution"] is True


def _request_case(browser: TestClient, auth: Auth) -> str:
    seeded = seed_utrecht_case(browser, auth)
    sign_in(browser, "u-centraal", "casemanager")
    return f"/zaken/{seeded.case_id}"


def _request_stored(browser: TestClient, auth: Auth, page: str) -> bool:
    return "Informatieverzoek</strong>" in browser.get(page).text


def _event_case(browser: TestClient, auth: Auth) -> str:
    case_id = _landlord_case(browser, auth)
    sign_in(browser, "mitros", "woonconsulent")
    return f"/zaken/{case_id}"


def _event_stored(browser: TestClient, auth: Auth, page: str) -> bool:
    return "Ontruimingsprocedure gestart — vastgelegd door Mitros" in browser.get(page).text


def _meetings(browser: TestClient, auth: Auth) -> str:
    seed_utrecht_case(browser, auth)
    sign_in(browser, "u-centraal", "casemanager")
    return "/overleggen"


def _meeting_stored(browser: TestClient, auth: Auth, page: str) -> bool:
    return "/overleggen/" in browser.get(page).text.split("<main", 1)[-1]


POSTS = [
    FormPost(
        "dwelling-pollution",
        _pollution_case,
        lambda page: f"{page}/vervuiling",
        {"vervuiling": "ja"},
        _pollution_stored,
    ),
    FormPost(
        "information-request",
        _request_case,
        lambda page: f"{page}/informatieverzoek",
        {"doel": "intake-assessment", "vraag": "politie-midden-nederland|police-reports"},
        _request_stored,
    ),
    FormPost(
        "case-event",
        _event_case,
        lambda page: f"{page}/gebeurtenis",
        {"gebeurtenis": "eviction-procedure", "datum": "2025-03-01"},
        _event_stored,
    ),
    FormPost(
        "meeting",
        _meetings,
        lambda page: page,
        {"wijk": "Noordoost", "datum": dutch_today().isoformat()},
        _meeting_stored,
    ),
]


@pytest.mark.parametrize("audit_fails", [True, False], ids=["audit-fails", "control"])
@pytest.mark.parametrize("post", POSTS, ids=[p.name for p in POSTS])
def test_a_form_post_whose_audit_fails_stores_nothing(
    browser: TestClient,
    auth: Auth,
    context: GatewayContext,
    post: FormPost,
    audit_fails: bool,
) -> None:
    page = post.prepare(browser, auth)
    form = browser.get(page)
    assert form.status_code == 200, form.text
    data = {"csrf_token": csrf_of(form.text), **post.data}
    before = snapshot(context)
    if audit_fails:
        with failing_audit_writes(context.audit) as attempted:
            response = browser.post(post.path(page), data=data, follow_redirects=False)
        assert attempted, "the post wrote no audit entry: the injection tested nothing"
        assert response.status_code == 503, response.text
        assert response.headers["content-type"].startswith("text/html")
        assert "Tijdelijk niet beschikbaar" in response.text
        assert "Content-Security-Policy" in response.headers
        assert snapshot(context) == before
        assert not post.stored(browser, auth, page)
    else:
        response = browser.post(post.path(page), data=data, follow_redirects=False)
        assert response.status_code in (200, 303), response.text
        assert snapshot(context) != before
        assert post.stored(browser, auth, page)


# -- the mechanism, on a route of its own ------------------------------------------------

probe = APIRouter(route_class=PageRoute)


@probe.post("/proef/{outcome}")
def _write_then(page: Page, outcome: str) -> Any:
    page.db.add(
        OidcLoginAttempt(
            state_hash=f"proef-{outcome}".ljust(64, "0"),
            browser_hash="b",
            nonce="n",
            code_verifier="v",
            created_at=utcnow(),
            expires_at=utcnow(),
        )
    )
    page.db.flush()
    if outcome == "conflict":
        raise Conflict("Dit kan nu niet.")
    return page.render("fout.html", title="Gelukt", detail="Gelukt", status=200)


@pytest.fixture
def probe_app(context: GatewayContext) -> Iterator[TestClient]:
    app = FastAPI()
    app.state.context = context
    app.include_router(probe)
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as client:
        yield client


@pytest.mark.parametrize("outcome", ["conflict", "ok"])
def test_a_page_that_raises_after_writing_rolls_the_write_back(
    probe_app: TestClient, context: GatewayContext, outcome: str
) -> None:
    response = probe_app.post(f"/proef/{outcome}")
    with context.session_factory() as db:
        stored = db.scalar(select(OidcLoginAttempt.state_hash))
    if outcome == "conflict":
        assert response.status_code == 409
        assert "Niet mogelijk in deze fase" in response.text
        assert stored is None
    else:
        assert response.status_code == 200
        assert stored is not None


def _routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every route of an app, with its full path (FastAPI keeps an included router whole)."""
    for route in routes:
        if isinstance(route, _IncludedRouter):
            inner = prefix + route.include_context.prefix
            yield from _routes(route.original_router.routes, inner)
        else:
            yield prefix + str(getattr(route, "path", "")), route


def test_every_page_form_goes_through_the_page_route(app: FastAPI) -> None:
    """Every route outside /v1 that takes a POST is a PageRoute (so it ends its unit of
    work as above), and so is every route of the page modules."""
    posts = [
        (path, route)
        for path, route in _routes(app.routes)
        if "POST" in (getattr(route, "methods", None) or set()) and not path.startswith("/v1")
    ]
    assert len(posts) >= 15, [path for path, _ in posts]
    assert [p for p, r in posts if not isinstance(r, PageRoute)] == []
    pages = list(_routes(web_api.router.routes))
    assert pages
    assert all(isinstance(route, PageRoute) for _, route in pages)
