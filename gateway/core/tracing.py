"""W3C trace context and OpenTelemetry spans for every request, the request id, the access
log line and the request metrics: one pure ASGI middleware, outermost.

Each request is a trace of the gateway's own, as Logboek Dataverwerkingen asks of every
processing: a partner's ``traceparent`` (parsed by OpenTelemetry's own propagator) is
honoured as a span *link* to the partner's operation and recorded in the audit entry as its
``foreign_operation`` (audit/entry.py), not continued as our parent, since the partner's
trace belongs to another organisation. The response carries ``traceparent`` naming the
gateway's span, so a partner can quote it; the OPA query (:func:`inject_trace_context`) and
the audit entry (:func:`current_span_ids`) are children of that span, and every log line of
the request carries its trace id. Spans are always made (logs and audit entries need their
ids) but exported only when ``KETENPOORT_TRACES_EXPORTER`` names an exporter.

No span, log line or metric label carries a path, a query string or a body: the route
template (``/v1/cases/{caseId}``) stands for the path.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.core import metrics
from gateway.core.logs import request_id_var

if TYPE_CHECKING:
    from gateway.config import Settings

_log = logging.getLogger("ketenpoort.access")
_propagator = TraceContextTextMapPropagator()
# An incoming X-Request-Id (set by the ingress) is kept only when it cannot carry anything
# but an id; otherwise the gateway makes its own.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


def tracer_provider(settings: Settings, exporter: SpanExporter | None = None) -> TracerProvider:
    """Spans with ids always; exported only when an exporter is configured (or given)."""
    from opentelemetry.sdk.resources import Resource

    from gateway.core.headers import API_VERSION

    provider = TracerProvider(
        resource=Resource.create({"service.name": "ketenpoort", "service.version": API_VERSION})
    )
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    elif settings.traces_exporter == "otlp":
        # Endpoint, headers and timeouts from the standard OTEL_EXPORTER_OTLP_* variables.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    elif settings.traces_exporter == "console":
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    return provider


def current_traceparent() -> str | None:
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return carrier.get("traceparent")


def current_span_ids() -> tuple[str, str] | None:
    """(trace id, span id) of the request being served, as lowercase hex; None outside one."""
    span = trace.get_current_span().get_span_context()
    if not span.is_valid:
        return None
    return trace.format_trace_id(span.trace_id), trace.format_span_id(span.span_id)


def inject_trace_context(headers: MutableMapping[str, str]) -> None:
    """Add the current span's ``traceparent`` to an outgoing request's headers."""
    _propagator.inject(headers)


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp, provider: TracerProvider) -> None:
        self.app = app
        self.tracer = provider.get_tracer("gateway")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {
            name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]
        }
        offered = headers.get("x-request-id", "")
        request_id = offered if _REQUEST_ID.fullmatch(offered) else secrets.token_hex(16)
        caller = trace.get_current_span(_propagator.extract(headers)).get_span_context()
        links = [trace.Link(caller)] if caller.is_valid else []
        method = scope["method"]
        started = time.perf_counter()
        status = 500
        with self.tracer.start_as_current_span(
            method, context=otel_context.Context(), kind=trace.SpanKind.SERVER, links=links
        ) as span:
            token = request_id_var.set(request_id)
            traceparent = current_traceparent() or ""

            async def send_with_ids(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                    message["headers"] = [
                        *message.get("headers", []),
                        (b"traceparent", traceparent.encode()),
                        (b"x-request-id", request_id.encode()),
                    ]
                await send(message)

            try:
                await self.app(scope, receive, send_with_ids)
            finally:
                route = _route_template(scope)
                seconds = time.perf_counter() - started
                span.update_name(f"{method} {route}")
                span.set_attribute("http.request.method", method)
                span.set_attribute("http.route", route)
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_status(trace.StatusCode.ERROR)
                metrics.observe_request(method, route, status, seconds)
                _log.info(
                    "%s %s %d",
                    method,
                    route,
                    status,
                    extra={
                        "event": "access",
                        "http_method": method,
                        "http_route": route,
                        "http_status": status,
                        "duration_ms": round(seconds * 1000, 2),
                    },
                )
                request_id_var.reset(token)


def _route_template(scope: Scope) -> str:
    """The matched route's template with its router's prefix (``/v1/cases/{caseId}``);
    "unmatched" for a 404, so a scanned path never becomes a label."""
    # FastAPI 0.16x keeps included routers apart; the route it matched, prefix and all, is
    # in its scope entry. Starlette's own routes (a Mount) only set "route".
    matched: Any = scope.get("fastapi", {}).get("effective_route_context")
    for candidate in (matched, scope.get("route")):
        template = getattr(candidate, "path_format", None) or getattr(candidate, "path", None)
        if isinstance(template, str):
            return template
    return "unmatched"
