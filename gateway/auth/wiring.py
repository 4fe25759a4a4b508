"""Wires authentication's background job into a running gateway: forgetting spent token ids
once their tokens have expired (``used_token`` would otherwise grow without bound)."""

from __future__ import annotations

import logging
from datetime import timedelta

from gateway.auth.service import purge_used_tokens
from gateway.context import GatewayContext
from gateway.core.jobs import PeriodicJob
from gateway.db import utcnow

log = logging.getLogger("ketenpoort.auth")

#: Beyond the configured clock skew: replicas' clocks may differ from the database's.
PURGE_MARGIN = timedelta(seconds=60)


def purge_expired_token_ids(context: GatewayContext) -> int:
    """One run of the job (tests and ``ketenpoort tokens purge`` call it directly)."""
    grace = timedelta(seconds=context.settings.clock_skew_seconds) + PURGE_MARGIN
    purged = purge_used_tokens(context.session_factory, utcnow(), grace)
    if purged:
        log.info("forgot %s expired token ids", purged)
    return purged


def install(context: GatewayContext) -> None:
    interval = context.settings.used_token_purge_interval_seconds
    if interval > 0:
        context.start_job(
            PeriodicJob(
                context,
                interval=interval,
                task=purge_expired_token_ids,
                name="used-token-purge",
                description="used token purge",
                log=log,
            )
        )
