"""Retention endpoints: every case's retention state, dated facts, legal holds, the rules,
and a dry-run preview for privacy officers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from gateway.audit import AuditLog
from gateway.audit.reports import accountable_partner
from gateway.auth.deps import Context, CurrentPrincipal, DbSession, PrivacyOfficer
from gateway.auth.principal import Principal
from gateway.context import GatewayContext
from gateway.core.dutch_date import dutch_today
from gateway.core.errors import Forbidden
from gateway.core.json_body import StrictJsonRoute
from gateway.core.paths import CaseId
from gateway.core.schemas import Day
from gateway.retention import facts, runs, sanctions, service, zgw
from gateway.retention.casefacts import case_covenant, sync_case
from gateway.retention.errors import RetentionCaseNotFound
from gateway.retention.models import RetentionCase, RetentionHold
from gateway.retention.rules import Period, RetentionRules
from gateway.retention.schemas import (
    BrondatumArchiefprocedureOut,
    DryRunOut,
    DueItemOut,
    FactIn,
    LegalHoldIn,
    LegalHoldOut,
    RecordStateOut,
    RecordStatesOut,
    RetentionStateOut,
    RuleOut,
    RulesOut,
    SweepRunOut,
    SweepRunsOut,
)
from gateway.retention.targets import discover_targets
from gateway.retention.wiring import RetentionService

router = APIRouter(tags=["retention"], route_class=StrictJsonRoute)


def get_retention(context: Context) -> RetentionService:
    return context.require_retention()


Retention = Annotated[RetentionService, Depends(get_retention)]
NOT_VISIBLE = "No case with this id is visible to your partner."


def visible_retention_case(
    session: Session, principal: Principal, case_id: str, rules: RetentionRules | None = None
) -> RetentionCase:
    """The covenant's coordinating privacy officer sees every case of its covenant (the
    state holds no personal data); everyone else, another partner's privacy officer too,
    the cases its partner leads or is in the team of, as the audit reports limit an officer
    to what its partner is accountable for (``accountable_partner``). Anything else is 404,
    the same answer as for an unknown case. Before (review2 finding 12), every officer of
    the covenant read every case's state and hold reason.

    With ``rules``, the case's state is first brought up to date from the cases domain
    (casefacts.sync_case): a case has a retention state from the moment it exists, not
    from the next sweep."""
    row = session.get(RetentionCase, case_id)
    if (
        rules is not None
        and (row is None or row.erased_at is None)
        and case_covenant(session, case_id) == principal.covenant_id
    ):
        row = sync_case(session=session, rules=rules, case_id=case_id)
    if row is None or row.covenant_id != principal.covenant_id:
        raise RetentionCaseNotFound(NOT_VISIBLE)
    if accountable_partner(principal) is None:
        return row
    from gateway.cases.access import visible_case
    from gateway.cases.errors import CaseNotFound

    # The cases domain owns the need-to-know rule (the lead and the team).
    try:
        visible_case(session, case_id=case_id, principal=principal)
    except CaseNotFound:
        raise RetentionCaseNotFound(NOT_VISIBLE) from None
    return row


def visible_new_or_known_case(
    session: Session, principal: Principal, case_id: str, rules: RetentionRules
) -> RetentionCase:
    """As ``visible_retention_case``, for a write: a case that no sweep and no page has
    looked at yet (no retention row) is registered first, so a legal hold or a fact on a
    brand-new case is recorded instead of refused with 404; a known case is used as it is."""
    known = session.get(RetentionCase, case_id) is not None
    return visible_retention_case(session, principal, case_id, None if known else rules)


def _hold_out(hold: RetentionHold | None, reader: Principal) -> LegalHoldOut | None:
    """The hold as ``reader`` may read it: its reason, setter and moment only for the
    partner that set it (``service.hold_told_to``, review5 F2); the lift, to whoever lifted
    it (the answer of its own lift, which only the setter's partner may make; a state shows
    active holds only)."""
    if hold is None:
        return None
    told = service.hold_told_to(reader, hold)
    return LegalHoldOut(
        id=hold.id,
        withheld=not told,
        reason=hold.reason if told else None,
        set_at=hold.set_at if told else None,
        set_by=hold.set_by if told else None,
        lifted_at=hold.lifted_at,
        lifted_by=hold.lifted_by,
        lift_reason=hold.lift_reason,
    )


def _state_out(state: service.RetentionState, reader: Principal) -> RetentionStateOut:
    return RetentionStateOut(
        case_id=state.case_id,
        covenant_id=state.covenant_id,
        status=state.status,
        rule_id=state.rule_id,
        source_date=state.source_date,
        due_on=state.due_on,
        reason=state.reason,
        legal_hold=_hold_out(state.hold, reader),
        erased_at=state.erased_at,
        archiefnominatie=zgw.ARCHIEFNOMINATIE,
        archiefactiedatum=state.due_on,
        archiefstatus=zgw.archiefstatus(state.status),
        brondatum_archiefprocedure=_brondatum(state),
    )


def _brondatum(state: service.RetentionState) -> BrondatumArchiefprocedureOut | None:
    if state.term is None or state.period is None:
        return None
    afleidingswijze, datumkenmerk = zgw.afleidingswijze(state.term)
    return BrondatumArchiefprocedureOut(
        afleidingswijze=afleidingswijze,
        datumkenmerk=datumkenmerk,
        einddatum_bekend=state.source_date is not None or state.source_withheld,
        procestermijn=zgw.procestermijn(state.period),
    )


@router.get(
    "/cases/{caseId}/retention",
    response_model=RetentionStateOut,
    summary="The case's retention state: rule, due date, why; or when and why it was erased",
)
def get_retention_state(
    case_id: CaseId,
    principal: CurrentPrincipal,
    session: DbSession,
    context: Context,
    retention: Retention,
) -> RetentionStateOut:
    visible_retention_case(session, principal, case_id, retention.rules)
    return _state_out(
        service.retention_state(
            session=session,
            rules=retention.rules,
            case_id=case_id,
            reader=principal,
            sanctions_withheld=_sanctions_withheld(session, context, principal, case_id),
        ),
        principal,
    )


def _sanctions_withheld(
    session: Session, context: GatewayContext, principal: Principal, case_id: str
) -> bool:
    """Whether ``principal`` could not be shown the landlord's measures in the case, so a
    rule chosen by sanctions and its dates are withheld from it: the one rule of every
    channel (gateway/retention/sanctions.py)."""
    return sanctions.sanctions_hidden_in(
        session,
        rules=context.require_retention().rules,
        runtime=context.cases,
        reader=principal,
        case_id=case_id,
    )


@router.get(
    "/cases/{caseId}/retention/records",
    response_model=RecordStatesOut,
    summary="The retention state of every record of the case's dossier",
)
def get_record_states(
    case_id: CaseId,
    principal: CurrentPrincipal,
    session: DbSession,
    context: Context,
    retention: Retention,
) -> RecordStatesOut:
    visible_retention_case(session, principal, case_id, retention.rules)
    readers, row_readers = _record_readers(session, context, principal, case_id)
    listed = service.record_states(
        session=session,
        rules=retention.rules,
        case_id=case_id,
        readers=readers,
        row_readers=row_readers,
        reader=principal,
        sanctions_withheld=_sanctions_withheld(session, context, principal, case_id),
    )
    return RecordStatesOut(
        case_id=case_id,
        status=listed.state.status,
        records=[
            RecordStateOut(
                kind=r.kind,
                id=r.record_id,
                status=r.status,
                rule_id=r.rule_id,
                due_on=r.due_on,
                reason=r.reason,
                erased_values=r.erased_values,
            )
            for r in listed.records
        ],
        truncated=listed.truncated,
        withheld=listed.withheld,
    )


def _record_readers(
    session: Session, context: GatewayContext, principal: Principal, case_id: str
) -> tuple[frozenset[str], dict[str, ColumnElement[bool]]]:
    """What ``principal`` may learn of the case's records (targets.RECORD_READERS): the
    case summary's reader rules decide per table (gateway/cases/summary_readers.py), so the
    records list shows no one the lead's assessment or the investigation the summary
    withholds; a stored fact's record is listed to the readers of the fact, by the
    covenant's clauses (gateway/exchange/fact_readers.py, review3 finding 10)."""
    from gateway.cases.models import CaseFile
    from gateway.cases.service import case_policy_facts
    from gateway.cases.summary_readers import summary_reader
    from gateway.exchange.fact_readers import readable_facts
    from gateway.policy.schemas import CaseContext

    case = session.get(CaseFile, case_id)
    if case is None:  # a register row without its case: nothing to go by
        return frozenset(), {}
    reader = summary_reader(context.cases, case, principal)
    policy_case = CaseContext.model_validate(case_policy_facts(session, case_id)["case"])
    facts = readable_facts(context.covenants.get(case.covenant_id), policy_case, principal)
    readers = frozenset(
        {"case"}
        | ({"assessment"} if reader.assessment else set())
        | ({"investigation"} if reader.investigation else set())
    )
    return readers, {"fact": facts}


@router.post(
    "/cases/{caseId}/retention/facts",
    response_model=RetentionStateOut,
    status_code=201,
    summary="Record a dated fact the rules use (e.g. the resident moved out); audited",
)
def post_retention_fact(
    case_id: CaseId,
    body: FactIn,
    principal: CurrentPrincipal,
    session: DbSession,
    context: Context,
    retention: Retention,
) -> RetentionStateOut:
    if not principal.grant.records_facts:
        raise Forbidden(
            f"The role {principal.role!r} does not record retention facts "
            "(recordsFacts in the covenant file)."
        )
    visible_new_or_known_case(session, principal, case_id, retention.rules)
    facts.record_partner_fact(
        session=session,
        rules=retention.rules,
        audit=context.audit,
        case_id=case_id,
        kind=body.kind,
        occurred_on=body.occurred_on,
        detail=body.detail,
        actor=context.audit.actor(principal),
        recorded_by=principal.actor,
        partner_id=principal.partner_id,
        runtime=context.cases,
    )
    return _state_out(
        service.retention_state(
            session=session,
            rules=retention.rules,
            case_id=case_id,
            reader=principal,
            sanctions_withheld=_sanctions_withheld(session, context, principal, case_id),
        ),
        principal,
    )


def _legal_hold_audit(
    session: Session, context: GatewayContext, principal: Principal, case_id: str, *, verb: str
) -> AuditLog:
    """Who may set or lift a legal hold on this case; the audit log that records it."""
    if not principal.grant.legal_hold:
        raise Forbidden(
            f"A legal hold is {verb} by a role the covenant gives it (legalHold); "
            f"{principal.role!r} has not."
        )
    visible_new_or_known_case(session, principal, case_id, context.require_retention().rules)
    _holds_for_this_case(session, principal, case_id, verb=verb)
    return context.audit


def _holds_for_this_case(
    session: Session, principal: Principal, case_id: str, *, verb: str
) -> None:
    """A legalHold role acts on the cases its partner answers for: a casework role (the case
    manager) on the cases its partner leads, an audit role (the privacy officer) on those its
    partner leads or is in the team of. Review F9: any partner's privacy officer could lift
    the hold the lead set for a court procedure, on a case its partner has no part in, and
    the next sweep erased the dossier. Of the partners outside the case, only the
    covenant's coordinating privacy officer reads its state (``visible_retention_case``)
    and so gets this 403; any other gets the 404 of an unknown case before it. A hold is
    then lifted only by the partner that set it (``service.lift_legal_hold``)."""
    from gateway.cases.access import visible_case
    from gateway.cases.errors import CaseNotFound

    refusal = Forbidden(
        f"A legal hold on this case is {verb} by its lead or by the privacy officer of a "
        "partner in its team."
    )
    try:
        case, team = visible_case(session, case_id=case_id, principal=principal)
    except CaseNotFound:
        raise refusal from None
    if principal.partner_id == case.lead_partner_id:
        return
    if principal.grant.audits and principal.partner_id in team:
        return
    raise refusal


@router.post(
    "/cases/{caseId}/retention/legal-hold",
    response_model=LegalHoldOut,
    status_code=201,
    summary="Suspend redaction (legal hold) with a reason; audited",
)
def post_legal_hold(
    case_id: CaseId,
    body: LegalHoldIn,
    principal: CurrentPrincipal,
    session: DbSession,
    context: Context,
) -> LegalHoldOut:
    log = _legal_hold_audit(session, context, principal, case_id, verb="set")
    hold = service.set_legal_hold(
        session=session,
        audit=log,
        case_id=case_id,
        reason=body.reason,
        actor=log.actor(principal),
        set_by=principal.actor,
    )
    return _hold_out(hold, principal)  # type: ignore[return-value]


@router.post(
    "/cases/{caseId}/retention/legal-hold/lift",
    response_model=LegalHoldOut,
    summary="Lift the legal hold with a reason (only the partner that set it); audited",
)
def lift_legal_hold(
    case_id: CaseId,
    body: LegalHoldIn,
    principal: CurrentPrincipal,
    session: DbSession,
    context: Context,
) -> LegalHoldOut:
    # Who may act on the case (as for setting one); the service then refuses a hold another
    # partner set (403, LegalHoldNotOurs), under the case's row lock.
    log = _legal_hold_audit(session, context, principal, case_id, verb="lifted")
    hold = service.lift_legal_hold(
        session=session,
        audit=log,
        case_id=case_id,
        reason=body.reason,
        actor=log.actor(principal),
        lifted_by=principal.actor,
    )
    return _hold_out(hold, principal)  # type: ignore[return-value]


@router.get("/retention/rules", response_model=RulesOut, summary="Your covenant's retention rules")
def get_retention_rules(principal: CurrentPrincipal, retention: Retention) -> RulesOut:
    policy = retention.rules.policy(principal.covenant_id)
    rules = policy.rules if policy else []

    def period(value: Any) -> str:
        text = retention.rules.period(value).text()
        return text if isinstance(value, Period) else f"{value} ({text})"

    shown = [
        RuleOut(
            id=rule.id,
            description=rule.description,
            source=rule.source,
            restarted_by=list(rule.restarted_by),
            terms=[
                f"{t.source_date}{':' + t.name if t.name else ''} + {period(t.period)}"
                for t in rule.terms
            ],
        )
        for rule in rules
    ]
    if policy is not None and policy.open_cases is not None:
        open_rule = policy.open_cases
        shown.append(
            RuleOut(
                id=open_rule.id,
                description=open_rule.description,
                source=open_rule.source,
                restarted_by=[],
                terms=[
                    f"last-activity + {period(open_rule.period)} (open cases; the lead is "
                    f"warned {open_rule.warn_before.text()} before)"
                ],
            )
        )
    return RulesOut(
        covenant_id=principal.covenant_id, revision=retention.rules.revision, rules=shown
    )


@router.get(
    "/retention/due",
    response_model=DryRunOut,
    summary="Dry run: what the next sweep would erase in your covenant (changes nothing)",
)
def get_retention_due(
    principal: PrivacyOfficer,
    session: DbSession,
    context: Context,
    retention: Retention,
    as_of: Annotated[Day | None, Query(alias="asOf")] = None,
) -> DryRunOut:
    """The cases of the officer's covenant; for another partner's officer than the
    coordinating one, those its partner leads or is in the team of (as the state)."""
    report = retention.sweep(dry_run=True, as_of=as_of, started_by=principal.actor)
    covenant_id = principal.covenant_id
    mine = [item for item in report.items if item.covenant_id == covenant_id]
    held = [case_id for case_id, covenant in report.held if covenant == covenant_id]
    shown = service.cases_in_view(
        session, principal=principal, case_ids={i.case_id for i in mine} | set(held)
    )
    mine = [item for item in mine if item.case_id in shown]
    # A rule chosen by sanctions the officer could not be shown the landlord's measures of:
    # neither the rule nor the due date (the case's own state's rule; review10 F1, review11
    # N1). A due date that is the resident's move-out day, to an officer not told of the
    # move (review5b p5b; service.shown_verdict): no due date. Nor is either listed by a dry
    # run as of another day than today: being listed as of a day says it is due by then,
    # and a few asOf days would find the last sanction's day or the day of the move. Due
    # today, it is listed as the case's own state says "due". An open case's rule (everyone's)
    # to such an officer: the rule, not the due date, which is its last activity's, and that
    # can be a landlord's measure (residual (b)); listed as of today only, as a move.
    views = sanctions.withheld_from(
        session,
        rules=None if context.retention is None else context.retention.rules,
        runtime=context.cases,
        reader=principal,
        verdicts={i.case_id: (i.covenant_id, i.rule_id) for i in mine},
    )
    withheld, undated = views.rules, views.rules | views.dates
    today = dutch_today()
    if report.as_of != today:
        hidden = undated | service.moves_withheld(
            session, principal, [i.case_id for i in mine], moved=report.moved_out
        )
        mine = [i for i in mine if i.case_id not in hidden]
    mine = [i for i in mine if i.case_id not in undated or i.due_on <= today]
    # A count per table tells what the records list would (``record_readers``, targets.py):
    # how many criteria the lead recorded, that a fact was stored. An officer (an audit
    # role) is shown neither the lead's assessment nor the investigation, and reads no
    # stored fact, so it gets the counts of the tables every reader of the case may learn
    # of (review3 finding 10; the CLI's dry run, the operator's, counts every table).
    counted = {t.name for t in discover_targets(session.connection()) if t.readers == "case"}
    moves = service.moves_withheld(
        session, principal, [i.case_id for i in mine[:1000]], moved=report.moved_out
    )
    return DryRunOut(
        as_of=report.as_of,
        due=len(mine),
        on_hold=sum(1 for case_id in held if case_id in shown),
        items=[
            DueItemOut(
                case_id=i.case_id,
                rule_id=None if i.case_id in withheld else i.rule_id,
                due_on=None if i.case_id in moves or i.case_id in undated else i.due_on,
                key_scope=i.key_scope,
                values={table: n for table, n in i.values.items() if table in counted},
            )
            for i in mine[:1000]
        ],
    )


@router.get(
    "/retention/sweeps",
    response_model=SweepRunsOut,
    summary="The latest retention sweeps: finished, failed, or interrupted (privacy officer)",
)
def get_retention_sweeps(
    principal: PrivacyOfficer, session: DbSession, context: Context
) -> SweepRunsOut:
    """Sweeps run over every covenant: their times, status and ``failing`` are the same for
    every officer, but ``erased`` counts the officer's own covenant's cases only, for
    another partner's officer than the coordinating one the cases its partner leads or is
    in the team of (review5 F4: the run's total told Utrecht's officer how many Rijswijk
    cases went), and only the cases whose erasure's day the officer is told (the run's
    moment is that day; the case's state and 410 withhold it where its rule or its dates
    tell of the landlord's measures the officer could not be shown; runs.erased_in_view).
    A run that erased none the officer is told of is listed with ``erased`` 0: its moment
    and status are every officer's. Answered while the rules are not loaded too (no sweep
    runs then, and the runs before are still shown): a case whose rule may tell of
    sanctions is then counted for no one (fail closed, sanctions.sanctions_hidden)."""
    latest = runs.recent_runs(session)
    failed = runs.failures_in_a_row(latest)
    erased = runs.erased_in_view(
        session,
        run_ids=[r.run_id for r in latest],
        reader=principal,
        rules=None if context.retention is None else context.retention.rules,
        runtime=context.cases,
    )
    return SweepRunsOut(
        failing=failed >= runs.FAILING_AFTER,
        failures_in_a_row=failed,
        runs=[
            SweepRunOut(
                run_id=r.run_id,
                started_at=r.started_at,
                finished_at=r.finished_at,
                as_of=r.as_of,
                status=r.status,
                erased=erased.get(r.run_id, 0),
            )
            for r in latest
        ],
    )
