from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session

from gateway.cases import api as cases_api
from gateway.cases.runtime import CaseRuntime
from gateway.config import Settings
from gateway.context import GatewayContext
from gateway.core.headers import ResponseHeadersMiddleware
from gateway.core.problem import install_problem_handlers


@pytest.fixture
def runtime(context: GatewayContext) -> CaseRuntime:
    service: CaseRuntime = context.services["cases"]
    return service


@pytest.fixture
def session(context: GatewayContext) -> Iterator[Session]:
    """A session the test commits or abandons itself."""
    with context.session_factory() as db:
        yield db


@pytest.fixture
def app(settings: Settings, context: GatewayContext) -> FastAPI:
    """The cases routes alone, with the gateway's error handling and headers: these tests do
    not depend on other domains' routes (the full app is exercised by tests/api)."""
    application = FastAPI()
    application.state.context = context
    application.state.settings = settings
    install_problem_handlers(application)
    application.add_middleware(ResponseHeadersMiddleware)
    application.include_router(cases_api.router, prefix="/v1")
    return application
