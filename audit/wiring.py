"""Wires the audit log into a running gateway: the service, a readiness check and the
periodic checkpoint signing job."""

from __future__ import annotations

import logging
import threading
import weakref
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from audit.models import AuditHead
from audit.service import AuditLog
from gateway.config import Settings
from gateway.context import GatewayContext

log = logging.getLogger("ketenpoort.audit")


def key_dir(settings: Settings) -> Path:
    configured = settings.audit_key_dir
    return configured if configured is not None else settings.data_dir / "audit"


class CheckpointJob:
    """Signs a checkpoint every ``interval`` seconds in a daemon thread until stopped.

    The thread holds only a weak reference to the context, so a discarded gateway (tests,
    reloads) lets it end; :meth:`stop` ends it at once. Replicas may all run it: the signing
    itself takes a database lock.
    """

    def __init__(self, context: GatewayContext, interval: float) -> None:
        self._context = weakref.ref(context)
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="audit-checkpoints", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            context = self._context()
            if context is None:
                return
            try:
                service = context.services.get("audit")
                if isinstance(service, AuditLog):
                    service.sign_checkpoint(context.session_factory)
            except Exception:  # noqa: BLE001 - a failed run is retried at the next tick
                log.exception("audit checkpoint signing failed; retrying in %.0fs", self._interval)
            finally:
                del context


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
        job = CheckpointJob(context, settings.audit_checkpoint_interval_seconds)
        context.services["audit.checkpoint_job"] = job
        job.start()
