"""An exception the handlers do not answer (gateway/core/edge.py): before the response started
it is a 500 problem with every header a response carries and the exception's type alone in
the log; after the response started it goes on to the server, which ends the connection."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from fastapi.testclient import TestClient
from opentelemetry.trace import StatusCode

from gateway.app import create_app
from gateway.config import Settings
from gateway.context import GatewayContext

SECRET = "111222333 Nachtelijk lawaai"


class _Bug(Exception):
    pass


def _with_buggy_routes(app: FastAPI) -> FastAPI:
    async def fails() -> dict[str, str]:
        raise _Bug(SECRET)

    async def fails_while_streaming() -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            yield b"started"
            raise _Bug(SECRET)

        return StreamingResponse(body())

    async def works() -> dict[str, str]:
        return {"ok": "yes"}

    app.add_api_route("/v1/test-only/fails", fails)
    app.add_api_route("/v1/test-only/fails-while-streaming", fails_while_streaming)
    app.add_api_route("/v1/test-only/works", works)
    return app


def test_an_unhandled_exception_is_a_500_problem_with_every_header_and_no_message(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    with TestClient(_with_buggy_routes(app), raise_server_exceptions=False) as client:
        works = client.get("/v1/test-only/works")  # positive control
        with caplog.at_level(logging.INFO):
            response = client.get(
                "/v1/test-only/fails", headers={"X-Request-Id": "0f8e2d4c6b7a49e1a3c5d7e9f1b2c4d6"}
            )
    assert works.status_code == 200
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/internal-error")
    for answered in (works, response):
        assert answered.headers["api-version"] == "1.0.0"
        assert answered.headers["cache-control"] == "no-store"
        assert answered.headers["x-content-type-options"] == "nosniff"
        assert re.fullmatch(r"00-[0-9a-f]{32}-[0-9a-f]{16}-01", answered.headers["traceparent"])
    assert response.headers["x-request-id"] == "0f8e2d4c6b7a49e1a3c5d7e9f1b2c4d6"
    assert "_Bug" in caplog.text
    assert "111222333" not in caplog.text
    assert "Nachtelijk" not in caplog.text
    access = [r for r in caplog.records if getattr(r, "event", None) == "access"]
    assert [(r.http_route, r.http_status) for r in access] == [("/v1/test-only/fails", 500)]  # type: ignore[attr-defined]


def test_an_exception_after_the_response_started_goes_on_to_the_server(app: FastAPI) -> None:
    with TestClient(_with_buggy_routes(app)) as client:
        assert client.get("/v1/test-only/works").status_code == 200  # positive control
        with pytest.raises(_Bug):
            client.get("/v1/test-only/fails-while-streaming")


def test_with_a_traces_exporter_a_failed_requests_span_names_the_type_alone(
    settings: Settings, context: GatewayContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The span goes to a tracing backend outside the gateway: as in the log, the exception's
    type, never its message (which may carry what a handler was working on) nor a stack
    trace (whose last line repeats the message). Both failures: before the response started
    (a 500) and after (the connection ends). Control: both spans are exported and marked as
    errors, the second with the exception's type, so the test sees what it looks into."""
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    import gateway.app
    from gateway.core.tracing import tracer_provider

    exported = InMemorySpanExporter()
    monkeypatch.setattr(
        gateway.app, "tracer_provider", lambda s: tracer_provider(s, exporter=exported)
    )
    app = _with_buggy_routes(create_app(settings, context))
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/v1/test-only/fails").status_code == 500
    with TestClient(app) as client, pytest.raises(_Bug):
        client.get("/v1/test-only/fails-while-streaming")
    spans = {s.name: s for s in exported.get_finished_spans()}
    failed = [spans["GET /v1/test-only/fails"], spans["GET /v1/test-only/fails-while-streaming"]]
    recorded = json.dumps(
        [
            {
                "attributes": dict(span.attributes or {}),
                "events": [(e.name, dict(e.attributes or {})) for e in span.events],
                "status": span.status.description,
            }
            for span in failed
        ]
    )
    assert [span.status.status_code for span in failed] == [StatusCode.ERROR] * 2
    assert "_Bug" in recorded
    assert "111222333" not in recorded
    assert "Nachtelijk" not in recorded
