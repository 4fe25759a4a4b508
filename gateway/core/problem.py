"""RFC 9457 problem details, as the NL API Design Rules ask for every error."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from gateway.core.errors import GatewayError

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
        "detail": detail,
    }
    if invalid_params:
        body["invalidParams"] = invalid_params
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


async def _gateway_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, GatewayError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return problem_response(
        exc.status,
        exc.title,
        exc.detail,
        problem=exc.problem,
        invalid_params=exc.invalid_params,
        extra=exc.extra,
        headers=headers,
    )


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    params = [
        {"name": _field_name(tuple(err.get("loc", ()))), "reason": str(err.get("msg", "invalid"))}
        for err in exc.errors()
    ]
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


async def _unexpected_error(_: Request, exc: Exception) -> JSONResponse:
    # The exception may carry personal data in its message: log only its type.
    log.error("unhandled error: %s", type(exc).__name__, exc_info=False)
    return problem_response(
        500,
        "Internal error",
        "The gateway could not complete the request.",
        problem="internal-error",
    )


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


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(GatewayError, _gateway_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
