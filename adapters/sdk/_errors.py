"""The SDK's exception hierarchy, mapped from the gateway's application/problem+json.

::

    KetenpoortError
    ├── TransportError            the gateway could not be reached (after retries)
    └── ApiError                  the gateway answered with a problem (status, problem)
        ├── BadRequest            400: invalid parameters (see ``problem.invalid_params``)
        ├── AuthenticationError   401: token missing, invalid, expired or replayed
        ├── PermissionDenied      403: not allowed for this partner or role
        │   └── PolicyDenied      403: the covenant's policy denied it (reasons, clauses)
        ├── NotFound              404
        ├── Conflict              409: conflicts with the current state
        ├── Unprocessable         422: well-formed but not acceptable
        ├── ServiceUnavailable    503: a dependency is down (after retries)
        └── ServerError           other 5xx

An ``ApiError`` carries the parsed ``Problem``; its message is the problem's title and
detail, which the gateway guarantees to hold no personal data, so it is safe to log.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

PROBLEM_BASE = "https://ketenpoort.nl/problems/"


class InvalidParam(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str
    reason: str


class Problem(BaseModel):
    """RFC 9457 problem details; members beyond the standard ones stay in ``extra``."""

    model_config = ConfigDict(populate_by_name=True, extra="allow", frozen=True)

    type: str = "about:blank"
    title: str = ""
    status: int = 0
    detail: str = ""
    invalid_params: list[InvalidParam] = Field(default_factory=list, alias="invalidParams")

    @property
    def slug(self) -> str:
        """The last path segment of ``type``: ``policy-denied``, ``not-found``, ..."""
        return self.type.rstrip("/").rsplit("/", 1)[-1]

    @property
    def extra(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class KetenpoortError(Exception):
    """Base of every error the SDK raises."""


class TransportError(KetenpoortError):
    """The gateway could not be reached, or the connection broke, even after retrying."""


class ApiError(KetenpoortError):
    """The gateway answered with an error status and a problem document."""

    def __init__(self, status: int, problem: Problem) -> None:
        self.status = status
        self.problem = problem
        text = problem.title or f"HTTP {status}"
        super().__init__(f"{status} {text}: {problem.detail}" if problem.detail else text)


class BadRequest(ApiError):
    """400: the request had invalid parameters; ``problem.invalid_params`` says which."""


class AuthenticationError(ApiError):
    """401: the token was missing, invalid, expired or already used; or the key is unknown."""


class PermissionDenied(ApiError):
    """403: this partner or role may not do this."""


class PolicyDenied(PermissionDenied):
    """403: the covenant's policy denied the request; the problem names reasons and clauses."""

    @property
    def reasons(self) -> list[str]:
        value = self.problem.extra.get("reasons", [])
        return [str(v) for v in value] if isinstance(value, list) else [str(value)]


class NotFound(ApiError):
    """404: no such resource (or not visible to this partner)."""


class Conflict(ApiError):
    """409: conflicts with the current state (e.g. answering a request twice)."""


class Unprocessable(ApiError):
    """422: well-formed but not acceptable (e.g. a transition the workflow forbids)."""


class ServiceUnavailable(ApiError):
    """503: a dependency the gateway needs (keys, policy, audit, database) is down."""


class ServerError(ApiError):
    """Any other 5xx."""


_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: AuthenticationError,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    422: Unprocessable,
    503: ServiceUnavailable,
}

# Problem types that refine the status: a policy denial is a 403 with its own type.
_BY_SLUG: dict[str, type[ApiError]] = {
    "policy-denied": PolicyDenied,
    "denied-by-policy": PolicyDenied,
}


def parse_problem(response: httpx.Response) -> Problem:
    """The response's problem document, or one made up from the status if it has none."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    if isinstance(body, dict):
        try:
            return Problem.model_validate(body)
        except ValidationError:
            pass
    return Problem(
        title=response.reason_phrase or f"HTTP {response.status_code}",
        status=response.status_code,
        detail="The gateway's response carried no problem document.",
    )


def error_for_response(response: httpx.Response) -> ApiError:
    """Map an error response to the most specific exception class."""
    problem = parse_problem(response)
    status = response.status_code
    cls = _BY_SLUG.get(problem.slug)
    if cls is None:
        cls = _BY_STATUS.get(status, ServerError if status >= 500 else ApiError)
    return cls(status, problem)
