"""Builds the crypto domain of a running gateway (``GatewayContext.keys``) and its ``keys``
readiness check."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from gateway.config import Settings
from gateway.core.readiness import ReadinessChecks
from gateway.crypto.errors import KeyProviderUnavailable
from gateway.crypto.runtime import CryptoServices, build_crypto_services, create_first_kek

log = logging.getLogger("ketenpoort.crypto")


def build(
    settings: Settings, session_factory: sessionmaker[Session], readiness: ReadinessChecks
) -> CryptoServices | None:
    """The key services, or ``None`` when the key provider is misconfigured.

    A KEK that cannot be reached does not stop the start: the gateway comes up not-ready
    (503 on /v1/health/ready) and every encrypt or decrypt answers 503 until it returns.
    """
    try:
        services = build_crypto_services(settings)
    except KeyProviderUnavailable as exc:
        log.error("key provider misconfigured: %s", exc.detail)
        detail = exc.detail
        readiness["keys"] = lambda: detail
        return None
    try:
        if create_first_kek(services.provider, session_factory):
            log.info("first start: created KEK version 1 (%s provider)", services.provider.name)
    except KeyProviderUnavailable as exc:
        log.error("key provider unavailable at start: %s", exc.detail)
    readiness["keys"] = keys_readiness_check(services)
    return services


def keys_readiness_check(services: CryptoServices) -> Callable[[], str | None]:
    """Probe the KEK; when it is gone, also drop the cached data keys, so decryption stops
    at the next probe rather than only when the cache expires (dek_cache_seconds)."""

    def check() -> str | None:
        problem = services.provider.check()
        if problem is not None:
            services.keys.clear()
        return problem

    return check


def require(services: CryptoServices | None) -> CryptoServices:
    """The key services, or 503 (fail closed: nothing personal is read or stored)."""
    if services is None:
        raise KeyProviderUnavailable("The key provider is not configured.")
    return services
