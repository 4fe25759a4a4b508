"""Wires the exchange domain into a running gateway.

The exchange holds no state of its own: it resolves the policy engine, the field cipher and
the audit log per request (see :mod:`gateway.exchange.deps`), so it registers only a
readiness check naming which of them is missing.
"""

from __future__ import annotations

from gateway.context import GatewayContext

SERVICE_NAME = "exchange"
NEEDS = ("policy", "crypto", "audit")


def install(context: GatewayContext) -> None:
    def exchange_ready() -> str | None:
        missing = [name for name in NEEDS if name not in context.services]
        return f"exchange cannot disclose without: {', '.join(missing)}" if missing else None

    context.readiness_checks[SERVICE_NAME] = exchange_ready
