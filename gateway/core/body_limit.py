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

from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import Message, Receive

# Applied by the gateway's one middleware (gateway/core/edge.py), before routing.


class BodyLimit:
    def __init__(self, max_body_bytes: int) -> None:
        self.max_body_bytes = max_body_bytes
        self.detail = f"A request body may be at most {max_body_bytes} bytes."

    def refuse_declared(self, declared: str | None) -> Response | None:
        """The answer to a request whose ``Content-Length`` (``declared``, None when absent)
        is over the limit or not a number; None when the request may go on."""
        if declared is None or (declared.isdigit() and int(declared) <= self.max_body_bytes):
            return None
        from gateway.core.problem import problem_response

        # The client may still be sending the body nobody will read: end the connection.
        close = {"Connection": "close"}
        if declared.isdigit():
            return problem_response(413, "Payload too large", self.detail, headers=close)
        detail = "The Content-Length header is not a number of bytes."
        return problem_response(400, "Bad request", detail, headers=close)

    def counting(self, receive: Receive) -> Receive:
        """``receive`` counting the body it passes on, refusing it past the limit."""
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

        return receive_within_limit
