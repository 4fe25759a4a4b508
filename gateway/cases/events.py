"""Case events a covenant clause can require: the landlord's further measures (U §5.2:
gedragsaanwijzing, ontruimingsprocedure, laatste kans via Het Vierde Huis, wonen met een
zorgcontract; R Bijlage F: the corporation's own measures), recorded and audited by the
partner the covenant names (``recordedBy``: the dwelling's landlord). The policy reads them
(gateway/cases/service.py ``case_policy_facts``): the sfeerverslag needs ``eviction-procedure``
on record (U §5.3)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.auth.principal import Principal
from gateway.cases.access import writable_case
from gateway.cases.errors import CaseClosed, InvalidCaseData, NotPermitted
from gateway.cases.models import CaseEventRecord, CaseFile, Dwelling
from gateway.cases.notices import notify
from gateway.cases.runtime import CaseRuntime
from gateway.cases.schemas import CaseEventIn, CaseEventOut
from gateway.cases.seams import AuditValue
from gateway.db import utcnow

CASE_EVENT = "case-event"


def event_out(record: CaseEventRecord) -> CaseEventOut:
    return CaseEventOut(
        id=record.id,
        event=record.kind,
        partner_id=record.partner_id,
        occurred_on=record.occurred_on,
        recorded_at=record.recorded_at,
    )


def case_events(session: Session, case_id: str) -> list[CaseEventRecord]:
    statement = select(CaseEventRecord).where(CaseEventRecord.case_id == case_id)
    return list(session.scalars(statement.order_by(CaseEventRecord.recorded_at)))


def record_event(
    session: Session,
    *,
    runtime: CaseRuntime,
    case_id: str,
    principal: Principal,
    request: CaseEventIn,
    now: datetime | None = None,
) -> CaseEventOut:
    """Record that ``request.event`` happened in the case, by the partner the covenant lets
    record it, audited in the same transaction."""
    now = now or utcnow()
    # Not by a member the lead only consulted (review10 F2): the event names its recorder to
    # the readers of its category and tells them of the case.
    case, _ = writable_case(
        session, runtime=runtime, case_id=case_id, principal=principal, involved=True
    )
    if case.state in runtime.workflow(case.covenant_id).final_states:
        raise CaseClosed("The case is closed; its events can no longer change.")
    covenant = runtime.covenants.get(case.covenant_id)
    event = covenant.event(request.event) if covenant is not None else None
    if covenant is None or event is None:
        known = ", ".join(e.id for e in covenant.events) if covenant else ""
        raise InvalidCaseData(f"Unknown case event '{request.event}'; known: {known}.")
    if principal.grant.audits:
        raise NotPermitted("A privacy officer does not record case events.")
    _require_recorder(session, case, principal, event.recorded_by, event.name)
    # The covenant's own date: the UTC date is yesterday's just after midnight in the
    # Netherlands, when an event of today would have been refused as in the future.
    today = runtime.calendar(case.covenant_id).local_date(now)
    if request.occurred_on is not None and request.occurred_on > today:
        raise InvalidCaseData("occurredOn lies in the future.")
    record = CaseEventRecord(
        id=str(uuid.uuid4()),
        case_id=case.id,
        kind=event.id,
        partner_id=principal.partner_id,
        occurred_on=request.occurred_on,
        recorded_at=now,
        recorded_by=principal.actor,
    )
    session.add(record)
    # R §2.3: while the corporation leads after the hand-over it "informeert ... de gemeente
    # over eventuele juridische maatregelen": the workflow's state says whom to tell.
    told = notify(
        session,
        runtime=runtime,
        case=case,
        kinds=runtime.workflow(case.covenant_id).state(case.state).events_inform,
        subject=f"event:{event.id}",
        about_id=record.id,
        by=principal,
        now=now,
    )
    details: dict[str, AuditValue] = {
        "event": event.id,
        "occurredOn": request.occurred_on.isoformat() if request.occurred_on else None,
        # Who reads the measure in the log, as in the summary: by the clauses of its
        # category in the case's phase when it was recorded, the lead where a clause binds
        # a recipient to it (gateway/audit/readers.py ``LogReader._reads_measure``).
        "lead": case.lead_partner_id,
        "phase": case.state,
    }
    if told:
        details["informed"] = ",".join(sorted({n.partner_id for n in told}))
    runtime.record_case_event(session, case, activity=CASE_EVENT, actor=principal, details=details)
    return event_out(record)


def _require_recorder(
    session: Session, case: CaseFile, principal: Principal, recorded_by: str, name: str
) -> None:
    # Only relation the covenant schema allows today: the dwelling's landlord, i.e. the
    # corporation that owns it (U §5.2 "de corporatie"); an owner-occupied dwelling has none.
    if recorded_by == "dwelling-landlord":
        dwelling = session.get_one(Dwelling, case.dwelling_id)
        if dwelling.ownership == "corporation" and dwelling.corporation_id == principal.partner_id:
            return
        raise NotPermitted(f"Only the corporation that owns the dwelling records '{name}'.")
    raise NotPermitted(f"Nobody may record '{name}'.")  # fail closed on a new relation
