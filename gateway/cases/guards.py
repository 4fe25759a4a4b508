"""The named guards a workflow file may put on a transition.

A guard reads the case as it stands plus the facts of the request and returns ``None`` when
the transition may go ahead, or a short reason (no personal data) when it may not. The limits
come from the workflow file (the enforcement matrix), never from constants here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from gateway.auth.principal import Principal
from gateway.cases.consents import CORPORATION_PERMISSION, current_answers
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
from gateway.cases.schemas import TransitionFacts

if TYPE_CHECKING:
    # Only types: the definition's loader checks guard names against GUARDS, and the
    # calendar reads the definition.
    from gateway.cases.calendar import WorkingCalendar
    from gateway.cases.definition import WorkflowDefinition


@dataclass(frozen=True)
class GuardContext:
    definition: WorkflowDefinition
    case: CaseFile
    dwelling: Dwelling
    principal: Principal
    facts: TransitionFacts
    criteria: list[CaseCriterion]
    consents: list[CaseConsent]
    measures: list[EnforcementMeasure]
    team: list[CaseTeamMember]
    now: datetime
    history: list[CaseTransition]
    reports: list[CaseReport]
    #: The dwelling's corporation when it is a housing corporation of the case's covenant;
    #: None for any other dwelling, and for a corporation the covenant does not know.
    covenant_corporation: str | None
    #: The covenant's calendar (the runtime's), for guards that wait for a term to end.
    calendar: WorkingCalendar


#: The tenures an intake records (gateway.cases.schemas.Ownership). Anything else on a
#: dwelling (an imported or damaged row) is an unknown tenure, and unknown is not "rented"
#: nor "owner-occupied": the guards that read the tenure refuse it.
KNOWN_TENURES = frozenset({"corporation", "private-rental", "owner-occupied"})


Guard = Callable[[GuardContext], str | None]


def _criteria_met(ctx: GuardContext) -> str | None:
    rules = ctx.definition.classification
    if rules is None:
        return None
    holding = sum(1 for c in ctx.criteria if c.holds)
    if holding >= rules.minimum:
        return None
    if rules.acute_override and ctx.case.acute_override:
        return None
    return (
        f"{holding} of the criteria hold; at least {rules.minimum} must, "
        "or record an acute override with a reason"
    )


def _corporation_dwelling(ctx: GuardContext) -> str | None:
    if ctx.dwelling.ownership == "corporation":
        return None
    return "the dwelling is not owned by a housing corporation"


def _landlord_in_team(ctx: GuardContext) -> str | None:
    """The corporation asked for its permission must be in the case team: outside it, it
    cannot see the case and so cannot answer (U §5.1-5.2). No corporation on record is no
    landlord to ask."""
    corporation = ctx.dwelling.corporation_id
    if corporation and any(m.partner_id == corporation for m in ctx.team):
        return None
    return "the dwelling's corporation is not in the case team: add it before asking its permission"


def _corporation_permission(ctx: GuardContext) -> str | None:
    if ctx.dwelling.ownership not in KNOWN_TENURES:
        # Unknown is not "not rented": the policy (authz.rego) asks the permission then too.
        return (
            "the dwelling's tenure is not recorded: whether a corporation must consent "
            "first cannot be told"
        )
    if ctx.dwelling.ownership != "corporation":
        return None
    corporation = ctx.dwelling.corporation_id
    answers = current_answers(
        ((c, c.scope) for c in ctx.consents), dwelling_corporation=corporation
    )
    answer = answers.get((CORPORATION_PERMISSION, corporation or "", ""))
    if answer is None:
        return "the corporation has not given permission yet"
    if not answer.granted:
        return "the corporation refused or withdrew its permission"
    expires = answer.consent.expires_at
    if expires is not None and expires <= ctx.now:
        return "the corporation's permission has expired"
    return None


def _both_sides_heard(ctx: GuardContext) -> str | None:
    if ctx.facts.both_sides_heard:
        return None
    return "the plan of approach needs the causer and the neighbours heard first"


def _multidisciplinary_team(ctx: GuardContext) -> str | None:
    if len({m.partner_id for m in ctx.team}) >= 2:
        return None
    return "a complex case needs a team of at least two partners"


def _mediation_allowed(ctx: GuardContext) -> str | None:
    screening = ctx.facts.mediation_screening
    if screening is None:
        return "the mediation screening is missing"
    if screening.crime or screening.serious_psychosocial or screening.multi_problem:
        return (
            "mediation is not suitable with (suspected) crime, serious psychosocial or "
            "multiple problems; the case goes straight to the case meeting"
        )
    return None


def _instruments(ctx: GuardContext, *names: str) -> list[EnforcementMeasure]:
    return [m for m in ctx.measures if m.instrument in names]


def _previous_instrument_intention(ctx: GuardContext) -> str | None:
    if _instruments(ctx, "intention"):
        return None
    return "a behavioural order comes only after the intention to impose a measure"


def _measure_fits_ownership(ctx: GuardContext) -> str | None:
    if ctx.facts.measure == "last-chance-contract" and ctx.dwelling.ownership != "corporation":
        return "a last-chance contract is a corporation's instrument for its tenants"
    return None


def _corporation_acts_for_own_tenant(ctx: GuardContext) -> str | None:
    if ctx.principal.partner_kind != "housing-corporation":
        return None
    if ctx.dwelling.corporation_id == ctx.principal.partner_id:
        return None
    return "a corporation acts only for the tenants of its own dwellings"


def _breach_established(ctx: GuardContext) -> str | None:
    if ctx.facts.breach_established:
        return None
    return "the breach of the behavioural order must be established first"


def _matrix(ctx: GuardContext) -> tuple[int, int, int, int]:
    matrix = ctx.definition.enforcement_matrix
    if matrix is None:
        raise LookupError("this workflow has no enforcement matrix")
    return (
        matrix.penalty_per_breach_max_eur,
        matrix.penalty_total_max_eur,
        matrix.temporary_eviction_days,
        matrix.temporary_eviction_extension_max_days,
    )


def _penalty_within_limits(ctx: GuardContext) -> str | None:
    per_breach, total, _, _ = _matrix(ctx)
    amount = ctx.facts.amount_eur
    if amount is None or amount <= 0:
        return "a penalty needs a positive amount"
    if amount > per_breach:
        return f"a penalty is at most EUR {per_breach} per breach"
    so_far = sum(m.amount_eur or 0 for m in _instruments(ctx, "penalty"))
    if so_far + amount > total:
        return f"penalties total at most EUR {total}; EUR {so_far} is already imposed"
    return None


def _penalty_or_enforcement_applied(ctx: GuardContext) -> str | None:
    if _instruments(ctx, "penalty", "administrative-enforcement"):
        return None
    return "temporary eviction comes only after a penalty or administrative enforcement"


def _evictee_adult(ctx: GuardContext) -> str | None:
    if ctx.facts.adult:
        return None
    return "only an adult can be evicted temporarily; record that the person is an adult"


def _temporary_eviction_within_limits(ctx: GuardContext) -> str | None:
    _, _, days, _ = _matrix(ctx)
    if ctx.facts.days is None or not 1 <= ctx.facts.days <= days:
        return f"a temporary eviction lasts at most {days} days"
    return None


def _extension_within_limits(ctx: GuardContext) -> str | None:
    _, _, _, extension = _matrix(ctx)
    if ctx.facts.days is None or ctx.facts.days < 1:
        return "an extension needs a positive number of days"
    so_far = sum(m.days or 0 for m in _instruments(ctx, "temporary-eviction-extension"))
    if so_far + ctx.facts.days > extension:
        return f"the temporary eviction is extended by at most {extension} days in total"
    return None


def _state_term_ends(ctx: GuardContext) -> list[datetime] | None:
    """When the term of the case's current state ends: the state's day-based deadlines
    (``amountFromDays``: the days given on entering it, from the moment it was entered, as
    gateway/cases/deadlines.py computes them live). ``[]`` when the state runs no such
    deadline; None when it does but no days are on record (unknown, not "ended")."""
    deadlines = [
        d
        for d in ctx.definition.all_deadlines
        if ctx.case.state in d.open_in and d.period.amount_from_days
    ]
    if not deadlines:
        return []
    days = ctx.case.state_days
    if days is None:
        return None
    return [ctx.calendar.due(ctx.case.state_entered_at, d.period, days).at for d in deadlines]


def _eviction_term_ended(ctx: GuardContext) -> bool:
    """Whether the running temporary eviction's term (its days plus every extension, from
    its start: the state's day-based deadline) has ended."""
    ends = _state_term_ends(ctx)
    return any(ctx.now >= end for end in ends or [])


def _grace_period_given(ctx: GuardContext) -> str | None:
    """R Bijlage E (waarschuwing): "Er wordt alleen een begunstigingstermijn gegeven voor
    wanneer de overlast moet ophouden"; Bijlage C: "Waarschuwing aan overlastgever van de
    burgemeester met begunstigingstermijn"; Bijlage E (gedragsaanwijzing): "na het
    voornemen tot het opleggen van een maatregel na een gesteld termijn". The warning and
    the intention give the resident a term, in days; R names no length, so any whole
    number of days from one (the request's schema caps it at 366)."""
    if ctx.facts.days is None or ctx.facts.days < 1:
        return "give the resident's term (begunstigingstermijn) as a number of days, at least 1"
    return None


def _grace_period_ended(ctx: GuardContext) -> str | None:
    """R Bijlage E (voornemen): "De overlast houdt niet op na de begunstigingstermijn in de
    waarschuwing"; (gedragsaanwijzing): "De overlast houdt niet op na het voornemen tot het
    opleggen van een maatregel na een gesteld termijn"; Bijlage C: after the warning and
    after the intention "Houdt de overlast op?" comes before the next rung. So the next rung
    waits until the term the warning or intention gave (the state's ``grace-period-ends``
    deadline) has ended. From a state without such a term (the integrated approach: R
    Bijlage C "Is de overlast langdurig en dermate ernstig dat een waarschuwing weinig
    effect heeft? Ja" goes straight to the intention) there is nothing to wait for. A
    warning phase without a term on record (entered before the term was asked) is refused:
    whether it ended cannot be told."""
    ends = _state_term_ends(ctx)
    if ends is None:
        return (
            "the term given in the warning or the intention is not recorded, so whether it "
            "has ended cannot be told"
        )
    if not ends or all(ctx.now >= end for end in ends):
        return None
    last = max(ends) - timedelta(microseconds=1)
    day = ctx.calendar.local_date(last)
    return (
        f"the resident's term (begunstigingstermijn) runs until the end of {day.isoformat()}: "
        "the next step comes only when the nuisance has not stopped after it"
    )


def _permanent_eviction_ground(ctx: GuardContext) -> str | None:
    """R Bijlage C: "Verlenging uit huis zetting maximaal 18 dagen ... Houdt de overlast op en
    zijn er geen ernstige wetsovertredingen? Nee -> Opstarten traject permanente
    uithuiszetting"; Bijlage E: permanent eviction "Als tijdelijk uithuiszetting niet wordt
    nageleefd en verplichte deelname hulpverleningstraject niet is opgestart"; Bijlage D
    fase 4c also for "ernstige wetsovertredingen". A checked ground, as the other rungs
    have (review8a F8): serious offences at once; the previous steps failed only once the
    temporary eviction was extended or its term has ended (not on its first day)."""
    ground = ctx.facts.ground
    if ground == "serious-offences":
        return None
    if ground != "previous-steps-failed":
        return "a permanent eviction needs its ground: previous-steps-failed or serious-offences"
    if _instruments(ctx, "temporary-eviction-extension") or _eviction_term_ended(ctx):
        return None
    return (
        "the previous steps have not failed yet: extend the temporary eviction or wait for "
        "its term to end (or give serious-offences as the ground)"
    )


def _rented_corporation_dwelling(ctx: GuardContext) -> str | None:
    """R §2.3: "Indien deze inzet niet succesvol is bij huurwoningen, neemt de
    woningcorporatie de regie weer over"; Bijlage C: "Bij huurwoning overdracht naar
    woningcorporatie". Only a dwelling rented from a corporation of this covenant has a
    corporation to take the lead; an unknown tenure has none (fail closed)."""
    if ctx.dwelling.ownership not in KNOWN_TENURES:
        return "the dwelling's tenure is not recorded, so there is no landlord to take the lead"
    if ctx.dwelling.ownership != "corporation":
        return (
            "the dwelling is not rented from a housing corporation (owner-occupied or private "
            "rental): the municipality is the first point of contact and keeps the lead"
        )
    if ctx.covenant_corporation is None:
        return "the dwelling's corporation is not a housing corporation of this covenant"
    return None


def _landlord_first(ctx: GuardContext) -> str | None:
    """R §2.3: "Bij huurwoningen is de verhuurder het eerste aanspreekpunt voor overlast en
    de partij die met de overlast aan de slag gaat." For a corporation dwelling the next
    steps wait until the corporation has the report: it took it up (the workflow's
    ``intake.landlordFirstStep`` is on the history) or the report came in at the
    corporation itself. Owner-occupied and private dwellings go to the municipality (ibid.)
    and need no landlord step; an unknown tenure is refused."""
    ownership = ctx.dwelling.ownership
    if ownership not in KNOWN_TENURES:
        return (
            "the dwelling's tenure is not recorded: whether its landlord must be approached "
            "first cannot be told"
        )
    if ownership != "corporation":
        return None
    step = ctx.definition.intake.landlord_first_step
    corporation = ctx.dwelling.corporation_id
    if step is not None and any(t.transition == step for t in ctx.history):
        return None
    opening = min(ctx.reports, key=lambda r: (r.registered_at, r.id), default=None)
    if opening is not None and opening.source_partner_id == corporation:
        return None
    return (
        f"for a rented dwelling the landlord ('{corporation}') is the first point of contact: "
        f"it takes up the report first ('{step}')"
    )


def _simple_case(ctx: GuardContext) -> str | None:
    if ctx.case.complexity == "simple":
        return None
    return "only a simple case is brought in at the municipality this way"


def _complex_case(ctx: GuardContext) -> str | None:
    if ctx.case.complexity == "complex":
        return None
    return "a simple case goes to the municipality first (escalate-to-complex)"


GUARDS: dict[str, Guard] = {
    "rented-corporation-dwelling": _rented_corporation_dwelling,
    "landlord-first": _landlord_first,
    "simple-case": _simple_case,
    "complex-case": _complex_case,
    "criteria-met": _criteria_met,
    "corporation-dwelling": _corporation_dwelling,
    "corporation-permission": _corporation_permission,
    "landlord-in-team": _landlord_in_team,
    "both-sides-heard": _both_sides_heard,
    "multidisciplinary-team": _multidisciplinary_team,
    "mediation-allowed": _mediation_allowed,
    "previous-instrument-intention": _previous_instrument_intention,
    "measure-fits-ownership": _measure_fits_ownership,
    "corporation-acts-for-own-tenant": _corporation_acts_for_own_tenant,
    "breach-established": _breach_established,
    "penalty-within-limits": _penalty_within_limits,
    "penalty-or-enforcement-applied": _penalty_or_enforcement_applied,
    "temporary-eviction-within-limits": _temporary_eviction_within_limits,
    "evictee-adult": _evictee_adult,
    "extension-within-limits": _extension_within_limits,
    "permanent-eviction-ground": _permanent_eviction_ground,
    "grace-period-given": _grace_period_given,
    "grace-period-ended": _grace_period_ended,
}
