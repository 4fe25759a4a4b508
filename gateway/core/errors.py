"""One error hierarchy for the whole gateway; one handler turns it into problem+json."""

from __future__ import annotations

from typing import Any


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
        super().__init__(detail)
        self.detail = detail
        self.invalid_params = invalid_params or []
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
