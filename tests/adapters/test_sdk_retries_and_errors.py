"""Retries and error mapping, against an httpx.MockTransport (no gateway, no network)."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from adapters.sdk import (
    IDEMPOTENCY_HEADER,
    ApiError,
    AuthenticationError,
    BadRequest,
    CategoryAnswer,
    Conflict,
    KetenpoortClient,
    KetenpoortError,
    NotFound,
    PermissionDenied,
    PolicyDenied,
    RetryPolicy,
    ServerError,
    ServiceUnavailable,
    TransportError,
    Unprocessable,
)

pytestmark = pytest.mark.anyio

PROBLEM = "application/problem+json"
RECEIPT = {"index": 7, "leafHash": "ab" * 32, "recordedAt": "2025-03-01T10:00:00Z"}
ANSWER_RECEIPT = {
    "requestId": "req-1",
    "partnerId": "politie-midden-nederland",
    "items": [
        {
            "partnerId": "politie-midden-nederland",
            "category": "police-physical-violence",
            "state": "answered",
            "answerForm": "yes-no",
        }
    ],
    "receipt": RECEIPT,
}


def problem(status: int, slug: str, **extra: object) -> httpx.Response:
    body = {
        "type": f"https://ketenpoort.nl/problems/{slug}",
        "title": slug,
        "status": status,
        "detail": f"a {slug} problem",
        **extra,
    }
    return httpx.Response(status, json=body, headers={"Content-Type": PROBLEM})


class Recorder:
    """A scripted gateway: answers in order, records what it was sent."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def make_client(
    handler: Callable[[httpx.Request], httpx.Response],
    attempts: int = 4,
    sleeps: list[float] | None = None,
) -> KetenpoortClient:
    async def no_sleep(seconds: float) -> None:
        if sleeps is not None:
            sleeps.append(seconds)

    return KetenpoortClient(
        "http://gateway.test/",
        "politie-midden-nederland",
        ed25519.Ed25519PrivateKey.generate(),
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy(attempts=attempts, backoff=0.5, jitter=0),
        sleep=no_sleep,
    )


def answer_call(client: KetenpoortClient):  # type: ignore[no-untyped-def]
    return client.answer("req-1", [CategoryAnswer.whether("police-physical-violence", True)])


async def test_a_503_is_retried_with_the_same_idempotency_key_and_a_fresh_token() -> None:
    gateway = Recorder(
        problem(503, "service-unavailable"), httpx.Response(200, json=ANSWER_RECEIPT)
    )
    sleeps: list[float] = []
    async with make_client(gateway, sleeps=sleeps) as client:
        receipt = await answer_call(client)
    assert receipt.receipt.index == 7
    first, second = gateway.requests
    assert first.headers[IDEMPOTENCY_HEADER] == second.headers[IDEMPOTENCY_HEADER]
    assert first.headers["Authorization"] != second.headers["Authorization"]
    assert json.loads(first.content) == json.loads(second.content)
    assert sleeps == [0.5]


async def test_the_backoff_doubles_and_honours_retry_after() -> None:
    gateway = Recorder(
        problem(503, "service-unavailable"),
        httpx.Response(503, headers={"Retry-After": "3"}),
        problem(503, "service-unavailable"),
        httpx.Response(200, json=ANSWER_RECEIPT),
    )
    sleeps: list[float] = []
    async with make_client(gateway, sleeps=sleeps) as client:
        await answer_call(client)
    assert sleeps == [0.5, 3.0, 2.0]


async def test_a_refused_connection_is_retried_then_succeeds() -> None:
    gateway = Recorder(httpx.ConnectError("refused"), httpx.Response(200, json=ANSWER_RECEIPT))
    async with make_client(gateway) as client:
        await answer_call(client)
    assert len(gateway.requests) == 2
    keys = {r.headers[IDEMPOTENCY_HEADER] for r in gateway.requests}
    assert len(keys) == 1


async def test_an_unreachable_gateway_is_a_transport_error_after_the_last_attempt() -> None:
    gateway = Recorder(*(httpx.ConnectError("refused") for _ in range(3)))
    async with make_client(gateway, attempts=3) as client:
        with pytest.raises(TransportError, match="after 3 attempt"):
            await client.me()
    assert len(gateway.requests) == 3


async def test_a_503_on_the_last_attempt_is_raised_as_service_unavailable() -> None:
    gateway = Recorder(*(problem(503, "service-unavailable") for _ in range(2)))
    async with make_client(gateway, attempts=2) as client:
        with pytest.raises(ServiceUnavailable):
            await client.me()


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 429])
async def test_a_4xx_answer_is_never_retried(status: int) -> None:
    gateway = Recorder(problem(status, "x"), httpx.Response(200, json=ANSWER_RECEIPT))
    async with make_client(gateway) as client:
        with pytest.raises(ApiError) as raised:
            await answer_call(client)
    assert raised.value.status == status
    assert len(gateway.requests) == 1


async def test_a_post_always_carries_an_idempotency_key_and_a_get_none() -> None:
    gateway = Recorder(
        httpx.Response(200, json=ANSWER_RECEIPT),
        httpx.Response(200, json=ANSWER_RECEIPT),
        httpx.Response(200, json={"partnerId": "p", "items": []}),
    )
    async with make_client(gateway) as client:
        await answer_call(client)
        await answer_call(client)
        await client.inbox()
    first, second, poll = gateway.requests
    assert first.headers[IDEMPOTENCY_HEADER] != second.headers[IDEMPOTENCY_HEADER]
    assert IDEMPOTENCY_HEADER not in poll.headers


async def test_a_given_idempotency_key_is_sent_as_is() -> None:
    gateway = Recorder(httpx.Response(200, json=ANSWER_RECEIPT))
    async with make_client(gateway) as client:
        await client.answer(
            "req-1", [CategoryAnswer.unavailable("police-reports")], idempotency_key="my-key-123"
        )
    assert gateway.requests[0].headers[IDEMPOTENCY_HEADER] == "my-key-123"


async def test_each_request_is_signed_for_the_partner_with_a_unique_token_id() -> None:
    gateway = Recorder(
        *(httpx.Response(200, json={"partnerId": "p", "items": []}) for _ in range(2))
    )
    async with make_client(gateway) as client:
        await client.inbox()
        await client.inbox()
    claims = [
        jwt.decode(
            r.headers["Authorization"].removeprefix("Bearer "), options={"verify_signature": False}
        )
        for r in gateway.requests
    ]
    assert {c["iss"] for c in claims} == {"politie-midden-nederland"}
    assert {c["aud"] for c in claims} == {"ketenpoort"}
    assert {c["role"] for c in claims} == {"adapter"}
    assert claims[0]["jti"] != claims[1]["jti"]
    assert all(c["exp"] - c["iat"] <= 60 for c in claims)


async def test_the_inbox_long_poll_asks_the_gateway_to_wait_and_outlives_the_wait() -> None:
    gateway = Recorder(httpx.Response(200, json={"partnerId": "p", "items": []}))
    async with make_client(gateway) as client:
        await client.inbox(wait_seconds=25)
    sent = gateway.requests[0]
    assert sent.url.path == "/v1/inbox"
    assert sent.url.params["waitSeconds"] == "25"
    assert sent.extensions["timeout"]["read"] > 25


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (
            problem(400, "invalid-parameters", invalidParams=[{"name": "caseId", "reason": "x"}]),
            BadRequest,
        ),
        (problem(401, "unauthenticated"), AuthenticationError),
        (problem(403, "forbidden"), PermissionDenied),
        (problem(403, "policy-denied", reasons=["not-in-case-team"]), PolicyDenied),
        (problem(404, "not-found"), NotFound),
        (problem(409, "conflict"), Conflict),
        (problem(422, "unprocessable"), Unprocessable),
        (problem(500, "internal-error"), ServerError),
        (httpx.Response(418, text="teapot"), ApiError),
    ],
)
async def test_problem_answers_map_to_the_documented_exceptions(
    response: httpx.Response, error: type[ApiError]
) -> None:
    gateway = Recorder(response)
    async with make_client(gateway, attempts=1) as client:
        with pytest.raises(error) as raised:
            await client.me()
    assert type(raised.value) is error
    assert isinstance(raised.value, KetenpoortError)
    assert raised.value.status == response.status_code


async def test_a_problem_keeps_its_detail_invalid_params_and_extensions() -> None:
    gateway = Recorder(
        problem(400, "invalid-parameters", invalidParams=[{"name": "caseId", "reason": "bad"}]),
        problem(
            403,
            "policy-denied",
            reasons=["investigation-without-om-consent"],
            clauses=["U-5.3-antecedenten"],
        ),
    )
    async with make_client(gateway, attempts=1) as client:
        with pytest.raises(BadRequest) as bad:
            await client.me()
        with pytest.raises(PolicyDenied) as denied:
            await client.me()
    assert bad.value.problem.invalid_params[0].name == "caseId"
    assert bad.value.problem.slug == "invalid-parameters"
    assert "a invalid-parameters problem" in str(bad.value)
    assert denied.value.reasons == ["investigation-without-om-consent"]
    assert denied.value.problem.extra["clauses"] == ["U-5.3-antecedenten"]


async def test_a_success_the_sdk_cannot_read_is_an_api_error_not_a_crash() -> None:
    gateway = Recorder(httpx.Response(200, json={"unexpected": True}))
    async with make_client(gateway) as client:
        with pytest.raises(ApiError, match="does not match"):
            await client.me()


def test_a_retry_policy_needs_at_least_one_attempt() -> None:
    with pytest.raises(ValueError, match="attempts"):
        RetryPolicy(attempts=0)


async def test_the_gateway_url_may_be_given_with_or_without_v1() -> None:
    gateway = Recorder(httpx.Response(200, json={"partnerId": "p", "items": []}))
    client = KetenpoortClient(
        "http://gw.test/v1/",
        "p",
        ed25519.Ed25519PrivateKey.generate(),
        transport=httpx.MockTransport(gateway),
    )
    async with client:
        await client.inbox()
    assert str(gateway.requests[0].url) == "http://gw.test/v1/inbox?waitSeconds=0"


async def test_poll_inbox_yields_only_inboxes_with_work_until_stopped() -> None:
    import asyncio

    item = {
        "kind": "information-request",
        "requestId": "req-1",
        "caseId": "case-1",
        "covenantId": "utrecht-extreme-woonoverlast",
        "categories": ["police-reports"],
        "createdAt": "2025-03-01T10:00:00Z",
    }
    gateway = Recorder(
        httpx.Response(200, json={"partnerId": "p", "items": []}),
        httpx.Response(200, json={"partnerId": "p", "items": [item]}),
    )
    stop = asyncio.Event()
    seen = []
    async with make_client(gateway) as client:
        async for inbox in client.poll_inbox(wait_seconds=5, stop=stop):
            seen.append(inbox)
            stop.set()
    assert [i.request_id for i in seen[0].items] == ["req-1"]
    assert [r.url.params["waitSeconds"] for r in gateway.requests] == ["5", "5"]
