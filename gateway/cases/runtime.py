"""What the cases domain holds at run time: the workflows, the covenants, and its seams."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from gateway.cases.calendar import WorkingCalendar
from gateway.cases.definition import WorkflowDefinition
from gateway.cases.seams import (
    AuditValue,
    CaseAudit,
    ErasureWarnings,
    RetentionRegistration,
    Sealer,
    WriteGuard,
)
from gateway.core.errors import ServiceUnavailable

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from gateway.auth.principal import Principal
    from gateway.cases.models import CaseFile
    from gateway.policy.covenant import Covenant


@dataclass
class CaseRuntime:
    workflows: dict[str, WorkflowDefinition]
    covenants: dict[str, Covenant]
    sealer: Sealer
    audit: CaseAudit
    #: The retention domain's warnings of open cases about to be erased (None without it).
    erasure_warnings: ErasureWarnings | None = None
    #: The retention domain's registration of a new case (None without it: the sweep
    #: registers the case once retention runs).
    register_retention: RetentionRegistration | None = None
    #: The retention domain's guard of every write to a case (access.writable_case): locks
    #: the case against its erasure and refuses a case already erased (None without it).
    guard_write: WriteGuard | None = None
    _calendars: dict[str, WorkingCalendar] = field(default_factory=dict)

    def workflow(self, covenant_id: str) -> WorkflowDefinition:
        definition = self.workflows.get(covenant_id)
        if definition is None:
            # Fail closed: without its workflow a covenant's cases cannot move or be opened.
            raise ServiceUnavailable(f"No workflow is loaded for covenant '{covenant_id}'.")
        return definition

    def calendar(self, covenant_id: str) -> WorkingCalendar:
        if covenant_id not in self._calendars:
            spec = self.workflow(covenant_id).calendar
            self._calendars[covenant_id] = WorkingCalendar(spec.timezone, spec.holidays)
        return self._calendars[covenant_id]

    def today(self, covenant_id: str) -> date:
        """Today in the covenant's own time zone: the server's date (UTC on a server) is
        yesterday's between midnight in the Netherlands and midnight UTC."""
        from gateway.db import utcnow

        return self.calendar(covenant_id).local_date(utcnow())

    def partner_kind(self, covenant_id: str, partner_id: str) -> str | None:
        covenant = self.covenants.get(covenant_id)
        partner = covenant.partner(partner_id) if covenant else None
        return partner.kind if partner else None

    def partners_of_kind(self, covenant_id: str, kind: str) -> list[str]:
        covenant = self.covenants.get(covenant_id)
        if covenant is None:
            return []
        return [p.id for p in covenant.partners if p.kind == kind]

    def record_case_event(
        self,
        session: Session,
        case: CaseFile,
        *,
        activity: str,
        actor: Principal,
        details: dict[str, AuditValue],
        subjects: Sequence[tuple[str, str]] | None = None,
    ) -> None:
        """Audit a change to ``case`` in ``session``'s transaction: the pending change is
        flushed first, so a change that cannot be written is never audited as made.
        ``subjects`` (``(identifier type, blind index)`` pairs): who the entry is about when
        that is not every person of the case (CaseAudit.record)."""
        session.flush()
        self.audit.record(
            session,
            activity=activity,
            covenant_id=case.covenant_id,
            case_id=case.id,
            actor=actor,
            details=details,
            subjects=subjects,
        )
