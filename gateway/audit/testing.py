"""Test helpers for other domains: make audit writes fail to prove nothing is disclosed."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from audit.entry import AuditEntry
from gateway.audit.service import AuditLog
from gateway.db import Unit


class InjectedAuditFailure(RuntimeError):
    """The failure :func:`failing_audit_writes` injects."""


@contextmanager
def failing_audit_writes(service: AuditLog) -> Iterator[list[AuditEntry]]:
    """Within the block every audit append fails after its rows were written (so the
    caller's transaction really has to roll them back). Yields the entries attempted."""
    attempted: list[AuditEntry] = []

    def fail(session: Unit, entries: Sequence[AuditEntry]) -> None:
        del session
        attempted.extend(entries)
        raise InjectedAuditFailure("injected audit write failure")

    previous = service.append_hook
    service.append_hook = fail
    try:
        yield attempted
    finally:
        service.append_hook = previous
