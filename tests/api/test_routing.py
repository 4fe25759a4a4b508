"""The /v1 routers are tried in an order of their own (the exchange first, issue 20), which
may change nothing but speed: no two routers' paths overlap, so whichever is tried first a
path is served by the one route it names; and the OpenAPI document keeps its own order."""

from __future__ import annotations

import json
import re

import pytest
from fastapi import APIRouter
from fastapi.routing import APIRoute

import gateway.app
from gateway.app import api_routers, create_app
from gateway.config import Settings

_PARAMETER = re.compile(r"\{([^}:]+)(?::([^}]+))?\}")


def _segments(template: str) -> list[str | None]:
    """The template's path segments, a parameter as None; a ``path`` parameter as "**"."""
    segments: list[str | None] = []
    for segment in template.strip("/").split("/"):
        match = _PARAMETER.fullmatch(segment)
        if match is None and _PARAMETER.search(segment):
            raise AssertionError(f"a parameter inside a segment, not checked: {template}")
        if match is None:
            segments.append(segment)
        else:
            segments.append("**" if match.group(2) == "path" else None)
    return segments


def overlap(first: str, second: str) -> bool:
    """Whether some path matches both templates (segment by segment: equal literals or a
    parameter on either side; a ``path`` parameter matches any rest)."""
    a, b = _segments(first), _segments(second)
    for x, y in zip(a, b, strict=False):
        if x == "**" or y == "**":
            return True
        if x is not None and y is not None and x != y:
            return False
    return len(a) == len(b)


def _templates(router: APIRouter) -> list[str]:
    return [route.path for route in router.routes if isinstance(route, APIRoute)]


def test_the_overlap_check_finds_overlaps() -> None:
    # Positive controls: what would make the routing order matter.
    assert overlap("/cases/{caseId}", "/cases/export")
    assert overlap("/x/{a}/y", "/x/z/{b}")
    assert overlap("/docs/assets/{path:path}", "/docs/assets/a/b.js")
    assert not overlap("/cases/{caseId}", "/cases/{caseId}/notes")
    assert not overlap("/cases/{caseId}", "/meetings/{meetingId}")


def test_no_two_routers_paths_overlap() -> None:
    routers = api_routers()
    assert len(routers) >= 5
    checked = 0
    for i, first in enumerate(routers):
        assert all(isinstance(r, APIRoute) for r in first.routes)  # nothing unchecked
        for second in routers[i + 1 :]:
            for a in _templates(first):
                for b in _templates(second):
                    assert not overlap(a, b), (a, b)
                    checked += 1
    assert checked > 100


def test_the_exchange_is_routed_first_and_nothing_else_moves() -> None:
    routed = api_routers(hot_first=True)
    documented = api_routers()
    from gateway.exchange import api as exchange_api

    assert routed[0] is exchange_api.router
    assert documented.index(exchange_api.router) > 0  # so the two orders differ
    assert [r for r in routed if r is not exchange_api.router] == [
        r for r in documented if r is not exchange_api.router
    ]


def test_the_openapi_document_is_as_if_routed_in_the_documented_order(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    served = json.dumps(create_app(settings).openapi())
    paths = list(json.loads(served)["paths"])
    assert paths.index("/information-requests") > paths.index("/cases")
    documented_order = api_routers
    with monkeypatch.context() as patched:
        patched.setattr(gateway.app, "api_routers", lambda hot_first=False: documented_order())
        assert json.dumps(create_app(settings).openapi()) == served
    # Positive control: without its own order the document follows the routing order.
    monkeypatch.setattr(gateway.app, "documented_paths", list)
    routed_order = list(create_app(settings).openapi()["paths"])
    assert routed_order.index("/information-requests") < routed_order.index("/cases")


def test_the_read_is_served_by_its_plain_route_for_get_only(settings: Settings) -> None:
    """The mediated read's plain route (issue 20) is tried first and takes GET only; every
    other method on its path goes to the documented routes, and its template overlaps no
    route's but the one documenting it among those tried before the exchange's router (the
    operator routes) and the /v1 routers (the pages come after the exchange's router: they
    could not take the read before either)."""
    from starlette.routing import Match, Route

    from gateway.exchange.api import serve_answers

    app = create_app(settings)
    hot = app.router.routes[0]
    assert isinstance(hot, Route)
    assert hot.endpoint is serve_answers

    def scope(method: str, path: str) -> dict[str, object]:
        return {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}

    read = "/v1/information-requests/0b6c3a0e/answers"
    assert hot.matches(scope("GET", read))[0] is Match.FULL
    for method in ("HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"):
        assert hot.matches(scope(method, read))[0] is Match.NONE, method
    assert hot.matches(scope("GET", read + "/"))[0] is Match.NONE
    assert hot.matches(scope("GET", "/v1/information-requests/0b6c3a0e"))[0] is Match.NONE

    templates = gateway.app.documented_paths()
    templates += [r.path for r in app.router.routes[1:] if isinstance(r, Route)]
    assert "/metrics" in templates  # the operator routes are in the check
    # Its own template twice: the documented GET and the answer's POST (left to FastAPI).
    assert {t for t in templates if overlap(t, hot.path)} == {hot.path}


def test_the_plain_route_changes_nothing_in_the_openapi_document(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    served = json.dumps(create_app(settings).openapi())
    assert "/information-requests/{requestId}/answers" in json.loads(served)["paths"]
    monkeypatch.setattr(gateway.app, "install_hot_routes", lambda app: None)
    assert json.dumps(create_app(settings).openapi()) == served
