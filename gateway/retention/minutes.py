"""Case meetings' minutes end with the cases they discuss (review2 finding 8).

A meeting's minutes and its actions' descriptions are sealed under the meeting's own key scope
(``record_scope("case_meeting", id)``), not under a case's: one text discusses every case on
the agenda. No case's erasure can shred them, and ``case_meeting`` has no ``case_id`` for the
dossier's overwrite to find. So the sweep erases a meeting as a whole once nothing it
discusses is kept (docs/retention.md, "Case meetings"):

* a meeting with cases on its agenda, once **every one of them is erased**;
* a meeting with no case on its agenda (it discussed no dossier), once its covenant's
  ``openCases`` period (``inactive-default``, 12 months) has passed since its day.

Erasing a meeting shreds its key scope, overwrites its minutes and its actions' descriptions
with tombstones (as the dossier's overwrite does: header kept, body zeroed), marks it
(``case_meeting.erased_at``; later writes answer 410) and appends one
``retention-meeting-redaction`` audit entry per meeting, all in one transaction. The meetings
are chosen and marked in one statement; each candidate is checked by probes of its agenda
that stop at the first case still kept (``LIMIT 1`` subqueries: PostgreSQL would plan a
``NOT EXISTS`` as an anti-join hashing every case of the register, once per sweep).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Column, and_, case, func, literal, or_, select, true, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from gateway.audit import AuditEntry, AuditLog, ProcessingActivity
from gateway.cases.models import CaseFile, CaseMeeting, MeetingAction, MeetingAgendaItem
from gateway.crypto import record_scope
from gateway.db import Base, among
from gateway.retention.models import RetentionCase
from gateway.retention.rules import Period, RetentionRules
from gateway.retention.targets import shred_scopes, tombstone_value

#: The audit activity of a meeting's erasure.
MEETING_REDACTION = "retention-meeting-redaction"
AGENDA_ERASED = "agenda-erased"
NO_AGENDA = "no-agenda"
_FALLBACK_PERIOD = "inactive-default"


def _column(model: type[Base], name: str) -> Column[Any]:
    """A model's table column (tombstone_value reads whether it is nullable)."""
    return cast("Column[Any]", model.__table__.c[name])


def _latest_start(period: Period, as_of: date) -> date:
    """The last day from which ``period`` has passed by ``as_of`` (``period.after`` of it is
    on or before ``as_of``; month ends clamp, so it is found by stepping back)."""
    day = as_of
    while period.after(day) > as_of:
        day -= timedelta(days=1)
    return day


def _no_agenda_due(rules: RetentionRules, as_of: date) -> ColumnElement[bool]:
    """A meeting without cases is due once its covenant's ``openCases`` period has passed
    since its day (a covenant without one: ``inactive-default``)."""
    terms = []
    for covenant_id, policy in rules.policies.items():
        period = rules.period(policy.open_cases.period if policy.open_cases else _FALLBACK_PERIOD)
        terms.append(
            and_(
                CaseMeeting.covenant_id == covenant_id,
                CaseMeeting.scheduled_on <= _latest_start(period, as_of),
            )
        )
    fallback = _latest_start(rules.period(_FALLBACK_PERIOD), as_of)
    terms.append(
        and_(
            CaseMeeting.covenant_id.not_in(list(rules.policies)) if rules.policies else true(),
            CaseMeeting.scheduled_on <= fallback,
        )
    )
    return or_(*terms)


def _agenda_probe(*kept: ColumnElement[bool]) -> Any:
    """1 when the meeting's agenda holds a case for which every condition of ``kept`` holds
    (any case: none given), else NULL; stops at the first such case."""
    probe = select(literal(1)).select_from(MeetingAgendaItem)
    if kept:
        probe = probe.join(CaseFile, CaseFile.id == MeetingAgendaItem.case_id).where(*kept)
    return probe.where(MeetingAgendaItem.meeting_id == CaseMeeting.id).limit(1).scalar_subquery()


def _due(
    rules: RetentionRules, as_of: date, going: list[ColumnElement[bool]] | None = None
) -> ColumnElement[bool]:
    """The meetings to erase. ``going`` (a dry run): the register's conditions of a case the
    run would erase, which then counts as erased."""
    kept: list[ColumnElement[bool]] = [CaseFile.erased_at.is_(None)]
    if going is not None:
        kept.append(
            ~select(literal(1)).where(RetentionCase.case_id == CaseFile.id, *going).exists()
        )
    has_agenda = _agenda_probe().is_not(None)
    agenda_erased = and_(has_agenda, _agenda_probe(*kept).is_(None))
    no_agenda = and_(~has_agenda, _no_agenda_due(rules, as_of))
    return and_(CaseMeeting.erased_at.is_(None), or_(agenda_erased, no_agenda))


def count_due_meetings(
    session: Session, rules: RetentionRules, as_of: date, *, going: list[ColumnElement[bool]]
) -> int:
    """How many meetings a real run on ``as_of`` would erase, the cases meeting ``going``
    (the register's due and not held) counted as erased: the dry run."""
    statement = select(func.count()).select_from(CaseMeeting)
    return int(session.execute(statement.where(_due(rules, as_of, going))).scalar_one())


def erase_meetings(
    session: Session,
    *,
    rules: RetentionRules,
    audit: AuditLog,
    as_of: date,
    now: datetime,
    run_id: str,
) -> list[str]:
    """Erase the meetings that are due (module docstring), in the caller's transaction;
    returns their key scopes, for the caller to evict from the data key cache once it has
    committed (as the sweep evicts a batch's). The audit entries are appended last, as
    every audited write."""
    why = case((_agenda_probe().is_(None), literal(NO_AGENDA)), else_=literal(AGENDA_ERASED))
    erased = session.execute(
        update(CaseMeeting)
        .where(_due(rules, as_of))
        .values(
            erased_at=now, minutes_sealed=tombstone_value(_column(CaseMeeting, "minutes_sealed"))
        )
        .returning(CaseMeeting.id, CaseMeeting.covenant_id, why)
        .execution_options(synchronize_session=False)
    ).all()
    if not erased:
        return []
    ids = sorted(meeting_id for meeting_id, _, _ in erased)
    session.execute(
        update(MeetingAction)
        .where(among(session, MeetingAction.meeting_id, ids))
        .values(description_sealed=tombstone_value(_column(MeetingAction, "description_sealed")))
        .execution_options(synchronize_session=False)
    )
    scopes = [
        (record_scope("case_meeting", m), f"retention: {because}") for m, _, because in erased
    ]
    shred_scopes(session, scopes, now)
    audit.record_many(
        session=session,
        entries=[
            _entry(meeting_id, covenant_id, because, rules, now, run_id)
            for meeting_id, covenant_id, because in sorted(erased)
        ],
    )
    return [scope for scope, _ in scopes]


def _entry(
    meeting_id: str,
    covenant_id: str,
    because: str,
    rules: RetentionRules,
    now: datetime,
    run_id: str,
) -> AuditEntry:
    policy = rules.policy(covenant_id)
    clauses: tuple[str, ...] = ()
    if because == NO_AGENDA and policy is not None and policy.open_cases is not None:
        clauses = (policy.open_cases.id,)
    return AuditEntry(
        activity=MEETING_REDACTION,
        outcome="recorded",
        started_at=now,
        ended_at=now,
        processing=ProcessingActivity(
            covenant_id=covenant_id, clause_ids=clauses, purpose="retention"
        ),
        case_id=None,
        attributes={
            "meeting": meeting_id,
            "because": because,
            "run": run_id,
            "key-scope": record_scope("case_meeting", meeting_id),
        },
    )
