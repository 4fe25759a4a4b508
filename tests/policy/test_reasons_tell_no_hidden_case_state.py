"""A requester refused by its relation to the case is told that relation alone, never a
fact of the case's state it may not see (review6b, P1).

The finding: a woonconsulent of a corporation in the team that is not the dwelling's
landlord, asking for the sfeerverslag (U §5.3) or the sfeerrapportage (R Bijlage A), was
refused with ``not-dwelling-landlord`` either way, but told
``event-not-recorded:eviction-procedure`` exactly while the landlord had not recorded its
eviction procedure: the landlord's measures that the case summary withholds from it
(gateway/cases/summary_readers.py, review4 finding 5). The rule (policies/README.md): the
reasons never depend on a fact the requester may not see; a condition on the case's state
(an event, the pollution of the dwelling, the corporation's permission, the police in the
team, the OM consent) is told only when a clause that names the requester holds its
relation to the case.

The generated scan: every casework requester that does not hold the lead, for every role,
purpose and phase a clause combines, in every dwelling (its own corporation's, another
corporation's, owner-occupied), with and without the corporation's permission and the police
in the team; each fact of the case the summary withholds from that requester (the landlord's
events, the pollution of the dwelling, whether an investigation runs and the OM's consent)
varied in turn. A category redacted in two of those states must be redacted with the same
reasons. Full on regorus (RVM and interpreter), a seeded sample of the same states on
regopy and OPA's Go evaluator (slower; tests/policy/test_differential.py shows every engine
gives the same decision).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from gateway.cases.definition import load_workflows
from gateway.policy.compiler import OM_CONDITION
from gateway.policy.covenant import Covenant
from gateway.policy.schemas import PolicyInput
from tests.policy.conftest import BUNDLE, COVENANTS, ENGINE_CLASSES, loaded_engine
from tests.policy.test_clauses import CASE_ID, NOW

WORKFLOWS = load_workflows()
SFEER = "police-atmosphere-report"
EVICTION = "eviction-procedure"
#: The finding's cases: (covenant, phase, the landlord, another corporation, the lead).
SFEER_CASES = {
    "utrecht-extreme-woonoverlast": ("execution", "mitros", "portaal", "u-centraal"),
    "rijswijk-woonoverlast": (
        "behavioural-order",
        "rijswijk-wonen",
        "vidomes",
        "gemeente-rijswijk",
    ),
}


@pytest.fixture(scope="module", params=sorted(ENGINE_CLASSES))
def engine(request: pytest.FixtureRequest) -> Any:
    return loaded_engine(request.param)


def _doc(
    covenant: Covenant,
    requester: tuple[str, str],
    *,
    purpose: str,
    phase: str,
    lead: str,
    dwelling: dict[str, str],
    categories: list[str],
    team: list[str] | None = None,
    events: list[dict[str, str]] | None = None,
    pollution: bool | None = None,
    investigation: bool | None = False,
    permission: bool = True,
    om: bool = False,
) -> dict[str, Any]:
    police = sorted(covenant.criminal_data_partners())
    consents = []
    if permission and dwelling.get("ownership") == "corporation":
        consents.append(
            {
                "kind": "corporation-permission",
                "case": CASE_ID,
                "partner": dwelling["corporation"],
                "categories": [],
                "grantedAt": NOW - timedelta(days=30),
            }
        )
    if om:
        consents.append(
            {
                "kind": "om-consent",
                "case": CASE_ID,
                "partner": police[0],
                "categories": categories,
                "grantedAt": NOW - timedelta(days=30),
                "expiresAt": NOW + timedelta(days=30),
            }
        )
    return {
        "requester": {"partner": requester[0], "role": requester[1], "user": "pseudo-1"},
        "case": {
            "id": CASE_ID,
            "covenant": covenant.id,
            "phase": phase,
            "team": team if team is not None else [p.id for p in covenant.partners],
            "lead": lead,
            "dwelling": dwelling,
            "policeInvestigation": investigation,
            "dwellingPollution": pollution,
            "events": events or [],
        },
        "categories": categories,
        "purpose": purpose,
        "consents": consents,
        "now": NOW,
    }


# --- the finding, and its positive controls, on every engine and both covenants ------------


def _sfeer(
    engine: Any, covenant_id: str, requester: tuple[str, str], *, evicting: bool
) -> tuple[str, list[str]]:
    covenant = COVENANTS[covenant_id]
    phase, landlord, _, lead = SFEER_CASES[covenant_id]
    events = [{"kind": EVICTION, "partner": landlord}] if evicting else []
    doc = _doc(
        covenant,
        requester,
        purpose=EVICTION,
        phase=phase,
        lead=lead,
        dwelling={"ownership": "corporation", "corporation": landlord},
        categories=[SFEER],
        events=events,
    )
    verdict = engine.decide(PolicyInput.model_validate(doc)).categories[SFEER]
    return verdict.outcome, list(verdict.reasons)


@pytest.mark.parametrize("covenant_id", sorted(SFEER_CASES))
def test_another_corporation_is_not_told_whether_the_landlord_started_an_eviction(
    engine: Any, covenant_id: str
) -> None:
    _, _, other, _ = SFEER_CASES[covenant_id]
    before = _sfeer(engine, covenant_id, (other, "woonconsulent"), evicting=False)
    after = _sfeer(engine, covenant_id, (other, "woonconsulent"), evicting=True)
    assert before == after == ("redact", ["not-dwelling-landlord"])


@pytest.mark.parametrize("covenant_id", sorted(SFEER_CASES))
def test_the_landlord_and_the_lead_are_still_told_the_procedure_is_missing(
    engine: Any, covenant_id: str
) -> None:
    """The positive control: the recipients the clause names, with their relation, are told
    what is missing before the landlord recorded its procedure, and receive it after."""
    _, landlord, _, lead = SFEER_CASES[covenant_id]
    for requester in ((landlord, "woonconsulent"), (lead, "casemanager")):
        before = _sfeer(engine, covenant_id, requester, evicting=False)
        assert before == ("redact", [f"event-not-recorded:{EVICTION}"]), requester
        after = _sfeer(engine, covenant_id, requester, evicting=True)
        assert after == ("disclose", []), requester


def test_an_owner_occupied_dwelling_tells_a_corporation_only_that_it_is_not_the_landlord(
    engine: Any,
) -> None:
    """No landlord among the partners: whatever is on record, a corporation hears only that
    it is not the landlord (not also that no procedure of a landlord counts)."""
    covenant = COVENANTS["utrecht-extreme-woonoverlast"]
    doc = _doc(
        covenant,
        ("mitros", "woonconsulent"),
        purpose=EVICTION,
        phase="execution",
        lead="u-centraal",
        dwelling={"ownership": "owner-occupied"},
        categories=[SFEER],
        events=[{"kind": EVICTION, "partner": "mitros"}],
    )
    verdict = engine.decide(PolicyInput.model_validate(doc)).categories[SFEER]
    assert (verdict.outcome, verdict.reasons) == ("redact", ["not-dwelling-landlord"])


# --- the generated scan ---------------------------------------------------------------------


@dataclass(frozen=True)
class Hidden:
    """Which facts of the case the summary withholds from a requester."""

    events: bool
    assessment: bool  # the lead's: the pollution of the dwelling
    investigation: bool  # whether one runs, and the OM's consents


def _hidden(
    covenant: Covenant, partner: str, role: str, landlord: str | None, phase: str
) -> Hidden:
    """As gateway/cases/summary_readers.py decides for a casework reader that is not the
    lead: the events unless a clause names its role for their category in the phase (or it
    recorded them: the landlord records them); the investigation unless it is the police."""
    readers = {
        r.role
        for e in covenant.events
        for r in covenant.category_recipients(e.category, phase)
        if r.relation is None
    }
    kind = covenant.partner(partner).kind  # type: ignore[union-attr]
    return Hidden(
        events=role not in readers and partner != landlord,
        assessment=True,
        investigation=kind not in covenant.criminal_data_holders(),
    )


def _variants(
    hidden: Hidden, landlord: str | None, covenant: Covenant
) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    """The states of the case's facts, each with the values of the facts the requester may
    see (its group: reasons are compared within a group). From two bases (every fact
    failing its condition, every one holding), each hidden fact varied in turn through its
    values."""
    every_event = [{"kind": e.id, "partner": landlord} for e in covenant.events] if landlord else []
    values: dict[str, list[Any]] = {
        "events": [[], every_event],
        "pollution": [None, False, True],
        "investigation": [None, True, False],
        "om": [False, True],
    }
    varied = {
        "events": hidden.events,
        "pollution": hidden.assessment,
        "investigation": hidden.investigation,
        "om": hidden.investigation,
    }
    failing = {"events": [], "pollution": None, "investigation": None, "om": False}
    holding = {"events": every_event, "pollution": True, "investigation": False, "om": True}
    states = []
    for base in (failing, holding):
        states.append(base)
        for fact, options in values.items():
            if varied[fact]:
                states.extend({**base, fact: o} for o in options if o != base[fact])
    return [(tuple(repr(state[f]) for f in values if not varied[f]), state) for state in states]


def _always_lead(covenant: Covenant) -> set[str]:
    """The partners that hold the lead of every case: those of the workflow's lead kind
    when the lead goes by kind and no transition moves it (Utrecht: U Centraal, U §5.1 "De
    casemanager voert de regie"; as test_care_data_after_hand_over.py decides). They are
    never a requester without the lead."""
    workflow = WORKFLOWS[covenant.id]
    if workflow.intake.lead != "partner-kind" or any(t.lead_to for t in workflow.transitions):
        return set()
    return {p.id for p in covenant.partners if p.kind == workflow.intake.lead_kind}


def _lead(covenant: Covenant, requester: str) -> str:
    """A lead that is not the requester: the municipality's (Utrecht: U Centraal's) case
    manager, else the first corporation."""
    for kind in ("casemanagement", "municipality", "housing-corporation"):
        for partner in covenant.partners:
            if partner.kind == kind and partner.id != requester and "casemanager" in partner.roles:
                return partner.id
    return next(p.id for p in covenant.partners if p.id != requester)


@dataclass(frozen=True)
class Base:
    """One visible state of one request: the scan varies the hidden facts around it."""

    covenant: Covenant
    requester: tuple[str, str]
    purpose: str
    phase: str
    lead: str
    dwelling: tuple[tuple[str, str], ...]
    permission: bool
    police_in_team: bool

    def docs(self) -> Iterator[tuple[tuple[Any, ...], dict[str, Any]]]:
        dwelling = dict(self.dwelling)
        landlord = dwelling.get("corporation")
        hidden = _hidden(self.covenant, *self.requester, landlord, self.phase)
        police = self.covenant.criminal_data_partners()
        team = [p.id for p in self.covenant.partners if self.police_in_team or p.id not in police]
        if self.requester[0] not in team:
            return  # a police requester without the police in the team: not in the team
        for group, state in _variants(hidden, landlord, self.covenant):
            yield (
                group,
                _doc(
                    self.covenant,
                    self.requester,
                    purpose=self.purpose,
                    phase=self.phase,
                    lead=self.lead,
                    dwelling=dwelling,
                    categories=[c.id for c in self.covenant.categories],
                    team=team,
                    permission=self.permission,
                    **state,
                ),
            )


def _bases() -> list[Base]:
    bases = []
    for covenant in (COVENANTS[c] for c in sorted(COVENANTS)):
        casework = {r.id for r in covenant.roles if r.kind == "casework"}
        corporations = [p.id for p in covenant.partners if p.kind == "housing-corporation"]
        plans = BUNDLE.data["ketenpoort"]["covenants"][covenant.id]["plans"]
        needs_permission = any(
            "corporation-permission" in c.condition_names for c in covenant.clauses
        )
        for key in sorted(plans):
            role, purpose, phase = key.split("|")
            if role not in casework:
                continue
            leads = _always_lead(covenant)
            for partner in (p.id for p in covenant.partners if role in p.roles):
                if partner in leads:
                    continue
                own = [partner] if partner in corporations else []
                landlords = [*own, next(c for c in corporations if c != partner)]
                dwellings = [
                    *({"ownership": "corporation", "corporation": c} for c in landlords),
                    {"ownership": "owner-occupied"},
                ]
                for dwelling in dwellings:
                    for permission in (True, False) if needs_permission else (True,):
                        for police_in_team in (True, False):
                            bases.append(
                                Base(
                                    covenant,
                                    (partner, role),
                                    purpose,
                                    phase,
                                    _lead(covenant, partner),
                                    tuple(sorted(dwelling.items())),
                                    permission,
                                    police_in_team,
                                )
                            )
    return bases


BASES = _bases()
#: The slower engines scan a seeded sample of the same bases.
SAMPLE = {"regopy": 60, "opa-go": 250}


def test_the_scan_covers_the_finding_and_every_non_lead_casework_role() -> None:
    """Not vacuous: the scan holds the finding's request (another corporation asking for
    the sfeerverslag while the landlord has not recorded its procedure), and every casework
    role of both covenants that a clause names and a partner without the lead holds (in
    Utrecht U Centraal's case manager always leads; in Rijswijk the municipality's hands the
    lead over)."""
    found = {
        (b.covenant.id, b.requester, b.phase)
        for b in BASES
        if b.purpose == EVICTION
        and dict(b.dwelling).get("corporation")
        == SFEER_CASES.get(b.covenant.id, ("", "", "", ""))[1]
    }
    for covenant_id, (phase, _, other, _) in SFEER_CASES.items():
        assert (covenant_id, (other, "woonconsulent"), phase) in found
    for covenant in COVENANTS.values():
        leads = _always_lead(covenant)
        casework = {r.id for r in covenant.roles if r.kind == "casework"}
        held = {r for p in covenant.partners if p.id not in leads for r in p.roles}
        named = {r for c in covenant.clauses for r in c.roles} & casework & held
        scanned = {b.requester[1] for b in BASES if b.covenant.id == covenant.id}
        assert named <= scanned, named - scanned


@pytest.mark.parametrize("name", sorted(ENGINE_CLASSES))
def test_reasons_do_not_change_with_a_fact_the_requester_may_not_see(name: str) -> None:
    engine = loaded_engine(name)
    bases = BASES
    if name in SAMPLE:
        bases = random.Random(6).sample(BASES, SAMPLE[name])
    differing: dict[tuple[Any, ...], set[tuple[str, ...]]] = {}
    compared = decisions = 0
    for base in bases:
        told: dict[tuple[Any, ...], set[tuple[str, ...]]] = {}
        for group, doc in base.docs():
            decisions += 1
            decision = engine.decide(PolicyInput.model_validate(doc))
            for category, verdict in decision.categories.items():
                if verdict.outcome == "redact":
                    told.setdefault((category, group), set()).add(tuple(verdict.reasons))
        for (category, _), reasons in told.items():
            compared += 1
            if len(reasons) > 1:
                key = (base.covenant.id, base.requester, base.purpose, base.phase, category)
                differing.setdefault(key, set()).update(reasons)
    assert decisions > 0
    assert compared > 0
    print(f"{name}: {len(bases)} states, {decisions} decisions, {compared} redactions compared")
    assert differing == {}, "the reasons tell a fact the requester may not see"


def test_the_om_consent_is_still_told_to_the_lead_that_asks_for_the_antecedents(
    engine: Any,
) -> None:
    """The scan's other side: the case lead whose role the antecedents clause names sees
    the investigation (summary_readers) and is still told how the OM consent fails."""
    covenant = COVENANTS["utrecht-extreme-woonoverlast"]
    clause = next(c for c in covenant.clauses if OM_CONDITION in c.condition_names)
    (category,) = clause.categories
    doc = _doc(
        covenant,
        ("u-centraal", "casemanager"),
        purpose=clause.purposes[0],
        phase=clause.phases[0],
        lead="u-centraal",
        dwelling={"ownership": "owner-occupied"},
        categories=[category],
        investigation=None,
    )
    verdict = engine.decide(PolicyInput.model_validate(doc)).categories[category]
    assert verdict.reasons == ["investigation-status-unknown", "om-consent-missing"]
