"""Builds the cases domain of a running gateway (``GatewayContext.cases``): the workflows
and the seams to the keys and the audit log."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from gateway.audit import AuditLog
from gateway.cases.closure import ensure_closure_agrees
from gateway.cases.definition import WorkflowDefinition
from gateway.cases.runtime import CaseRuntime
from gateway.cases.seams import (
    CryptoSealer,
    ErasureWarnings,
    LogAudit,
    RetentionRegistration,
    UnavailableSealer,
    WriteGuard,
)
from gateway.core.readiness import ReadinessChecks
from gateway.crypto import CryptoServices
from gateway.policy.covenant import Covenant


def build(
    covenants: dict[str, Covenant],
    workflows: dict[str, WorkflowDefinition],
    keys: CryptoServices | None,
    audit: AuditLog,
    erasure_warnings: ErasureWarnings | None,
    readiness: ReadinessChecks,
    register_retention: RetentionRegistration | None = None,
    guard_write: WriteGuard | None = None,
    session_factory: sessionmaker[Session] | None = None,
) -> CaseRuntime:
    """The workflows come checked against the covenants (gateway/covenant_package.py), and
    with ``session_factory`` against the stored cases: a case whose ``closed_at`` disagrees
    with its workflow's final states stops the start (gateway/cases/closure.py).
    Without keys nothing personal is stored (fail closed; the keys readiness check says why)."""
    if session_factory is not None:
        ensure_closure_agrees(session_factory, workflows)
    runtime = CaseRuntime(
        workflows=workflows,
        covenants=covenants,
        sealer=CryptoSealer(keys) if keys is not None else UnavailableSealer(),
        audit=LogAudit(audit),
        erasure_warnings=erasure_warnings,
        register_retention=register_retention,
        guard_write=guard_write,
    )

    def workflows_loaded() -> str | None:
        absent = sorted(set(covenants) - set(runtime.workflows))
        return f"no workflow for {', '.join(absent)}" if absent else None

    readiness["case-workflows"] = workflows_loaded
    return runtime
