"""The FastAPI application: one factory, routers per domain under /v1."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

from gateway.auth import api as auth_api
from gateway.config import Settings
from gateway.context import GatewayContext, build_context
from gateway.core import health
from gateway.core.edge import GatewayMiddleware
from gateway.core.headers import API_VERSION
from gateway.core.openapi import install_openapi
from gateway.core.operator_routes import install_operator_routes
from gateway.core.problem import COMMON_RESPONSES, install_problem_handlers
from gateway.core.tracing import tracer_provider
from gateway.core.urls import redact_access_log
from gateway.retention import problems as retention_problems

API_PREFIX = "/v1"

DESCRIPTION = """\
Ketenpoort is the gateway through which covenant partners tackling residential nuisance
(woonoverlast) exchange case information: only what a covenant clause allows, for a named
purpose, to a partner involved in the case. Every disclosure is decided by policy compiled
from the covenant and recorded in a verifiable audit log.

Authenticate with a short-lived JWT signed by your partner key (one token per request).
Errors are `application/problem+json` (RFC 9457).
"""


def api_routers(*, hot_first: bool = False) -> list[APIRouter]:
    """Every domain's router under /v1, in the order the API documents them; a new domain
    adds one line here. ``hot_first``: the exchange's routes first, the order requests are
    routed in (issue 20: FastAPI tries each included router's routes in turn, and the
    mediated read is most of the traffic). The order changes nothing else because no two
    routers' paths overlap (tests/api/test_routing.py)."""
    from gateway.audit import api as audit_api
    from gateway.cases import api as cases_api
    from gateway.crypto import api as crypto_api
    from gateway.exchange import api as exchange_api
    from gateway.retention import api as retention_api

    routers = [
        health.router,
        auth_api.router,
        cases_api.router,
        exchange_api.router,
        audit_api.router,
        crypto_api.router,
        retention_api.router,
    ]
    if hot_first:
        routers.sort(key=lambda router: router is not exchange_api.router)  # stable
    return routers


def documented_paths() -> list[str]:
    """The /v1 paths in the order the API documents them (:func:`api_routers`)."""
    return [
        API_PREFIX + route.path
        for router in api_routers()
        for route in router.routes
        if isinstance(route, APIRoute)
    ]


def install_hot_routes(app: FastAPI) -> None:
    """The exchange's hot routes (the mediated read as a plain route, issue 20), tried before
    every other route; each serves GET only on a path of its own documented route
    (tests/api/test_routing.py), which still documents it."""
    from gateway.exchange import api as exchange_api

    app.router.routes[0:0] = exchange_api.hot_routes(API_PREFIX)


def create_app(settings: Settings | None = None, context: GatewayContext | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if getattr(app.state, "context", None) is None:
            app.state.context = build_context(settings)
        # What start built lives as long as the process: out of the cyclic collector's way
        # (a full collection over it took ~100 ms, a stall of every request in flight).
        gc.collect()
        gc.freeze()
        yield
        app.state.context.close()

    app = FastAPI(
        title="Ketenpoort",
        version=API_VERSION,
        description=DESCRIPTION,
        contact={
            "name": "Ketenpoort team",
            "email": "ketenpoort@example.nl",
            "url": "https://ketenpoort.nl",
        },
        license_info={"name": "EUPL-1.2", "url": "https://eupl.eu/1.2/nl/"},
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # served from the package: gateway/core/operator_routes.py
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.context = context
    app.state.settings = settings
    install_openapi(app, base_path=API_PREFIX, path_order=documented_paths())
    install_problem_handlers(app, middleware=False)  # GatewayMiddleware answers the unexpected
    retention_problems.install(app)  # a 410 case-erased as its reader may read it
    redact_access_log()
    # One layer for every request, whatever the route: request id and trace span around
    # everything, response headers, the body limit and no BSN in the URL before routing.
    app.add_middleware(
        GatewayMiddleware,
        max_body_bytes=settings.max_request_body_bytes,
        provider=tracer_provider(settings),
        routes=app.router.routes,  # read when the layer is built, every route included
    )
    install_operator_routes(app, api_prefix=API_PREFIX)
    for router in api_routers(hot_first=True):
        app.include_router(router, prefix=API_PREFIX, responses=COMMON_RESPONSES)
    install_hot_routes(app)
    from gateway.web import api as web_api

    app.include_router(web_api.router)  # the Dutch pages live outside /v1
    return app
