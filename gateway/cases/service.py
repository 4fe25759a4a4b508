"""Reading cases (without personal data) and the case part of every policy input.

Every function takes the request's session and plain values and never commits.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, bindparam, null, or_, select, union, union_all
from sqlalchemy.orm import Session

from gateway.auth.principal import Principal
from gateway.cases.access import visible_case_members
from gateway.cases.consents import granted_consents
from gateway.cases.deadlines import case_deadlines, erasure_deadline
from gateway.cases.definition import WorkflowDefinition
from gateway.cases.districts import district_openings
from gateway.cases.errors import CaseNotFound
from gateway.cases.events import event_out
from gateway.cases.guards import KNOWN_TENURES
from gateway.cases.live import not_erased
from gateway.cases.models import (
    CaseConsent,
    CaseCriterion,
    CaseEventRecord,
    CaseFile,
    CasePerson,
    CaseReport,
    CaseTeamMember,
    CaseTransition,
    Dwelling,
    EnforcementMeasure,
)
from gateway.cases.notices import case_notices, notice_out
from gateway.cases.reports import pending_report_out, pending_reports, reporter_deadlines
from gateway.cases.runtime import CaseRuntime
from gateway.cases.schemas import (
    AllowedTransitionOut,
    CaseListItem,
    CaseResult,
    CaseSummary,
    ConsentOut,
    CriterionOut,
    DeadlineOut,
    HistoryOut,
    MeasureOut,
)
from gateway.cases.summary_readers import (
    INVESTIGATION_FIELDS,
    covenant_reads_investigation,
    summary_reader,
)
from gateway.cases.workflow import allowed_transitions
from gateway.core import pagination
from gateway.core.dutch_date import dutch_date
from gateway.db import HotStatement, Unit, unit_connection, utcnow

# --- reading --------------------------------------------------------------------------------


def listed(runtime: CaseRuntime, *, include_closed: bool) -> list[ColumnElement[bool]]:
    """Which of a partner's cases its lists show: an open case erased under retention is no
    open work (its steps answer 410; docs/retention.md), so it is left out; a closed case
    erased under retention stays, closed as it was. Without ``include_closed``, the open
    cases only."""
    live = not_erased(CaseFile.id)
    if include_closed:
        return [or_(CaseFile.closed_at.is_not(None), live)]
    return [CaseFile.closed_at.is_(None), live]


def list_cases(
    session: Session,
    *,
    runtime: CaseRuntime,
    principal: Principal,
    include_closed: bool = True,
    case_ids: Sequence[str] | None = None,
    newest: int | None = None,
) -> list[CaseListItem]:
    """The caller's partner's cases: those it leads or is in the team of, oldest first;
    only ``case_ids`` of them when given, or only the ``newest`` (newest first). An open
    case erased under retention is not listed (:func:`listed`)."""
    member = select(CaseTeamMember.case_id).where(CaseTeamMember.partner_id == principal.partner_id)
    statement = select(CaseFile).where(
        CaseFile.covenant_id == principal.covenant_id,
        or_(CaseFile.lead_partner_id == principal.partner_id, CaseFile.id.in_(member)),
        *listed(runtime, include_closed=include_closed),
    )
    if case_ids is not None:
        statement = statement.where(CaseFile.id.in_(case_ids))
    if newest is not None:
        statement = statement.order_by(CaseFile.opened_at.desc(), CaseFile.id).limit(newest)
    else:
        statement = statement.order_by(CaseFile.opened_at)
    return [_list_item(c) for c in session.scalars(statement)]


def open_districts(session: Session, *, runtime: CaseRuntime, principal: Principal) -> list[str]:
    """The districts of the open cases the caller's partner leads or is in the team of (the
    districts of ``list_cases(include_closed=False)``), in order: a few index probes per
    district, not every open case (gateway/cases/districts.py)."""
    found = district_openings(
        session,
        covenant_id=principal.covenant_id,
        partner_id=principal.partner_id,
        live=not_erased(CaseFile.id),
    )
    return sorted(d.district for d in found)  # as the form always sorted them, in Python


@dataclass(frozen=True)
class CasePage:
    items: list[CaseListItem]
    #: The cursor of the next page; None on the last.
    next_cursor: str | None


def _cases_query(principal: Principal, include_closed: bool) -> str:
    """What a cases cursor belongs to: a cursor of another partner or filter is refused."""
    closed = "all" if include_closed else "open"
    return f"cases|{principal.covenant_id}|{principal.partner_id}|{closed}"


def decode_cases_cursor(
    session: Session, cursor: str, *, principal: Principal, include_closed: bool
) -> tuple[datetime, str]:
    """The (opening moment, case id) a cases cursor of this query points after; else 400."""
    query = _cases_query(principal, include_closed)
    return pagination.decode_moment_cursor(session, query, cursor)


def cases_page(
    session: Session,
    *,
    runtime: CaseRuntime,
    principal: Principal,
    include_closed: bool = True,
    after: tuple[datetime, str] | None = None,
    limit: int = pagination.DEFAULT_PAGE,
) -> CasePage:
    """The caller's partner's cases (as :func:`list_cases`: led or in the team of, oldest
    first, ties by id, an erased open case left out) after ``after``, at most ``limit``:
    keyset paging, one statement.

    The cases the partner leads and those it is in the team of are two ordered reads, each
    from its index (``ix_case_file_lead_opened``; ``ix_case_team_member_partner_opened``, the
    memberships in the list's order) and each at most a page long (beyond the rows the
    conditions leave out), merged by the database without the cases in both: a page costs
    the same at any history size."""
    partner = principal.partner_id
    conditions = [
        CaseFile.covenant_id == principal.covenant_id,
        *listed(runtime, include_closed=include_closed),
    ]
    led = select(CaseFile.id).where(CaseFile.lead_partner_id == partner, *conditions)
    if after is not None:
        led = led.where(pagination.after_key(CaseFile.opened_at, CaseFile.id, after))
    led = led.order_by(CaseFile.opened_at, CaseFile.id).limit(limit + 1)
    # In the memberships' order, each one's case checked by its key: a plan that walks the
    # covenant's cases and probes each one's membership (PostgreSQL's, for a join) reads the
    # whole history for a partner in few teams; SQLite put the cases outside a join too.
    opened, case_id = CaseTeamMember.case_opened_at, CaseTeamMember.case_id
    teamed = select(case_id).where(
        CaseTeamMember.partner_id == partner,
        select(CaseFile.id).where(CaseFile.id == case_id, *conditions).exists(),
    )
    if after is not None:
        teamed = teamed.where(pagination.after_key(opened, case_id, after))
    teamed = teamed.order_by(opened, case_id).limit(limit + 1)
    # UNION, not UNION ALL: the lead is (nearly always) in its own cases' teams too.
    ids = union(led.subquery().select(), teamed.subquery().select()).subquery()
    rows = list(
        session.scalars(
            select(CaseFile)
            .join(ids, ids.c.id == CaseFile.id)
            .order_by(CaseFile.opened_at, CaseFile.id)
            .limit(limit + 1)
        )
    )
    shown, cursor = pagination.split_page(
        session,
        rows,
        limit=limit,
        query=_cases_query(principal, include_closed),
        key=lambda case: pagination.moment_key(case.opened_at, case.id),
    )
    return CasePage(items=[_list_item(c) for c in shown], next_cursor=cursor)


def _list_item(case: CaseFile) -> CaseListItem:
    return CaseListItem(
        id=case.id,
        reference=case.reference,
        covenant_id=case.covenant_id,
        state=case.state,
        district=case.district,
        lead_partner_id=case.lead_partner_id,
        opened_at=case.opened_at,
        first_report_at=case.first_report_at,
        closed_at=case.closed_at,
    )


def deadline_out(case: CaseFile, item: Any) -> DeadlineOut:
    return DeadlineOut(
        kind="case",
        deadline=item.deadline.id,
        description=item.deadline.description,
        source=item.deadline.source,
        case_id=case.id,
        reference=case.reference,
        district=case.district,
        due_at=item.due.at,
        due_on=item.due.on,
        overdue=item.overdue,
        responsible_partner_id=item.responsible_partner_id,
    )


def standing_consent_ids(consents: list[CaseConsent], dwelling: Dwelling) -> set[str]:
    """The consents that are their party's latest answer and a grant (gateway/cases/consents)."""
    granted = granted_consents(
        ((c, c.scope) for c in consents), dwelling_corporation=dwelling.corporation_id
    )
    return {g.consent.id for g in granted}


def erasure_deadlines(
    session: Session,
    *,
    runtime: CaseRuntime,
    cases: list[CaseFile],
    now: datetime,
    reader: str | None = None,
    principal: Principal | None = None,
) -> list[DeadlineOut]:
    """The lead's warning before an open case's dossier is erased (no case is kept without
    an end, but none disappears unannounced): due the day before the erasure; any activity
    on the case (or closing it) moves the erasure. Empty without the retention domain.

    ``reader``: the reading partner; a warning whose day is the resident's move-out is
    left out unless that partner is told of the move (its lead, the partner that recorded
    it; review5b p5b, docs/retention.md "What a reader is told of a move"). ``principal``:
    the reading principal; a warning whose day or rule can tell of a landlord's measure it
    could not be shown is left out unless its partner leads the case (the lead is warned
    before any erasure; docs/retention.md "What a reader is told of the landlord's
    sanctions")."""
    open_cases = {case.id: case for case in cases if case.closed_at is None}
    if runtime.erasure_warnings is None or not open_cases:
        return []
    # The retention register's dates are Dutch calendar dates.
    today = dutch_date(now)
    out = []
    warnings = runtime.erasure_warnings(
        session, case_ids=sorted(open_cases), today=today, reader=principal, runtime=runtime
    )
    for warning in warnings:
        if warning.told is not None and reader not in warning.told:
            continue
        case = open_cases[warning.case_id]
        if warning.withheld and reader != case.lead_partner_id:
            continue
        out.append(
            erasure_deadline(
                warning,
                case_id=case.id,
                reference=case.reference,
                district=case.district,
                calendar=runtime.calendar(case.covenant_id),
                responsible_partner_id=case.lead_partner_id,
                now=now,
            )
        )
    return out


def consent_out(consent: CaseConsent, now: datetime, *, standing: set[str]) -> ConsentOut:
    """``standing``: the ids :func:`standing_consent_ids` gives for the case's consents."""
    expired = consent.expires_at is not None and consent.expires_at <= now
    return ConsentOut(
        id=consent.id,
        kind=consent.kind,
        partner_id=consent.partner_id,
        granted=consent.granted,
        scope=consent.scope,
        expires_at=consent.expires_at,
        recorded_at=consent.recorded_at,
        withdrawn_at=consent.withdrawn_at,
        live=consent.id in standing and not expired,
    )


def criteria_holding(
    definition: WorkflowDefinition, criteria: list[CaseCriterion], *, lead: bool
) -> int:
    """How many U §2 criteria hold; for a reader other than the lead at most the minimum the
    workflow needs: that the case meets the criteria, not that all of them hold (with every
    criterion holding, the one naming psychiatry, addiction and crime would hold too). The
    ``case-criteria`` audit entry carries the count a reader other than the lead is shown
    (gateway/cases/changes.py)."""
    holding = sum(1 for c in criteria if c.holds)
    if lead or definition.classification is None:
        return holding
    return min(holding, definition.classification.minimum)


def consulted_shown(
    case: CaseFile, consulted: set[str], principal: Principal
) -> tuple[set[str], list[str]]:
    """The consulted members ``principal`` may see, and what it is told is withheld.

    U §5.6: "Het buurtteam meldt de casemanager desgevraagd of een overlastveroorzaker en/of
    klager bij het buurtteam bekend is": the question and its answer are the case manager's,
    and that the youth-and-family team was asked at all tells that the household may be
    known to it (covenant file U-5.6-bekend-buurtteam: health data, the case manager only).
    A partner the lead only consulted is not one of "de andere partijen die bij de casus zijn
    betrokken" (U §6), so the team list names it to the lead's partner (all of them) and to
    itself only; every reader but the lead's partner gets ``consultedPartners`` in
    ``withheld``, whether or not there is one, so the list does not tell it either
    (review9a F3)."""
    if principal.partner_id == case.lead_partner_id:
        return consulted, []
    # A consulted member reads itself, not the others the lead consulted.
    return consulted & {principal.partner_id}, ["consultedPartners"]


def case_summary(
    session: Session,
    *,
    runtime: CaseRuntime,
    case_id: str,
    principal: Principal,
    now: datetime | None = None,
) -> CaseSummary:
    """The case without personal data: states, dates, partners, counts and deadlines; the
    police investigation status, the OGGZ check, each criterion, the landlord's measures
    (case events, by the clauses of their category in the case's phase) and the reports
    awaiting the lead's decision only for the readers the sources give them to (gateway/
    cases/summary_readers.py), the others told they are ``withheld``.

    A case erased under retention is no open work: its steps and decisions answer 410, so
    it has no deadlines, no reports awaiting a decision and no transitions to offer
    (``erased``; docs/retention.md)."""
    now = now or utcnow()
    case, team, consulted = visible_case_members(session, case_id=case_id, principal=principal)
    shown_consulted, consulted_withheld = consulted_shown(case, consulted, principal)
    erased = case.erased_at is not None
    definition = runtime.workflow(case.covenant_id)
    dwelling = session.get_one(Dwelling, case.dwelling_id)

    def rows(model: Any, order: Any = None) -> list[Any]:
        statement = select(model).where(model.case_id == case.id)
        return list(session.scalars(statement.order_by(order) if order is not None else statement))

    landlord = dwelling.corporation_id if dwelling.ownership == "corporation" else None
    reader = summary_reader(runtime, case, principal, landlord=landlord)
    criteria = rows(CaseCriterion, CaseCriterion.criterion)
    consents = rows(CaseConsent, CaseConsent.recorded_at)
    standing = standing_consent_ids(consents, dwelling)
    roles = Counter(p.role for p in rows(CasePerson))
    running = case_deadlines(
        definition=definition,
        calendar=runtime.calendar(case.covenant_id),
        case=case,
        dwelling=dwelling,
        consents=consents,
        now=now,
    )
    calendar = runtime.calendar(case.covenant_id)
    # Which partner outside the team reported is the lead's to know and decide on (U §5.1,
    # §5.6, §6; summary_readers.py, review9a F1): not read at all for anyone else.
    pending = [] if erased or not reader.pending_reports else pending_reports(session, case)
    result = None
    if case.neighbours_judgement and case.partners_judgement and case.aftercare_decision:
        result = CaseResult.model_validate(
            {
                "neighboursJudgement": case.neighbours_judgement,
                "partnersJudgement": case.partners_judgement,
                "aftercare": case.aftercare_decision,
            }
        )
    return CaseSummary(
        **_list_item(case).model_dump(),
        state_entered_at=case.state_entered_at,
        # An unrecorded tenure (an imported or damaged row) is shown as such, never guessed.
        ownership=dwelling.ownership if dwelling.ownership in KNOWN_TENURES else "unknown",
        corporation_id=dwelling.corporation_id,
        case_manager=case.case_manager,
        complexity=case.complexity,
        report_count=len(rows(CaseReport)),
        person_roles=dict(roles),
        team=sorted(team | shown_consulted | {case.lead_partner_id}),
        consulted_partners=sorted(shown_consulted),
        pending_reports=[pending_report_out(calendar, r, now) for r in pending],
        # An erased case's consents, measures and notices went with its dossier (the sweep
        # deletes them; review5b P2: an OM consent tells that an investigation ran, as
        # investigationRunning, and a measure such as a care contract tells a care need).
        consents=[]
        if erased
        else [consent_out(c, now, standing=standing) for c in reader.consents(consents)],
        # An erased case's assessment went with its dossier (the sweep cleared it; review4
        # F4): nothing of it is shown, also not a count of what no longer holds.
        criteria=[
            CriterionOut(
                criterion=c.criterion, holds=c.holds, has_evidence=c.evidence_sealed is not None
            )
            for c in criteria
            if c.holds is not None
        ]
        if reader.assessment and not erased
        else [],
        criteria_holding=None
        if erased
        else criteria_holding(definition, criteria, lead=reader.assessment),
        acute_override=case.acute_override,
        investigation_running=case.investigation_running
        if reader.investigation and not erased
        else None,
        events=[]
        if erased
        else [
            event_out(e) for e in reader.events(rows(CaseEventRecord, CaseEventRecord.recorded_at))
        ],
        notices=[]
        if erased
        else [notice_out(n) for n in case_notices(session, case.id, principal.partner_id)],
        oggz_target_group=case.oggz_target_group if reader.assessment and not erased else None,
        oggz_referred=case.oggz_referred if reader.assessment and not erased else None,
        dwelling_pollution=case.dwelling_pollution if reader.assessment and not erased else None,
        both_sides_heard=case.both_sides_heard,
        measures=[
            MeasureOut(
                instrument=m.instrument,
                amount_eur=m.amount_eur,
                days=m.days,
                decided_at=m.decided_at,
                decided_by_partner_id=m.decided_by_partner_id,
            )
            for m in rows(EnforcementMeasure, EnforcementMeasure.decided_at)
        ],
        result=result,
        history=[
            HistoryOut(
                transition=t.transition,
                from_state=t.from_state,
                to_state=t.to_state,
                at=t.at,
                actor_partner_id=t.actor_partner_id,
                actor_role=t.actor_role,
                has_reason=t.reason_sealed is not None,
            )
            for t in rows(CaseTransition, CaseTransition.at)
        ],
        deadlines=[]
        if erased
        else [
            *(deadline_out(case, d) for d in running),
            *(reporter_deadlines(session, calendar, case, now) if reader.pending_reports else []),
            *erasure_deadlines(
                session,
                runtime=runtime,
                cases=[case],
                now=now,
                reader=principal.partner_id,
                principal=principal,
            ),
        ],
        allowed_transitions=[]
        if erased
        else [
            AllowedTransitionOut(id=t.id, to=t.to, description=t.description)
            for t in allowed_transitions(definition, case, principal, team)
        ],
        erased=erased,
        withheld=[*reader.withheld, *consulted_withheld],
        # Not kept there: a null that is nobody's to record, said as such (the police read
        # it too; docs/cases.md, review3).
        not_in_covenant=[]
        if covenant_reads_investigation(runtime, case.covenant_id)
        else list(INVESTIGATION_FIELDS),
    )


# --- the policy ---------------------------------------------------------------------------------


#: Built once with a bind parameter: constructing a statement and its cache key on every
#: call costs more client CPU than executing it. Columns only (no ORM objects to build).
#: The case, its dwelling, team and consents: one row per (team member, consent).
_CASE_ROWS = (
    select(
        CaseFile.id,
        CaseFile.covenant_id,
        CaseFile.state,
        CaseFile.lead_partner_id,
        CaseFile.investigation_running,
        CaseFile.dwelling_pollution,
        CaseFile.closed_at,
        Dwelling.ownership,
        Dwelling.corporation_id,
        CaseTeamMember.partner_id.label("member"),
        CaseTeamMember.consulted.label("member_consulted"),
        CaseConsent.id.label("consent_id"),
        CaseConsent.kind.label("consent_kind"),
        CaseConsent.partner_id.label("consent_partner_id"),
        CaseConsent.granted.label("consent_granted"),
        CaseConsent.scope.label("consent_scope"),
        CaseConsent.recorded_at.label("consent_recorded_at"),
        CaseConsent.expires_at.label("consent_expires_at"),
        CaseConsent.withdrawn_at.label("consent_withdrawn_at"),
        CaseFile.address_index.label("subject_index"),
    )
    .join(Dwelling, Dwelling.id == CaseFile.dwelling_id)
    .outerjoin(CaseTeamMember, CaseTeamMember.case_id == CaseFile.id)
    # Every answer, refusals and withdrawals included: only the latest per party counts.
    .outerjoin(CaseConsent, CaseConsent.case_id == CaseFile.id)
    .where(CaseFile.id == bindparam("case_id"))
)
#: ... and one row per person with a BSN, carrying only its blind index (``id`` is NULL).
_PERSON_ROWS = select(
    *(null() for _ in range(len(_CASE_ROWS.selected_columns) - 1)),
    CasePerson.identifier_index,
).where(CasePerson.case_id == bindparam("case_id"), CasePerson.identifier_index.is_not(None))
#: ... and one row per case event: its kind and recorder in the consent kind and partner
#: columns (``id`` and ``subject_index`` are NULL).
_EVENT_COLUMNS = list(_CASE_ROWS.selected_columns)
_EVENT_ROWS = select(
    *(
        CaseEventRecord.kind
        if column.name == "consent_kind"
        else CaseEventRecord.partner_id
        if column.name == "consent_partner_id"
        else null()
        for column in _EVENT_COLUMNS
    )
).where(CaseEventRecord.case_id == bindparam("case_id"))
_POLICY_FACTS = HotStatement(union_all(_CASE_ROWS, _PERSON_ROWS, _EVENT_ROWS))


def case_policy_facts(session: Unit, case_id: str) -> dict[str, Any]:
    """The case part of every policy input, shaped like ``gateway.policy.schemas``:
    ``{"case": CaseContext, "consents": [Consent]}`` with camelCase keys. Contains no personal
    data. ``case.team`` is the lead and the involved members; ``"consulted"`` the members the
    lead only consulted (they see the case to answer, but are no team for the policy). Only
    the grants that are their party's latest answer are listed (gateway/cases/consents.py: a
    later refusal or withdrawal ends a grant); expired ones stay in so the policy can say why
    it redacts ("om-consent-expired").

    Also ``"subjects"``: the ``(identifier type, blind index)`` pairs of the case's persons
    with a BSN and of its dwelling, as :func:`gateway.cases.subjects.case_subject_indexes`
    gives them, for the audit entry that names whom a disclosure is about. They are keyed
    hashes, never part of the policy input."""
    # The case, its dwelling, team, live consents and data subjects in one round trip: every
    # disclosure starts here. One row per (team member, consent), then one per person and
    # one per case event.
    rows = _POLICY_FACTS.rows(unit_connection(session), {"case_id": case_id})
    case_rows = [row for row in rows if row.id is not None]
    if not case_rows:
        raise CaseNotFound("No case with this id.")
    case = case_rows[0]
    team = {row.member for row in case_rows if row.member is not None}
    # A member the lead only consulted (U §5.6 "desgevraagd") is not one of "de andere
    # partijen die bij de casus zijn betrokken" (U §6): no team member for the policy (it
    # receives nothing under case-team, and consulted police are not "actief betrokken" for
    # the sfeerverslag), only a partner that sees the case to answer (review9a F3).
    consulted = {row.member for row in case_rows if row.member is not None and row.member_consulted}
    answers = {
        row.consent_id: _ConsentRow(
            id=row.consent_id,
            kind=row.consent_kind,
            partner_id=row.consent_partner_id,
            granted=row.consent_granted,
            recorded_at=row.consent_recorded_at,
            withdrawn_at=row.consent_withdrawn_at,
            expires_at=row.consent_expires_at,
        )
        for row in case_rows
        if row.consent_id is not None
    }
    scopes = {row.consent_id: row.consent_scope for row in case_rows if row.consent_id}
    standing = granted_consents(
        ((c, scopes[c.id]) for c in answers.values()), dwelling_corporation=case.corporation_id
    )
    persons = [("bsn", row.subject_index) for row in rows if row.id is None and row.subject_index]
    events = [
        {"kind": row.consent_kind, "partner": row.consent_partner_id}
        for row in rows
        if row.id is None and row.consent_kind is not None
    ]
    dwelling = [("address", case.subject_index)] if case.subject_index else []
    return {
        "subjects": persons + dwelling,
        "consulted": sorted(consulted - {case.lead_partner_id}),
        "case": {
            "id": case.id,
            "covenant": case.covenant_id,
            "phase": case.state,
            "team": sorted((team - consulted) | {case.lead_partner_id}),
            "lead": case.lead_partner_id,
            "dwelling": {"ownership": case.ownership, "corporation": case.corporation_id},
            "policeInvestigation": case.investigation_running,
            "events": events,
            "dwellingPollution": case.dwelling_pollution,
            "closed": case.closed_at is not None,
        },
        "consents": [
            {
                "kind": g.consent.kind,
                "case": case.id,
                "partner": g.consent.partner_id,
                "categories": sorted(g.categories),
                "grantedAt": g.consent.recorded_at,
                "expiresAt": g.consent.expires_at,
            }
            for g in standing
        ],
    }


@dataclass(frozen=True)
class _ConsentRow:
    """A consent as the policy-facts query reads it (columns, no ORM object)."""

    id: str
    kind: str
    partner_id: str
    granted: bool
    recorded_at: datetime
    withdrawn_at: datetime | None
    expires_at: datetime | None
