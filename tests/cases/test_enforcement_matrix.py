"""The enforcement matrix of R Bijlage E as guards: amounts, durations and order, tested at
and just past each bound."""

from __future__ import annotations

from datetime import timedelta
from itertools import count
from typing import Any

import pytest

from gateway.auth.principal import Principal
from gateway.cases.errors import GuardFailed, MissingFacts
from gateway.cases.intake import register_report
from gateway.cases.models import CaseFile, CaseTeamMember
from gateway.cases.runtime import CaseRuntime
from gateway.cases.schemas import IntakeRequest, TransitionRequest
from gateway.cases.workflow import apply_transition
from gateway.context import GatewayContext
from gateway.core.errors import GatewayError
from gateway.db import transaction, utcnow
from gateway.demo.clock import date_case_back
from tests.cases.builders import principal, report_body

COVENANT = "rijswijk-woonoverlast"
MAYOR = principal("gemeente-rijswijk", "municipality", "casemanager", COVENANT)
OWN_CORPORATION = principal("rijswijk-wonen", "housing-corporation", "woonconsulent", COVENANT)
OTHER_CORPORATION = principal("vidomes", "housing-corporation", "woonconsulent", COVENANT)
_numbers = count(1)


class Rijswijk:
    def __init__(self, context: GatewayContext, runtime: CaseRuntime) -> None:
        self.context = context
        self.runtime = runtime

    def case_in(
        self, state: str, *, ownership: str = "corporation", team: tuple[str, ...] = ()
    ) -> str:
        """A complex case led by the municipality, put straight into ``state``."""
        corporation = "rijswijk-wonen" if ownership == "corporation" else None
        reporter = OWN_CORPORATION if corporation else MAYOR
        body = report_body(
            ownership=ownership, corporation=corporation, number=next(_numbers), persons=[]
        )
        with transaction(self.context.session_factory) as session:
            case_id = register_report(
                session,
                runtime=self.runtime,
                principal=reporter,
                request=IntakeRequest.model_validate(body),
            ).case_id
            case = session.get_one(CaseFile, case_id)
            case.state = state
            case.lead_partner_id = "gemeente-rijswijk"
            for partner_id in team:
                session.add(CaseTeamMember.of(case, partner_id, now=utcnow(), by="test"))
        return case_id

    def move(self, case_id: str, transition: str, actor: Principal = MAYOR, **facts: Any) -> str:
        with transaction(self.context.session_factory) as session:
            request = TransitionRequest.model_validate({"transition": transition, **facts})
            return apply_transition(
                session, runtime=self.runtime, case_id=case_id, principal=actor, request=request
            ).state

    def past_the_term(self, case_id: str, days: int) -> None:
        """The case's history dated back ``days`` days (past a warning's or intention's
        term, R Bijlage E; review8a F4)."""
        with transaction(self.context.session_factory) as session:
            date_case_back(session, case_id, days)

    def refused(self, case_id: str, transition: str, actor: Principal = MAYOR, **facts: Any) -> str:
        """The guard that refused the transition (the case is left as it was)."""
        with pytest.raises(GuardFailed) as refusal:
            self.move(case_id, transition, actor, **facts)
        guard: str = refusal.value.extra["guard"]
        return guard


@pytest.fixture
def rijswijk(context: GatewayContext, runtime: CaseRuntime) -> Rijswijk:
    return Rijswijk(context, runtime)


def _penalty(amount: int) -> dict[str, Any]:
    return {"breachEstablished": True, "amountEur": amount}


def test_a_penalty_of_5000_per_breach_is_allowed_and_5001_is_refused(rijswijk: Rijswijk) -> None:
    case_id = rijswijk.case_in("behavioural-order")
    assert rijswijk.refused(case_id, "impose-penalty", **_penalty(5001)) == "penalty-within-limits"
    assert rijswijk.refused(case_id, "impose-penalty", **_penalty(0)) == "penalty-within-limits"
    assert rijswijk.move(case_id, "impose-penalty", **_penalty(5000)) == "penalty-enforcement"


def test_penalties_stop_at_25000_in_total(rijswijk: Rijswijk) -> None:
    case_id = rijswijk.case_in("behavioural-order")
    for _ in range(4):
        rijswijk.move(case_id, "impose-penalty", **_penalty(5000))
    assert rijswijk.refused(case_id, "impose-penalty", **_penalty(5001)) == "penalty-within-limits"
    assert rijswijk.move(case_id, "impose-penalty", **_penalty(5000)) == "penalty-enforcement"
    assert rijswijk.refused(case_id, "impose-penalty", **_penalty(1)) == "penalty-within-limits"


def test_a_penalty_needs_the_breach_established(rijswijk: Rijswijk) -> None:
    case_id = rijswijk.case_in("behavioural-order")
    refusal = rijswijk.refused(case_id, "impose-penalty", breachEstablished=False, amountEur=100)
    assert refusal == "breach-established"


def test_temporary_eviction_comes_only_after_a_penalty_or_enforcement(rijswijk: Rijswijk) -> None:
    case_id = rijswijk.case_in("penalty-enforcement")
    assert (
        rijswijk.refused(case_id, "evict-temporarily", days=10, adult=True)
        == "penalty-or-enforcement-applied"
    )
    with pytest.raises(GatewayError) as wrong_state:
        rijswijk.move(rijswijk.case_in("warning"), "evict-temporarily", days=10, adult=True)
    assert wrong_state.value.status == 409
    assert "evict-temporarily" not in wrong_state.value.extra["allowedTransitions"]


def test_temporary_eviction_lasts_at_most_10_days(rijswijk: Rijswijk) -> None:
    case_id = rijswijk.case_in("behavioural-order")
    rijswijk.move(case_id, "apply-administrative-enforcement", breachEstablished=True)
    assert (
        rijswijk.refused(case_id, "evict-temporarily", days=11, adult=True)
        == "temporary-eviction-within-limits"
    )
    assert (
        rijswijk.refused(case_id, "evict-temporarily", days=0, adult=True)
        == "temporary-eviction-within-limits"
    )
    assert rijswijk.move(case_id, "evict-temporarily", days=10, adult=True) == "temporary-eviction"


def test_the_extension_is_at_most_18_days_in_total(rijswijk: Rijswijk) -> None:
    case_id = rijswijk.case_in("behavioural-order")
    rijswijk.move(case_id, "impose-penalty", **_penalty(2500))
    rijswijk.move(case_id, "evict-temporarily", days=10, adult=True)
    assert (
        rijswijk.refused(case_id, "extend-temporary-eviction", days=19) == "extension-within-limits"
    )
    assert rijswijk.move(case_id, "extend-temporary-eviction", days=10) == "temporary-eviction"
    assert (
        rijswijk.refused(case_id, "extend-temporary-eviction", days=9) == "extension-within-limits"
    )
    assert rijswijk.move(case_id, "extend-temporary-eviction", days=8) == "temporary-eviction"


def test_only_an_adult_is_evicted_temporarily(rijswijk: Rijswijk) -> None:
    case_id = rijswijk.case_in("behavioural-order")
    rijswijk.move(case_id, "apply-administrative-enforcement", breachEstablished=True)
    assert rijswijk.refused(case_id, "evict-temporarily", days=10, adult=False) == "evictee-adult"
    with pytest.raises(MissingFacts):
        rijswijk.move(case_id, "evict-temporarily", days=10)
    assert rijswijk.move(case_id, "evict-temporarily", days=10, adult=True) == (
        "temporary-eviction"
    )


def _evicted(rijswijk: Rijswijk) -> str:
    """A case on the first day of a temporary eviction of 10 days (R Bijlage E)."""
    case_id = rijswijk.case_in("behavioural-order")
    rijswijk.move(case_id, "apply-administrative-enforcement", breachEstablished=True)
    rijswijk.move(case_id, "evict-temporarily", days=10, adult=True)
    return case_id


def test_permanent_eviction_on_the_first_day_needs_serious_offences(rijswijk: Rijswijk) -> None:
    """Review8a F8: permanent eviction went ahead the same second as the temporary one, on
    a free-text reason. R Bijlage C puts the extension first ("Verlenging ... Houdt de
    overlast op en zijn er geen ernstige wetsovertredingen? Nee -> ... permanente
    uithuiszetting"); Bijlage D fase 4c allows serious offences at once."""
    case_id = _evicted(rijswijk)
    with pytest.raises(MissingFacts):
        rijswijk.move(case_id, "evict-permanently", reason="Overlast gaat door.")
    refusal = rijswijk.refused(
        case_id, "evict-permanently", ground="previous-steps-failed", reason="Gaat door."
    )
    assert refusal == "permanent-eviction-ground"
    # Positive control: serious offences of the law, at once.
    state = rijswijk.move(
        case_id, "evict-permanently", ground="serious-offences", reason="Ernstige feiten."
    )
    assert state == "permanent-eviction"


def test_previous_steps_failed_after_the_extension(rijswijk: Rijswijk) -> None:
    case_id = _evicted(rijswijk)
    rijswijk.move(case_id, "extend-temporary-eviction", days=18)
    state = rijswijk.move(
        case_id, "evict-permanently", ground="previous-steps-failed", reason="Niet nageleefd."
    )
    assert state == "permanent-eviction"


def test_previous_steps_failed_once_the_eviction_term_ended(
    rijswijk: Rijswijk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without an extension, the term of the eviction (10 days from its start, to the end of
    that day) must have ended; the clock moved: a day before it refused, after it allowed."""
    case_id = _evicted(rijswijk)
    started = utcnow()
    monkeypatch.setattr("gateway.cases.workflow.utcnow", lambda: started + timedelta(days=9))
    refusal = rijswijk.refused(
        case_id, "evict-permanently", ground="previous-steps-failed", reason="Gaat door."
    )
    assert refusal == "permanent-eviction-ground"
    monkeypatch.setattr("gateway.cases.workflow.utcnow", lambda: started + timedelta(days=12))
    state = rijswijk.move(
        case_id, "evict-permanently", ground="previous-steps-failed", reason="Gaat door."
    )
    assert state == "permanent-eviction"


def test_the_ground_is_only_a_fact_of_the_permanent_eviction(rijswijk: Rijswijk) -> None:
    case_id = rijswijk.case_in("behavioural-order")
    with pytest.raises(MissingFacts):
        rijswijk.move(
            case_id,
            "apply-administrative-enforcement",
            breachEstablished=True,
            ground="serious-offences",
        )


def test_a_behavioural_order_comes_only_after_the_intention(rijswijk: Rijswijk) -> None:
    case_id = rijswijk.case_in("integrated-approach")
    rijswijk.move(case_id, "issue-warning", days=7)
    rijswijk.past_the_term(case_id, 8)
    refusal = rijswijk.refused(case_id, "impose-behavioural-order", measure="behavioural-order")
    assert refusal == "previous-instrument-intention"
    rijswijk.move(case_id, "announce-intention", days=7)
    rijswijk.past_the_term(case_id, 8)
    assert rijswijk.move(case_id, "impose-behavioural-order", measure="behavioural-order") == (
        "behavioural-order"
    )


def test_a_last_chance_contract_is_only_for_corporation_tenants(rijswijk: Rijswijk) -> None:
    case_id = rijswijk.case_in("integrated-approach", ownership="owner-occupied")
    rijswijk.move(case_id, "announce-intention", days=7)
    rijswijk.past_the_term(case_id, 8)
    refusal = rijswijk.refused(case_id, "impose-behavioural-order", measure="last-chance-contract")
    assert refusal == "measure-fits-ownership"


def test_the_owning_corporation_may_skip_to_eviction_with_a_recorded_reason(
    rijswijk: Rijswijk,
) -> None:
    case_id = rijswijk.case_in("warning", team=("vidomes",))
    with pytest.raises(MissingFacts):
        rijswijk.move(case_id, "corporation-evicts", OWN_CORPORATION)
    refusal = rijswijk.refused(
        case_id, "corporation-evicts", OTHER_CORPORATION, reason="Escalatie."
    )
    assert refusal == "corporation-acts-for-own-tenant"
    state = rijswijk.move(case_id, "corporation-evicts", OWN_CORPORATION, reason="Onherstelbaar.")
    assert state == "permanent-eviction"


def test_no_corporation_skips_to_eviction_of_an_owner_occupier(rijswijk: Rijswijk) -> None:
    case_id = rijswijk.case_in("warning", ownership="owner-occupied", team=("rijswijk-wonen",))
    refusal = rijswijk.refused(case_id, "corporation-evicts", OWN_CORPORATION, reason="Escalatie.")
    assert refusal == "corporation-dwelling"


@pytest.mark.parametrize("flag", ["crime", "seriousPsychosocial", "multiProblem"])
def test_mediation_is_refused_with_crime_or_psychosocial_problems(
    rijswijk: Rijswijk, flag: str
) -> None:
    case_id = rijswijk.case_in("weighing")
    screening = {"crime": False, "seriousPsychosocial": False, "multiProblem": False, flag: True}
    refusal = rijswijk.refused(
        case_id, "start-mediation", mediationScreening=screening, bothSidesHeard=True
    )
    assert refusal == "mediation-allowed"
    assert rijswijk.move(case_id, "weigh-serious", bothSidesHeard=True) == "integrated-approach"
