"""W3C trace context and OpenTelemetry spans for every request, the request id, the access
log line and the request metrics: :class:`RequestObservation`, which the gateway's one
middleware (gateway/core/edge.py) starts first and ends last.

Each request is a trace of the gateway's own, as Logboek Dataverwerkingen asks of every
processing: a partner's ``traceparent`` (parsed by OpenTelemetry's own propagator) is
honoured as a span *link* to the partner's operation and recorded in the audit entry as its
``foreign_operation`` (audit/entry.py), not continued as our parent, since the partner's
trace belongs to another organisation; one whose ids hold a BSN is dropped
(:func:`partner_traceparent`). The response carries ``traceparent`` naming the
gateway's span, so a partner can quote it; the OPA query (:func:`inject_trace_context`) and
the audit entry (:func:`current_span_ids`) are children of that span, and every log line of
the request carries its trace id. Span ids are always made (logs and audit entries need
them); SDK spans are recorded and exported only when ``KETENPOORT_TRACES_EXPORTER`` names an
exporter.

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
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.types import Scope

from gateway.core import metrics
from gateway.core.logs import request_id_var
from gateway.crypto.blind_index import holds_bsn

if TYPE_CHECKING:
    from gateway.config import Settings

_log = logging.getLogger("ketenpoort.access")
_propagator = TraceContextTextMapPropagator()
# An incoming X-Request-Id (an ingress's: Envoy's UUID, nginx's $request_id or a W3C trace
# id, 32 hex digits) is kept only in those shapes, which hold no letters beyond a-f (no
# name), and only when it holds no BSN (dashes ignored; gateway.crypto.blind_index.holds_bsn:
# nine digits in a row passing the eleven-test, or a run of exactly eight that passes with
# its leading zero restored, review10 F4): it goes into every log line of the request, and
# the logs carry no personal data (README; review9c F5: a bare BSN sent as the id was
# logged). Otherwise the gateway makes its own. About one random id in 27 holds such a run;
# it is then replaced too.
_REQUEST_ID = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32}"
)


def _kept_request_id(offered: str) -> bool:
    return bool(_REQUEST_ID.fullmatch(offered)) and not holds_bsn(offered.replace("-", ""))


def partner_traceparent(header: str | None) -> str | None:
    """The caller's ``traceparent`` as the gateway may keep it: None when any of its fields
    (the trace id and the span id above all) holds a BSN, by the same test as a request id.

    The partner's trace and span ids are written into the audit entry, for ever, as its
    foreign operation (audit/entry.py) and exported as a span link (review10 F3: a BSN sent
    as the trace id was stored). Then the gateway keeps no trace of the partner's operation
    at all: the request is still served, under the gateway's own trace. A malformed header
    passes through unchanged; its readers drop it."""
    if header is None or any(holds_bsn(field) for field in header.split("-")):
        return None
    return header


def tracer_provider(
    settings: Settings, exporter: SpanExporter | None = None
) -> TracerProvider | None:
    """A provider whose spans are exported, when an exporter is configured (or given); None
    when none is: then a request's span is only its ids (:class:`RequestObservation`)."""
    from opentelemetry.sdk.resources import Resource

    from gateway.core.headers import API_VERSION

    processor: SimpleSpanProcessor | BatchSpanProcessor
    if exporter is not None:
        processor = SimpleSpanProcessor(exporter)
    elif settings.traces_exporter == "otlp":
        # Endpoint, headers and timeouts from the standard OTEL_EXPORTER_OTLP_* variables.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        processor = BatchSpanProcessor(OTLPSpanExporter())
    elif settings.traces_exporter == "console":
        processor = BatchSpanProcessor(ConsoleSpanExporter())
    else:
        return None
    provider = TracerProvider(
        resource=Resource.create({"service.name": "ketenpoort", "service.version": API_VERSION})
    )
    provider.add_span_processor(processor)
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


_ids = RandomIdGenerator()
_SAMPLED = trace.TraceFlags(trace.TraceFlags.SAMPLED)


class RequestObservation:
    """One request's request id, span and timing, from :meth:`start` (before anything else
    runs) to :meth:`end` (after the response, or the error): the gateway's middleware
    (gateway/core/edge.py) brackets every request with them.

    With a tracer (an exporter is configured) the span is an OpenTelemetry SDK span, linked
    to a partner's ``traceparent`` and exported. Without one nothing would ever read a
    recorded span, so the request's span is only its ids: a non-recording span with fresh
    random trace and span ids, current for the request like the SDK's, so log lines, the
    audit entry, the OPA query and the ``traceparent`` response header carry the same ids
    either way (issue 20: the SDK span was ~12% of the event loop's time per read).
    """

    __slots__ = ("method", "request_id", "traceparent", "_started", "_span", "_context", "_id")

    def __init__(self, tracer: trace.Tracer | None, scope: Scope) -> None:
        offered = ""
        caller = ""
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                offered = value.decode("latin-1")
            elif name == b"traceparent":
                caller = value.decode("latin-1")
        kept = _kept_request_id(offered)
        self.request_id = offered if kept else secrets.token_hex(16)
        partner = partner_traceparent(caller) if caller else None
        self.method: str = scope["method"]
        self._started = time.perf_counter()
        span: trace.Span
        if tracer is None:
            trace_id, span_id = _ids.generate_trace_id(), _ids.generate_span_id()
            span = trace.NonRecordingSpan(
                trace.SpanContext(trace_id, span_id, is_remote=False, trace_flags=_SAMPLED)
            )
            self.traceparent = f"00-{trace_id:032x}-{span_id:016x}-01"
        else:
            linked = _propagator.extract({"traceparent": partner}) if partner else None
            operation = trace.get_current_span(linked).get_span_context()
            span = tracer.start_span(
                self.method,
                context=otel_context.Context(),
                kind=trace.SpanKind.SERVER,
                links=[trace.Link(operation)] if operation.is_valid else [],
            )
        self._span = span
        self._context = otel_context.attach(trace.set_span_in_context(span))
        if tracer is not None:
            self.traceparent = current_traceparent() or ""
        self._id = request_id_var.set(self.request_id)
        if offered and not kept:
            # Said without the value, under the request's own id and trace.
            _log.info(
                "X-Request-Id replaced by the gateway's own: not a UUID or 32 hex digits, or "
                "it holds nine digits passing the BSN eleven-test (or eight with the leading "
                "zero)",
                extra={"event": "request-id-replaced"},
            )
        if caller and partner is None:
            _log.info(
                "traceparent dropped: a field of it holds nine digits passing the BSN "
                "eleven-test (or eight with the leading zero); the partner's operation is "
                "neither linked nor audited",
                extra={"event": "traceparent-dropped"},
            )

    def end(self, scope: Scope, status: int, error: BaseException | None = None) -> None:
        """The span's name and attributes, the request metrics and the access log line (in
        the request's span and with its request id), then out of the request's context."""
        try:
            route = _route_template(scope)
            seconds = time.perf_counter() - self._started
            method = self.method
            span = self._span
            if span.is_recording():
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
            request_id_var.reset(self._id)
            if error is not None and span.is_recording():
                # The type alone, as in the log: an exception's message (and a stack trace,
                # whose last line repeats it) may carry what a handler was working on, and a
                # span leaves the gateway for a tracing backend. Not record_exception.
                kind = type(error).__qualname__
                span.set_attribute("error.type", kind)
                span.add_event("exception", {"exception.type": kind})
                span.set_status(trace.Status(trace.StatusCode.ERROR, kind))
        finally:
            self._span.end()
            otel_context.detach(self._context)


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
