"""A JSON body with a key twice is refused (review6a, finding 6).

``{"ownership": "owner-occupied", "ownership": "corporation"}`` was taken as a corporation's
dwelling (the last key wins), while a WAF or a partner's own log reading the first key saw
an owner-occupied one; the ownership decides whether the landlord may receive data. Every
JSON body the gateway parses goes through gateway/core/json_body.py: a key twice, at any
depth, is a 400 problem+json naming it, and nothing is stored. The positive controls: the
same bodies without the second key are taken.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from gateway.audit.models import AuditRecord
from gateway.cases.models import CaseFile
from gateway.context import GatewayContext
from gateway.core.json_body import DuplicateKey, StrictJsonRoute, loads
from tests.cases.builders import report_body
from tests.exchange.conftest import CASE_MANAGER, MITROS, open_utrecht_case

Auth = Callable[..., dict[str, str]]


def _counts(context: GatewayContext) -> tuple[int, int]:
    with context.session_factory() as session:
        return (
            int(session.scalar(select(func.count()).select_from(AuditRecord)) or 0),
            int(session.scalar(select(func.count()).select_from(CaseFile)) or 0),
        )


def _post(client: TestClient, path: str, raw: str, headers: dict[str, str]) -> Any:
    return client.post(
        path, content=raw.encode(), headers={**headers, "Content-Type": "application/json"}
    )


def _refused_for(response: Any, key: str) -> None:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    [param] = response.json()["invalidParams"]
    assert param["name"] == "body"
    assert f'duplicate key "{key}"' in param["reason"]


@pytest.mark.parametrize(
    ("where", "first", "second"),
    [
        ("dwelling", '"ownership": "owner-occupied"', '"ownership": "corporation"'),
        ("address", '"houseNumber": 14', '"houseNumber": 12'),
        ("person", '"role": "neighbour"', '"role": "causer"'),
    ],
)
def test_a_report_with_a_key_twice_is_refused_and_nothing_stored(
    client: TestClient, auth: Auth, context: GatewayContext, where: str, first: str, second: str
) -> None:
    raw = json.dumps(report_body())
    assert raw.count(second) == 1, where
    doubled = raw.replace(second, f"{first}, {second}")
    before = _counts(context)
    _refused_for(_post(client, "/v1/reports", doubled, auth(*MITROS)), first.split('"')[1])
    assert _counts(context) == before
    # The positive control: the body as it was.
    taken = _post(client, "/v1/reports", raw, auth(*MITROS))
    assert taken.status_code == 201, taken.text
    assert _counts(context)[1] == before[1] + 1


def test_an_information_request_with_a_key_twice_is_refused(
    client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    case = open_utrecht_case(client, auth)
    body = {"caseId": case.case_id, "purpose": "case-handling", "categories": ["police-reports"]}
    raw = json.dumps(body)
    doubled = raw.replace('"purpose"', '"purpose": "eviction-procedure", "purpose"')
    before = _counts(context)
    headers = case.as_(CASE_MANAGER, "cm-1")
    _refused_for(_post(client, "/v1/information-requests", doubled, headers), "purpose")
    assert _counts(context) == before
    asked = _post(client, "/v1/information-requests", raw, headers)
    assert asked.status_code == 201, asked.text


def test_a_body_that_is_not_json_still_says_so(client: TestClient, auth: Auth) -> None:
    response = _post(client, "/v1/reports", '{"dwelling": ', auth(*MITROS))
    assert response.status_code == 400, response.text
    [param] = response.json()["invalidParams"]
    assert param["name"] == "body"
    assert param["reason"].startswith("not JSON: Expecting value")


def test_loads_refuses_a_key_twice_at_any_depth_and_only_then() -> None:
    assert loads('{"a": {"b": 1}, "c": [{"b": 2}, {"b": 3}]}') == {
        "a": {"b": 1},
        "c": [{"b": 2}, {"b": 3}],
    }
    for raw in ('{"a": 1, "a": 1}', '{"x": [{"b": 1, "b": 2}]}', '{"x": {"y": {"z": 1, "z": 2}}}'):
        with pytest.raises(DuplicateKey):
            loads(raw)
    # Keys equal only after unescaping are the same key.
    with pytest.raises(DuplicateKey):
        loads('{"a": 1, "\\u0061": 2}')


def _api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    """Every APIRoute, through the routers FastAPI includes as they are (``original_router``)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _api_routes(included.routes)


def test_every_route_that_takes_a_body_parses_it_strictly(app: FastAPI) -> None:
    """The guard: a router added later without the route class would parse leniently."""
    with_a_body = [r for r in _api_routes(app.routes) if r.body_field is not None]
    assert len(with_a_body) > 20
    lenient = [r.path for r in with_a_body if not isinstance(r, StrictJsonRoute)]
    assert lenient == []
