"""The other domains' services as the pages reach them.

A page calls exactly the service functions the API calls, with the page session's
principal. A domain that is not installed on this gateway (or not yet built) is reported
plainly as unavailable: a page never invents data to fill the gap.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from gateway.cases.runtime import CaseRuntime
from gateway.context import GatewayContext
from gateway.core.errors import ServiceUnavailable


class NotAvailable(ServiceUnavailable):
    problem = "page-service-unavailable"
    title = "Part of the gateway not available"


def cases_runtime(context: GatewayContext) -> CaseRuntime:
    return context.cases


def domain_module(name: str, what: str) -> ModuleType:
    """Import a domain's service module, or say plainly that this part is not there."""
    try:
        return importlib.import_module(name)
    except ImportError:
        raise NotAvailable(f"{what} is op deze gateway nog niet beschikbaar.") from None


def function(module: ModuleType, name: str, what: str) -> Any:
    found = getattr(module, name, None)
    if not callable(found):
        raise NotAvailable(f"{what} is op deze gateway nog niet beschikbaar.")
    return found


def exchange(context: GatewayContext) -> tuple[ModuleType, Any]:
    """The exchange's service module and its collaborators (policy, keys, audit)."""
    service = domain_module("gateway.exchange.service", "Informatieverzoeken")
    deps = domain_module("gateway.exchange.deps", "Informatieverzoeken")
    return service, deps.exchange_services(context)
