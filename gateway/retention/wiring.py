"""Wires the retention domain into a running gateway: the rules, the service object and the
scheduled sweep (a stoppable background thread, like the audit checkpoint job)."""

from __future__ import annotations

import logging
import threading
import weakref
from dataclasses import dataclass, field
from datetime import date

from gateway.context import GatewayContext
from gateway.core.errors import GatewayError, ServiceUnavailable
from gateway.crypto import DataKeyStore
from gateway.retention.rules import RetentionRules, load_rules
from gateway.retention.sweeper import (
    FaultHook,
    Progress,
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
    job: RetentionJob | None = field(default=None)
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


class RetentionJob:
    """Runs :func:`scheduled_sweep` every ``interval`` seconds until stopped. Holds only a
    weak reference to the context, so a discarded gateway lets the thread end."""

    def __init__(self, context: GatewayContext, interval: float) -> None:
        self._context = weakref.ref(context)
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="retention-sweep", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=30)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            context = self._context()
            if context is None:
                return
            try:
                scheduled_sweep(context)
            except Exception:  # noqa: BLE001 - a failed run is retried at the next tick
                log.exception("retention sweep failed; retrying in %.0fs", self._interval)
            finally:
                del context


def install(context: GatewayContext) -> None:
    """Register ``context.services["retention"]`` and the ``retention`` readiness check;
    start the scheduled sweep unless its interval is 0. Broken rules fail closed: the
    gateway is not ready and no sweep runs."""
    settings = context.settings
    try:
        rules = load_rules(
            settings.retention_dir, default_months=settings.retention_default_period_months
        )
    except GatewayError as exc:
        log.error("retention rules invalid: %s", exc.detail)
        detail = exc.detail[:200]
        context.readiness_checks["retention"] = lambda: detail
        return
    service = RetentionService(rules=rules, batch_size=settings.retention_batch_size)
    context.services[SERVICE_NAME] = service
    missing = sorted(set(context.covenants) - set(rules.policies))
    context.readiness_checks["retention"] = lambda: (
        f"no retention rules for {', '.join(missing)}" if missing else None
    )
    if settings.retention_sweep_interval_seconds > 0:
        service.job = RetentionJob(context, settings.retention_sweep_interval_seconds)
        service.job.start()


def retention_service(context: GatewayContext) -> RetentionService:
    service = context.services.get(SERVICE_NAME)
    if not isinstance(service, RetentionService):
        raise ServiceUnavailable("The retention rules are not loaded.")
    return service
