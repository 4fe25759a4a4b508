"""A page's query parameters validate as the API's do: NUL is the Dutch 422 page
"Controleer uw invoer", not a 500 (review8c F1).

``/overleggen?wijk=`` and the privacy lists' filters (``zaak``, ``partner``, ``doel``,
``artikel``, ``van``, ``tot``) were only bounded in length, so NUL reached PostgreSQL's text
and failed the statement (a 500), where the API's ``GET /v1/meetings?district=`` is a 400.
Generated over every query parameter of every page route (from the routes as served), for
a case manager and a privacy officer, on both backends; the control: the same filters with
plain values answer the page.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from gateway.web import api as web_api
from gateway.web.pages import PageRoute
from tests.web.conftest import sign_in

WHO = (("u-centraal", "casemanager"), ("gemeente-utrecht", "privacy-officer"))
HOSTILE = {"NUL": "x%00y", "surrogate": "x%ED%A0%80y", "control": "x%1Fy"}


def _query_names(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for inner in dependant.dependencies:
        names |= _query_names(inner)
    return names


def _routes(routes: Iterable[Any]) -> Iterator[APIRoute]:
    """The routes as declared, also those of included routers (no prefix in gateway/web)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from _routes(route.original_router.routes)


def _page_parameters() -> list[tuple[str, str]]:
    return [
        (route.path, name)
        for route in _routes(web_api.router.routes)
        if isinstance(route, PageRoute) and "GET" in route.methods and "{" not in route.path
        for name in sorted(_query_names(route.dependant))
    ]


def test_no_page_query_parameter_is_a_server_error(browser: TestClient) -> None:
    parameters = _page_parameters()
    names = {f"{path}?{name}" for path, name in parameters}
    assert {
        "/overleggen?wijk",
        "/privacy/verstrekkingen?zaak",
        "/privacy/verstrekkingen?artikel",
        "/privacy/weigeringen?partner",
    } <= names
    failures = []
    for partner, role in WHO:
        browser.cookies.clear()
        sign_in(browser, partner, role)
        for path, name in parameters:
            for label, value in HOSTILE.items():
                answer = browser.get(f"{path}?{name}={value}", follow_redirects=False)
                if answer.status_code >= 500:
                    failures.append(f"{role} {path}?{name}= {label}: {answer.status_code}")
    assert not failures, "\n".join(failures)


def test_the_filters_with_nul_are_refused_and_with_plain_values_shown(browser: TestClient) -> None:
    sign_in(browser, "u-centraal", "casemanager")
    refused = browser.get("/overleggen?wijk=a%00b")
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("text/html")
    assert browser.get("/overleggen?wijk=binnenstad").status_code == 200
    assert browser.get("/overleggen?wijk=").status_code == 200

    browser.cookies.clear()
    sign_in(browser, "gemeente-utrecht", "privacy-officer")
    for path, name in (
        ("/privacy/verstrekkingen", "zaak"),
        ("/privacy/verstrekkingen", "partner"),
        ("/privacy/verstrekkingen", "doel"),
        ("/privacy/verstrekkingen", "artikel"),
        ("/privacy/weigeringen", "partner"),
    ):
        refused = browser.get(f"{path}?{name}=a%00b")
        assert refused.status_code == 422, (path, name, refused.text)
        assert refused.headers["content-type"].startswith("text/html")
        shown = browser.get(f"{path}?{name}=u-centraal")
        assert shown.status_code == 200, (path, name, shown.text)
        assert browser.get(f"{path}?{name}=").status_code == 200
