"""Wires the web domain into a running gateway: the OIDC client when one is configured."""

from __future__ import annotations

from gateway.context import GatewayContext

OIDC_SERVICE = "web.oidc"


def install(context: GatewayContext) -> None:
    settings = context.settings
    if settings.oidc_issuer:
        from gateway.web.oidc import OidcClient

        # Discovery happens at the first sign-in, so a slow issuer never blocks start-up.
        context.services[OIDC_SERVICE] = OidcClient(settings)
