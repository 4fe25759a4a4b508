"""Wires the retention domain into a running gateway (services, readiness checks, jobs)."""

from __future__ import annotations

from gateway.context import GatewayContext


def install(context: GatewayContext) -> None:
    """Nothing to register yet."""
    del context
