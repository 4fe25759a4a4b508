"""Wires the crypto domain into a running gateway: key services and the keys readiness check."""

from __future__ import annotations

import logging
from collections.abc import Callable

from gateway.context import GatewayContext
from gateway.crypto.errors import KeyProviderUnavailable
from gateway.crypto.runtime import CryptoServices, build_crypto_services, create_first_kek

log = logging.getLogger("ketenpoort.crypto")

SERVICE_NAME = "crypto"


def install(context: GatewayContext) -> None:
    """Register ``context.services["crypto"]`` and the ``keys`` readiness check.

    A KEK that cannot be reached does not stop the start: the gateway comes up not-ready
    (503 on /v1/health/ready) and every encrypt or decrypt answers 503 until it returns.
    """
    try:
        services = build_crypto_services(context.settings)
    except KeyProviderUnavailable as exc:
        log.error("key provider misconfigured: %s", exc.detail)
        detail = exc.detail
        context.readiness_checks["keys"] = lambda: detail
        return
    try:
        if create_first_kek(services.provider, context.session_factory):
            log.info("first start: created KEK version 1 (%s provider)", services.provider.name)
    except KeyProviderUnavailable as exc:
        log.error("key provider unavailable at start: %s", exc.detail)
    context.services[SERVICE_NAME] = services
    context.readiness_checks["keys"] = keys_readiness_check(services)


def keys_readiness_check(services: CryptoServices) -> Callable[[], str | None]:
    """Probe the KEK; when it is gone, also drop the cached data keys, so decryption stops
    at the next probe rather than only when the cache expires (dek_cache_seconds)."""

    def check() -> str | None:
        problem = services.provider.check()
        if problem is not None:
            services.keys.clear()
        return problem

    return check


def crypto_services(context: GatewayContext) -> CryptoServices:
    services = context.services.get(SERVICE_NAME)
    if not isinstance(services, CryptoServices):
        raise KeyProviderUnavailable("The key provider is not configured.")
    return services
