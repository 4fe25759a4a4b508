"""The stored "awaiting the lead" state of a report (``case_report.awaiting_lead``).

A report awaits the lead's decision (U §6; gateway/cases/reports.py) while the lead has not
decided on it, its partner is neither the lead nor in the case team, and the case is not
closed. Computed, that needs the case and its team for every report: a deadlines page had to
read every report of the covenant to find the lead's few pending ones. Stored, the pending
ones come from an index (``ix_case_report_awaiting``) whatever the history.

The flag is kept right by the session, not by each write path: every flush that adds a
report or a team member, removes a team member, changes a report's decision or a case's lead
or closure recomputes the flag of every report of the cases it touched, in the same
transaction, with one UPDATE by the rule the migration (0025) filled it with. So a new write
path cannot forget it (tests/cases/test_awaiting_lead.py checks the stored flag against the
computed truth after each path). Core inserts that bypass the session
(tests/cases/history.py) set it themselves.

Two transactions changing the same case serialize on the case row (the refresh locks it,
as the case's write paths do), so the later one recomputes with the earlier one's rows.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, case, event, exists, false, inspect, select, true
from sqlalchemy import update as sql_update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, UOWTransaction

from gateway.cases.models import CaseFile, CaseReport, CaseTeamMember

_PENDING = "ketenpoort.cases.awaiting_lead"


def awaiting_lead_truth() -> ColumnElement[bool]:
    """Per ``case_report`` row: the report awaits the lead's decision (the flag's meaning)."""
    lead_elsewhere = exists().where(
        CaseFile.id == CaseReport.case_id,
        CaseFile.closed_at.is_(None),
        CaseFile.lead_partner_id != CaseReport.source_partner_id,
    )
    in_team = exists().where(
        CaseTeamMember.case_id == CaseReport.case_id,
        CaseTeamMember.partner_id == CaseReport.source_partner_id,
    )
    return and_(CaseReport.lead_decision.is_(None), lead_elsewhere, ~in_team)


def awaiting_the_lead(
    lead_partner_id: str | ColumnElement[str], covenant_id: str | ColumnElement[str]
) -> list[ColumnElement[bool]]:
    """The reports that await ``lead_partner_id``'s decision in ``covenant_id``, for a
    ``case_report`` joined to its ``case_file``: the stored flag (read from its index), on
    the cases the partner leads that are open. Both lists of them (the inbox and a deadlines
    page) use this. "Open" is ``closed_at`` unset, the flag's own test: with the flag right
    it changes nothing, and it keeps a case closed by a write that bypassed the session (a
    bulk UPDATE, as tests do) out of both. (The deadlines page had the workflow's open
    states instead, the inbox ``closed_at``: the same cases, as a transition sets
    ``closed_at`` exactly when it enters a final state, gateway/cases/workflow.py.) The
    inbox and a deadlines page also leave out open cases erased under retention, which take
    no decision (410): each with its own condition (the page through ``live.not_erased``)."""
    return [
        CaseReport.awaiting_lead == true(),
        CaseFile.lead_partner_id == lead_partner_id,
        CaseFile.covenant_id == covenant_id,
        CaseFile.closed_at.is_(None),
    ]


def refresh_awaiting_lead(connection: Connection, case_ids: set[str]) -> int:
    """Recompute the flag of every report of ``case_ids``; how many reports changed."""
    if not case_ids:
        return 0
    ids = sorted(case_ids)
    if connection.dialect.name == "postgresql":
        # The lock the case's write paths take (access.writable_case): a concurrent change to
        # the same case waits for this transaction, and then recomputes with its rows.
        connection.execute(
            select(CaseFile.id).where(CaseFile.id.in_(ids)).order_by(CaseFile.id).with_for_update()
        )
    value = case((awaiting_lead_truth(), true()), else_=false())
    result = connection.execute(
        sql_update(CaseReport)
        .where(CaseReport.case_id.in_(ids), CaseReport.awaiting_lead != value)
        .values(awaiting_lead=value)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


def _changed(obj: Any, *names: str) -> bool:
    attrs = inspect(obj).attrs
    return any(attrs[name].history.has_changes() for name in names)


def _touched_cases(session: Session) -> set[str]:
    touched: set[str] = set()
    for obj in session.new:
        if isinstance(obj, CaseReport | CaseTeamMember):
            touched.add(obj.case_id)
    for obj in session.deleted:
        if isinstance(obj, CaseTeamMember | CaseReport):
            touched.add(obj.case_id)
    for obj in session.dirty:
        if isinstance(obj, CaseReport):
            if _changed(obj, "lead_decision", "source_partner_id", "case_id"):
                touched.add(obj.case_id)
        elif isinstance(obj, CaseTeamMember):
            if _changed(obj, "partner_id", "case_id"):
                touched.add(obj.case_id)
        elif isinstance(obj, CaseFile) and _changed(obj, "lead_partner_id", "closed_at"):
            touched.add(obj.id)
    return {case_id for case_id in touched if case_id is not None}


@event.listens_for(Session, "before_flush")
def _note_touched_cases(session: Session, flush_context: UOWTransaction, instances: Any) -> None:
    touched = _touched_cases(session)
    if touched:
        session.info.setdefault(_PENDING, set()).update(touched)


@event.listens_for(Session, "after_flush_postexec")
def _refresh_touched_cases(session: Session, flush_context: UOWTransaction) -> None:
    touched: set[str] | None = session.info.pop(_PENDING, None)
    if not touched:
        return
    refresh_awaiting_lead(session.connection(), touched)
    # The reports in the session hold the value they had before the UPDATE: read it again.
    for obj in list(session.identity_map.values()):
        if isinstance(obj, CaseReport) and obj.case_id in touched:
            session.expire(obj, ["awaiting_lead"])
