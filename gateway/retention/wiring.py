"""Builds the retention domain of a running gateway (``GatewayContext.retention``): the
rules, the service object and its readiness check; the composition root schedules
:func:`scheduled_sweep` as the sweep job."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm import Session, sessionmaker

from gateway.audit import AuditLog
from gateway.cases.seams import ErasureWarnings, RetentionRegistration, WriteGuard
from gateway.config import Settings
from gateway.core.errors import ServiceUnavailable
from gateway.core.readiness import ReadinessChecks
from gateway.crypto import DataKeyStore
from gateway.policy.covenant import Covenant
from gateway.retention.casefacts import register_new_case
from gateway.retention.errors import SweepAlreadyRunning
from gateway.retention.rules import RetentionRules
from gateway.retention.runs import failing_sweeps
from gateway.retention.service import erasure_warnings, lock_for_write
from gateway.retention.sweeper import (
    FaultHook,
    Progress,
    Seam,
    SweepOptions,
    SweepReport,
    run_sweep,
)

log = logging.getLogger("ketenpoort.retention")


@dataclass
class RetentionService:
    """What other domains and the API use: the loaded rules and the sweep."""

    rules: RetentionRules
    #: The covenants: whose privacy officers find an erased case's audit entry
    #: (sanctions.officers_told).
    covenants: dict[str, Covenant]
    batch_size: int
    session_factory: sessionmaker[Session]
    audit: AuditLog
    #: ``None`` without a key provider: the sweep then refuses to erase (see run_sweep).
    keys: DataKeyStore | None
    #: Batches erased at the same time on PostgreSQL (see sweeper._Batches).
    workers: int = 2
    #: How long an Idempotency-Key replays; the sweep deletes older records (None: kept).
    idempotency_replay: timedelta | None = None
    #: What a real sweep runs before it erases anything: the cases domain keeps the steering
    #: figures of the last ended month (gateway/cases/snapshots.py; set by the composition
    #: root once the cases domain is built).
    before_erasure: Callable[[], object] | None = None

    def sweep(
        self,
        *,
        dry_run: bool = False,
        as_of: date | None = None,
        started_by: str = "system",
        progress: Progress | None = None,
        fault: FaultHook | None = None,
        seam: Seam | None = None,
    ) -> SweepReport:
        return run_sweep(
            session_factory=self.session_factory,
            rules=self.rules,
            covenants=self.covenants,
            audit=self.audit,
            keys=self.keys,
            options=SweepOptions(
                as_of=as_of,
                dry_run=dry_run,
                batch_size=self.batch_size,
                started_by=started_by,
                workers=self.workers,
                idempotency_replay=self.idempotency_replay,
            ),
            progress=progress,
            fault=fault,
            seam=seam,
            before_erasure=self.before_erasure,
        )

    def register_new_case(self) -> RetentionRegistration:
        """The registration the cases domain calls in the transaction that opens a case."""
        return functools.partial(register_new_case, rules=self.rules)

    def erasure_warnings(self) -> ErasureWarnings:
        """The warnings the cases domain shows its leads before an open case is erased."""
        return functools.partial(erasure_warnings, rules=self.rules)


#: The cases domain's guard of every write to a case (gateway/cases/access.writable_case).
guard_write: WriteGuard = lock_for_write


def scheduled_sweep(service: RetentionService) -> SweepReport | None:
    """The job the server runs on its schedule (tests call it directly). Another replica
    holding the lock is not an error: that replica is doing the work."""
    try:
        return service.sweep(started_by="system/scheduler")
    except SweepAlreadyRunning:
        log.info("retention sweep skipped: another replica holds the lock")
        return None


def build(
    settings: Settings,
    covenants: dict[str, Covenant],
    rules: RetentionRules | None,
    rules_problem: str | None,
    session_factory: sessionmaker[Session],
    audit: AuditLog,
    keys: DataKeyStore | None,
    readiness: ReadinessChecks,
) -> RetentionService | None:
    """The retention service and the ``retention`` readiness check. Rules that did not load
    or do not fit the workflows (``rules`` is ``None``, ``rules_problem`` says why; see
    gateway/covenant_package.py) fail closed: ``None``, not ready, no sweep."""
    if rules is None:
        detail = (rules_problem or "retention rules not loaded")[:200]
        readiness["retention"] = lambda: detail
        return None
    missing = sorted(set(covenants) - set(rules.policies))

    def ready() -> str | None:
        if missing:
            return f"no retention rules for {', '.join(missing)}"
        # A sweep that keeps failing erases nothing that is due: not ready, and say why.
        with session_factory() as session:
            return failing_sweeps(session)

    readiness["retention"] = ready
    return RetentionService(
        rules=rules,
        covenants=covenants,
        batch_size=settings.retention_batch_size,
        session_factory=session_factory,
        audit=audit,
        keys=keys,
        idempotency_replay=timedelta(hours=settings.idempotency_replay_hours),
    )


def require(service: RetentionService | None) -> RetentionService:
    if service is None:
        raise ServiceUnavailable("The retention rules are not loaded.")
    return service
