"""Wires the cases domain into a running gateway: workflows, the sealer and the audit seam."""

from __future__ import annotations

from audit import AuditLog
from gateway.cases.definition import load_workflows
from gateway.cases.runtime import CaseRuntime
from gateway.cases.seams import (
    CaseAudit,
    CryptoSealer,
    LogAudit,
    Sealer,
    UnavailableAudit,
    UnavailableSealer,
)
from gateway.context import GatewayContext
from gateway.crypto.runtime import CryptoServices
from gateway.crypto.wiring import SERVICE_NAME as CRYPTO_SERVICE

SERVICE = "cases"


def _sealer(context: GatewayContext) -> Sealer:
    services = context.services.get(CRYPTO_SERVICE)
    if isinstance(services, CryptoServices):
        return CryptoSealer(services)
    # Fail closed: without keys nothing personal is stored (the keys readiness check says why).
    return UnavailableSealer()


def _audit(context: GatewayContext) -> CaseAudit:
    service = context.services.get("audit")
    return LogAudit(service) if isinstance(service, AuditLog) else UnavailableAudit()


def install(context: GatewayContext) -> None:
    """Load and check every covenant's workflow; fail at start, not at the first request."""
    workflows = load_workflows()
    for covenant_id, definition in workflows.items():
        covenant = context.covenants.get(covenant_id)
        if covenant is None:
            continue
        phases = {p.id for p in covenant.phases}
        missing = [s.id for s in definition.states if phases and s.id not in phases]
        if missing:
            from gateway.cases.definition import WorkflowError

            raise WorkflowError(
                f"workflow of '{covenant_id}' has states that are not covenant phases: "
                f"{', '.join(missing)}"
            )
    runtime = CaseRuntime(
        workflows=workflows,
        covenants=context.covenants,
        sealer=_sealer(context),
        audit=_audit(context),
    )
    context.services[SERVICE] = runtime

    def workflows_loaded() -> str | None:
        absent = sorted(set(context.covenants) - set(runtime.workflows))
        return f"no workflow for {', '.join(absent)}" if absent else None

    context.readiness_checks["case-workflows"] = workflows_loaded
