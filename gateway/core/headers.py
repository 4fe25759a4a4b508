"""Headers every response carries: the API version (NL API Design Rules) and security headers."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_VERSION = "1.0.0"

_STATIC_HEADERS = [
    (b"api-version", API_VERSION.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]


def with_response_headers(given: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """A response's headers with the static ones and ``Cache-Control: no-store`` added where
    the response does not set them itself (gateway/core/edge.py adds them to every response)."""
    headers = list(given)
    present = {name.lower() for name, _ in headers}
    headers.extend(h for h in _STATIC_HEADERS if h[0] not in present)
    if b"cache-control" not in present:
        headers.append((b"cache-control", b"no-store"))
    return headers


class ResponseHeadersMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware): adds headers without buffering the body.

    Responses default to ``Cache-Control: no-store``: case data must never sit in a cache.
    The gateway itself adds them in its one middleware (gateway/core/edge.py); this one is
    for an app without it (the exchange tests' lean app).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = with_response_headers(message.get("headers", []))
            await send(message)

        await self.app(scope, receive, send_with_headers)
