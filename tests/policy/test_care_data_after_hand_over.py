"""Rijswijk's care data (special: health) goes to the case lead only (review5b, P1).

R-A-wijkteam-acties and R-A-ggd-acties give the Sociaal Wijkteam's and the GGD's actions
"binnen het gezin" to the case manager, with the ASSUMPTION "care information goes to the
case lead only (data minimisation for health data)". The recipient was the plain role
``casemanager``, so after ``hand-over-to-corporation`` -> ``impose-behavioural-order``
(workflow.yaml), when the corporation leads (R §2.3: "neemt de woningcorporatie de regie
weer over en informeert ze de gemeente over eventuele juridische maatregelen": legal
measures only), the municipality kept receiving them in behavioural-order,
penalty-enforcement, temporary-eviction and aftercare-evaluation. The recipient is now
``{role: casemanager, relation: case-lead}``; before the hand-over nothing changes, because
the municipality leads then (the positive control). The new lead, the corporation's
woonconsulent, is no recipient: the source gives care data to no landlord.

On every engine (regorus RVM and interpreter, regopy, OPA's Go evaluator).
"""

from __future__ import annotations

from typing import Any

import pytest

from gateway.cases.definition import load_workflows
from gateway.policy.schemas import CategoryDecision
from tests.policy.conftest import COVENANTS, case_decision

TEAM = [
    "gemeente-rijswijk",
    "rijswijk-wonen",
    "politie-den-haag",
    "sociaal-wijkteam-rijswijk",
    "ggd-haaglanden",
]
MUNICIPALITY = ("gemeente-rijswijk", "casemanager")
CORPORATION = ("rijswijk-wonen", "woonconsulent")
HEALTH = [
    ("neighbourhood-team-actions", "integrated-approach"),
    ("neighbourhood-team-actions", "aftercare"),
    ("care-actions", "integrated-approach"),
    ("care-actions", "aftercare"),
]
#: Phases the corporation leads in after hand-over-to-corporation + impose-behavioural-order
#: (and nuisance-stopped, which keeps the lead).
AFTER_HAND_OVER = ["behavioural-order", "penalty-enforcement", "temporary-eviction"]


def _decide(
    engine: Any,
    category: str,
    purpose: str,
    phase: str,
    lead: str,
    requester: tuple[str, str] = MUNICIPALITY,
) -> CategoryDecision:
    return case_decision(
        engine,
        requester,
        category,
        phase=phase,
        purpose=purpose,
        team=TEAM,
        lead=lead,
        dwelling={"ownership": "corporation", "corporation": "rijswijk-wonen"},
    )


@pytest.mark.parametrize("phase", [*AFTER_HAND_OVER, "aftercare-evaluation"])
@pytest.mark.parametrize(("category", "purpose"), HEALTH)
def test_positive_control_the_leading_municipality_receives_care_actions(
    any_engine: Any, category: str, purpose: str, phase: str
) -> None:
    seen = _decide(any_engine, category, purpose, phase, lead="gemeente-rijswijk")
    assert seen.outcome == "disclose", (seen.outcome, seen.reasons)


@pytest.mark.parametrize("phase", [*AFTER_HAND_OVER, "aftercare-evaluation"])
@pytest.mark.parametrize(("category", "purpose"), HEALTH)
def test_the_municipality_no_longer_leading_is_refused_care_actions(
    any_engine: Any, category: str, purpose: str, phase: str
) -> None:
    """Disclosed under R-A-wijkteam-acties / R-A-ggd-acties before the fix (3201cbe)."""
    seen = _decide(any_engine, category, purpose, phase, lead="rijswijk-wonen")
    assert seen.outcome == "redact", (seen.outcome, seen.clauses)
    assert seen.reasons == ["not-case-lead"], seen.reasons


@pytest.mark.parametrize(("category", "purpose"), HEALTH)
def test_the_corporation_leading_is_no_recipient_of_care_actions(
    any_engine: Any, category: str, purpose: str
) -> None:
    seen = _decide(
        any_engine, category, purpose, "behavioural-order", "rijswijk-wonen", CORPORATION
    )
    assert (seen.outcome, seen.reasons) == ("redact", ["role-not-recipient"])


def test_every_health_clause_gives_the_case_manager_only_while_it_leads() -> None:
    """A clause giving health data to a role that can be without the lead binds it to the
    lead: Rijswijk's case manager (the lead moves to the corporation, R §2.3) is bound; a
    role left unbound is held only by the partners of the kind that always leads (Utrecht:
    U Centraal, "De casemanager voert de regie", U §5.1, and no transition moves the lead).
    A recipient named for its own work (the wijkteam asking for the care worker, R Bijlage
    F) is not the case manager and is not checked here."""
    workflows = load_workflows()
    unbound: list[str] = []
    for covenant in COVENANTS.values():
        workflow = workflows[covenant.id]
        lead_fixed = workflow.intake.lead == "partner-kind" and not any(
            t.lead_to for t in workflow.transitions
        )
        leaders = {p.id for p in covenant.partners if p.kind == workflow.intake.lead_kind}
        health = {c.id for c in covenant.categories if c.special == "health"}
        for clause in covenant.clauses:
            if not health & set(clause.categories):
                continue
            for recipient in clause.recipients:
                if recipient.role != "casemanager" or recipient.relation == "case-lead":
                    continue
                holders = {p.id for p in covenant.partners if recipient.role in p.roles}
                if not (lead_fixed and holders <= leaders):
                    unbound.append(f"{clause.id}: {recipient.label}")
    assert unbound == []
