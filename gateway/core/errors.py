"""One error hierarchy for the whole gateway; one handler turns it into problem+json."""

from __future__ import annotations

from typing import Any


def encodable(text: str) -> str:
    """``text`` as UTF-8 can carry it: a lone surrogate (which a JSON escape ``\\ud800`` or a
    raw byte read as "surrogatepass" makes of a client's input) becomes U+FFFD.

    An error message that quotes what a client sent must still be a message: the response
    that carries it is UTF-8, and a surrogate in it failed the error handler itself (a 500
    instead of the 4xx, review8c F1)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in text)
    return text


class GatewayError(Exception):
    """Base class of every error the gateway reports to a client.

    ``status`` is the HTTP status, ``problem`` a short kebab-case slug that becomes the
    problem ``type`` URI, ``title`` a fixed human summary of the kind of problem.
    ``detail`` explains this occurrence; it must never contain personal data or internals.
    """

    status: int = 500
    problem: str = "internal-error"
    title: str = "Internal error"

    def __init__(
        self,
        detail: str,
        *,
        invalid_params: list[dict[str, str]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        detail = encodable(detail)
        super().__init__(detail)
        self.detail = detail
        self.invalid_params = [
            {name: encodable(value) for name, value in param.items()}
            for param in invalid_params or []
        ]
        self.extra = extra or {}


class BadRequest(GatewayError):
    status = 400
    problem = "bad-request"
    title = "Bad request"


class Unauthenticated(GatewayError):
    status = 401
    problem = "unauthenticated"
    title = "Authentication failed"


class Forbidden(GatewayError):
    status = 403
    problem = "forbidden"
    title = "Forbidden"


class NotFound(GatewayError):
    status = 404
    problem = "not-found"
    title = "Not found"


class Conflict(GatewayError):
    status = 409
    problem = "conflict"
    title = "Conflict"


class Unprocessable(GatewayError):
    status = 422
    problem = "unprocessable"
    title = "Unprocessable content"


class ServiceUnavailable(GatewayError):
    """A dependency the gateway needs to disclose safely (keys, policy, audit) is down.

    Answered with ``Retry-After`` (RFC 9110 §10.2.3): the request did nothing and may be
    sent again, with a fresh token, after that many seconds."""

    status = 503
    problem = "service-unavailable"
    title = "Service unavailable"
    retry_after_seconds = 5


class DatabaseUnavailable(ServiceUnavailable):
    """The database could not be reached, or dropped the connection mid-request (a restart,
    a failover, ``pg_terminate_backend``): the request's transaction rolled back."""

    problem = "database-unavailable"
    title = "Database unavailable"
