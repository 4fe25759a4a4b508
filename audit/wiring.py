"""Wires the audit log into a running gateway: the service, a readiness check and the
periodic checkpoint signing job."""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from audit.models import AuditHead
from audit.service import AuditLog
from gateway.config import Settings
from gateway.context import GatewayContext
from gateway.core.jobs import PeriodicJob

log = logging.getLogger("ketenpoort.audit")


def key_dir(settings: Settings) -> Path:
    configured = settings.audit_key_dir
    return configured if configured is not None else settings.data_dir / "audit"


def sign_checkpoint(context: GatewayContext) -> None:
    """One run of the periodic checkpoint job. Replicas may all run it: the signing itself
    takes a database lock."""
    service = context.services.get("audit")
    if isinstance(service, AuditLog):
        service.sign_checkpoint(context.session_factory)


def install(context: GatewayContext) -> None:
    settings = context.settings
    service = AuditLog.from_key_dir(key_dir(settings))
    context.services["audit"] = service

    def audit_ready() -> str | None:
        try:
            with context.session_factory() as session:
                if session.execute(select(AuditHead.next_index)).first() is None:
                    return "audit log not initialised"
        except SQLAlchemyError:
            return "audit log unreachable"
        return None

    context.readiness_checks["audit"] = audit_ready
    if settings.audit_checkpoint_interval_seconds > 0:
        job = PeriodicJob(
            context,
            interval=settings.audit_checkpoint_interval_seconds,
            task=sign_checkpoint,
            name="audit-checkpoints",
            description="audit checkpoint signing",
            log=log,
        )
        context.services["audit.checkpoint_job"] = context.start_job(job)
