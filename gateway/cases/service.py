"""Cases: intake, the case summary, criteria, team, consents, and the policy facts.

Every function takes the request's session and plain values, never commits, and records its
audit entry in the same transaction. Personal fields are sealed through the runtime's
``Sealer`` before they reach a model; lookups go through blind indexes.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from audit import CONSENT_CHANGE
from gateway.auth.principal import Principal
from gateway.cases.access import team_ids, visible_case
from gateway.cases.deadlines import case_deadlines
from gateway.cases.errors import CaseNotFound, InvalidCaseData, NotPermitted
from gateway.cases.guards import CORPORATION_PERMISSION, OM_CONSENT, live_consents
from gateway.cases.models import (
    CaseConsent,
    CaseCriterion,
    CaseFile,
    CasePerson,
    CaseReport,
    CaseTeamMember,
    CaseTransition,
    Dwelling,
    EnforcementMeasure,
)
from gateway.cases.runtime import CaseRuntime
from gateway.cases.schemas import (
    AllowedTransitionOut,
    CaseListItem,
    CaseResult,
    CaseSummary,
    ConsentIn,
    ConsentOut,
    CriteriaRequest,
    CriterionOut,
    DeadlineOut,
    HistoryOut,
    IntakeRequest,
    IntakeResult,
    MeasureOut,
)
from gateway.cases.workflow import allowed_transitions
from gateway.crypto import case_scope
from gateway.db import utcnow

INTAKE_ROLES_EXCLUDED = frozenset({"privacy-officer"})


def _seal(
    runtime: CaseRuntime, session: Session, case_id: str, where: tuple[str, str, str], value: str
) -> bytes:
    """Seal ``value`` under the case's key scope: shredding the case's key erases it."""
    table, record_id, field = where
    return runtime.sealer.seal(
        session,
        scope=case_scope(case_id),
        table=table,
        record_id=record_id,
        field=field,
        plaintext=value,
    )


# --- intake ---------------------------------------------------------------------------------


def _check_dwelling(runtime: CaseRuntime, covenant_id: str, request: IntakeRequest) -> None:
    dwelling = request.dwelling
    if dwelling.ownership == "corporation":
        kind = runtime.partner_kind(covenant_id, dwelling.corporation_id or "")
        if kind != "housing-corporation":
            raise InvalidCaseData(
                "A corporation dwelling names its corporation's partner id (corporationId).",
                invalid_params=[
                    {
                        "name": "dwelling.corporationId",
                        "reason": "not a corporation of this covenant",
                    }
                ],
            )
    elif dwelling.corporation_id is not None:
        raise InvalidCaseData(
            "Only a corporation dwelling has a corporationId.",
            invalid_params=[{"name": "dwelling.corporationId", "reason": "not expected"}],
        )


def _known_case(
    session: Session,
    *,
    covenant_id: str,
    finals: frozenset[str],
    address_index: str,
    person_indexes: list[str],
) -> CaseFile | None:
    """R Bijlage B/C step 1: is the situation (dwelling) or a person already known?"""
    open_cases = select(CaseFile).where(
        CaseFile.covenant_id == covenant_id, CaseFile.state.not_in(finals)
    )
    by_dwelling = open_cases.join(Dwelling, Dwelling.id == CaseFile.dwelling_id).where(
        Dwelling.address_index == address_index
    )
    conditions = [CaseFile.id.in_(select(CaseFile.id).select_from(by_dwelling.subquery()))]
    if person_indexes:
        conditions.append(
            CaseFile.id.in_(
                select(CasePerson.case_id).where(CasePerson.identifier_index.in_(person_indexes))
            )
        )
    return session.scalars(
        open_cases.where(or_(*conditions)).order_by(CaseFile.opened_at).limit(1)
    ).first()


def _lead_for(runtime: CaseRuntime, covenant_id: str, principal: Principal) -> str:
    rule = runtime.workflow(covenant_id).intake
    if rule.lead == "source-partner":
        return principal.partner_id
    candidates = runtime.partners_of_kind(covenant_id, rule.lead_kind or "")
    if not candidates:
        raise InvalidCaseData(f"The covenant has no partner of kind '{rule.lead_kind}' to lead.")
    return candidates[0]


def _add_team(session: Session, case_id: str, partner_id: str, now: datetime, by: str) -> bool:
    if session.get(CaseTeamMember, (case_id, partner_id)) is not None:
        return False
    session.add(CaseTeamMember(case_id=case_id, partner_id=partner_id, added_at=now, added_by=by))
    return True


def _reference(covenant_id: str, now: datetime) -> str:
    return f"{covenant_id[:3].upper()}-{now.year}-{secrets.token_hex(3).upper()}"


def _open_case(
    session: Session,
    *,
    runtime: CaseRuntime,
    principal: Principal,
    request: IntakeRequest,
    address_index: str,
    received_at: datetime,
    now: datetime,
) -> CaseFile:
    covenant_id = principal.covenant_id
    definition = runtime.workflow(covenant_id)
    dwelling = session.scalars(
        select(Dwelling).where(
            Dwelling.covenant_id == covenant_id, Dwelling.address_index == address_index
        )
    ).one_or_none()
    if dwelling is None:
        dwelling = Dwelling(
            id=str(uuid.uuid4()),
            covenant_id=covenant_id,
            address_index=address_index,
            created_at=now,
        )
        session.add(dwelling)
    # The latest report knows the current owner and district (a dwelling can change hands).
    dwelling.ownership = request.dwelling.ownership
    dwelling.corporation_id = request.dwelling.corporation_id
    dwelling.district = request.dwelling.district
    session.flush()
    case_id = str(uuid.uuid4())
    lead = _lead_for(runtime, covenant_id, principal)
    case = CaseFile(
        id=case_id,
        reference=_reference(covenant_id, now),
        covenant_id=covenant_id,
        dwelling_id=dwelling.id,
        district=request.dwelling.district,
        address_sealed=_seal(
            runtime,
            session,
            case_id,
            ("case_file", case_id, "address"),
            request.dwelling.address.model_dump_json(by_alias=True),
        ),
        state=definition.initial_state,
        state_entered_at=now,
        opened_at=now,
        first_report_at=received_at,
        lead_partner_id=lead,
        case_manager=principal.user if principal.partner_id == lead else None,
        acute_override=False,
        both_sides_heard=False,
        investigation_running=False,
    )
    session.add(case)
    session.flush()
    seeds = {
        "lead": lead,
        "source-partner": principal.partner_id,
        "dwelling-corporation": request.dwelling.corporation_id,
    }
    for seed in definition.intake.team:
        if seeds[seed] is not None:
            _add_team(session, case_id, seeds[seed] or "", now, principal.actor)
    if (
        definition.intake.reporter_corporation_permits
        and request.dwelling.corporation_id == principal.partner_id
    ):
        # U §5.2: the corporation reporting its own dwelling commissions the case itself.
        session.add(
            CaseConsent(
                id=str(uuid.uuid4()),
                case_id=case_id,
                kind=CORPORATION_PERMISSION,
                partner_id=principal.partner_id,
                granted=True,
                scope=[],
                expires_at=None,
                recorded_at=now,
                recorded_by=principal.actor,
            )
        )
    return case


def register_report(
    session: Session,
    *,
    runtime: CaseRuntime,
    principal: Principal,
    request: IntakeRequest,
    now: datetime | None = None,
) -> IntakeResult:
    """Intake: add the report to the open dossier of a known dwelling or person, or open one."""
    now = now or utcnow()
    if principal.role in INTAKE_ROLES_EXCLUDED:
        raise NotPermitted("A privacy officer does not register reports.")
    covenant_id = principal.covenant_id
    definition = runtime.workflow(covenant_id)
    _check_dwelling(runtime, covenant_id, request)
    sealer = runtime.sealer
    address = request.dwelling.address
    # Indexes are global; every lookup below is also scoped to the caller's covenant.
    address_index = sealer.address_index(
        session,
        postcode=address.postcode,
        house_number=address.house_number,
        addition=address.house_number_addition,
    )
    person_indexes = {p.bsn: sealer.bsn_index(session, bsn=p.bsn) for p in request.persons if p.bsn}
    received_at = request.report.received_at or now
    if received_at.tzinfo is None:
        raise InvalidCaseData("receivedAt needs a time zone offset.")
    if received_at > now:
        raise InvalidCaseData("receivedAt lies in the future.")
    case = _known_case(
        session,
        covenant_id=covenant_id,
        finals=definition.final_states,
        address_index=address_index,
        person_indexes=list(person_indexes.values()),
    )
    created = case is None
    if case is None:
        case = _open_case(
            session,
            runtime=runtime,
            principal=principal,
            request=request,
            address_index=address_index,
            received_at=received_at,
            now=now,
        )
    else:
        case.first_report_at = min(case.first_report_at, received_at)
        _add_team(session, case.id, principal.partner_id, now, principal.actor)
    _add_report_and_persons(
        session,
        runtime=runtime,
        case=case,
        principal=principal,
        request=request,
        person_indexes=person_indexes,
        received_at=received_at,
        now=now,
    )
    runtime.audit.record(
        session,
        activity="case-intake",
        covenant_id=covenant_id,
        case_id=case.id,
        actor=principal,
        details={
            "created": created,
            "channel": request.report.channel,
            "persons": len(request.persons),
        },
    )
    return IntakeResult(
        case_id=case.id, reference=case.reference, created=created, state=case.state
    )


def _add_report_and_persons(
    session: Session,
    *,
    runtime: CaseRuntime,
    case: CaseFile,
    principal: Principal,
    request: IntakeRequest,
    person_indexes: dict[str, str],
    received_at: datetime,
    now: datetime,
) -> None:
    report_id = str(uuid.uuid4())
    session.add(
        CaseReport(
            id=report_id,
            case_id=case.id,
            source_partner_id=principal.partner_id,
            channel=request.report.channel,
            received_at=received_at,
            registered_at=now,
            description_sealed=_seal(
                runtime,
                session,
                case.id,
                ("case_report", report_id, "description"),
                request.report.description,
            ),
        )
    )
    known = set(
        session.scalars(select(CasePerson.identifier_index).where(CasePerson.case_id == case.id))
    )
    for person in request.persons:
        index = person_indexes.get(person.bsn) if person.bsn else None
        if index is not None and index in known:
            continue
        person_id = str(uuid.uuid4())
        session.add(
            CasePerson(
                id=person_id,
                case_id=case.id,
                role=person.role,
                identifier_index=index,
                identifier_sealed=_seal(
                    runtime, session, case.id, ("case_person", person_id, "bsn"), person.bsn
                )
                if person.bsn
                else None,
                name_sealed=_seal(
                    runtime, session, case.id, ("case_person", person_id, "name"), person.name
                )
                if person.name
                else None,
            )
        )
        if index is not None:
            known.add(index)


# --- reading --------------------------------------------------------------------------------


def list_cases(
    session: Session, *, principal: Principal, include_closed: bool = True
) -> list[CaseListItem]:
    """The caller's partner's cases: those it leads or is in the team of."""
    member = select(CaseTeamMember.case_id).where(CaseTeamMember.partner_id == principal.partner_id)
    statement = select(CaseFile).where(
        CaseFile.covenant_id == principal.covenant_id,
        or_(CaseFile.lead_partner_id == principal.partner_id, CaseFile.id.in_(member)),
    )
    if not include_closed:
        statement = statement.where(CaseFile.closed_at.is_(None))
    return [_list_item(c) for c in session.scalars(statement.order_by(CaseFile.opened_at))]


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


def _consent_out(consent: CaseConsent, now: datetime) -> ConsentOut:
    live = bool(live_consents([consent], consent.kind, now)) and consent.granted
    return ConsentOut(
        id=consent.id,
        kind=consent.kind,
        partner_id=consent.partner_id,
        granted=consent.granted,
        scope=consent.scope,
        expires_at=consent.expires_at,
        recorded_at=consent.recorded_at,
        withdrawn_at=consent.withdrawn_at,
        live=live,
    )


def case_summary(
    session: Session,
    *,
    runtime: CaseRuntime,
    case_id: str,
    principal: Principal,
    now: datetime | None = None,
) -> CaseSummary:
    """The case without personal data: states, dates, partners, counts and deadlines."""
    now = now or utcnow()
    case, team = visible_case(session, case_id=case_id, principal=principal)
    definition = runtime.workflow(case.covenant_id)
    dwelling = session.get_one(Dwelling, case.dwelling_id)

    def rows(model: Any, order: Any = None) -> list[Any]:
        statement = select(model).where(model.case_id == case.id)
        return list(session.scalars(statement.order_by(order) if order is not None else statement))

    consents = rows(CaseConsent, CaseConsent.recorded_at)
    roles = Counter(p.role for p in rows(CasePerson))
    running = case_deadlines(
        definition=definition,
        calendar=runtime.calendar(case.covenant_id),
        case=case,
        dwelling=dwelling,
        consents=consents,
        now=now,
    )
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
        ownership=dwelling.ownership,
        corporation_id=dwelling.corporation_id,
        case_manager=case.case_manager,
        complexity=case.complexity,
        report_count=len(rows(CaseReport)),
        person_roles=dict(roles),
        team=sorted(team | {case.lead_partner_id}),
        consents=[_consent_out(c, now) for c in consents],
        criteria=[
            CriterionOut(
                criterion=c.criterion, holds=c.holds, has_evidence=c.evidence_sealed is not None
            )
            for c in rows(CaseCriterion, CaseCriterion.criterion)
        ],
        acute_override=case.acute_override,
        investigation_running=case.investigation_running,
        oggz_target_group=case.oggz_target_group,
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
        deadlines=[deadline_out(case, d) for d in running],
        allowed_transitions=[
            AllowedTransitionOut(id=t.id, to=t.to, description=t.description)
            for t in allowed_transitions(definition, case, principal, team)
        ],
    )


# --- criteria, team, consents, investigation --------------------------------------------------


def _require_lead(case: CaseFile, principal: Principal, what: str) -> None:
    if principal.partner_id != case.lead_partner_id or principal.role in INTAKE_ROLES_EXCLUDED:
        raise NotPermitted(f"Only the partner holding the lead (regie) {what}.")


def record_criteria(
    session: Session,
    *,
    runtime: CaseRuntime,
    case_id: str,
    principal: Principal,
    request: CriteriaRequest,
    now: datetime | None = None,
) -> CaseSummary:
    """U §2: record which criteria hold, with the reporter's evidence, or an acute override."""
    now = now or utcnow()
    case, _ = visible_case(session, case_id=case_id, principal=principal)
    _require_lead(case, principal, "tests a report against the criteria")
    rules = runtime.workflow(case.covenant_id).classification
    if rules is None:
        raise InvalidCaseData("This covenant has no criteria to record.")
    known = {c.id for c in rules.criteria}
    unknown = [c.criterion for c in request.criteria if c.criterion not in known]
    if unknown:
        raise InvalidCaseData(
            f"Unknown criteria: {', '.join(unknown)}; known: {', '.join(sorted(known))}."
        )
    definition = runtime.workflow(case.covenant_id)
    testing = {
        state
        for t in definition.transitions
        if any(g.name == "criteria-met" for g in t.guards)
        for state in t.from_states
    }
    if case.state not in testing:
        raise InvalidCaseData("Criteria are recorded while the report is being tested.")
    for item in request.criteria:
        row = session.get(CaseCriterion, (case.id, item.criterion))
        if row is None:
            row = CaseCriterion(case_id=case.id, criterion=item.criterion)
            session.add(row)
        row.holds = item.holds
        row.evidence_sealed = (
            _seal(
                runtime,
                session,
                case.id,
                ("case_criterion", f"{case.id}:{item.criterion}", "evidence"),
                item.evidence,
            )
            if item.evidence
            else None
        )
        row.recorded_at = now
        row.recorded_by = principal.actor
    if request.acute_override_reason is not None:
        if not rules.acute_override:
            raise InvalidCaseData("This covenant allows no acute override.")
        case.acute_override = True
        case.acute_reason_sealed = _seal(
            runtime,
            session,
            case.id,
            ("case_file", case.id, "acute_reason"),
            request.acute_override_reason,
        )
    session.flush()
    runtime.audit.record(
        session,
        activity="case-criteria",
        covenant_id=case.covenant_id,
        case_id=case.id,
        actor=principal,
        details={
            "criteriaHolding": sum(1 for c in request.criteria if c.holds),
            "acuteOverride": request.acute_override_reason is not None,
        },
    )
    return case_summary(session, runtime=runtime, case_id=case.id, principal=principal, now=now)


def change_team(
    session: Session,
    *,
    runtime: CaseRuntime,
    case_id: str,
    principal: Principal,
    partner_id: str,
    add: bool,
    now: datetime | None = None,
) -> list[str]:
    """The lead decides who is involved: the need-to-know set the policy uses."""
    now = now or utcnow()
    case, _ = visible_case(session, case_id=case_id, principal=principal, for_update=True)
    _require_lead(case, principal, "changes the case team")
    if runtime.partner_kind(case.covenant_id, partner_id) is None:
        raise InvalidCaseData(f"'{partner_id}' is not a partner of this covenant.")
    if add:
        changed = _add_team(session, case.id, partner_id, now, principal.actor)
    else:
        if partner_id == case.lead_partner_id:
            raise InvalidCaseData("The lead partner cannot leave the team.")
        member = session.get(CaseTeamMember, (case.id, partner_id))
        changed = member is not None
        if member is not None:
            session.delete(member)
    session.flush()
    if changed:
        runtime.audit.record(
            session,
            activity="case-team-change",
            covenant_id=case.covenant_id,
            case_id=case.id,
            actor=principal,
            details={"partner": partner_id, "added": add},
        )
    return sorted(team_ids(session, case.id) | {case.lead_partner_id})


def record_consent(
    session: Session,
    *,
    runtime: CaseRuntime,
    case_id: str,
    principal: Principal,
    request: ConsentIn,
    now: datetime | None = None,
) -> ConsentOut:
    """The corporation's permission (by the dwelling's corporation, U §5.1-5.2) or the OM's
    consent (registered by the police, with scope and expiry, U §5.3)."""
    now = now or utcnow()
    case, _ = visible_case(session, case_id=case_id, principal=principal, for_update=True)
    if principal.role in INTAKE_ROLES_EXCLUDED:
        raise NotPermitted("A privacy officer does not record consents.")
    if request.kind == CORPORATION_PERMISSION:
        dwelling = session.get_one(Dwelling, case.dwelling_id)
        if dwelling.ownership != "corporation" or dwelling.corporation_id != principal.partner_id:
            raise NotPermitted("Only the corporation that owns the dwelling gives its permission.")
    if request.kind == OM_CONSENT:
        if principal.partner_kind != "police":
            raise NotPermitted("The OM's consent is registered by the police.")
        if request.expires_at is None or not request.scope:
            raise InvalidCaseData("An OM consent names the categories it covers and an expiry.")
    if request.expires_at is not None and request.expires_at <= now:
        raise InvalidCaseData("expiresAt lies in the past.")
    consent = CaseConsent(
        id=str(uuid.uuid4()),
        case_id=case.id,
        kind=request.kind,
        partner_id=principal.partner_id,
        granted=request.granted,
        scope=sorted(set(request.scope)),
        expires_at=request.expires_at,
        recorded_at=now,
        recorded_by=principal.actor,
    )
    session.add(consent)
    session.flush()
    runtime.audit.record(
        session,
        activity=CONSENT_CHANGE,
        covenant_id=case.covenant_id,
        case_id=case.id,
        actor=principal,
        details={
            "consent": consent.id,
            "kind": request.kind,
            "granted": request.granted,
            "scope": json.dumps(consent.scope),
            "expiresAt": request.expires_at.isoformat() if request.expires_at else None,
        },
    )
    return _consent_out(consent, now)


def withdraw_consent(
    session: Session,
    *,
    runtime: CaseRuntime,
    case_id: str,
    consent_id: str,
    principal: Principal,
    now: datetime | None = None,
) -> ConsentOut:
    now = now or utcnow()
    case, _ = visible_case(session, case_id=case_id, principal=principal, for_update=True)
    consent = session.get(CaseConsent, consent_id)
    if consent is None or consent.case_id != case.id:
        raise CaseNotFound("No such consent on this case.")
    if consent.partner_id != principal.partner_id or principal.role in INTAKE_ROLES_EXCLUDED:
        raise NotPermitted("Only the partner that recorded a consent withdraws it.")
    if consent.withdrawn_at is None:
        consent.withdrawn_at = now
        session.flush()
        runtime.audit.record(
            session,
            activity=CONSENT_CHANGE,
            covenant_id=case.covenant_id,
            case_id=case.id,
            actor=principal,
            details={"consent": consent.id, "kind": consent.kind, "withdrawn": True},
        )
    return _consent_out(consent, now)


def set_investigation_status(
    session: Session,
    *,
    runtime: CaseRuntime,
    case_id: str,
    principal: Principal,
    running: bool,
) -> bool:
    """U §5.3: the police say whether an investigation runs (then antecedents need OM consent)."""
    case, _ = visible_case(session, case_id=case_id, principal=principal, for_update=True)
    if principal.partner_kind != "police" or principal.role in INTAKE_ROLES_EXCLUDED:
        raise NotPermitted("Only the police record whether an investigation runs.")
    if case.investigation_running != running:
        case.investigation_running = running
        session.flush()
        runtime.audit.record(
            session,
            activity="case-investigation-status",
            covenant_id=case.covenant_id,
            case_id=case.id,
            actor=principal,
            details={"running": running},
        )
    return running


# --- the policy ---------------------------------------------------------------------------------


def case_policy_facts(session: Session, case_id: str) -> dict[str, Any]:
    """The case part of every policy input, shaped like ``gateway.policy.schemas``:
    ``{"case": CaseContext, "consents": [Consent]}`` with camelCase keys. Contains no personal
    data. Only granted, not withdrawn consents are listed; expired ones stay in so the policy
    can say why it redacts ("om-consent-expired")."""
    case = session.get(CaseFile, case_id)
    if case is None:
        raise CaseNotFound("No case with this id.")
    dwelling = session.get_one(Dwelling, case.dwelling_id)
    consents = session.scalars(
        select(CaseConsent)
        .where(
            CaseConsent.case_id == case.id,
            CaseConsent.granted.is_(True),
            CaseConsent.withdrawn_at.is_(None),
        )
        .order_by(CaseConsent.recorded_at)
    )
    return {
        "case": {
            "id": case.id,
            "covenant": case.covenant_id,
            "phase": case.state,
            "team": sorted(team_ids(session, case.id) | {case.lead_partner_id}),
            "lead": case.lead_partner_id,
            "dwelling": {"ownership": dwelling.ownership, "corporation": dwelling.corporation_id},
            "policeInvestigation": case.investigation_running,
            "closed": case.closed_at is not None,
        },
        "consents": [
            {
                "kind": c.kind,
                "case": case.id,
                "partner": c.partner_id,
                "categories": list(c.scope),
                "grantedAt": c.recorded_at,
                "expiresAt": c.expires_at,
            }
            for c in consents
        ],
    }
