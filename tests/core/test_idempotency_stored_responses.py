"""What an idempotent POST stores as its replayable response, JSON sealed with the field
cipher (``idempotency_record.response_sealed`` since migration 0049; in plaintext before,
tests/core/test_idempotency_sealed.py): the route's response model, whole. The docstring of
gateway/core/idempotency.py lists it per route; it said stored responses "never hold case
data", while a consent's 201 (kind, scope, expiry: an OM consent tells an investigation runs)
and a case event's (the landlord's measure) are stored. This test pins the routes and the
fields they store, so a new idempotent route or field meets the list and the docstring."""

from __future__ import annotations

from typing import Any

from fastapi.routing import APIRoute

from gateway.app import api_routers
from gateway.core import idempotency
from gateway.core.idempotency import idempotent_post

#: Route -> the fields its stored response holds (camelCase, as stored).
STORED = {
    "POST /reports": {"caseId", "reference", "created", "state", "reportId", "awaitingLead"},
    "POST /cases/{caseId}/consents": {
        "id", "kind", "partnerId", "granted", "scope", "expiresAt", "recordedAt",
        "withdrawnAt", "live",
    },
    "POST /cases/{caseId}/events": {"id", "event", "partnerId", "occurredOn", "recordedAt"},
    "POST /information-requests": {
        "id", "caseId", "covenantId", "purpose", "requesterPartnerId", "requesterRole",
        "state", "createdAt", "dueAt", "items", "decisionId", "bundleRevision", "receipt",
    },
    "POST /information-requests/{requestId}/answers": {
        "requestId", "partnerId", "items", "receipt",
    },
    "POST /case-facts": {"id", "caseId", "category", "partnerId", "recordedAt", "receipt"},
}  # fmt: skip
#: What no stored response may hold: values, identifiers of persons, free text.
NEVER = {"value", "yesNo", "bsn", "address", "postcode", "description", "text", "values"}


def _uses_idempotency(route: APIRoute) -> bool:
    pending = list(route.dependant.dependencies)
    while pending:
        dependency = pending.pop()
        if dependency.call is idempotent_post:
            return True
        pending += dependency.dependencies
    return False


def _fields(model: Any) -> set[str]:
    names: set[str] = set()
    for name, field in model.model_fields.items():
        names.add(field.alias or name)
    return names


def _nested(model: Any) -> set[str]:
    """Every field name at any depth of ``model``'s JSON schema."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            found.update(node.get("properties", {}))
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(model.model_json_schema(by_alias=True))
    return found


def test_the_idempotent_routes_store_what_the_docstring_lists() -> None:
    routes = {
        f"{method} {route.path}": route
        for router in api_routers()
        for route in router.routes
        if isinstance(route, APIRoute) and _uses_idempotency(route)
        for method in route.methods
    }
    assert set(routes) == set(STORED)
    for name, route in routes.items():
        assert _fields(route.response_model) == STORED[name], name
        assert not (_nested(route.response_model) & NEVER), name
        assert name.split(" ", 1)[1] in (idempotency.__doc__ or ""), name
