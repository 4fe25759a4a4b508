from __future__ import annotations

import pytest

from gateway.cases.runtime import CaseRuntime
from gateway.context import GatewayContext


@pytest.fixture
def runtime(context: GatewayContext) -> CaseRuntime:
    service: CaseRuntime = context.cases
    return service
