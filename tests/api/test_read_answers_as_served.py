"""What a client sees of ``GET /v1/information-requests/{requestId}/answers``, pinned: every
way the read can go (answered; no, a malformed or a spent bearer; a bad, an unknown or another
partner's request id; a role that may not read; no policy engine; other methods; a trailing
slash; refusals before routing), with the status, every header in order and the body, and
the access log line's route and status.

The gateway serves the read with a plain route (gateway/exchange/api.py, ``serve_answers``)
in front of the documented FastAPI route (``read_answers``); each request of the table is
answered by the app as served and by the same app without the plain route, and both must give
exactly the pinned answer (issue 20: the hot route may be lean if it stays one code path)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

import gateway.app
from gateway.app import create_app
from gateway.audit.models import AuditRecord
from gateway.config import Settings
from gateway.context import GatewayContext
from gateway.policy.engine import RegorusEngine
from tests.exchange.conftest import CASE_MANAGER, POLICE, Auth, UtrechtCase, open_utrecht_case

ROUTE = "/v1/information-requests/{requestId}/answers"
CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER = f"00-{CALLER_TRACE}-00f067aa0ba902b7-01"
OFFERED_ID = "3f2a9c0e-5b7d-4e1f-a0b1-c2d3e4f5a6b7"
TRACEPARENT = re.compile(r"00-[0-9a-f]{32}-[0-9a-f]{16}-01")
REQUEST_ID = re.compile(r"[0-9a-f]{32}")
PROBLEM = "application/problem+json"

#: The headers every answer ends with (gateway/core/edge.py), the ids masked.
TAIL = [
    ("api-version", "1.0.0"),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    ("cache-control", "no-store"),
    ("traceparent", "<ours>"),
    ("x-request-id", "<ours>"),
]


def _problem(status: int, problem: str, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": f"https://ketenpoort.nl/problems/{problem}",
        "title": title,
        "status": status,
        "detail": detail,
        **extra,
    }


NO_BEARER = _problem(
    401,
    "unauthenticated",
    "Authentication failed",
    "A bearer token is required (Authorization: Bearer <JWT>).",
)
NOT_A_JWT = _problem(
    401, "unauthenticated", "Authentication failed", "The bearer token is not a well-formed JWT."
)
REPLAYED = _problem(
    401,
    "unauthenticated",
    "Authentication failed",
    "The token has already been used (replayed jti).",
)
TOO_LONG = _problem(
    400,
    "invalid-parameters",
    "Bad request",
    "The request has invalid parameters; see invalidParams.",
    invalidParams=[{"name": "requestId", "reason": "String should have at most 64 characters"}],
)
NOT_AN_ID = _problem(
    400,
    "invalid-parameters",
    "Bad request",
    "The request has invalid parameters; see invalidParams.",
    invalidParams=[
        {"name": "requestId", "reason": "String should match pattern '^[A-Za-z0-9-]+$'"}
    ],
)
NOT_VISIBLE = _problem(
    404,
    "information-request-not-found",
    "Information request not found",
    "No information request with this id is visible to your partner.",
)
NO_ROUTE = _problem(404, "not-found", "Not found", "Not Found")
UNKNOWN_ROLE = _problem(
    403, "forbidden", "Forbidden", "The token carries no role the gateway knows."
)
AUDITOR = _problem(
    403, "forbidden", "Forbidden", "The role 'privacy-officer' does not exchange case data."
)
POLICY_DOWN = _problem(
    503,
    "policy-unavailable",
    "Policy unavailable",
    "The policy engine could not decide; nothing was disclosed. Try again later.",
)
NOT_ALLOWED = _problem(405, "method-not-allowed", "Method not allowed", "Method Not Allowed")
BSN_IN_URL = _problem(
    400,
    "identifier-in-url",
    "Bad request",
    "Personal identifiers (a BSN) do not belong in a URL; send them in the request body "
    "(POST), e.g. the access report or a report.",
)
TOO_BIG = _problem(
    413, "payload-too-large", "Payload too large", "A request body may be at most 1048576 bytes."
)


@dataclass(frozen=True)
class Ask:
    """One request of the table and the answer pinned for it. ``path`` is formatted with the
    answered request's id (``{id}``); ``bearer``: "case manager" (the requester), another
    partner or role as (partner, role), None for no Authorization header, or the header's
    literal value."""

    name: str
    status: int
    body: dict[str, Any] | None
    path: str = "/v1/information-requests/{id}/answers"
    method: str = "GET"
    bearer: tuple[str, str] | str | None = "case manager"
    headers: dict[str, str] = field(default_factory=dict)
    #: The headers before :data:`TAIL` (content-length and content-type included), in order.
    head: list[tuple[str, str]] | None = None
    route: str = ROUTE
    policy_down: bool = False


def _problem_head(body: dict[str, Any], *before: tuple[str, str]) -> list[tuple[str, str]]:
    length = len(json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode())
    return [*before, ("content-length", str(length)), ("content-type", PROBLEM)]


BEARER = ("www-authenticate", "Bearer")
ALLOW_POST = ("allow", "POST")

TABLE = [
    Ask(
        "answered",
        200,
        None,
        head=[("content-length", "<n>"), ("content-type", "application/json")],
    ),
    Ask(
        "answered, a query string ignored, the caller's ids kept",
        200,
        None,
        path="/v1/information-requests/{id}/answers?page=2",
        headers={"traceparent": CALLER, "x-request-id": OFFERED_ID},
        head=[("content-length", "<n>"), ("content-type", "application/json")],
    ),
    Ask(
        "the scheme in lower case",
        200,
        None,
        bearer="bearer <token>",
        head=[("content-length", "<n>"), ("content-type", "application/json")],
    ),
    Ask(
        "no Authorization header",
        401,
        NO_BEARER,
        bearer=None,
        head=_problem_head(NO_BEARER, BEARER),
    ),
    Ask(
        "another scheme", 401, NO_BEARER, bearer="Basic dTpw", head=_problem_head(NO_BEARER, BEARER)
    ),
    Ask("the scheme alone", 401, NO_BEARER, bearer="Bearer", head=_problem_head(NO_BEARER, BEARER)),
    Ask(
        "the scheme and blanks",
        401,
        NO_BEARER,
        bearer="Bearer   ",
        head=_problem_head(NO_BEARER, BEARER),
    ),
    Ask("not a JWT", 401, NOT_A_JWT, bearer="Bearer x.y.z", head=_problem_head(NOT_A_JWT, BEARER)),
    Ask("a spent token", 401, REPLAYED, bearer="spent", head=_problem_head(REPLAYED, BEARER)),
    Ask(
        "a request id over 64 characters, no bearer",
        400,
        TOO_LONG,
        path="/v1/information-requests/" + "a" * 65 + "/answers",
        bearer=None,
        head=_problem_head(TOO_LONG),
    ),
    Ask(
        "a request id over 64 characters (not bytes)",
        400,
        TOO_LONG,
        path="/v1/information-requests/" + "%C3%A9" * 65 + "/answers",
        head=_problem_head(TOO_LONG),
    ),
    Ask(
        "a request id of 64 characters, unknown",
        404,
        NOT_VISIBLE,
        path="/v1/information-requests/" + "a" * 64 + "/answers",
        head=_problem_head(NOT_VISIBLE),
    ),
    Ask(
        # An id's characters only (review8c F1: NUL in it was a 500 on PostgreSQL).
        "a request id of 64 characters that are no id's",
        400,
        NOT_AN_ID,
        path="/v1/information-requests/" + "%C3%A9" * 64 + "/answers",
        head=_problem_head(NOT_AN_ID),
    ),
    Ask(
        "a request id with NUL",
        400,
        NOT_AN_ID,
        path="/v1/information-requests/a%00b/answers",
        head=_problem_head(NOT_AN_ID),
    ),
    Ask(
        "an unknown request id",
        404,
        NOT_VISIBLE,
        path="/v1/information-requests/unknown/answers",
        head=_problem_head(NOT_VISIBLE),
    ),
    Ask(
        "another partner's request",
        404,
        NOT_VISIBLE,
        bearer=POLICE,
        head=_problem_head(NOT_VISIBLE),
    ),
    Ask(
        "a role the token's issuer is not granted",
        403,
        UNKNOWN_ROLE,
        bearer=("u-centraal", "no-such-role"),
        head=_problem_head(UNKNOWN_ROLE),
    ),
    Ask(
        "a privacy officer",
        403,
        AUDITOR,
        bearer=("u-centraal", "privacy-officer"),
        head=_problem_head(AUDITOR),
    ),
    Ask(
        "no policy engine",
        503,
        POLICY_DOWN,
        policy_down=True,
        head=_problem_head(POLICY_DOWN, ("retry-after", "5")),
    ),
    Ask("HEAD", 405, None, method="HEAD", head=_problem_head(NOT_ALLOWED, ALLOW_POST)),
    Ask("OPTIONS", 405, NOT_ALLOWED, method="OPTIONS", head=_problem_head(NOT_ALLOWED, ALLOW_POST)),
    Ask("PUT", 405, NOT_ALLOWED, method="PUT", head=_problem_head(NOT_ALLOWED, ALLOW_POST)),
    Ask("DELETE", 405, NOT_ALLOWED, method="DELETE", head=_problem_head(NOT_ALLOWED, ALLOW_POST)),
    Ask("PATCH", 405, NOT_ALLOWED, method="PATCH", head=_problem_head(NOT_ALLOWED, ALLOW_POST)),
    Ask(
        "a trailing slash",
        307,
        None,
        path="/v1/information-requests/{id}/answers/",
        head=[
            ("content-length", "0"),
            ("location", "http://testserver/v1/information-requests/{id}/answers"),
        ],
        route="unmatched",
    ),
    Ask(
        "no request id",
        404,
        NO_ROUTE,
        path="/v1/information-requests//answers",
        head=_problem_head(NO_ROUTE),
        route="unmatched",
    ),
    Ask(
        "a slash in the request id",
        404,
        NO_ROUTE,
        path="/v1/information-requests/a%2Fb/answers",
        head=_problem_head(NO_ROUTE),
        route="unmatched",
    ),
    Ask(
        "a BSN in the query string",
        400,
        BSN_IN_URL,
        path="/v1/information-requests/{id}/answers?bsn=111222333",
        head=_problem_head(BSN_IN_URL),
        route="unmatched",
    ),
    Ask(
        "a declared body over the limit",
        413,
        TOO_BIG,
        headers={"content-length": "99999999"},
        head=[("connection", "close"), *_problem_head(TOO_BIG)],
        route="unmatched",
    ),
]


@pytest.fixture(params=["served", "documented route only"])
def gateway_client(
    request: pytest.FixtureRequest,
    settings: Settings,
    context: GatewayContext,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[TestClient]:
    """The app as served, and the same app with no route in front of FastAPI's."""
    if request.param != "served":
        monkeypatch.setattr(gateway.app, "install_hot_routes", lambda app: None, raising=False)
    with TestClient(create_app(settings, context), raise_server_exceptions=False) as client:
        yield client


def _seen(response: Any, row: Ask, request_id: str) -> dict[str, Any]:
    """The answer as the table pins it: the ids and lengths that vary masked (and checked)."""
    head: list[tuple[str, str]] = []
    for name, value in response.headers.multi_items():
        if name == "traceparent":
            assert TRACEPARENT.fullmatch(value), value
            assert CALLER_TRACE not in value  # the gateway's own trace, not the caller's
            value = "<ours>"
        elif name == "x-request-id":
            if OFFERED_ID in row.headers.values():
                assert value == OFFERED_ID
            else:
                assert REQUEST_ID.fullmatch(value), value
            value = "<ours>"
        elif name == "content-length" and row.status == 200:
            assert int(value) == len(response.content)
            value = "<n>"
        head.append((name, value.replace(request_id, "{id}")))
    body: Any = None
    if response.content:
        body = response.json()
    return {"status": response.status_code, "head": head, "body": body}


def _authorization(row: Ask, token: Callable[..., str]) -> dict[str, str]:
    if row.bearer is None:
        return {}
    if row.bearer == "case manager":
        return {"Authorization": f"Bearer {token(*CASE_MANAGER, user='cm-1')}"}
    if isinstance(row.bearer, tuple):
        return {"Authorization": f"Bearer {token(*row.bearer)}"}
    if row.bearer == "bearer <token>":
        return {"Authorization": f"bearer {token(*CASE_MANAGER, user='cm-1')}"}
    return {"Authorization": row.bearer}


@contextmanager
def _policy_down(context: GatewayContext) -> Iterator[None]:
    engine, context.policy = context.policy, RegorusEngine()  # a bundle that never compiled
    try:
        yield
    finally:
        context.policy = engine


def test_every_answer_of_the_read_is_as_pinned(
    gateway_client: TestClient,
    auth: Auth,
    token: Callable[..., str],
    context: GatewayContext,
    caplog: pytest.LogCaptureFixture,
) -> None:
    case: UtrechtCase = open_utrecht_case(gateway_client, auth)
    request_id = case.answered_request()
    spent = token(*CASE_MANAGER, user="cm-1")
    assert _read(gateway_client, request_id, f"Bearer {spent}").status_code == 200
    for row in TABLE:
        headers = {**_authorization(row, token), **row.headers}
        if row.bearer == "spent":
            headers["Authorization"] = f"Bearer {spent}"
        path = row.path.format(id=request_id)
        caplog.clear()
        with (
            caplog.at_level(logging.INFO, logger="ketenpoort.access"),
            _policy_down(context) if row.policy_down else nullcontext(),
        ):
            response = gateway_client.request(
                row.method, path, headers=headers, follow_redirects=False
            )
        seen = _seen(response, row, request_id)
        expected_body = row.body
        if row.status == 200:
            expected_body = seen["body"]
            _assert_disclosed(seen["body"], request_id)
        assert seen == {
            "status": row.status,
            "head": [*(row.head or []), *TAIL],
            "body": expected_body,
        }, row.name
        (line,) = [r for r in caplog.records if r.name == "ketenpoort.access"]
        assert (line.http_method, line.http_route, line.http_status) == (  # type: ignore[attr-defined]
            row.method,
            row.route,
            row.status,
        ), row.name


def _read(client: TestClient, request_id: str, authorization: str) -> Any:
    return client.get(
        f"/v1/information-requests/{request_id}/answers", headers={"Authorization": authorization}
    )


def _assert_disclosed(body: dict[str, Any], request_id: str) -> None:
    assert body["requestId"] == request_id
    assert [(v["category"], v["outcome"]) for v in body["values"]] == [
        ("police-reports", "disclosed"),
        ("police-physical-violence", "disclosed"),
    ]
    assert body["values"][0]["value"] == "2 meldingen"
    assert body["receipt"]["index"] >= 1


def test_the_read_records_the_callers_trace_and_names_its_own(
    gateway_client: TestClient, auth: Auth, token: Callable[..., str], context: GatewayContext
) -> None:
    case = open_utrecht_case(gateway_client, auth)
    request_id = case.answered_request()
    response = gateway_client.get(
        f"/v1/information-requests/{request_id}/answers",
        headers={
            "Authorization": f"Bearer {token(*CASE_MANAGER, user='cm-1')}",
            "traceparent": CALLER,
        },
    )
    assert response.status_code == 200, response.text
    _, trace_id, span_id, _ = response.headers["traceparent"].split("-")
    with context.session_factory() as session:
        bodies = [json.loads(b) for b in session.scalars(select(AuditRecord.body))]
    (entry,) = [b for b in bodies if b.get("trace", {}).get("traceId") == trace_id]
    assert entry["trace"]["parentSpanId"] == span_id
    assert entry["trace"]["foreignOperation"] == {
        "traceId": CALLER_TRACE,
        "spanId": "00f067aa0ba902b7",
        "partnerId": "u-centraal",
    }


def test_a_request_refused_before_the_read_leaves_its_token_unspent(
    gateway_client: TestClient, auth: Auth, token: Callable[..., str]
) -> None:
    """A bad request id is refused before authentication (as FastAPI checks parameters
    before the route runs): the token carried no read and is not spent; a request that got
    as far as the read spends it, refused or not."""
    case = open_utrecht_case(gateway_client, auth)
    request_id = case.answered_request()
    kept = f"Bearer {token(*CASE_MANAGER, user='cm-1')}"
    refused = gateway_client.get(
        "/v1/information-requests/" + "a" * 65 + "/answers", headers={"Authorization": kept}
    )
    assert refused.status_code == 400
    assert _read(gateway_client, request_id, kept).status_code == 200
    spent = f"Bearer {token(*CASE_MANAGER, user='cm-1')}"
    assert _read(gateway_client, "unknown", spent).status_code == 404
    assert _read(gateway_client, request_id, spent).json() == REPLAYED


def test_an_unexpected_error_in_the_read_is_a_500_problem_without_its_message(
    gateway_client: TestClient,
    auth: Auth,
    token: Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from gateway.exchange import enforcement

    case = open_utrecht_case(gateway_client, auth)
    request_id = case.answered_request()

    def broken(**_: Any) -> Any:
        raise RuntimeError("while reading 111222333")

    monkeypatch.setattr(enforcement, "disclose_answers", broken)
    response = _read(gateway_client, request_id, f"Bearer {token(*CASE_MANAGER, user='cm-1')}")
    internal = _problem(
        500, "internal-error", "Internal error", "The gateway could not complete the request."
    )
    row = Ask("unexpected", 500, internal)
    assert _seen(response, row, request_id) == {
        "status": 500,
        "head": [*_problem_head(internal), *TAIL],
        "body": internal,
    }
    assert "111222333" not in response.text
    monkeypatch.undo()  # control: the same read without the fault
    assert (
        _read(gateway_client, request_id, f"Bearer {token(*CASE_MANAGER, user='cm-1')}").status_code
        == 200
    )


def test_a_requester_removed_from_the_team_gets_the_unknown_requests_404(
    gateway_client: TestClient, auth: Auth, token: Callable[..., str]
) -> None:
    """Both routes: a requester the lead removed from the case team reads its request's
    answers no more, with the exact answer of a request id that does not exist (review4
    F2); in the team (the control) it reads them."""
    case = open_utrecht_case(gateway_client, auth)
    member = ("buurtteam-sociaal", "buurtteam-medewerker")
    team = f"/v1/cases/{case.case_id}/team"
    added = gateway_client.post(team, json={"partnerId": member[0]}, headers=case.as_(CASE_MANAGER))
    assert added.status_code in (200, 201), added.text
    asked = gateway_client.post(
        "/v1/information-requests",
        json={
            "caseId": case.case_id,
            "purpose": "safety",
            "categories": ["police-risk-assessment"],
        },
        headers=case.as_(member, "bt-1"),
    )
    assert asked.status_code == 201, asked.text
    request_id = asked.json()["id"]
    answered = case.answer(request_id, [{"category": "police-risk-assessment", "value": "hond"}])
    assert answered.status_code == 200, answered.text
    read = _read(gateway_client, request_id, f"Bearer {token(*member, user='bt-1')}")
    assert read.status_code == 200, read.text
    removed = gateway_client.delete(f"{team}/{member[0]}", headers=case.as_(CASE_MANAGER))
    assert removed.status_code == 200, removed.text
    response = _read(gateway_client, request_id, f"Bearer {token(*member, user='bt-1')}")
    row = Ask("removed from the team", 404, NOT_VISIBLE)
    assert _seen(response, row, request_id) == {
        "status": 404,
        "head": [*_problem_head(NOT_VISIBLE), *TAIL],
        "body": NOT_VISIBLE,
    }
