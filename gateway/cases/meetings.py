"""Case meetings ("casusoverleg"): per district, every six weeks (U §5.1; R §3.1).

The organiser (U Centraal in Utrecht, the municipality in Rijswijk) creates the meeting; the
agenda is drawn from the open cases in that district; attendance, minutes (sealed) and actions
with an owner and a due date are recorded on it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.auth.principal import Principal
from gateway.cases.districts import partner_cases
from gateway.cases.errors import CaseNotFound, InvalidCaseData, MeetingErased, NotPermitted
from gateway.cases.live import not_erased
from gateway.cases.models import (
    CaseFile,
    CaseMeeting,
    CaseTeamMember,
    MeetingAction,
    MeetingAgendaItem,
)
from gateway.cases.runtime import CaseRuntime
from gateway.cases.schemas import (
    ActionIn,
    ActionOut,
    AgendaItemOut,
    AttendanceIn,
    MeetingIn,
    MeetingOut,
    MinutesIn,
)
from gateway.core import pagination
from gateway.core.dutch_date import dutch_date
from gateway.core.errors import BadRequest
from gateway.crypto import record_scope
from gateway.db import utcnow


def _require_organiser(runtime: CaseRuntime, principal: Principal) -> None:
    kind = runtime.workflow(principal.covenant_id).meetings.organiser_kind
    # Only casework roles: a privacy officer audits, an adapter is a back-office system.
    if principal.partner_kind != kind or not principal.grant.casework:
        raise NotPermitted(f"Case meetings are organised by the partner of kind '{kind}'.")


def _organisers_meeting(
    session: Session, runtime: CaseRuntime, meeting_id: str, principal: Principal
) -> CaseMeeting:
    """The meeting, locked for a write only its organiser makes (attendance, minutes,
    actions): the partner that planned it, not any partner of the organiser's kind. U Centraal
    "draws the agenda and chairs" (U §5.1) its meeting; a covenant may name two partners of
    that kind (two municipalities of a region), and the other one's minutes replaced the
    chair's unseen, as they are sealed and never shown again (review9d F2). 403 after the 404:
    every partner of the covenant reads the meeting and its organiser, so the refusal tells
    nothing new."""
    _require_organiser(runtime, principal)
    meeting = _writable_meeting(session, meeting_id, principal)
    if meeting.organiser_partner_id != principal.partner_id:
        raise NotPermitted(
            "Only the meeting's organiser records its attendance, minutes and actions."
        )
    return meeting


def _meeting(session: Session, meeting_id: str, principal: Principal) -> CaseMeeting:
    meeting = session.get(CaseMeeting, meeting_id)
    if meeting is None or meeting.covenant_id != principal.covenant_id:
        raise CaseNotFound("No meeting with this id in your covenant.")
    return meeting


def _writable_meeting(session: Session, meeting_id: str, principal: Principal) -> CaseMeeting:
    """The meeting, locked for the write against the sweep's erasure of it (the sweep marks
    it in the same row); 410 once erased: its key scope is shredded, so nothing new could
    be sealed under it, and the record it kept is gone (docs/retention.md, "Case
    meetings")."""
    meeting = session.get(CaseMeeting, meeting_id, with_for_update=True, populate_existing=True)
    if meeting is None or meeting.covenant_id != principal.covenant_id:
        raise CaseNotFound("No meeting with this id in your covenant.")
    if meeting.erased_at is not None:
        raise MeetingErased(
            "The meeting's minutes and actions were erased under retention on "
            f"{dutch_date(meeting.erased_at).isoformat()}.",
            extra={"erasedAt": meeting.erased_at.isoformat()},
        )
    return meeting


def meeting_out(
    session: Session, meeting: CaseMeeting, *, today: date, reader: Principal
) -> MeetingOut:
    (out,) = meetings_out(session, [meeting], today=today, reader=reader)
    return out


def meetings_out(
    session: Session, meetings: Sequence[CaseMeeting], *, today: date, reader: Principal
) -> list[MeetingOut]:
    """The meetings with their agendas and actions, as ``reader`` may see them: two
    statements for all of them, whoever reads.

    Outside a case's team the case does not exist (gateway/cases/access.py; U §6 "de andere
    partijen die bij de casus zijn betrokken"), so an agenda names only the reader's cases,
    those its partner leads or is in the team of. The agenda and action statements say which
    cases are the reader's themselves: each row looks its case up by key with the check of
    gateway/cases/districts.partner_cases (a probe of the team's key), so a page of meetings
    costs no statement more. An action is shown when it is about one of those cases or about
    no case. Not the reader's own action once the lead removed its partner from the case's
    team: its partner was in the team when it was given (add_action), but the case no longer
    exists for it, and the action's case id, due day and its vanishing at the case's erasure
    would still tell of it (review5 F5); its deadlines leave it out alike, and the organiser
    completes it.

    The others are not counted either (``otherCases`` and ``otherActions`` until 6 December
    2026). The agenda is the district's open cases at the minute the meeting is planned, so
    the organiser could plan two meetings minutes apart and read from the difference of the
    counts that one case outside its teams was opened or closed in that district since; a
    reader reading a meeting twice, that an action was given about a case it may not see.
    Suppressing counts under five (review4, finding 6) left the difference between five and
    six. No source asks for the count: each partner comes "goed geïnformeerd over de gevallen
    ... waarbij de eigen organisatie is betrokken" (U §6), its own cases, and the district's
    numbers are the steering report's, as of a month's end (docs/cases.md)."""
    ids = [m.id for m in meetings]
    agendas: dict[str, list[AgendaItemOut]] = {meeting_id: [] for meeting_id in ids}
    actions: dict[str, list[ActionOut]] = {meeting_id: [] for meeting_id in ids}
    partner = reader.partner_id
    if ids:
        # The reference is read only for the reader's cases, those it leads or is involved in
        # (NULL for the others: a reference is never NULL; a member the lead only consulted is
        # no party to the meeting's work on the case, review14 F3, as add_action has it), one
        # look-up by the case's key per agenda row. A join of case_file
        # was planned on PostgreSQL as a hash of the whole table (a sequential scan of every
        # case, 25-50 ms at 50,000) for the few thousand agenda rows of a page; a scalar
        # subquery is looked up per row, never hashed. Columns, not MeetingAgendaItem
        # entities: an ORM object per row took about 40% of such a page (docs/performance.md,
        # "The meetings page with real agendas").
        readers_reference = (
            select(CaseFile.reference)
            .where(CaseFile.id == MeetingAgendaItem.case_id, partner_cases(partner, involved=True))
            .scalar_subquery()
        )
        for meeting_id, case_id, state_at_agenda, reference in session.execute(
            select(
                MeetingAgendaItem.meeting_id,
                MeetingAgendaItem.case_id,
                MeetingAgendaItem.state_at_agenda,
                readers_reference,
            )
            .where(MeetingAgendaItem.meeting_id.in_(ids))
            .order_by(MeetingAgendaItem.meeting_id, MeetingAgendaItem.position)
        ):
            if reference is None:
                continue  # not the reader's: not named, not counted
            agendas[meeting_id].append(
                AgendaItemOut(case_id=case_id, reference=reference, state_at_agenda=state_at_agenda)
            )
        # The same look-up for an action's case: its id when it is one of the reader's.
        readers_case = (
            select(CaseFile.id)
            .where(CaseFile.id == MeetingAction.case_id, partner_cases(partner, involved=True))
            .scalar_subquery()
        )
        for action, readers in session.execute(
            select(MeetingAction, readers_case)
            .where(MeetingAction.meeting_id.in_(ids))
            .order_by(MeetingAction.meeting_id, MeetingAction.due_on, MeetingAction.id)
        ):
            if action.case_id is not None and readers is None:
                continue  # about a case that is not the reader's
            actions[action.meeting_id].append(action_out(action, today))
    return [
        MeetingOut(
            id=meeting.id,
            covenant_id=meeting.covenant_id,
            district=meeting.district,
            scheduled_on=meeting.scheduled_on,
            organiser_partner_id=meeting.organiser_partner_id,
            held_at=meeting.held_at,
            attendance=dict(meeting.attendance),
            has_minutes=meeting.minutes_sealed is not None,
            agenda=agendas[meeting.id],
            actions=actions[meeting.id],
        )
        for meeting in meetings
    ]


def action_out(action: MeetingAction, today: date) -> ActionOut:
    return ActionOut(
        id=action.id,
        case_id=action.case_id,
        owner_partner_id=action.owner_partner_id,
        due_on=action.due_on,
        done_at=action.done_at,
        overdue=action.done_at is None and action.due_on < today,
    )


def _today(runtime: CaseRuntime, covenant_id: str, now: datetime) -> date:
    return runtime.calendar(covenant_id).local_date(now)


def _audited_meeting_out(
    session: Session,
    runtime: CaseRuntime,
    meeting: CaseMeeting,
    *,
    activity: str,
    principal: Principal,
    now: datetime,
) -> MeetingOut:
    """Audit a change to ``meeting`` (it names no case: the agenda is the district's) in the
    caller's transaction, then render the meeting."""
    session.flush()
    runtime.audit.record(
        session,
        activity=activity,
        covenant_id=meeting.covenant_id,
        case_id=None,
        actor=principal,
        details={"meeting": meeting.id, "district": meeting.district},
    )
    return meeting_out(
        session, meeting, today=_today(runtime, principal.covenant_id, now), reader=principal
    )


def plan_meeting(
    session: Session,
    *,
    runtime: CaseRuntime,
    principal: Principal,
    request: MeetingIn,
    now: datetime | None = None,
) -> MeetingOut:
    """Create a district meeting with its agenda: the open cases of that district."""
    now = now or utcnow()
    _require_organiser(runtime, principal)
    definition = runtime.workflow(principal.covenant_id)
    meeting = CaseMeeting(
        id=str(uuid.uuid4()),
        covenant_id=principal.covenant_id,
        district=request.district,
        scheduled_on=request.scheduled_on,
        organiser_partner_id=principal.partner_id,
        attendance={},
        created_at=now,
    )
    session.add(meeting)
    session.flush()
    # "Open" as ix_case_file_open_district has it (closed_at unset: the workflow sets it
    # exactly when a case enters a final state), the final states on top, as
    # districts.district_openings reads them: the district's open cases, not its history
    # (migration 0034 dropped the single-column index on district).
    cases = session.scalars(
        select(CaseFile)
        .where(
            CaseFile.covenant_id == principal.covenant_id,
            CaseFile.district == request.district,
            CaseFile.closed_at.is_(None),
            CaseFile.state.not_in(definition.final_states),
            not_erased(CaseFile.id),  # an open case erased under retention is gone
        )
        .order_by(CaseFile.first_report_at)
    )
    for position, case in enumerate(cases):
        session.add(
            MeetingAgendaItem(
                meeting_id=meeting.id,
                case_id=case.id,
                position=position,
                state_at_agenda=case.state,
            )
        )
    return _audited_meeting_out(
        session, runtime, meeting, activity="case-meeting-planned", principal=principal, now=now
    )


@dataclass(frozen=True)
class MeetingPage:
    items: list[MeetingOut]
    #: The cursor of the next page; None on the last.
    next_cursor: str | None


#: The two parts of the meetings list, in the order they are listed: the meetings on or after
#: the day the list was opened, soonest first (what a case worker prepares for), then the ones
#: before it, the latest first (what was agreed lately). Oldest first put the coming meetings
#: behind every meeting ever held: about a hundred pages in at 5,000 meetings.
UPCOMING, PAST = "upcoming", "past"


@dataclass(frozen=True)
class MeetingPosition:
    """Where a meetings cursor points: after ``key`` (date, meeting id) in ``part`` of the
    list that was opened on ``today``. The day travels with the cursor, so a list followed
    across midnight still shows every meeting once."""

    today: date
    part: str
    key: tuple[date, str]


def _meetings_query(principal: Principal, district: str | None) -> str:
    """What a meetings cursor belongs to: the covenant, the partner that was given it and the
    district filtered by (JSON: a district may hold any letter). Another partner's cursor, or
    one of another district, is refused."""
    return "meetings|" + json.dumps([principal.covenant_id, principal.partner_id, district])


def decode_meetings_cursor(
    session: Session, cursor: str, *, principal: Principal, district: str | None
) -> MeetingPosition:
    """The position a meetings cursor of this query points after; else 400."""
    raw = pagination.decode_cursor(session, _meetings_query(principal, district), cursor, 4)
    if raw[1] not in (UPCOMING, PAST):
        raise BadRequest("'cursor' is not a cursor this list gave out.")
    try:
        return MeetingPosition(
            today=date.fromisoformat(raw[0]),
            part=raw[1],
            key=(date.fromisoformat(raw[2]), raw[3]),
        )
    except ValueError as error:
        raise BadRequest("'cursor' is not a cursor this list gave out.") from error


def meetings_page(
    session: Session,
    *,
    runtime: CaseRuntime,
    principal: Principal,
    district: str | None,
    after: MeetingPosition | None = None,
    limit: int = pagination.DEFAULT_PAGE,
    now: datetime | None = None,
) -> MeetingPage:
    """The covenant's meetings (of ``district`` when given) after ``after``, at most ``limit``:
    from today on by date, then the earlier ones latest first (ties by id in the same
    direction). At most two keyset reads of ``ix_case_meeting_*_scheduled``, one forwards from
    today and one backwards from the day before, each starting at the cursor."""
    now = now or utcnow()
    today = _today(runtime, principal.covenant_id, now)
    opened_on = after.today if after is not None else today
    statement = select(CaseMeeting).where(CaseMeeting.covenant_id == principal.covenant_id)
    if district is not None:
        statement = statement.where(CaseMeeting.district == district)
    day, meeting_id = CaseMeeting.scheduled_on, CaseMeeting.id
    rows: list[tuple[str, CaseMeeting]] = []
    if after is None or after.part == UPCOMING:
        upcoming = statement.where(day >= opened_on)
        if after is not None:
            upcoming = upcoming.where(pagination.after_key(day, meeting_id, after.key))
        rows += [
            (UPCOMING, m)
            for m in session.scalars(upcoming.order_by(day, meeting_id).limit(limit + 1))
        ]
    if len(rows) <= limit:
        past = statement.where(day < opened_on)
        if after is not None and after.part == PAST:
            past = past.where(pagination.after_key(day, meeting_id, after.key, descending=True))
        rows += [
            (PAST, m)
            for m in session.scalars(
                past.order_by(day.desc(), meeting_id.desc()).limit(limit + 1 - len(rows))
            )
        ]
    shown, cursor = pagination.split_page(
        session,
        rows,
        limit=limit,
        query=_meetings_query(principal, district),
        key=lambda row: [
            opened_on.isoformat(),
            row[0],
            row[1].scheduled_on.isoformat(),
            row[1].id,
        ],
    )
    return MeetingPage(
        items=meetings_out(session, [m for _, m in shown], today=today, reader=principal),
        next_cursor=cursor,
    )


def case_meetings(
    session: Session,
    *,
    runtime: CaseRuntime,
    principal: Principal,
    case_id: str,
    now: datetime | None = None,
) -> list[MeetingOut]:
    """The covenant's meetings with ``case_id`` on the agenda, by date (the case page; the
    caller has checked the case is visible): read by ``ix_meeting_agenda_item_case``, so it
    grows with the case's meetings, not the district's."""
    now = now or utcnow()
    involved = select(CaseFile.id).where(
        CaseFile.id == case_id, partner_cases(principal.partner_id, involved=True)
    )
    if session.scalar(involved) is None:
        # A member the lead only consulted: the meetings' work on the case is not its
        # (review14 F3); that the case was on an agenda would be all it read of them.
        return []
    found = session.scalars(
        select(CaseMeeting)
        .join(MeetingAgendaItem, MeetingAgendaItem.meeting_id == CaseMeeting.id)
        .where(
            MeetingAgendaItem.case_id == case_id,
            CaseMeeting.covenant_id == principal.covenant_id,
        )
        .order_by(CaseMeeting.scheduled_on, CaseMeeting.id)
    ).all()
    return meetings_out(
        session, found, today=_today(runtime, principal.covenant_id, now), reader=principal
    )


def get_meeting(
    session: Session,
    *,
    runtime: CaseRuntime,
    principal: Principal,
    meeting_id: str,
    now: datetime | None = None,
) -> MeetingOut:
    now = now or utcnow()
    meeting = _meeting(session, meeting_id, principal)
    return meeting_out(
        session, meeting, today=_today(runtime, principal.covenant_id, now), reader=principal
    )


def record_attendance(
    session: Session,
    *,
    runtime: CaseRuntime,
    principal: Principal,
    meeting_id: str,
    request: AttendanceIn,
    now: datetime | None = None,
) -> MeetingOut:
    now = now or utcnow()
    meeting = _organisers_meeting(session, runtime, meeting_id, principal)
    unknown = [
        p for p in request.attendance if runtime.partner_kind(meeting.covenant_id, p) is None
    ]
    if unknown:
        raise InvalidCaseData(f"Not partners of this covenant: {', '.join(unknown)}.")
    meeting.attendance = {**meeting.attendance, **request.attendance}
    session.flush()
    return meeting_out(
        session, meeting, today=_today(runtime, principal.covenant_id, now), reader=principal
    )


def record_minutes(
    session: Session,
    *,
    runtime: CaseRuntime,
    principal: Principal,
    meeting_id: str,
    request: MinutesIn,
    now: datetime | None = None,
) -> MeetingOut:
    """The organiser takes the minutes (U §5.1); recording them marks the meeting held."""
    now = now or utcnow()
    meeting = _organisers_meeting(session, runtime, meeting_id, principal)
    meeting.minutes_sealed = runtime.sealer.seal(
        session,
        scope=record_scope("case_meeting", meeting.id),
        table="case_meeting",
        record_id=meeting.id,
        field="minutes",
        plaintext=request.text,
    )
    meeting.held_at = meeting.held_at or now
    return _audited_meeting_out(
        session, runtime, meeting, activity="case-meeting-minutes", principal=principal, now=now
    )


def add_action(
    session: Session,
    *,
    runtime: CaseRuntime,
    principal: Principal,
    meeting_id: str,
    request: ActionIn,
    now: datetime | None = None,
) -> ActionOut:
    now = now or utcnow()
    meeting = _organisers_meeting(session, runtime, meeting_id, principal)
    if runtime.partner_kind(meeting.covenant_id, request.owner_partner_id) is None:
        raise InvalidCaseData(f"'{request.owner_partner_id}' is not a partner of this covenant.")
    if request.case_id is not None:
        # On the agenda as the organiser reads it (meetings_out): not a case of another
        # team, which the same answer as for a case off the agenda does not confirm.
        on_agenda = session.scalar(
            select(MeetingAgendaItem.case_id)
            .join(CaseFile, CaseFile.id == MeetingAgendaItem.case_id)
            .where(
                MeetingAgendaItem.meeting_id == meeting.id,
                MeetingAgendaItem.case_id == request.case_id,
                partner_cases(principal.partner_id),
            )
        )
        if on_agenda is None:
            raise InvalidCaseData("An action's case must be on the meeting's agenda.")
        # The owner reads the action's case id (meetings_out, the deadlines): outside the
        # case's team the case does not exist for it (U §6 "de andere partijen die bij de
        # casus zijn betrokken"; gateway/cases/access.py), so it must lead the case or be in
        # its team. The organiser is, so the refusal tells it nothing it does not know.
        owners_case = session.scalar(
            select(CaseFile.id).where(
                CaseFile.id == request.case_id, partner_cases(request.owner_partner_id)
            )
        )
        # A member the lead only consulted (U §5.6 "desgevraagd") is no party to the case
        # meeting's work yet: the action would name it, with the case, to every team member
        # reading the meeting (review9a F3). The lead marks it involved first. One answer for
        # both refusals, so an organiser that is not the lead learns nothing of who was asked.
        consulted = session.scalar(
            select(CaseTeamMember.consulted).where(
                CaseTeamMember.case_id == request.case_id,
                CaseTeamMember.partner_id == request.owner_partner_id,
            )
        )
        if owners_case is None or consulted:
            raise InvalidCaseData(
                f"'{request.owner_partner_id}' is not in the case team, or only consulted by its "
                "lead; the case lead adds it to the team (involved) first."
            )
        # An action about a case is written to its dossier (the sweep erases it with the
        # case): not to a case retention erased (410), as every write (access.writable_case).
        refusal = runtime.guard_write and runtime.guard_write(session, case_id=request.case_id)
        if refusal:
            raise refusal
    action_id = str(uuid.uuid4())
    action = MeetingAction(
        id=action_id,
        meeting_id=meeting.id,
        case_id=request.case_id,
        owner_partner_id=request.owner_partner_id,
        due_on=request.due_on,
        description_sealed=runtime.sealer.seal(
            session,
            scope=record_scope("case_meeting", meeting.id),
            table="meeting_action",
            record_id=action_id,
            field="description",
            plaintext=request.description,
        ),
    )
    session.add(action)
    session.flush()
    return action_out(action, _today(runtime, principal.covenant_id, now))


def _readers_action(session: Session, action: MeetingAction, principal: Principal) -> bool:
    """About no case, or about a case ``principal``'s partner leads or is in the team of."""
    if action.case_id is None:
        return True
    return (
        session.scalar(
            select(CaseFile.id).where(
                CaseFile.id == action.case_id, partner_cases(principal.partner_id)
            )
        )
        is not None
    )


def complete_action(
    session: Session,
    *,
    runtime: CaseRuntime,
    principal: Principal,
    meeting_id: str,
    action_id: str,
    now: datetime | None = None,
) -> ActionOut:
    """The action's owner (or the organiser) marks it done. An action about a case exists
    for a partner only while it leads the case or is in its team, as it is shown
    (meetings_out): a former member gets the answer of an unknown action (review5 F5)."""
    now = now or utcnow()
    meeting = _writable_meeting(session, meeting_id, principal)
    action = session.get(MeetingAction, action_id)
    if (
        action is None
        or action.meeting_id != meeting.id
        or not _readers_action(session, action, principal)
    ):
        raise CaseNotFound("No such action in this meeting.")
    organiser = principal.partner_id == meeting.organiser_partner_id
    if (
        action.owner_partner_id != principal.partner_id and not organiser
    ) or not principal.grant.casework:
        raise NotPermitted("Only the action's owner or the organiser completes it.")
    action.done_at = action.done_at or now
    session.flush()
    return action_out(action, _today(runtime, principal.covenant_id, now))
