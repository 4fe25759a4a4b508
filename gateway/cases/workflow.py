"""The workflow engine: one function, :func:`apply_transition`, moves a case.

It checks, in this order, and stops at the first failure:

1. the transition exists in the covenant's workflow (422, naming the allowed ones);
2. it leaves the case's current state (409 ``transition-not-allowed``, naming the allowed ones);
3. the caller's partner kind, role, lead and team membership match one of its actors (403);
4. the request carries exactly the facts the transition requires (422);
5. every guard holds (409 ``guard-failed``, naming the guard and the section it encodes).

Then it records the transition in the case history (sealing any reason), applies the
enforcement instrument, lead change and facts, and writes the audit entry, all in the
caller's transaction.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from gateway.audit import WORKFLOW_TRANSITION
from gateway.auth.principal import Principal
from gateway.cases.access import writable_case
from gateway.cases.definition import (
    DWELLING_CORPORATION,
    Actor,
    Fact,
    Transition,
    WorkflowDefinition,
)
from gateway.cases.errors import (
    CaseChanged,
    GuardFailed,
    MissingFacts,
    NotPermitted,
    TransitionNotAllowed,
    UnknownTransition,
)
from gateway.cases.guards import GUARDS, GuardContext
from gateway.cases.intake import add_team_member
from gateway.cases.models import (
    CaseConsent,
    CaseCriterion,
    CaseFile,
    CaseReport,
    CaseTeamMember,
    CaseTransition,
    Dwelling,
    EnforcementMeasure,
)
from gateway.cases.notices import notify
from gateway.cases.runtime import CaseRuntime
from gateway.cases.schemas import TransitionFacts, TransitionRequest
from gateway.cases.seams import AuditValue
from gateway.crypto import case_scope
from gateway.db import utcnow

#: Request attribute of each fact a workflow file may require.
FACT_FIELDS: dict[Fact, str] = {
    "reason": "reason",
    "oggz-check": "oggz_check",
    "both-sides-heard": "both_sides_heard",
    "mediation-screening": "mediation_screening",
    "breach-established": "breach_established",
    "amount-eur": "amount_eur",
    "days": "days",
    "measure": "measure",
    "result": "result",
    "adult": "adult",
    "ground": "ground",
}


def actor_matches(actor: Actor, principal: Principal, case: CaseFile, team: set[str]) -> bool:
    if principal.partner_kind not in actor.partner_kinds or principal.role not in actor.roles:
        return False
    is_lead = principal.partner_id == case.lead_partner_id
    if actor.lead and not is_lead:
        return False
    return not (actor.team and not is_lead and principal.partner_id not in team)


def may_make(transition: Transition, principal: Principal, case: CaseFile, team: set[str]) -> bool:
    return any(actor_matches(a, principal, case, team) for a in transition.actors)


def allowed_transitions(
    definition: WorkflowDefinition,
    case: CaseFile,
    principal: Principal | None = None,
    team: set[str] | None = None,
) -> list[Transition]:
    """The transitions out of the case's state; with a principal, only the ones it may make
    (guards are not evaluated: they can change with the facts of the request)."""
    out = definition.transitions_from(case.state)
    if principal is None:
        return out
    return [t for t in out if may_make(t, principal, case, team or set())]


def _who(transition: Transition) -> str:
    return "; ".join(
        f"{'/'.join(a.partner_kinds)} as {'/'.join(a.roles)}"
        + (" holding the lead" if a.lead else "")
        for a in transition.actors
    )


def _check_facts(transition: Transition, facts: TransitionFacts) -> None:
    missing = [f for f in transition.requires if getattr(facts, FACT_FIELDS[f]) is None]
    unexpected = [
        f
        for f, attr in FACT_FIELDS.items()
        if f != "reason" and f not in transition.requires and getattr(facts, attr) is not None
    ]
    if missing or unexpected:
        params = [{"name": f, "reason": "required"} for f in missing] + [
            {"name": f, "reason": "not used by this transition"} for f in unexpected
        ]
        raise MissingFacts(
            f"Transition '{transition.id}' requires "
            f"{', '.join(transition.requires) or 'no facts'}.",
            invalid_params=params,
        )


def _guard_context(
    session: Session,
    *,
    runtime: CaseRuntime,
    definition: WorkflowDefinition,
    case: CaseFile,
    principal: Principal,
    facts: TransitionFacts,
    now: datetime,
) -> GuardContext:
    def rows(model: Any) -> list[Any]:
        return list(session.scalars(select(model).where(model.case_id == case.id)))

    dwelling = session.get_one(Dwelling, case.dwelling_id)
    return GuardContext(
        definition=definition,
        case=case,
        dwelling=dwelling,
        principal=principal,
        facts=facts,
        criteria=rows(CaseCriterion),
        consents=rows(CaseConsent),
        measures=rows(EnforcementMeasure),
        # The involved members: one the lead only consults (U §5.6) forms no team and is
        # no landlord in the team (review9a F3).
        team=[m for m in rows(CaseTeamMember) if not m.consulted],
        now=now,
        history=rows(CaseTransition),
        reports=rows(CaseReport),
        covenant_corporation=covenant_corporation(runtime, case.covenant_id, dwelling),
        calendar=runtime.calendar(case.covenant_id),
    )


def covenant_corporation(runtime: CaseRuntime, covenant_id: str, dwelling: Dwelling) -> str | None:
    """The corporation that owns ``dwelling`` if it is a housing corporation of the covenant:
    the only partner a lead can return to (R §2.3). None otherwise, unknown tenure included."""
    if dwelling.ownership != "corporation" or dwelling.corporation_id is None:
        return None
    if runtime.partner_kind(covenant_id, dwelling.corporation_id) != "housing-corporation":
        return None
    return dwelling.corporation_id


def _check_guards(transition: Transition, ctx: GuardContext, extra: dict[str, Any]) -> None:
    for guard in transition.guards:
        failure = GUARDS[guard.name](ctx)
        if failure is not None:
            raise GuardFailed(
                f"'{transition.id}' needs '{guard.name}' ({guard.source}): {failure}.",
                extra={**extra, "guard": guard.name, "source": guard.source},
            )


def _non_personal_facts(facts: TransitionFacts) -> dict[str, Any]:
    # The reason is free text and may name people: it is sealed, never stored in the clear.
    return facts.model_dump(mode="json", by_alias=True, exclude_none=True, exclude={"reason"})


def _apply(
    session: Session,
    *,
    runtime: CaseRuntime,
    case: CaseFile,
    transition: Transition,
    principal: Principal,
    facts: TransitionFacts,
    now: datetime,
) -> CaseTransition:
    row = CaseTransition(
        id=str(uuid.uuid4()),
        case_id=case.id,
        covenant_id=case.covenant_id,
        transition=transition.id,
        from_state=case.state,
        to_state=transition.to,
        at=now,
        actor_partner_id=principal.partner_id,
        actor_role=principal.role,
        actor_user=principal.user,
        facts=_non_personal_facts(facts),
    )
    if facts.reason is not None:
        row.reason_sealed = runtime.sealer.seal(
            session,
            scope=case_scope(case.id),
            table="case_transition",
            record_id=row.id,
            field="reason",
            plaintext=facts.reason,
        )
    session.add(row)
    session.flush()
    if transition.records is not None:
        _record_measure(session, case=case, transition=transition, row=row, facts=facts)
    if transition.lead_to is not None:
        _move_lead(
            session, runtime=runtime, case=case, kind=transition.lead_to, now=now, by=principal
        )
    if transition.complexity is not None:
        case.complexity = transition.complexity
    _keep_facts(case, facts)
    if (
        case.case_manager is None
        and principal.partner_id == case.lead_partner_id
        and not principal.grant.system
    ):
        # The lead's first person to move the case becomes its case manager (U §5.1; after
        # the lead moved to the municipality, R §3.2.3).
        case.case_manager = principal.user
    if transition.keeps_state_clock:
        pass  # U §4: recorded in the history; the state's deadlines run on
    elif transition.extends_state:
        # R Bijlage E "10 dagen en aanvullend met maximaal 18 dagen": an extension adds to
        # the period that is running, from its start, whenever it is decided.
        case.state_days = (case.state_days or 0) + (facts.days or 0)
    else:
        case.state = transition.to
        case.state_entered_at = now
        case.state_days = facts.days
    if runtime.workflow(case.covenant_id).state(transition.to).final:
        case.closed_at = now
    return row


def _record_measure(
    session: Session,
    *,
    case: CaseFile,
    transition: Transition,
    row: CaseTransition,
    facts: TransitionFacts,
) -> None:
    # Phase 4a applies a behavioural order or, for a corporation tenant, a last-chance
    # contract (R Bijlage D fase 4a): the request's measure names which.
    instrument = transition.records
    if instrument == "behavioural-order" and facts.measure is not None:
        instrument = facts.measure
    session.add(
        EnforcementMeasure(
            id=str(uuid.uuid4()),
            case_id=case.id,
            transition_id=row.id,
            instrument=instrument,
            amount_eur=facts.amount_eur,
            days=facts.days,
            decided_at=row.at,
            decided_by_partner_id=row.actor_partner_id,
        )
    )


def _keep_facts(case: CaseFile, facts: TransitionFacts) -> None:
    """The facts the case keeps in the clear: the OGGZ check, both sides heard, the result."""
    if facts.oggz_check is not None:
        case.oggz_target_group = facts.oggz_check.target_group
        case.oggz_referred = facts.oggz_check.referred
    if facts.both_sides_heard:
        case.both_sides_heard = True
    if facts.result is not None:
        case.neighbours_judgement = facts.result.neighbours_judgement
        case.partners_judgement = facts.result.partners_judgement
        case.aftercare_decision = facts.result.aftercare


def _move_lead(
    session: Session,
    *,
    runtime: CaseRuntime,
    case: CaseFile,
    kind: str,
    now: datetime,
    by: Principal,
) -> None:
    if kind == DWELLING_CORPORATION:
        # R §2.3: the lead returns to the corporation that owns the dwelling, never to
        # another corporation; without one (owner-occupied, private, unknown tenure, a
        # corporation outside the covenant) nobody takes it (the guards say why first).
        owner = covenant_corporation(
            runtime, case.covenant_id, session.get_one(Dwelling, case.dwelling_id)
        )
        if owner is None:
            raise GuardFailed("The dwelling has no corporation of this covenant to take the lead.")
        candidates = [owner]
    else:
        candidates = runtime.partners_of_kind(case.covenant_id, kind)
    if not candidates:
        raise GuardFailed(f"The covenant has no partner of kind '{kind}' to take the lead.")
    # R §3.2.3: one municipality per covenant; the first listed partner of the kind leads.
    case.lead_partner_id = candidates[0]
    case.case_manager = None
    # The new lead joins the team; the persons its own reports named while it was outside
    # the team join the case with it, as when a lead adds it (gateway/cases/held_persons.py).
    add_team_member(session, case, candidates[0], now, by.actor)
    # A lead is involved in its case: one the former lead only consulted (U §5.6) is listed
    # to the whole team from now on, as every lead is (review9a F3).
    member = session.get(CaseTeamMember, (case.id, candidates[0]))
    if member is not None and member.consulted:
        member.consulted = False


def apply_transition(
    session: Session,
    *,
    runtime: CaseRuntime,
    case_id: str,
    principal: Principal,
    request: TransitionRequest,
    now: datetime | None = None,
) -> CaseFile:
    """Move the case by ``request.transition``, or raise; see the module docstring."""
    now = now or utcnow()
    case, team = writable_case(session, runtime=runtime, case_id=case_id, principal=principal)
    definition = runtime.workflow(case.covenant_id)
    allowed = [t.id for t in definition.transitions_from(case.state)]
    extra = {"state": case.state, "allowedTransitions": allowed}
    transition = definition.transition(request.transition)
    if transition is None:
        raise UnknownTransition(
            f"'{request.transition}' is not a transition of this covenant; from "
            f"'{case.state}' allowed: {', '.join(allowed) or 'none'}.",
            extra=extra,
        )
    if case.state not in transition.from_states:
        raise TransitionNotAllowed(
            f"'{transition.id}' does not leave state '{case.state}'; allowed from "
            f"'{case.state}': {', '.join(allowed) or 'none (final state)'}.",
            extra=extra,
        )
    if not may_make(transition, principal, case, team):
        raise NotPermitted(f"'{transition.id}' is made by {_who(transition)}.")
    facts = TransitionFacts.model_validate(request.model_dump(exclude={"transition"}))
    _check_facts(transition, facts)
    _check_guards(
        transition,
        _guard_context(
            session,
            runtime=runtime,
            definition=definition,
            case=case,
            principal=principal,
            facts=facts,
            now=now,
        ),
        extra,
    )
    from_state = case.state
    from_lead = case.lead_partner_id
    try:
        row = _apply(
            session,
            runtime=runtime,
            case=case,
            transition=transition,
            principal=principal,
            facts=facts,
            now=now,
        )
        session.flush()
    except StaleDataError:
        # Another partner moved the case between our read and our write (the version
        # column caught it); the client re-reads the case and decides again.
        raise CaseChanged("The case was changed by someone else; read it again.") from None
    if runtime.register_retention is not None:
        # The case's retention state follows the step in the same transaction (a closing,
        # the end of mediation, a sanction), not at the next sweep: the privacy officer's
        # overview reads the stored state (issue 16).
        runtime.register_retention(session, case_id=case.id)
    # R §2.3: whom the workflow file says to tell (the municipality, of the hand-over).
    told = notify(
        session,
        runtime=runtime,
        case=case,
        kinds=transition.informs,
        subject=f"transition:{transition.id}",
        about_id=row.id,
        by=principal,
        now=now,
    )
    details: dict[str, AuditValue] = {
        "transition": transition.id,
        "fromState": from_state,
        "toState": transition.to,
        "transitionRecord": row.id,
        "source": transition.source,
    }
    if case.lead_partner_id != from_lead:
        # A lead change is part of the audited event: who led before and who leads now
        # decides what may be shared with whom (the policy's case-lead relation).
        details["leadFrom"] = from_lead
        details["leadTo"] = case.lead_partner_id
    if told:
        details["informed"] = ",".join(sorted({n.partner_id for n in told}))
    runtime.record_case_event(
        session, case, activity=WORKFLOW_TRANSITION, actor=principal, details=details
    )
    return case
