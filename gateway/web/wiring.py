"""Builds the web domain's part of a running gateway: the OIDC client when one is configured."""

from __future__ import annotations

from gateway.config import Settings
from gateway.web.oidc import OidcClient


def build(settings: Settings) -> OidcClient | None:
    # Discovery happens at the first sign-in, so a slow issuer never blocks start-up.
    return OidcClient(settings) if settings.oidc_issuer else None
