"""``gateway/exchange/fact_readers.py`` re-states in Python who receives a category on a
case (a clause's recipient role, with the relation the clause binds it to: the landlord, the
lead, the recorder of an event), which ``policies/rego/authz.rego`` decides. This checks the
two agree, so that neither can drift from the other silently.

The rule claims to ignore *when* a recipient may read (purpose, phase, the case team,
consents, the events a clause requires, the investigation, pollution of the dwelling). So the
engine (regorus, the gateway's embedded one) is asked with every "when" made to hold: every
partner in the team, the landlord's permission, no investigation, pollution recorded by the
lead, each event a clause requires recorded (by no
partner of the covenant, so that no one gains the recorder relation by it), every category
at once, under every purpose and in every phase. What is left to differ is the role and the
relation: a category is disclosed to the role under some purpose and phase exactly when
``received_categories`` names it. The relations vary with the cases of the policy's
differential check (``generate``: another lead, another landlord, no corporation dwelling,
events recorded by another partner ...; and each corporation dwelling once not rented from
its corporation), for every role of every partner of both covenants. Neither packaged
covenant binds a recipient to ``event-recorder`` (tests/policy/test_relation_event_recorder.py
tests that relation on a covenant of its own), so it is not covered here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from gateway.exchange import fact_readers
from gateway.policy.covenant import Covenant
from gateway.policy.schemas import CaseContext, PolicyInput
from tests.cases.builders import PARTNERS
from tests.policy.conftest import COVENANTS, loaded_engine
from tests.policy.test_differential import generate

CASES = 160
SEED = 15
NOT_A_PARTNER = "no-partner-of-the-covenant"


def _relations(count: int) -> list[CaseContext]:
    """The generated requests' cases of a known covenant, one per distinct set of relations
    (lead, dwelling, events)."""
    seen: dict[str, CaseContext] = {}
    for generated in generate(count, SEED):
        case = generated.request.case
        if case.covenant not in COVENANTS:
            continue
        variants = [case]
        if case.dwelling.ownership == "corporation":
            # The corporation recorded, the dwelling not rented from it: no landlord.
            dwelling = case.dwelling.model_copy(update={"ownership": "private-rental"})
            variants.append(case.model_copy(update={"dwelling": dwelling}))
        for variant in variants:
            key = variant.model_dump_json(include={"covenant", "lead", "dwelling", "events"})
            seen.setdefault(key, variant)
    return list(seen.values())


def _when_holds(covenant: Covenant, case: CaseContext) -> dict[str, Any]:
    """The case with every condition but the relations made to hold (see the module)."""
    doc = case.model_dump(by_alias=True)
    doc["team"] = [p.id for p in covenant.partners]
    doc["policeInvestigation"] = False
    doc["dwellingPollution"] = True  # U §5.4: the lead recorded it (a "when", not a "who")
    required = {
        c.event for clause in covenant.clauses for c in clause.conditions if not isinstance(c, str)
    }
    # Recorded by the landlord, its ``recordedBy``: an event counts only while its recorder
    # is the dwelling's corporation. (No packaged covenant binds a recipient to having
    # recorded one, so the landlord gains no relation by it.) A dwelling without a landlord
    # has none that counts: see ``_needs_the_landlords_event``.
    dwelling = doc["dwelling"]
    recorder = dwelling.get("corporation") if dwelling.get("ownership") == "corporation" else None
    doc["events"] = [
        *doc["events"],
        *({"kind": e, "partner": recorder or NOT_A_PARTNER} for e in sorted(required)),
    ]
    return doc


def _needs_the_landlords_event(
    covenant: Covenant, case: CaseContext, role: str, category: str
) -> bool:
    """Whether every clause giving ``role`` the category requires an event while the dwelling
    has no landlord to record it: the policy never discloses it then, whatever the relations,
    and fact_readers (which ignores the events a clause requires) is not asked about it."""
    if case.dwelling.ownership == "corporation" and case.dwelling.corporation:
        return False
    clauses = [
        clause
        for clause in covenant.clauses
        if category in clause.categories and any(r.role == role for r in clause.recipients)
    ]
    return bool(clauses) and all(
        any(not isinstance(c, str) for c in clause.conditions) for clause in clauses
    )


def _disclosed(covenant: Covenant, case: CaseContext, partner: str, role: str) -> frozenset[str]:
    """The categories the engine discloses to ``partner`` in ``role`` on ``case`` under some
    purpose and in some phase, every other condition holding."""
    decide = loaded_engine("regorus").decide
    now = generate(1, SEED)[0].request.now
    doc = _when_holds(covenant, case)
    consents = []
    if doc["dwelling"].get("ownership") == "corporation":
        consents.append(
            {
                "partner": doc["dwelling"]["corporation"],
                "kind": "corporation-permission",
                "case": case.id,
                "grantedAt": now - timedelta(days=1),
            }
        )
    disclosed: set[str] = set()
    for purpose in covenant.purposes:
        for phase in covenant.phases:
            request = PolicyInput.model_validate(
                {
                    "requester": {"partner": partner, "role": role, "user": "pseudo-1"},
                    "case": {**doc, "phase": phase.id},
                    "categories": [c.id for c in covenant.categories],
                    "purpose": purpose.id,
                    "consents": consents,
                    "now": now,
                }
            )
            decision = decide(request)
            disclosed |= {c for c, v in decision.categories.items() if v.outcome == "disclose"}
    return frozenset(disclosed)


def _pairs(cases: list[CaseContext]) -> Iterator[tuple[str, str, str, str, bool, bool]]:
    """(covenant, partner, role, category, fact_readers says, the engine says) for every
    role of every partner, every category, on every case."""
    for case in cases:
        covenant = COVENANTS[case.covenant]
        for partner in covenant.partners:
            for role in partner.roles:
                principal = PARTNERS.principal(
                    partner_id=partner.id,
                    role=role,
                    user="pseudo-1",
                    token_id="test",
                    expires_at=generate(1, SEED)[0].request.now + timedelta(minutes=5),
                )
                says = fact_readers.received_categories(covenant, case, principal)
                engine = _disclosed(covenant, case, partner.id, role)
                for category in covenant.categories:
                    if _needs_the_landlords_event(covenant, case, role, category.id):
                        continue
                    yield (
                        covenant.id,
                        partner.id,
                        role,
                        category.id,
                        category.id in says,
                        category.id in engine,
                    )


def _bound(covenant: Covenant, role: str, category: str) -> bool:
    """Whether the role receives the category only where a clause binds it to a relation."""
    recipients = [
        r
        for clause in covenant.clauses
        if category in clause.categories
        for r in clause.recipients
        if r.role == role
    ]
    return bool(recipients) and all(r.relation is not None for r in recipients)


def test_fact_readers_name_the_recipients_the_policy_allows(
    capsys: pytest.CaptureFixture[str],
) -> None:
    cases = _relations(CASES)
    tally: Counter[str] = Counter()
    disagree = []
    for covenant_id, partner, role, category, says, engine in _pairs(cases):
        bound = _bound(COVENANTS[covenant_id], role, category)
        tally[f"{'allowed' if engine else 'refused'}{' (by relation)' if bound else ''}"] += 1
        tally[covenant_id] += 1
        if says != engine:
            disagree.append((covenant_id, partner, role, category, says, engine))
    total = sum(tally[c] for c in COVENANTS)
    with capsys.disabled():
        print(f"\nfact_readers vs regorus: {len(cases)} cases, {total} (partner, role, category)")
        for key, n in sorted(tally.items()):
            print(f"  {key}: {n} ({n / total:.1%})")
    assert not disagree, disagree[:10]
    # The check covers both answers, and both answers of a relation.
    for key in ("allowed", "refused", "allowed (by relation)", "refused (by relation)"):
        assert tally[key] > 0, key
    assert all(tally[c] > 0 for c in COVENANTS)
