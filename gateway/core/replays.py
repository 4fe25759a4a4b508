"""The end of an idempotency record: it replays a POST's first response for a window only.

A record holds the first response (ids, states, receipts; sealed, or in plaintext on a
legacy record stored before migration 0049) and a keyed fingerprint of the request body,
which can hold a BSN or an address: a pseudonym of personal data. Kept for ever, it
outlived the dossiers it was about (storage limitation, AVG art. 5(1)(e)). The retention
sweep deletes the records older than the replay window
(``KETENPOORT_IDEMPOTENCY_REPLAY_HOURS``); a retry after it is a new request, and a legacy
record is gone one window after the last replica older than 0049 stopped (and a sweep
ran). Apart from gateway/core/idempotency.py so that the sweep needs none of the request
machinery.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CursorResult, delete
from sqlalchemy.orm import Session

from gateway.core.models import IdempotencyRecord


def purge_replays(session: Session, *, before: datetime) -> int:
    """Delete the records of requests made before ``before``; how many went. A claim still
    in flight is not committed yet, so it is not among them."""
    result = session.execute(
        delete(IdempotencyRecord)
        .where(IdempotencyRecord.created_at < before)
        .execution_options(synchronize_session=False)
    )
    assert isinstance(result, CursorResult)
    return int(result.rowcount)
