"""A request body has a size limit (issue 17: no size limits anywhere; an unauthenticated
client could make the gateway buffer any body it sent, since FastAPI reads a JSON body before
any dependency, authentication included, runs).

A body that declares a larger ``Content-Length`` than ``KETENPOORT_MAX_REQUEST_BODY_BYTES``
is refused before routing, unread; one that does not declare its size (chunked) is counted
as it is read and refused when it passes the limit. Both answer 413 problem+json.

Not FastAPI's own ``max_body_size``: its limiter answers a declared size with a text/plain
413 of its own, replacing whatever response the application gives.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.detail = f"A request body may be at most {max_body_bytes} bytes."

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body_bytes):
            from gateway.core.problem import problem_response

            # The client may still be sending the body nobody will read: end the connection.
            close = {"Connection": "close"}
            if declared.isdigit():
                response = problem_response(413, "Payload too large", self.detail, headers=close)
            else:
                detail = "The Content-Length header is not a number of bytes."
                response = problem_response(400, "Bad request", detail, headers=close)
            await response(scope, receive, send)
            return
        received = 0

        async def receive_within_limit() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    # An HTTPException, because FastAPI turns any other error raised while it
                    # reads a body into a 400; the problem handlers make it problem+json.
                    raise HTTPException(413, self.detail, headers={"Connection": "close"})
            return message

        await self.app(scope, receive_within_limit, send)
