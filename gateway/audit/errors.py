"""Errors of the audit domain (all part of the gateway's one hierarchy)."""

from __future__ import annotations

from gateway.core.errors import NotFound, ServiceUnavailable


class AuditUnavailable(ServiceUnavailable):
    """The audit entry could not be written: the caller's transaction must not commit.

    Raised from :meth:`audit.AuditLog.append`; letting it propagate rolls back the request's
    transaction, so nothing is disclosed without its audit record (fail closed).
    """

    problem = "audit-unavailable"
    title = "Audit log unavailable"


class EntryNotFound(NotFound):
    problem = "audit-entry-not-found"
    title = "Audit entry not found"


class CheckpointNotFound(NotFound):
    problem = "audit-checkpoint-not-found"
    title = "Audit checkpoint not found"
