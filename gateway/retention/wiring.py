"""Wires the retention domain into a running gateway: the rules, the service object and the
scheduled sweep (a stoppable background thread, like the audit checkpoint job)."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from datetime import date

from gateway.context import GatewayContext
from gateway.core.errors import GatewayError, ServiceUnavailable
from gateway.core.jobs import PeriodicJob
from gateway.crypto import DataKeyStore
from gateway.retention.rules import RetentionRules, load_rules
from gateway.retention.runs import failing_sweeps
from gateway.retention.sweeper import (
    FaultHook,
    Progress,
    Seam,
    SweepOptions,
    SweepReport,
    run_sweep,
)

log = logging.getLogger("ketenpoort.retention")

SERVICE_NAME = "retention"


@dataclass
class RetentionService:
    """What other domains and the API use: the loaded rules and the sweep."""

    rules: RetentionRules
    batch_size: int
    job: PeriodicJob | None = field(default=None)
    #: Batches erased at the same time on PostgreSQL (see sweeper._Batches).
    workers: int = 2

    def sweep(
        self,
        context: GatewayContext,
        *,
        dry_run: bool = False,
        as_of: date | None = None,
        started_by: str = "system",
        progress: Progress | None = None,
        fault: FaultHook | None = None,
        seam: Seam | None = None,
    ) -> SweepReport:
        from audit import AuditLog

        audit = context.services.get("audit")
        crypto = context.services.get("crypto")
        keys = getattr(crypto, "keys", None)
        return run_sweep(
            session_factory=context.session_factory,
            rules=self.rules,
            audit=audit if isinstance(audit, AuditLog) else None,
            keys=keys if isinstance(keys, DataKeyStore) else None,
            options=SweepOptions(
                as_of=as_of,
                dry_run=dry_run,
                batch_size=self.batch_size,
                started_by=started_by,
                workers=self.workers,
            ),
            progress=progress,
            fault=fault,
            seam=seam,
        )


def scheduled_sweep(context: GatewayContext) -> SweepReport | None:
    """The job the server runs on its schedule (tests call it directly). Another replica
    holding the lock is not an error: that replica is doing the work."""
    from gateway.retention.errors import SweepAlreadyRunning

    try:
        return retention_service(context).sweep(context, started_by="system/scheduler")
    except SweepAlreadyRunning:
        log.info("retention sweep skipped: another replica holds the lock")
        return None


def install(context: GatewayContext) -> None:
    """Register ``context.services["retention"]`` and the ``retention`` readiness check;
    start the scheduled sweep unless its interval is 0. Broken rules fail closed: the
    gateway is not ready and no sweep runs."""
    settings = context.settings
    try:
        rules = load_rules(
            settings.retention_dir,
            default_months=settings.retention_default_period_months,
            unsanctioned_months=settings.retention_unsanctioned_period_months,
            inactive_months=settings.retention_inactive_period_months,
        )
    except GatewayError as exc:
        log.error("retention rules invalid: %s", exc.detail)
        detail = exc.detail[:200]
        context.readiness_checks["retention"] = lambda: detail
        return
    service = RetentionService(rules=rules, batch_size=settings.retention_batch_size)
    context.services[SERVICE_NAME] = service
    _warn_leads(context, rules)
    missing = sorted(set(context.covenants) - set(rules.policies))

    def ready() -> str | None:
        if missing:
            return f"no retention rules for {', '.join(missing)}"
        # A sweep that keeps failing erases nothing that is due: not ready, and say why.
        with context.session_factory() as session:
            return failing_sweeps(session)

    context.readiness_checks["retention"] = ready
    if settings.retention_sweep_interval_seconds > 0:
        service.job = context.start_job(
            PeriodicJob(
                context,
                interval=settings.retention_sweep_interval_seconds,
                task=scheduled_sweep,
                name="retention-sweep",
                description="retention sweep",
                log=log,
                join_timeout=30,
            )
        )


def _warn_leads(context: GatewayContext, rules: RetentionRules) -> None:
    """Give the cases domain the warnings its leads see before an open case is erased."""
    from gateway.cases.runtime import CaseRuntime
    from gateway.retention.service import erasure_warnings

    runtime = context.services.get("cases")
    if isinstance(runtime, CaseRuntime):
        runtime.erasure_warnings = functools.partial(erasure_warnings, rules=rules)


def retention_service(context: GatewayContext) -> RetentionService:
    service = context.services.get(SERVICE_NAME)
    if not isinstance(service, RetentionService):
        raise ServiceUnavailable("The retention rules are not loaded.")
    return service
