"""A request body over KETENPOORT_MAX_REQUEST_BODY_BYTES is refused with 413 problem+json,
before authentication and before anything is stored; one within the limit is read as before.
A declared size is refused before the body is read; a chunked body (no declared size) when
the bytes read pass the limit, against a real server over a raw socket."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from gateway.audit.models import AuditRecord
from gateway.config import Settings
from gateway.context import GatewayContext
from tests.conftest import settings_without_jobs
from tests.core.live import served
from tests.core.test_request_head_limits import RawConnection

LIMIT = 8192
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def settings(tmp_path: Any, database_url: str) -> Settings:
    settings = settings_without_jobs(tmp_path, database_url)
    return settings.model_copy(update={"max_request_body_bytes": LIMIT})


def _report_of(size: int) -> bytes:
    """A JSON body of exactly ``size`` bytes (a report whose description pads it)."""
    empty = json.dumps({"description": ""}).encode()
    return json.dumps({"description": "x" * (size - len(empty))}).encode()


def _assert_413(status: int, headers: dict[str, str], body: bytes) -> None:
    assert status == 413, body
    assert headers["content-type"] == "application/problem+json"
    problem = json.loads(body)
    assert problem["status"] == 413
    assert problem["type"] == "https://ketenpoort.nl/problems/payload-too-large"
    assert str(LIMIT) in problem["detail"]


def audit_entries(context: GatewayContext) -> int:
    with context.session_factory() as session:
        return int(session.execute(select(func.count()).select_from(AuditRecord)).scalar_one())


def test_a_body_declared_over_the_limit_is_413_before_authentication(
    client: TestClient, context: GatewayContext, auth: Any
) -> None:
    entries = audit_entries(context)
    response = client.post(
        "/v1/reports",
        content=_report_of(LIMIT + 1),
        headers={"Content-Type": "application/json", **auth("mitros", "woonconsulent")},
    )
    _assert_413(response.status_code, dict(response.headers), response.content)
    assert audit_entries(context) == entries
    # No token at all: still 413, the body is refused before anyone is asked who sent it.
    anonymous = client.post(
        "/v1/reports", content=_report_of(LIMIT + 1), headers={"Content-Type": "application/json"}
    )
    assert anonymous.status_code == 413


def test_a_body_at_the_limit_is_read(client: TestClient) -> None:
    # Positive control: the body is read and parsed; then authentication answers (no token).
    response = client.post(
        "/v1/reports", content=_report_of(LIMIT), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 401, response.text


def test_a_content_length_that_is_no_number_is_400(client: TestClient) -> None:
    response = client.post(
        "/v1/reports",
        content=b"{}",
        headers={"Content-Type": "application/json", "Content-Length": "2 "},
    )
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "Content-Length" in response.json()["detail"]


@pytest.fixture
def port(app: FastAPI) -> Iterator[int]:
    with served(app) as port:
        yield port


def _chunked(body: bytes, piece: int = 1000) -> bytes:
    chunks = [body[i : i + piece] for i in range(0, len(body), piece)]
    encoded = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks)
    return encoded + b"0\r\n\r\n"


def _chunked_post(body: bytes) -> bytes:
    head = (
        b"POST /v1/reports HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    return head + _chunked(body)


def test_a_chunked_body_over_the_limit_is_413_as_it_is_read(port: int) -> None:
    connection = RawConnection(port)
    try:
        connection.send(_chunked_post(_report_of(LIMIT + 1)))
        answer = connection.response()
        _assert_413(answer.status, answer.headers, answer.body)
    finally:
        connection.close()


def test_a_chunked_body_at_the_limit_is_read(port: int) -> None:
    connection = RawConnection(port)
    try:
        connection.send(_chunked_post(_report_of(LIMIT)))
        answer = connection.response()
        assert answer.status == 401, answer.body  # read and parsed; no token
    finally:
        connection.close()
