"""Every edge of both workflows, generated from the workflow files: each allowed transition
succeeds from each of its states, and each transition is refused with 409 from every other
state, naming exactly the transitions the workflow allows there."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from gateway.auth.principal import Principal
from gateway.cases.definition import Transition, WorkflowDefinition
from gateway.cases.errors import TransitionNotAllowed
from gateway.cases.intake import register_report
from gateway.cases.models import (
    CaseConsent,
    CaseCriterion,
    CaseFile,
    CaseTeamMember,
    CaseTransition,
    EnforcementMeasure,
)
from gateway.cases.runtime import CaseRuntime
from gateway.cases.schemas import IntakeRequest, TransitionRequest
from gateway.cases.workflow import apply_transition
from gateway.context import GatewayContext
from gateway.core.errors import GatewayError
from gateway.db import transaction, utcnow
from tests.cases.builders import principal, report_body, valid_facts

REPORTER = {
    "utrecht-extreme-woonoverlast": ("mitros", "housing-corporation", "woonconsulent"),
    "rijswijk-woonoverlast": ("rijswijk-wonen", "housing-corporation", "woonconsulent"),
}


def _actor(runtime: CaseRuntime, covenant_id: str, transition: Transition) -> Principal:
    actor = transition.actors[0]
    kind = actor.partner_kinds[0]
    reporter = REPORTER[covenant_id]
    partner = reporter[0] if kind == reporter[1] else runtime.partners_of_kind(covenant_id, kind)[0]
    return principal(partner, kind, actor.roles[0], covenant_id)


def _case_in_state(
    context: GatewayContext, runtime: CaseRuntime, covenant_id: str, state: str, number: int
) -> str:
    """A case in ``state`` with every precondition a guard may ask for already on file."""
    partner, kind, role = REPORTER[covenant_id]
    reporter = principal(partner, kind, role, covenant_id)
    # A dwelling and persons of its own, or intake would add the report to an earlier case.
    body = report_body(corporation=partner, number=number, persons=[])
    now = utcnow()
    with transaction(context.session_factory) as session:
        case_id = register_report(
            session, runtime=runtime, principal=reporter, request=IntakeRequest.model_validate(body)
        ).case_id
        case = session.get_one(CaseFile, case_id)
        case.state = state
        # A term given on entering the state (the warning's or intention's, R Bijlage E) has
        # passed: entered a month ago for a day.
        case.state_entered_at = now - timedelta(days=30)
        case.state_days = 1
        for criterion in ("dwelling-related", "several-forms"):
            session.add(
                CaseCriterion(
                    case_id=case_id,
                    criterion=criterion,
                    holds=True,
                    recorded_at=now,
                    recorded_by="test",
                )
            )
        session.add(
            CaseConsent(
                id=str(uuid.uuid4()),
                case_id=case_id,
                kind="corporation-permission",
                partner_id=partner,
                granted=True,
                scope=[],
                recorded_at=now,
                recorded_by="test",
            )
        )
        history = CaseTransition(
            id=str(uuid.uuid4()),
            case_id=case_id,
            covenant_id=covenant_id,
            transition="seed",
            from_state=state,
            to_state=state,
            at=now,
            actor_partner_id=partner,
            actor_role=role,
            facts={},
        )
        session.add(history)
        session.flush()
        for instrument, amount in (("intention", None), ("penalty", 1000)):
            session.add(
                EnforcementMeasure(
                    id=str(uuid.uuid4()),
                    case_id=case_id,
                    transition_id=history.id,
                    instrument=instrument,
                    amount_eur=amount,
                    decided_at=now,
                    decided_by_partner_id=partner,
                )
            )
    return case_id


def _attempt(
    context: GatewayContext, runtime: CaseRuntime, case_id: str, transition: Transition
) -> str | GatewayError:
    """Make the transition and roll it back, so the same case serves every attempt."""
    session: Session = context.session_factory()
    try:
        case = session.get_one(CaseFile, case_id)
        actor = _actor(runtime, case.covenant_id, transition)
        if transition.actors[0].lead:
            case.lead_partner_id = actor.partner_id
        # A case in mediation may be a simple or a complex one (R Bijlage D 2a, F): the
        # transitions out of it that depend on which are walked with the case they need.
        guards = {guard.name for guard in transition.guards}
        if "simple-case" in guards:
            case.complexity = "simple"
        elif "complex-case" in guards:
            case.complexity = "complex"
        if session.get(CaseTeamMember, (case_id, actor.partner_id)) is None:
            session.add(CaseTeamMember.of(case, actor.partner_id, now=utcnow(), by="test"))
        session.flush()
        request = TransitionRequest.model_validate(
            {"transition": transition.id, **valid_facts(transition.requires)}
        )
        moved = apply_transition(
            session, runtime=runtime, case_id=case_id, principal=actor, request=request
        )
        return moved.state
    except GatewayError as error:
        return error
    finally:
        session.rollback()
        session.close()


@pytest.mark.parametrize("covenant_id", ["utrecht-extreme-woonoverlast", "rijswijk-woonoverlast"])
def test_every_allowed_transition_succeeds_and_every_forbidden_one_is_refused_naming_the_allowed(
    context: GatewayContext, runtime: CaseRuntime, covenant_id: str
) -> None:
    definition: WorkflowDefinition = runtime.workflow(covenant_id)
    problems: list[str] = []
    walked = refused = 0
    for number, state in enumerate(definition.states, start=1):
        case_id = _case_in_state(context, runtime, covenant_id, state.id, number)
        allowed_here = [t.id for t in definition.transitions_from(state.id)]
        for transition in definition.transitions:
            outcome = _attempt(context, runtime, case_id, transition)
            if state.id in transition.from_states:
                walked += 1
                if outcome != transition.to:
                    problems.append(
                        f"{state.id} -{transition.id}-> expected {transition.to}, "
                        f"got {getattr(outcome, 'detail', outcome)}"
                    )
            else:
                refused += 1
                if not isinstance(outcome, TransitionNotAllowed):
                    problems.append(
                        f"{state.id} -{transition.id}-> should be refused, got {outcome}"
                    )
                elif outcome.extra["allowedTransitions"] != allowed_here:
                    problems.append(f"{state.id}: 409 names {outcome.extra['allowedTransitions']}")
    assert problems == []
    edges = sum(len(t.from_states) for t in definition.transitions)
    assert walked == edges
    assert refused == len(definition.states) * len(definition.transitions) - edges
