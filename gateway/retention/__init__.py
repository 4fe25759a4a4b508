"""Retention: rules per covenant (policies/<covenant-id>/retention.yaml), every case's
retention state, legal holds, and the sweep that erases what is due (docs/retention.md).

Other domains use::

    from gateway.retention import ensure_not_erased, register_case, record_fact

    ensure_not_erased(session=session, case_id=case_id)   # 410 "erased under rule X on date"
"""

from gateway.retention.errors import CaseErased, LegalHoldConflict, SweepAlreadyRunning
from gateway.retention.service import (
    Erasure,
    RetentionOverview,
    RetentionState,
    ensure_not_erased,
    erasure_of,
    record_fact,
    register_case,
    retention_overview,
    retention_state,
)

__all__ = [
    "CaseErased",
    "Erasure",
    "LegalHoldConflict",
    "RetentionOverview",
    "RetentionState",
    "SweepAlreadyRunning",
    "ensure_not_erased",
    "erasure_of",
    "record_fact",
    "register_case",
    "retention_overview",
    "retention_state",
]
