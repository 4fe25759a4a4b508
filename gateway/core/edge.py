"""Every request's way in and out of the gateway: one pure ASGI middleware, outermost of ours.

It does, in this order, what were five middlewares each wrapping ``send`` (issue 20: the
stack was ~20% of the event loop's time per read), with one send wrapper:

1. observability (gateway/core/tracing.py): the request id and the trace span cover
   everything, errors included; the response carries ``traceparent`` and ``X-Request-Id``;
   the access log line and the request metrics at the end;
2. the response headers of gateway/core/headers.py on every response, refusals included;
3. the request body limit (gateway/core/body_limit.py): a declared ``Content-Length`` over
   the limit is refused before routing, an undeclared body is counted as it is read;
4. no BSN in the path or the query string (gateway/core/urls.py), refused before routing;
5. an exception raised before the response started is answered with a 500 problem and the
   client's connection kept (gateway/core/problem.py, :class:`UnexpectedErrorMiddleware`);
   one raised after it started propagates to the server.
"""

from __future__ import annotations

from collections.abc import Iterable

from opentelemetry.sdk.trace import TracerProvider
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.core.body_limit import BodyLimit
from gateway.core.headers import with_response_headers
from gateway.core.problem import answer_unexpected
from gateway.core.tracing import RequestObservation
from gateway.core.urls import LogPositions, refuse_identifier_in_url


class GatewayMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        provider: TracerProvider | None,
        routes: Iterable[BaseRoute] = (),
    ):
        """``routes``: the app's, read when Starlette builds this layer (at the first
        request or the lifespan's start, every route included by then) for the positions in
        the audit log their URLs carry (urls.LOG_POSITION)."""
        self.app = app
        self.log_positions = LogPositions.of_routes(routes)
        self.body_limit = BodyLimit(max_body_bytes)
        self.tracer = provider.get_tracer("gateway") if provider is not None else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        observed = RequestObservation(self.tracer, scope)
        status = 500
        started = False
        ids = [
            (b"traceparent", observed.traceparent.encode()),
            (b"x-request-id", observed.request_id.encode()),
        ]

        async def send_with_headers(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status = message["status"]
                started = True
                message["headers"] = with_response_headers(message.get("headers", ())) + ids
            await send(message)

        error: BaseException | None = None
        try:
            declared = None
            for name, value in scope["headers"]:
                if name == b"content-length":
                    declared = value.decode("latin-1")
                    break
            refusal = self.body_limit.refuse_declared(declared) or refuse_identifier_in_url(
                scope, self.log_positions
            )
            if refusal is not None:
                await refusal(scope, receive, send_with_headers)
                return
            try:
                await self.app(scope, self.body_limit.counting(receive), send_with_headers)
            except Exception as exc:
                if started:
                    raise
                await answer_unexpected(exc, scope, receive, send_with_headers)
        except BaseException as exc:
            error = exc
            raise
        finally:
            observed.end(scope, status, error)
