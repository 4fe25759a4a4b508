"""Routes for operators rather than partners, outside the OpenAPI document: the interactive
API docs served from the package (a closed municipal network reaches no CDN) and /metrics
behind its own token."""

from __future__ import annotations

import hmac
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from gateway.core import metrics
from gateway.core.problem import problem_response

# Swagger UI 5 (OpenAPI 3.1) as shipped in the fastapi-offline wheel: the same files its
# CDN serves, installed with the package and pinned in requirements.lock.
SWAGGER_ASSETS = Path(fastapi_offline.__file__).parent / "static"


def install_operator_routes(app: FastAPI, *, api_prefix: str) -> None:
    assets = f"{api_prefix}/docs/assets"
    app.mount(assets, StaticFiles(directory=SWAGGER_ASSETS), name="swagger-assets")

    @app.get(f"{api_prefix}/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=f"{api_prefix}/openapi.json",
            title="Ketenpoort API",
            swagger_js_url=f"{assets}/swagger-ui-bundle.js",
            swagger_css_url=f"{assets}/swagger-ui.css",
            swagger_favicon_url=f"{assets}/favicon.png",
            # Swagger UI would send the document to its public validator for a badge.
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get("/metrics", include_in_schema=False)
    def prometheus_metrics(request: Request) -> Response:
        settings = request.app.state.settings
        token = settings.metrics_token
        offered = request.headers.get("authorization", "")
        # Unset token: /metrics is not on this port at all (KETENPOORT_METRICS_PORT instead).
        if token is None:
            return problem_response(404, "Not found", "No such resource.", problem="not-found")
        expected = f"Bearer {token.get_secret_value()}"
        if not hmac.compare_digest(offered.encode(), expected.encode()):
            return problem_response(
                401,
                "Unauthorized",
                "The metrics token is missing or wrong.",
                problem="unauthenticated",
            )
        context = request.app.state.context
        body = metrics.scrape(context.engine, context.settings.audit_log_origin)
        return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")
