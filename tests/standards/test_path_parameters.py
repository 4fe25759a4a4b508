"""Every route the gateway serves names its path parameters in camelCase: the /v1 API
(``/cases/{caseId}``), the Dutch pages (``/zaken/{caseId}``) and the operator routes alike.

The check walks the application's routes, not the published OpenAPI document, because the
pages are left out of that document. A route of a kind the walk does not know fails the
test rather than being skipped, so a router mounted some new way cannot hide its paths.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Mount, Route

from gateway.app import create_app
from gateway.config import Settings

#: A path parameter is camelCase, as the JSON members it names (``{caseId}`` and ``caseId``).
CAMEL_CASE = re.compile(r"[a-z][a-z0-9]*(?:[A-Z][a-z0-9]+)*")
#: ``{name}`` or ``{name:converter}`` in a route's path.
PARAMETER = re.compile(r"\{([^}:]+)(?::[^}]+)?\}")


def walk(found: list[BaseRoute]) -> Iterator[BaseRoute]:
    """Every route, through included routers and mounts (any depth)."""
    for route in found:
        original = getattr(route, "original_router", None)
        if original is not None:
            # FastAPI keeps an included router as one route that refers to the original
            # router; the prefixes have no parameters, so the original's paths are enough.
            yield from walk(original.routes)
        elif isinstance(route, Mount):
            yield route
            yield from walk(list(route.routes))
        elif isinstance(route, (APIRoute, Route)):
            yield route
        else:
            raise AssertionError(f"a route the walk does not know: {route!r}")


def paths(app: FastAPI) -> list[str]:
    return [route.path for route in walk(app.routes)]  # type: ignore[attr-defined]


def snake_case_parameters(paths: list[str]) -> list[str]:
    """The paths with a parameter that is not camelCase, each with the parameter."""
    return [
        f"{path}: {{{name}}}"
        for path in paths
        for name in PARAMETER.findall(path)
        if not CAMEL_CASE.fullmatch(name)
    ]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    return create_app(Settings(data_dir=tmp_path_factory.mktemp("routes")))


def test_every_path_parameter_of_every_route_is_camel_case(app: FastAPI) -> None:
    found = paths(app)
    assert snake_case_parameters(found) == []
    # The walk reached the API and the pages (a walk that found nothing would pass vacuously).
    assert "/cases/{caseId}" in found  # the /v1 prefix is the include's, not the route's
    assert "/zaken/{caseId}" in found
    assert "/overleggen/{meetingId}/acties/{actionId}/afgerond" in found
    assert len([p for p in found if PARAMETER.search(p)]) > 30


def test_a_snake_case_parameter_on_a_page_fails_the_check(tmp_path: Path) -> None:
    """Positive control: the gateway with one page route added the way the pages are."""
    app = create_app(Settings(data_dir=tmp_path))
    router = APIRouter()

    @router.get("/zaken/{case_id}/proef")
    def probe(case_id: str) -> str:
        return case_id

    app.include_router(router)
    assert snake_case_parameters(paths(app)) == ["/zaken/{case_id}/proef: {case_id}"]


def test_the_camel_case_rule_refuses_snake_case_and_accepts_camel_case() -> None:
    assert CAMEL_CASE.fullmatch("caseId")
    assert CAMEL_CASE.fullmatch("index")
    assert not CAMEL_CASE.fullmatch("case_id")
    assert not CAMEL_CASE.fullmatch("CaseId")
    assert not CAMEL_CASE.fullmatch("case-id")
    assert snake_case_parameters(["/a/{meetingId}/b/{action_id:path}"]) == [
        "/a/{meetingId}/b/{action_id:path}: {action_id}"
    ]


def test_the_walk_refuses_a_route_it_does_not_know() -> None:
    class Odd(BaseRoute):
        pass

    with pytest.raises(AssertionError, match="does not know"):
        list(walk([Odd()]))


def test_a_page_takes_the_camel_case_parameter_into_its_snake_case_argument(
    app: FastAPI,
) -> None:
    (route,) = [
        r
        for r in walk(app.routes)
        if isinstance(r, APIRoute) and r.path == "/zaken/{caseId}" and "GET" in r.methods
    ]
    (parameter,) = route.dependant.path_params
    assert (parameter.name, parameter.alias) == ("case_id", "caseId")
