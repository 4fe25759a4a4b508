"""Authentication's background job, scheduled by the composition root: forgetting spent
token ids once their tokens have expired (``used_token`` would otherwise grow without bound)."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from gateway.auth.service import purge_used_tokens
from gateway.config import Settings
from gateway.db import utcnow

log = logging.getLogger("ketenpoort.auth")

#: Beyond the configured clock skew: replicas' clocks may differ from the database's.
PURGE_MARGIN = timedelta(seconds=60)


def purge_expired_token_ids(settings: Settings, session_factory: sessionmaker[Session]) -> int:
    """One run of the job (tests call it directly)."""
    grace = timedelta(seconds=settings.clock_skew_seconds) + PURGE_MARGIN
    purged = purge_used_tokens(session_factory, utcnow(), grace)
    if purged:
        log.info("forgot %s expired token ids", purged)
    return purged
