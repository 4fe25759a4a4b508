"""What the partners record on a case outside its transitions: the criteria (U §2), the case
team (the need-to-know set), consents (corporation permission, OM consent), whether a
police investigation runs and the dwelling's landlord. Each change is audited in the caller's
transaction."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.audit import CONSENT_CHANGE, INVESTIGATION_STATUS
from gateway.auth.principal import Principal
from gateway.cases.access import team_ids, writable_case
from gateway.cases.consents import CORPORATION_PERMISSION, OM_CONSENT, SCOPED_KINDS
from gateway.cases.deadlines import case_deadlines
from gateway.cases.errors import (
    CaseClosed,
    CaseNotFound,
    InvalidCaseData,
    NotInCovenant,
    NotPermitted,
    PermissionPending,
)
from gateway.cases.intake import add_team_member, check_landlord, seal_for_case
from gateway.cases.models import (
    CaseConsent,
    CaseCriterion,
    CaseFile,
    CaseTeamMember,
    Dwelling,
)
from gateway.cases.runtime import CaseRuntime
from gateway.cases.schemas import (
    CaseSummary,
    ConsentIn,
    ConsentOut,
    CriteriaRequest,
    DwellingLandlord,
)
from gateway.cases.seams import AuditValue
from gateway.cases.service import (
    case_summary,
    consent_out,
    criteria_holding,
    standing_consent_ids,
)
from gateway.cases.summary_readers import (
    covenant_reads_investigation,
    covenant_reads_pollution,
    criminal_data_holders,
    summary_reader,
)
from gateway.db import utcnow

#: The audit activity of a corrected landlord.
LANDLORD_CHANGE = "case-landlord-change"

# --- criteria, team, consents, investigation --------------------------------------------------


def _require_open(runtime: CaseRuntime, case: CaseFile) -> None:
    if case.state in runtime.workflow(case.covenant_id).final_states:
        raise CaseClosed("The case is closed; open a new case with a new report.")


def _open_case_for_change(
    session: Session,
    runtime: CaseRuntime,
    case_id: str,
    principal: Principal,
    *,
    involved: bool = False,
) -> CaseFile:
    """The case, if visible to ``principal``, locked against concurrent changes and open;
    ``involved``: not to a member the lead only consulted (access.writable_case)."""
    case, _ = writable_case(
        session, runtime=runtime, case_id=case_id, principal=principal, involved=involved
    )
    _require_open(runtime, case)
    return case


def _require_lead(case: CaseFile, principal: Principal, what: str) -> None:
    if principal.partner_id != case.lead_partner_id or principal.grant.audits:
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
    """The lead's assessment of the report: which criteria hold (U §2), with the reporter's
    evidence, or an acute override, while the report is being tested; and whether pollution
    of the dwelling is part of the nuisance (U §5.4), in any open phase. Everything is
    checked before anything is written: a bad request changes nothing."""
    now = now or utcnow()
    case, _ = writable_case(session, runtime=runtime, case_id=case_id, principal=principal)
    _require_open(runtime, case)
    _require_lead(case, principal, "tests a report against the criteria")
    pollution = request.dwelling_pollution
    if pollution is not None and not covenant_reads_pollution(runtime, case.covenant_id):
        raise NotInCovenant(
            "No clause of this covenant depends on pollution of the dwelling: it is not recorded."
        )
    definition = runtime.workflow(case.covenant_id)
    rules = definition.classification
    assesses_criteria = bool(request.criteria) or request.acute_override_reason is not None
    if rules is None and (assesses_criteria or pollution is None):
        raise InvalidCaseData("This covenant has no criteria to record.")
    known = {c.id for c in rules.criteria} if rules is not None else set()
    unknown = [c.criterion for c in request.criteria if c.criterion not in known]
    if unknown:
        raise InvalidCaseData(
            f"Unknown criteria: {', '.join(unknown)}; known: {', '.join(sorted(known))}."
        )
    testing = {
        state
        for t in definition.transitions
        if any(g.name == "criteria-met" for g in t.guards)
        for state in t.from_states
    }
    # Pollution alone may be recorded later: it can come to light after the report was
    # tested (hearing both sides, a home visit), and the advice serves every later phase.
    if case.state not in testing and (assesses_criteria or pollution is None):
        raise InvalidCaseData("Criteria are recorded while the report is being tested.")
    if request.acute_override_reason is not None and not (rules and rules.acute_override):
        raise InvalidCaseData("This covenant allows no acute override.")
    for item in request.criteria:
        row = session.get(CaseCriterion, (case.id, item.criterion))
        if row is None:
            row = CaseCriterion(case_id=case.id, criterion=item.criterion)
            session.add(row)
        row.holds = item.holds
        row.evidence_sealed = (
            seal_for_case(
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
        case.acute_override = True
        case.acute_reason_sealed = seal_for_case(
            runtime,
            session,
            case.id,
            ("case_file", case.id, "acute_reason"),
            request.acute_override_reason,
        )
    # The log is read by privacy officers (the lead's and the coordinating one), to whom the
    # summary shows at most the minimum that holds: the exact count (six of six) would tell
    # that criterion 4, psychiatry, addiction or crime, holds (review4, finding 9). So the
    # entry says what the summary tells a reader other than the lead, for the case as it
    # now stands, and whether the acute override was invoked.
    # Whether the lead recorded pollution is logged, not what it recorded: the lead's
    # assessment (pollution or hoarding tells of the causer's condition), shown in the
    # summary to the lead only.
    if pollution is not None:
        case.dwelling_pollution = pollution
    statement = select(CaseCriterion).where(CaseCriterion.case_id == case.id)
    recorded = list(session.scalars(statement))
    details: dict[str, AuditValue] = {
        "criteriaHolding": criteria_holding(definition, recorded, lead=False),
        "acuteOverride": request.acute_override_reason is not None,
    }
    if pollution is not None:
        details["dwellingPollutionRecorded"] = True
    runtime.record_case_event(
        session, case, activity="case-criteria", actor=principal, details=details
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
    consulted: bool = False,
    now: datetime | None = None,
) -> list[str]:
    """The lead decides who is involved: the need-to-know set the policy uses.

    ``consulted``: the partner is added only to be asked (U §5.6: "Het buurtteam meldt de
    casemanager desgevraagd of een overlastveroorzaker ... bij het buurtteam bekend is"), not
    as one of "de andere partijen die bij de casus zijn betrokken" (U §6): it is listed to
    the lead and to itself only (review9a F3). Adding a consulted member again without
    ``consulted`` marks it involved; an involved member is never made consulted again (the
    whole team has read that it is in it)."""
    now = now or utcnow()
    case = _open_case_for_change(session, runtime, case_id, principal)
    _require_lead(case, principal, "changes the case team")
    if runtime.partner_kind(case.covenant_id, partner_id) is None:
        raise InvalidCaseData(f"'{partner_id}' is not a partner of this covenant.")
    if add:
        member = session.get(CaseTeamMember, (case.id, partner_id))
        if member is None:
            if consulted and partner_id == case.lead_partner_id:
                raise InvalidCaseData("The lead partner is involved in its own case.")
            _add_to_team(session, runtime, case, partner_id, principal, now, consulted=consulted)
        elif member.consulted and not consulted:
            _mark_involved(session, runtime, case, member, principal)
        elif consulted and not member.consulted:
            raise InvalidCaseData(
                f"'{partner_id}' is involved in the case and listed to its whole team; it "
                "cannot be made consulted only."
            )
    else:
        if partner_id == case.lead_partner_id:
            raise InvalidCaseData("The lead partner cannot leave the team.")
        member = session.get(CaseTeamMember, (case.id, partner_id))
        if member is not None:
            if asked_for_permission(session, runtime, case, partner_id, now):
                # U §5.1: the case manager starts "nadat de corporatie toestemming heeft
                # gegeven"; U §5.2: the corporation answers within three days. Outside the
                # team the case does not exist for it (404), so it could no longer answer
                # while the deadline stays its own and the case waits on it for good.
                raise PermissionPending(
                    f"'{partner_id}' is asked for its permission to take the case up "
                    "(U §5.1-5.2) and has not answered; it stays in the team until it does. "
                    "To stop asking, decline the case."
                )
            session.delete(member)
            session.flush()
            _team_changed(runtime, session, case, principal, partner_id, added=False)
    return sorted(team_ids(session, case.id) | {case.lead_partner_id})


def asked_for_permission(
    session: Session, runtime: CaseRuntime, case: CaseFile, partner_id: str, now: datetime
) -> bool:
    """Whether ``partner_id`` is asked now for the corporation's permission: a deadline met
    by that permission runs in the case's state, and it is the one responsible for it (the
    dwelling's corporation, as its inbox lists the request)."""
    dwelling = session.get_one(Dwelling, case.dwelling_id)
    consents = list(session.scalars(select(CaseConsent).where(CaseConsent.case_id == case.id)))
    return any(
        running.deadline.met_by_consent == CORPORATION_PERMISSION
        and running.responsible_partner_id == partner_id
        for running in case_deadlines(
            definition=runtime.workflow(case.covenant_id),
            calendar=runtime.calendar(case.covenant_id),
            case=case,
            dwelling=dwelling,
            consents=consents,
            now=now,
        )
    )


def _add_to_team(
    session: Session,
    runtime: CaseRuntime,
    case: CaseFile,
    partner_id: str,
    principal: Principal,
    now: datetime,
    *,
    consulted: bool = False,
) -> bool:
    """Add ``partner_id`` to the case team, audited; False if it was in it already."""
    added = add_team_member(session, case, partner_id, now, principal.actor, consulted=consulted)
    session.flush()
    if added:
        _team_changed(
            runtime, session, case, principal, partner_id, added=True, consulted=consulted
        )
    return added


def _mark_involved(
    session: Session,
    runtime: CaseRuntime,
    case: CaseFile,
    member: CaseTeamMember,
    principal: Principal,
) -> None:
    """A member the lead only consulted becomes involved, listed to the whole team; audited
    (review9a F3)."""
    member.consulted = False
    session.flush()
    runtime.record_case_event(
        session,
        case,
        activity="case-team-change",
        actor=principal,
        details={"partner": member.partner_id, "involved": True},
    )


def _team_changed(
    runtime: CaseRuntime,
    session: Session,
    case: CaseFile,
    principal: Principal,
    partner_id: str,
    *,
    added: bool,
    consulted: bool = False,
) -> None:
    details: dict[str, AuditValue] = {"partner": partner_id, "added": added}
    if consulted:
        details["consulted"] = True
    runtime.record_case_event(
        session, case, activity="case-team-change", actor=principal, details=details
    )


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
    # A consulted member records none (review10 F2): a consent names its partner on the case
    # page of every member the summary shows it to, and the police's OM consent says that
    # the police are one of "de andere partijen die bij de casus zijn betrokken" (U §6).
    case = _open_case_for_change(session, runtime, case_id, principal, involved=True)
    if principal.grant.audits:
        raise NotPermitted("A privacy officer does not record consents.")
    if request.kind == CORPORATION_PERMISSION:
        dwelling = session.get_one(Dwelling, case.dwelling_id)
        if dwelling.ownership != "corporation" or dwelling.corporation_id != principal.partner_id:
            raise NotPermitted("Only the corporation that owns the dwelling gives its permission.")
    if request.kind == OM_CONSENT:
        # The police: the partner kinds that hold the covenant's criminal-law data (U §5.3).
        if principal.partner_kind not in criminal_data_holders(runtime, case.covenant_id):
            raise NotPermitted("The OM's consent is registered by the police.")
        _require_investigation_clause(runtime, case, "the OM's consent")
        if request.expires_at is None or not request.scope:
            raise InvalidCaseData("An OM consent names the categories it covers and an expiry.")
    if request.kind not in SCOPED_KINDS and request.scope:
        # A whole-case answer (the corporation's permission to take the case up, U §5.1-5.2)
        # counts for every category: a scope would be stored and shown but change nothing.
        raise InvalidCaseData(f"A {request.kind} covers the whole case; it names no scope.")
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
    runtime.record_case_event(
        session,
        case,
        activity=CONSENT_CHANGE,
        actor=principal,
        details=_consent_change(consent, "recorded"),
    )
    return _consent_out(session, case, consent, now)


def _consent_change(consent: CaseConsent, change: str) -> dict[str, AuditValue]:
    """A consent change as the audit log keeps it: which consent, recorded or withdrawn; not
    its kind, answer, scope or expiry. The log is never erased and the coordinating privacy
    officer reads all of it, and an OM consent says that a police investigation runs (U §5.3,
    criminal-law information for the police and the case lead only; review2, finding 3). The
    id leads to the consent on the case for whom the summary shows it; every kind has this one
    shape, so the shape tells nothing either."""
    return {"consent": consent.id, "change": change}


def _consent_out(
    session: Session, case: CaseFile, consent: CaseConsent, now: datetime
) -> ConsentOut:
    """The consent as the case page shows it: live only while it is its party's latest answer
    (gateway/cases/consents.py)."""
    consents = list(session.scalars(select(CaseConsent).where(CaseConsent.case_id == case.id)))
    standing = standing_consent_ids(consents, session.get_one(Dwelling, case.dwelling_id))
    return consent_out(consent, now, standing=standing)


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
    # A member the lead only consulted answers the lead and does nothing of its own
    # (review10 F2, review11).
    case, _ = writable_case(
        session, runtime=runtime, case_id=case_id, principal=principal, involved=True
    )
    consent = session.get(CaseConsent, consent_id)
    # An OM consent the summary does not show this reader is as absent as any other: a 403
    # would confirm that one is on file, and with it the investigation (U §5.3).
    reader = summary_reader(runtime, case, principal)
    if consent is None or consent.case_id != case.id or not reader.consents([consent]):
        raise CaseNotFound("No such consent on this case.")
    if consent.partner_id != principal.partner_id or principal.grant.audits:
        raise NotPermitted("Only the partner that recorded a consent withdraws it.")
    if consent.withdrawn_at is None:
        _withdraw(session, runtime, case, consent, principal, now)
    session.flush()
    return _consent_out(session, case, consent, now)


def _require_investigation_clause(runtime: CaseRuntime, case: CaseFile, what: str) -> None:
    """Refuse the investigation status and the OM's consent in a covenant where no clause
    depends on a police investigation (no ``om-consent-if-investigation``: Rijswijk). Nobody
    may be told them there, so they would be criminal-law information kept for nothing; an
    OM consent, asked only "indien er een onderzoek loopt" (U §5.3), says as much as the
    status (review3, finding 2)."""
    if not covenant_reads_investigation(runtime, case.covenant_id):
        raise NotInCovenant(
            f"No clause of this covenant depends on a police investigation: {what} is not recorded."
        )


def set_investigation_status(
    session: Session,
    *,
    runtime: CaseRuntime,
    case_id: str,
    principal: Principal,
    running: bool | None,
) -> bool | None:
    """U §5.3: the police say whether an investigation runs (then antecedents need OM consent);
    None takes it back to "not recorded", which the policy treats as running (fail closed)."""
    # Police the lead only consulted take no part in the case's work (review10 F2): the
    # status decides what the involved team is told (U §5.3).
    case = _open_case_for_change(session, runtime, case_id, principal, involved=True)
    police = criminal_data_holders(runtime, case.covenant_id)
    if principal.partner_kind not in police or principal.grant.audits:
        raise NotPermitted("Only the police record whether an investigation runs.")
    _require_investigation_clause(runtime, case, "it")
    if case.investigation_running != running:
        case.investigation_running = running
        runtime.record_case_event(
            session,
            case,
            activity=INVESTIGATION_STATUS,
            actor=principal,
            # That the police changed it, not to what: the value is criminal-law information
            # for the police and the case lead (U §5.3), and the log is never erased and is
            # read by the coordinating privacy officer (review2, finding 3). It stays in the
            # case row, which the summary shows to those two.
            details={},
        )
    return running


def correct_landlord(
    session: Session,
    *,
    runtime: CaseRuntime,
    case_id: str,
    principal: Principal,
    request: DwellingLandlord,
    now: datetime | None = None,
) -> DwellingLandlord:
    """The lead corrects the dwelling's tenure and landlord, which until then are the first
    report's word: nothing in the gateway can check them (it holds no register of dwellings),
    and a corporation that names itself becomes the landlord (review3, finding 3).

    The landlord is who gives the corporation's permission (U §5.1 "toestemming aan de
    corporatie"), receives the sfeerverslag (U §5.3 "de verhuurder") and records the
    landlord's events; all of these read ``Dwelling.corporation_id``, so they follow the
    correction at once. A permission the previous corporation gave stops counting: it is
    withdrawn as its giver would withdraw it, so that it does not come back should the
    dwelling be corrected back to it. A workflow whose intake puts the dwelling's corporation
    in the team (Utrecht) gets the new landlord in the team; nobody leaves it (the lead
    removes a partner through the team endpoint)."""
    now = now or utcnow()
    case = _open_case_for_change(session, runtime, case_id, principal)
    _require_lead(case, principal, "corrects the dwelling's landlord")
    check_landlord(
        runtime,
        case.covenant_id,
        request.ownership,
        request.corporation_id,
        field="corporationId",
    )
    dwelling = session.get_one(Dwelling, case.dwelling_id)
    before = dwelling.corporation_id if dwelling.ownership == "corporation" else None
    if (dwelling.ownership, dwelling.corporation_id) == (
        request.ownership,
        request.corporation_id,
    ):
        return request
    dwelling.ownership = request.ownership
    dwelling.corporation_id = request.corporation_id
    runtime.record_case_event(
        session,
        case,
        activity=LANDLORD_CHANGE,
        actor=principal,
        # Partner ids and a tenure: no personal data.
        details={
            "ownership": request.ownership,
            "previous": before,
            "corporation": request.corporation_id,
        },
    )
    if before is not None and before != request.corporation_id:
        _withdraw_permissions(session, runtime, case, principal, before, now)
    seeds_landlord = "dwelling-corporation" in runtime.workflow(case.covenant_id).intake.team
    if request.corporation_id is not None and seeds_landlord:
        member = session.get(CaseTeamMember, (case.id, request.corporation_id))
        if member is not None and member.consulted:
            # The landlord is involved as intake puts it in the team (review9a F3).
            _mark_involved(session, runtime, case, member, principal)
        else:
            _add_to_team(session, runtime, case, request.corporation_id, principal, now)
    return request


def _withdraw_permissions(
    session: Session,
    runtime: CaseRuntime,
    case: CaseFile,
    principal: Principal,
    corporation_id: str,
    now: datetime,
) -> None:
    """Withdraw the permissions ``corporation_id`` gave on ``case`` (automatically at intake
    or by itself), each audited as a withdrawal."""
    given = session.scalars(
        select(CaseConsent)
        .where(
            CaseConsent.case_id == case.id,
            CaseConsent.kind == CORPORATION_PERMISSION,
            CaseConsent.partner_id == corporation_id,
            CaseConsent.granted.is_(True),
            CaseConsent.withdrawn_at.is_(None),
        )
        .order_by(CaseConsent.recorded_at, CaseConsent.id)
    )
    for consent in list(given):
        _withdraw(session, runtime, case, consent, principal, now)


def _withdraw(
    session: Session,
    runtime: CaseRuntime,
    case: CaseFile,
    consent: CaseConsent,
    principal: Principal,
    now: datetime,
) -> None:
    """Withdraw ``consent`` now, audited as a consent change by ``principal``."""
    consent.withdrawn_at = now
    runtime.record_case_event(
        session,
        case,
        activity=CONSENT_CHANGE,
        actor=principal,
        details=_consent_change(consent, "withdrawn"),
    )
