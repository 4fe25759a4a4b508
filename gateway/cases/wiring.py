"""Builds the cases domain of a running gateway (``GatewayContext.cases``): the workflows,
checked against the covenants, and the seams to the keys and the audit log."""

from __future__ import annotations

from audit import AuditLog
from gateway.cases.definition import WorkflowError, load_workflows
from gateway.cases.runtime import CaseRuntime
from gateway.cases.seams import CryptoSealer, ErasureWarnings, LogAudit, UnavailableSealer
from gateway.core.readiness import ReadinessChecks
from gateway.crypto import CryptoServices
from gateway.policy.covenant import Covenant


def build(
    covenants: dict[str, Covenant],
    keys: CryptoServices | None,
    audit: AuditLog,
    erasure_warnings: ErasureWarnings | None,
    readiness: ReadinessChecks,
) -> CaseRuntime:
    """Load and check every covenant's workflow: fail at start, not at the first request.
    Without keys nothing personal is stored (fail closed; the keys readiness check says why)."""
    workflows = load_workflows()
    for covenant_id, definition in workflows.items():
        covenant = covenants.get(covenant_id)
        if covenant is None:
            continue
        phases = {p.id for p in covenant.phases}
        missing = [s.id for s in definition.states if phases and s.id not in phases]
        if missing:
            raise WorkflowError(
                f"workflow of '{covenant_id}' has states that are not covenant phases: "
                f"{', '.join(missing)}"
            )
    runtime = CaseRuntime(
        workflows=workflows,
        covenants=covenants,
        sealer=CryptoSealer(keys) if keys is not None else UnavailableSealer(),
        audit=LogAudit(audit),
        erasure_warnings=erasure_warnings,
    )

    def workflows_loaded() -> str | None:
        absent = sorted(set(covenants) - set(runtime.workflows))
        return f"no workflow for {', '.join(absent)}" if absent else None

    readiness["case-workflows"] = workflows_loaded
    return runtime
