"""RFC 9457 problem details, as the NL API Design Rules ask for every error."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.core.errors import (
    DatabaseUnavailable,
    GatewayError,
    ServiceUnavailable,
    encodable,
)
from gateway.db import is_outage

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "https://ketenpoort.nl/problems/"

log = logging.getLogger("ketenpoort.errors")

_HTTP_TITLES = {
    400: "Bad request",
    401: "Authentication failed",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
}


def problem_response(
    status: int,
    title: str,
    detail: str,
    *,
    problem: str | None = None,
    invalid_params: list[dict[str, str]] | None = None,
    extra: dict[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + (problem or title.lower().replace(" ", "-")),
        "title": title,
        "status": status,
        # Never what a client sent as it cannot be encoded (gateway/core/errors.encodable).
        "detail": encodable(detail),
    }
    if invalid_params:
        body["invalidParams"] = [
            {name: encodable(value) for name, value in param.items()} for param in invalid_params
        ]
    if extra:
        body.update(extra)
    return JSONResponse(
        body,
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=dict(headers) if headers else None,
    )


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or str(loc[0] if loc else "request")


def _error_headers(exc: GatewayError) -> dict[str, str] | None:
    if exc.status == 401:
        return {"WWW-Authenticate": "Bearer"}
    if isinstance(exc, ServiceUnavailable):
        return {"Retry-After": str(exc.retry_after_seconds)}
    return None


async def _gateway_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, GatewayError)
    headers = _error_headers(exc)
    return problem_response(
        exc.status,
        exc.title,
        exc.detail,
        problem=exc.problem,
        invalid_params=exc.invalid_params,
        extra=exc.extra,
        headers=headers,
    )


def _invalid_param(err: Mapping[str, Any]) -> dict[str, str]:
    if err.get("type") == "json_invalid":
        # A body that is not JSON, or has a key twice (gateway/core/json_body.py): what the
        # parser found, not just that it failed.
        found = (err.get("ctx") or {}).get("error")
        return {"name": "body", "reason": f"not JSON: {found}" if found else "not JSON"}
    return {
        "name": _field_name(tuple(err.get("loc", ()))),
        "reason": str(err.get("msg", "invalid")),
    }


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    params = [_invalid_param(err) for err in exc.errors()]
    return problem_response(
        400,
        "Bad request",
        "The request has invalid parameters; see invalidParams.",
        problem="invalid-parameters",
        invalid_params=params,
    )


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    title = _HTTP_TITLES.get(exc.status_code, "Error")
    detail = exc.detail if isinstance(exc.detail, str) else title
    return problem_response(exc.status_code, title, detail, headers=exc.headers)


def _internal_error() -> JSONResponse:
    return problem_response(
        500,
        "Internal error",
        "The gateway could not complete the request.",
        problem="internal-error",
    )


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    """A database that is down or dropped the connection is a 503 the client may retry; any
    other database error is a bug (500). Neither message is logged: it may quote data."""
    if is_outage(exc):
        log.warning("database unavailable: %s", type(exc).__name__)
        unavailable = DatabaseUnavailable(
            "The database is unavailable; nothing was done. Retry later with a fresh token."
        )
        return await _gateway_error(request, unavailable)
    log.error("database error: %s", type(exc).__name__)
    return _internal_error()


async def _unexpected_error(_: Request, exc: Exception) -> JSONResponse:
    # The exception may carry personal data in its message: log only its type.
    log.error("unhandled error: %s", type(exc).__name__, exc_info=False)
    return _internal_error()


class UnexpectedErrorMiddleware:
    """Answers an unhandled exception with a 500 problem and *keeps the client's connection*.

    Starlette's outermost error middleware answers it too, but then re-raises to the server,
    and uvicorn closes the connection: the client's next request on it (perhaps a POST whose
    fate it then cannot know) is reset. This one sits inside it and does not re-raise.
    An exception after the response started cannot be answered; that one still propagates.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:
                raise
            await answer_unexpected(exc, scope, receive, send)


async def answer_unexpected(exc: Exception, scope: Scope, receive: Receive, send: Send) -> None:
    """Answer an exception that reached the middleware before the response started: a 500
    problem, the exception's type logged (its message may carry personal data)."""
    log.error("unhandled error: %s", type(exc).__name__, exc_info=False)
    await _internal_error()(scope, receive, send)


class InvalidParam(BaseModel):
    name: str
    reason: str


class ProblemDetails(BaseModel):
    """RFC 9457 problem details, as every error response carries them."""

    model_config = ConfigDict(populate_by_name=True, extra="allow")

    type: str
    title: str
    status: int
    detail: str
    invalid_params: list[InvalidParam] | None = Field(default=None, alias="invalidParams")


def _problem(description: str) -> dict[str, Any]:
    return {
        "model": ProblemDetails,
        "description": description,
        "content": {
            PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}
        },
    }


#: Documented on every /v1 operation, so clients (and the API fuzz test) know every error shape.
COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _problem("Invalid parameters"),
    401: _problem("Missing, invalid, expired or replayed token"),
    403: _problem("Not allowed for this partner or role"),
    404: _problem("Not found"),
    409: _problem("Conflicts with the current state"),
    422: _problem("Well-formed but not acceptable"),
    503: _problem("A dependency needed to disclose safely is unavailable"),
}


def install_problem_handlers(app: FastAPI, *, middleware: bool = True) -> None:
    """The exception handlers, and (unless the gateway's own middleware does it,
    gateway/core/edge.py) :class:`UnexpectedErrorMiddleware`."""
    app.add_exception_handler(GatewayError, _gateway_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(SQLAlchemyError, _database_error)
    app.add_exception_handler(psycopg.Error, _database_error)
    app.add_exception_handler(Exception, _unexpected_error)
    if middleware:
        # Added before any other middleware: the innermost, so the others see its answer.
        app.add_middleware(UnexpectedErrorMiddleware)
