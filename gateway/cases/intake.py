"""Intake (R Bijlage B/C step 1, U §5.1, §6): a report about a known dwelling or person
joins that open dossier; otherwise a case is opened with its lead and team. Personal fields
are sealed under the case's key scope before they reach a model; lookups use blind indexes."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from gateway.auth.principal import Principal
from gateway.cases.consents import CORPORATION_PERMISSION
from gateway.cases.districts import partner_cases
from gateway.cases.errors import InvalidCaseData, NotPermitted
from gateway.cases.held_persons import attach_held_persons
from gateway.cases.live import not_erased
from gateway.cases.models import (
    CaseConsent,
    CaseFile,
    CasePerson,
    CaseReport,
    CaseReportPerson,
    CaseTeamMember,
    Dwelling,
)
from gateway.cases.notices import notify
from gateway.cases.runtime import CaseRuntime
from gateway.cases.schemas import (
    IntakeRequest,
    IntakeResult,
)
from gateway.cases.seams import AuditValue
from gateway.core.dutch_date import dutch_date
from gateway.crypto import case_scope
from gateway.db import utcnow

#: The notice subject for the first point of contact a report was routed to (R §2.3).
FIRST_CONTACT_NOTICE = "intake:first-contact"


def seal_for_case(
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
    check_landlord(
        runtime,
        covenant_id,
        dwelling.ownership,
        dwelling.corporation_id,
        field="dwelling.corporationId",
    )


def check_landlord(
    runtime: CaseRuntime,
    covenant_id: str,
    ownership: str,
    corporation_id: str | None,
    *,
    field: str,
) -> None:
    """A corporation dwelling names a corporation of the covenant; another names none."""
    if ownership == "corporation":
        kind = runtime.partner_kind(covenant_id, corporation_id or "")
        if kind != "housing-corporation":
            raise InvalidCaseData(
                "A corporation dwelling names its corporation's partner id (corporationId).",
                invalid_params=[{"name": field, "reason": "not a corporation of this covenant"}],
            )
    elif corporation_id is not None:
        raise InvalidCaseData(
            "Only a corporation dwelling has a corporationId.",
            invalid_params=[{"name": field, "reason": "not expected"}],
        )


def _known_case(
    session: Session,
    *,
    covenant_id: str,
    reporter: str,
    finals: frozenset[str],
    address_index: str,
    person_indexes: list[str],
    live: ColumnElement[bool],
) -> CaseFile | None:
    """R Bijlage B/C step 1: is the situation (dwelling) or a person already known?

    The dwelling decides first (the nuisance is tied to it); a known person second, and only
    in a case the ``reporter`` leads or is in the team of. Review3 finding 4: matched across
    addresses, a report naming a person of another team's case answered 202 where any new
    address answers 201, so any partner could test whether a BSN is in an open case. The
    dwelling match stays for every reporter: one dossier per dwelling is the scheme's own
    (R Bijlage B/C "Is situatie/melder bekend?"), and what it tells an outsider is the
    accepted residual (docs/cases.md). Of several open cases the oldest holds the dossier.
    ``live``: not erased under retention."""
    open_cases = (
        select(CaseFile)
        .where(CaseFile.covenant_id == covenant_id, CaseFile.state.not_in(finals), live)
        .order_by(CaseFile.opened_at)
        .limit(1)
    )
    at_dwelling = session.scalars(open_cases.where(CaseFile.address_index == address_index)).first()
    if at_dwelling is not None or not person_indexes:
        return at_dwelling
    known_person = select(CasePerson.case_id).where(CasePerson.identifier_index.in_(person_indexes))
    return session.scalars(
        open_cases.where(CaseFile.id.in_(known_person), partner_cases(reporter))
    ).first()


def _dossier_to_join(
    session: Session,
    *,
    runtime: CaseRuntime,
    covenant_id: str,
    reporter: str,
    finals: frozenset[str],
    address_index: str,
    person_indexes: list[str],
) -> CaseFile | None:
    """The known open case the report joins, held for the write as every write to a case
    is (access.writable_case: locked against its erasure), or None. An open case that
    retention erased (no activity for the covenant's period, docs/retention.md) is gone:
    the report passes it over (``live.not_erased``), to another known case or a new one,
    instead of joining a dossier whose key is shredded (which would refuse the report, now
    and ever after). A case the sweep erases while this looks is seen by the guard, which
    waits for the sweep: the look is repeated, and then passes that case over too."""
    refused: set[str] = set()
    while True:
        case = _known_case(
            session,
            covenant_id=covenant_id,
            reporter=reporter,
            finals=finals,
            address_index=address_index,
            person_indexes=person_indexes,
            live=not_erased(CaseFile.id),
        )
        if case is None or runtime.guard_write is None:
            return case
        refusal = runtime.guard_write(session, case_id=case.id)
        if refusal is None:
            return case
        if case.id in refused:
            raise refusal  # the look does not see what the guard saw: never loop on it
        refused.add(case.id)


def _lead_for(runtime: CaseRuntime, covenant_id: str, principal: Principal, ownership: str) -> str:
    """Who leads the case a report opens.

    R §2.3: "Bij koop- of particuliere woningen is de gemeente het eerste aanspreekpunt":
    the workflow's ``intake.firstContact`` names, per such tenure, the partner kind that
    leads whoever received the report (the first listed partner of that kind, as every
    lead move does, R §3.2.3). A rented corporation dwelling keeps the ``lead`` rule and
    waits for its landlord (guard ``landlord-first``). A tenure the map does not know is
    refused rather than given to whoever filed it (unknown is not no)."""
    rule = runtime.workflow(covenant_id).intake
    if rule.first_contact:
        kind = rule.first_contact_kind(ownership)
        if kind is None and ownership != "corporation":
            raise InvalidCaseData(
                "The dwelling's tenure is not recorded: who is its first point of contact "
                "cannot be told.",
                invalid_params=[{"name": "dwelling.ownership", "reason": "unknown tenure"}],
            )
        if kind is not None:
            first = runtime.partners_of_kind(covenant_id, kind)
            if not first:
                raise InvalidCaseData(f"The covenant has no partner of kind '{kind}' to lead.")
            return first[0]
    if rule.lead == "source-partner":
        return principal.partner_id
    candidates = runtime.partners_of_kind(covenant_id, rule.lead_kind or "")
    if not candidates:
        raise InvalidCaseData(f"The covenant has no partner of kind '{rule.lead_kind}' to lead.")
    return candidates[0]


def add_team_member(
    session: Session,
    case: CaseFile,
    partner_id: str,
    now: datetime,
    by: str,
    *,
    consulted: bool = False,
) -> bool:
    """Add ``partner_id`` to the case team (the lead's decision); the persons its undecided
    reports named join the case with it (review3 finding 6). ``consulted``: only to be asked
    (U §5.6), not yet involved (gateway/cases/changes.change_team)."""
    if session.get(CaseTeamMember, (case.id, partner_id)) is not None:
        return False
    session.add(CaseTeamMember.of(case, partner_id, now=now, by=by, consulted=consulted))
    attach_held_persons(session, case, partner_id)
    return True


def _reference(covenant_id: str, now: datetime) -> str:
    # The year in the Netherlands: a case opened at 00:30 on New Year's Day there is the new
    # year's, though the UTC year is still the old one.
    year = dutch_date(now).year
    return f"{covenant_id[:3].upper()}-{year}-{secrets.token_hex(3).upper()}"


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
    # The dwelling as this case's first report describes it (a dwelling can change hands),
    # one per case: a dwelling shared with an earlier case would lead from this case's
    # address index to that case after its erasure (review2 finding 7).
    dwelling = Dwelling(
        id=str(uuid.uuid4()),
        covenant_id=covenant_id,
        ownership=request.dwelling.ownership,
        corporation_id=request.dwelling.corporation_id,
        district=request.dwelling.district,
        created_at=now,
    )
    session.add(dwelling)
    session.flush()
    case_id = str(uuid.uuid4())
    lead = _lead_for(runtime, covenant_id, principal, request.dwelling.ownership)
    case = CaseFile(
        id=case_id,
        reference=_reference(covenant_id, now),
        covenant_id=covenant_id,
        dwelling_id=dwelling.id,
        district=request.dwelling.district,
        address_index=address_index,
        address_sealed=seal_for_case(
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
        investigation_running=None,  # only the police record it (U §5.3)
    )
    session.add(case)
    session.flush()
    seeds = {
        "lead": lead,
        "source-partner": principal.partner_id,
        "dwelling-corporation": request.dwelling.corporation_id,
    }
    # A new case has no team yet: add each seeded partner once, without a lookup per member.
    members = {seeds[seed] for seed in definition.intake.team} - {None}
    session.add_all(
        CaseTeamMember.of(case, partner_id, now=now, by=principal.actor)
        for partner_id in sorted(m for m in members if m is not None)
    )
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
    if principal.grant.audits:
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
    case = _dossier_to_join(
        session,
        runtime=runtime,
        covenant_id=covenant_id,
        reporter=principal.partner_id,
        finals=definition.final_states,
        address_index=address_index,
        person_indexes=list(person_indexes.values()),
    )
    created = case is None
    # Outside the team (U §6: the lead decides who is involved) the report joins the dossier,
    # but neither its reporter nor the persons it names join the case (review3 finding 6).
    outsider = case is not None and not _in_team(session, case, principal.partner_id)
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
        # The report joins the dossier (R Bijlage B/C), its reporter does not join the team:
        # the lead decides that (U §6; gateway/cases/reports.py).
        case.first_report_at = min(case.first_report_at, received_at)
    report_id = _add_report_and_persons(
        session,
        runtime=runtime,
        case=case,
        principal=principal,
        request=request,
        person_indexes=person_indexes,
        received_at=received_at,
        now=now,
        held=outsider,
    )
    if created and runtime.register_retention is not None:
        # Issue 16: the case's retention state (rule, due date or why none yet) exists from
        # the moment the case exists, in the same transaction.
        session.flush()
        runtime.register_retention(session, case_id=case.id)
    details: dict[str, AuditValue] = {
        "created": created,
        "channel": request.report.channel,
        "persons": len(request.persons),
    }
    first_contact = definition.intake.first_contact_kind(request.dwelling.ownership)
    if created and first_contact is not None and case.lead_partner_id != principal.partner_id:
        # R §2.3: the report came in elsewhere; the first point of contact leads and is told
        # (its inbox and the case page), as the hand-over to the corporation tells it.
        told = notify(
            session,
            runtime=runtime,
            case=case,
            kinds=[first_contact],
            subject=FIRST_CONTACT_NOTICE,
            about_id=report_id,
            by=principal,
            now=now,
        )
        details["lead"] = case.lead_partner_id
        if told:
            details["informed"] = ",".join(sorted({n.partner_id for n in told}))
    runtime.record_case_event(
        session,
        case,
        activity="case-intake",
        actor=principal,
        details=details,
        # Review3 finding 5: the outsider's own entry (its privacy officer reads it) is about
        # what the report named, not about every person of a case it cannot see.
        subjects=_report_subjects(address_index, person_indexes) if outsider else None,
    )
    if outsider:
        # Outside the team the case does not exist for the reporter: no id, no state.
        return IntakeResult(
            case_id=None,
            reference=None,
            created=False,
            state=None,
            report_id=report_id,
            awaiting_lead=True,
        )
    return IntakeResult(
        case_id=case.id,
        reference=case.reference,
        created=created,
        state=case.state,
        report_id=report_id,
    )


def case_of_result(session: Session, result: IntakeResult) -> str | None:
    """The case an intake answer is about, for its idempotency record
    (gateway/core/idempotency.py): the one it names, or for a report that waits for the lead
    (no case named to its reporter) the dossier it joined, by its report (review7b finding 2:
    "created: false, awaitingLead: true" says a dossier exists for the address or person, and
    without its case the record outlived the dossier's erasure and replayed that answer)."""
    if result.case_id is not None:
        return result.case_id
    return session.scalar(select(CaseReport.case_id).where(CaseReport.id == result.report_id))


def _report_subjects(address_index: str, person_indexes: dict[str, str]) -> list[tuple[str, str]]:
    """Who a report is about, as an audit entry names them: its dwelling and its persons."""
    return [("address", address_index)] + [("bsn", index) for index in person_indexes.values()]


def _in_team(session: Session, case: CaseFile, partner_id: str) -> bool:
    member = session.get(CaseTeamMember, (case.id, partner_id))
    return partner_id == case.lead_partner_id or member is not None


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
    held: bool,
) -> str:
    """Add the report and the persons it names that the dossier does not know yet; its id.
    ``held``: the reporter is outside the team, and the persons wait with the report for the
    lead's decision (``case_report_person``, gateway/cases/reports.py) instead of joining."""
    report_id = str(uuid.uuid4())
    session.add(
        CaseReport(
            id=report_id,
            case_id=case.id,
            source_partner_id=principal.partner_id,
            channel=request.report.channel,
            received_at=received_at,
            registered_at=now,
            description_sealed=seal_for_case(
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
        # A held person is sealed for the case_person record it becomes on the lead's
        # acceptance (same id): nothing is decrypted or sealed again when it joins.
        person_id = str(uuid.uuid4())
        fields = {
            "role": person.role,
            "identifier_index": index,
            "identifier_sealed": seal_for_case(
                runtime, session, case.id, ("case_person", person_id, "bsn"), person.bsn
            )
            if person.bsn
            else None,
            "name_sealed": seal_for_case(
                runtime, session, case.id, ("case_person", person_id, "name"), person.name
            )
            if person.name
            else None,
        }
        if held:
            session.add(
                CaseReportPerson(id=person_id, case_id=case.id, report_id=report_id, **fields)
            )
        else:
            session.add(CasePerson(id=person_id, case_id=case.id, **fields))
        if index is not None:
            known.add(index)
    return report_id
