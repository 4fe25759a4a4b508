"""Builds the exchange domain's part of a running gateway: its readiness check.

The exchange holds no state of its own: it takes the policy engine, the field cipher and
the audit log from the context per request (see :mod:`gateway.exchange.deps`). The policy
engine and the audit log always exist once the gateway has started; the keys may not.
"""

from __future__ import annotations

from gateway.core.readiness import ReadinessChecks
from gateway.crypto import CryptoServices


def build(keys: CryptoServices | None, readiness: ReadinessChecks) -> None:
    problem = None if keys is not None else "exchange cannot disclose without: crypto"
    readiness["exchange"] = lambda: problem
