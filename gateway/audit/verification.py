"""Verifying the log in the gateway's database with pinned keys: :mod:`audit.verification`'s
checks over the stored entries (``ketenpoort audit verify`` and the Verificatie page)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import httpx
from sqlalchemy.orm import Session, sessionmaker

from audit.verification import CannotVerify, Checked, Trust, anchors, checked_result
from gateway.audit.export import db_checkpoints, verify_database


def verify_stored(
    session_factory: sessionmaker[Session],
    trust: Trust,
    *,
    http: httpx.Client | None,
    notes: Sequence[tuple[str, str]] = (),
    sized: Callable[[int], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> Checked:
    """Verify the log in the database; ``http`` ``None`` means offline (witnesses not asked)."""
    if not trust.pinned:
        raise CannotVerify("no pinned log key (KETENPOORT_AUDIT_LOG_KEY or --log-key)")
    with session_factory() as session:
        checkpoints = db_checkpoints(session)
    found, holdings = anchors(trust, checkpoints, http=http, notes=notes)
    result = verify_database(
        session_factory,
        trust.pinned,
        sized=sized,
        progress=progress,
        origin=trust.origin,
        witnesses=trust.witness_keys,
        quorum=trust.quorum,
        anchors=found,
    )
    return checked_result(result, trust, checkpoints, holdings, http is None)
