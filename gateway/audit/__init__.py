"""The verifiable disclosure log: append inside the caller's transaction, RFC 6962 Merkle
proofs, Ed25519-signed checkpoints, verification, exports and privacy-officer reports.

Other domains use::

    from audit import AuditEntry, ProcessingActivity

    log = context.audit                 # built at start: a gateway without it does not start
    receipt = log.append(session=session, entry=AuditEntry(...))

Many entries that share most fields (one covenant, partner and decision; the case, times and
subjects vary): validate the shared part once, ``template = EntryTemplate(AuditEntry(...))``,
then ``template.entry(case_id=..., started_at=..., ...)`` validates only what it sets.

See docs/audit.md.
"""

from audit.entry import (
    CONSENT_CHANGE,
    DENIAL,
    DISCLOSURE,
    INVESTIGATION_STATUS,
    KEY_ROTATION,
    RETENTION_REDACTION,
    WORKFLOW_TRANSITION,
    Actor,
    AuditEntry,
    DataSubject,
    DecisionRef,
    EntryTemplate,
    Outcome,
    OwnerCategory,
    ProcessingActivity,
    Redaction,
    Status,
    TraceContext,
)
from gateway.audit.errors import AuditUnavailable
from gateway.audit.log import AppendedEntry, Companion, EntryCopy, append_entries
from gateway.audit.schemas import CheckpointView, Receipt
from gateway.audit.service import AuditLog, leaf_withheld, receipt_for

__all__ = [
    "CONSENT_CHANGE",
    "DENIAL",
    "DISCLOSURE",
    "INVESTIGATION_STATUS",
    "KEY_ROTATION",
    "RETENTION_REDACTION",
    "WORKFLOW_TRANSITION",
    "Actor",
    "AppendedEntry",
    "AuditEntry",
    "AuditLog",
    "AuditUnavailable",
    "CheckpointView",
    "Companion",
    "DataSubject",
    "DecisionRef",
    "EntryCopy",
    "EntryTemplate",
    "Outcome",
    "OwnerCategory",
    "ProcessingActivity",
    "Receipt",
    "Redaction",
    "Status",
    "TraceContext",
    "append_entries",
    "leaf_withheld",
    "receipt_for",
]
