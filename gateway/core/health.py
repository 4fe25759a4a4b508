from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from gateway.auth.deps import Context
from gateway.core.json_body import StrictJsonRoute
from gateway.core.problem import problem_response
from gateway.core.schemas import ApiModel
from gateway.db import schema_readiness

router = APIRouter(tags=["health"], route_class=StrictJsonRoute)


class Health(ApiModel):
    status: Literal["ok"]
    checks: dict[str, str]


@router.get("/health/live", response_model=Health, summary="The process is up")
def live() -> Health:
    return Health(status="ok", checks={})


@router.get(
    "/health/ready",
    response_model=Health,
    summary="Ready to disclose: database, keys, policy and audit log all reachable",
    responses={503: {"description": "A dependency is down; nothing will be disclosed"}},
)
def ready(context: Context) -> Health | JSONResponse:
    checks: dict[str, str] = {}
    failures: list[str] = []
    try:
        with context.engine.connect() as connection:
            problem = schema_readiness(connection, context.schema)
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        problem = type(exc).__name__
    checks["database"] = problem or "ok"
    if problem:
        failures.append("database")
    for name, check in context.readiness_checks.items():
        try:
            problem = check()
        except Exception as exc:  # noqa: BLE001
            problem = type(exc).__name__
        checks[name] = problem or "ok"
        if problem:
            failures.append(name)
    if failures:
        return problem_response(
            503,
            "Service unavailable",
            f"Not ready: {', '.join(failures)} unavailable.",
            problem="not-ready",
            extra={"checks": checks},
        )
    return Health(status="ok", checks=checks)
