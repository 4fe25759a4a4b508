"""The differential check: regorus's RVM (the gateway's embedded engine), regorus's
interpreter, rego-cpp (regopy) and OPA's own Go evaluator (opa-go, as the production OPA
server) return the same decision, every field of it (allow, each category's outcome,
answer, clause ids and reasons, the request errors, the revision), for every request.

A check that only ever sees denials proves little: a random request is almost never
allowed. So each request starts from one that a clause allows (tests/policy/test_clauses.py
``allowed_request``, by a random recipient of a random clause and category) and then, most
of the time, one to three ways of failing are applied (a wrong role, purpose or phase, the
requester outside the team, a missing, expired or open-ended consent, an unrecorded event,
investigation status or pollution of the dwelling, an unknown covenant, partner or category,
another category asked along). The run must reach at least a third allowed decisions, a
third with a redaction, every clause allowed at least once and every reason code of the
policy (its ``reason_order``) at least once; it prints these proportions. Seeded: the same
requests on every run, so a failure reproduces.

Most of those ask one category; the gateway's requests usually ask several, and one
evaluation then discloses some and redacts others. A second run (``generate_several``) asks
each request's category together with one to four more of its covenant, and must reach a
quarter of decisions that disclose and redact at once, a third allowed, and every reason
code.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import orjson
import pytest

from gateway.policy.engine import ENGINE_FAILURES
from gateway.policy.regotest import ENGINES
from gateway.policy.schemas import Decision, PolicyInput
from tests.policy.conftest import BUNDLE, COVENANTS, loaded_engine
from tests.policy.test_clauses import CASES, NOW, ClauseCase, allowed_request

REQUESTS = 400
SEED = 15
ENGINE_NAMES = ["regorus", "regopy", "opa-go"]  # each compared with regorus's interpreter
#: An engine that could not decide, or whose answer the gateway refused (inconsistent-result):
#: a generated request must be decided by the reference.
FAILED_CLOSED = ENGINE_FAILURES

Doc = dict[str, Any]
Change = Callable[[Doc, ClauseCase, random.Random], None]


# --- ways a request can fail (or, for some, still be allowed) ------------------------------


def _partners(case: ClauseCase, kind: str | None = None) -> list[str]:
    return [p.id for p in case.covenant.partners if kind is None or p.kind == kind]


def _consents(doc: Doc, kind: str) -> list[Doc]:
    return [c for c in doc["consents"] if c["kind"] == kind]


def other_role(doc: Doc, case: ClauseCase, rng: random.Random) -> None:
    partner = rng.choice(case.covenant.partners)
    doc["requester"].update(partner=partner.id, role=rng.choice(partner.roles))
    doc["case"]["team"] = [*doc["case"]["team"], partner.id]


def role_not_held(doc: Doc, case: ClauseCase, rng: random.Random) -> None:
    held = {p.id: p.roles for p in case.covenant.partners}.get(doc["requester"]["partner"], [])
    others = sorted({r.id for r in case.covenant.roles} - set(held))
    if others:
        doc["requester"]["role"] = rng.choice(others)


def unknown_partner(doc: Doc, case: ClauseCase, rng: random.Random) -> None:
    doc["requester"]["partner"] = "no-such-partner"


def unknown_covenant(doc: Doc, case: ClauseCase, rng: random.Random) -> None:
    doc["case"]["covenant"] = "no-such-covenant"


def unknown_purpose(doc: Doc, case: ClauseCase, rng: random.Random) -> None:
    doc["purpose"] = "gossip"


def other_purpose(doc: Doc, case: ClauseCase, rng: random.Random) -> None:
    doc["purpose"] = rng.choice(case.covenant.purposes).id


def unknown_phase(doc: Doc, case: ClauseCase, rng: random.Random) -> None:
    doc["case"]["phase"] = "no-such-phase"


def other_phase(doc: Doc, case: ClauseCase, rng: random.Random) -> None:
    doc["case"]["phase"] = rng.choice(case.covenant.phases).id


def unknown_category(doc: Doc, case: ClauseCase, rng: random.Random) -> None:
    doc["categories"] = [*doc["categories"], "no-such-category"]


def another_category(doc: Doc, case: ClauseCase, rng: random.Random) -> None:
    doc["categories"] = [*doc["categories"], rng.choice(case.covenant.categories).id]


def requester_leaves_team(doc: Doc, case: ClauseCase, rng: random.Random) -> None:
    doc["case"]["team"] = [p for p in doc["case"]["team"] if p != doc["requester"]["partner"]]


def police_leaves_team(doc: Doc, case: ClauseCase, rng: random.Random) -> None:
    police = set(_partners(case, "police"))
    doc["case"]["team"] = [p for p in doc["case"]["team"] if p not in police]


def other_lead(doc: Doc, case: ClauseCase, rng: random.Random) -> None:
    doc["case"]["lead"] = rng.choice([None, *_partners(case)])


def other_landlord(doc: Doc, case: ClauseCase, rng: random.Random) -> None:
    doc["case"]["dwelling"] = {
        "ownership": "corporation",
        "corporation": rng.choice(_partners(case, "housing-corporation")),
    }


def not_rented_from_a_corporation(doc: Doc, case: ClauseCase, rng: random.Random) -> None:
    doc["case"]["dwelling"] = {"ownership": rng.choice(["owner-occupied", "private-rental"])}


def events_not_recorded(doc: Doc, case: ClauseCase, rng: random.Random) -> None:
    doc["case"]["events"] = []


def events_recorded_by_another(doc: Doc, case: ClauseCase, rng: random.Random) -> None:
    for event in doc["case"]["events"]:
        event["partner"] = rng.choice(_partners(case))


def pollution_not_established(doc: Doc, case: ClauseCase, rng: random.Random) -> None:
    # U §5.4: not recorded by the lead, or recorded as no.
    doc["case"]["dwellingPollution"] = rng.choice([None, False])


def corporation_dwelling_without_permission(doc: Doc, case: ClauseCase, rng: random.Random) -> None:
    if doc["case"]["dwelling"]["ownership"] != "corporation":
        other_landlord(doc, case, rng)
    doc["consents"] = [c for c in doc["consents"] if c["kind"] != "corporation-permission"]


def permission_expired(doc: Doc, case: ClauseCase, rng: random.Random) -> None:
    for consent in _consents(doc, "corporation-permission"):
        consent["expiresAt"] = NOW - timedelta(days=rng.randint(0, 5))


def permission_open_ended_or_later(doc: Doc, case: ClauseCase, rng: random.Random) -> None:
    # Still allowed: an open-ended permission, or one that expires later.
    for consent in _consents(doc, "corporation-permission"):
        consent["expiresAt"] = rng.choice([None, NOW + timedelta(seconds=rng.randint(1, 9))])


def permission_for_another_case(doc: Doc, case: ClauseCase, rng: random.Random) -> None:
    for consent in _consents(doc, "corporation-permission"):
        consent["case"] = "case-2"


def investigation_unknown(doc: Doc, case: ClauseCase, rng: random.Random) -> None:
    # Unknown is not no: treated as if one runs, so the OM consent is needed (and dropped).
    doc["case"]["policeInvestigation"] = None
    doc["consents"] = [c for c in doc["consents"] if c["kind"] != "om-consent"]


def investigation_without_om_consent(doc: Doc, case: ClauseCase, rng: random.Random) -> None:
    doc["case"]["policeInvestigation"] = True
    doc["consents"] = [c for c in doc["consents"] if c["kind"] != "om-consent"]


def no_investigation(doc: Doc, case: ClauseCase, rng: random.Random) -> None:
    doc["case"]["policeInvestigation"] = False


def om_consent_expired(doc: Doc, case: ClauseCase, rng: random.Random) -> None:
    for consent in _consents(doc, "om-consent"):
        consent["expiresAt"] = NOW - timedelta(seconds=rng.randint(0, 9))


def om_consent_open_ended(doc: Doc, case: ClauseCase, rng: random.Random) -> None:
    for consent in _consents(doc, "om-consent"):
        consent["expiresAt"] = None


def om_consent_not_yet_granted(doc: Doc, case: ClauseCase, rng: random.Random) -> None:
    for consent in _consents(doc, "om-consent"):
        consent["grantedAt"] = NOW + timedelta(days=1)


def om_consent_for_another_category(doc: Doc, case: ClauseCase, rng: random.Random) -> None:
    others = [c.id for c in case.covenant.categories if c.id not in doc["categories"]]
    for consent in _consents(doc, "om-consent"):
        consent["categories"] = [rng.choice(others)]


CHANGES: list[Change] = [
    other_role,
    role_not_held,
    unknown_partner,
    unknown_covenant,
    unknown_purpose,
    other_purpose,
    unknown_phase,
    other_phase,
    unknown_category,
    another_category,
    requester_leaves_team,
    police_leaves_team,
    other_lead,
    other_landlord,
    not_rented_from_a_corporation,
    events_not_recorded,
    events_recorded_by_another,
    pollution_not_established,
    corporation_dwelling_without_permission,
    permission_expired,
    permission_open_ended_or_later,
    permission_for_another_case,
    investigation_unknown,
    investigation_without_om_consent,
    no_investigation,
    om_consent_expired,
    om_consent_open_ended,
    om_consent_not_yet_granted,
    om_consent_for_another_category,
]


@dataclass(frozen=True)
class Generated:
    request: PolicyInput
    #: How it was made: the clause and category it starts from, then the changes.
    recipe: str


#: Changes that leave the request allowed: they only need to alter it.
STILL_ALLOWED = {permission_open_ended_or_later, no_investigation}


def _bites(change: Change, case: ClauseCase, recipient: int, rng: random.Random) -> Doc | None:
    """The clause's allowed request with the change applied, if the change alters the decision
    (regorus's interpreter decides; the engines are compared later) or, for a change in
    ``STILL_ALLOWED``, the request."""
    doc = allowed_request(case, recipient)
    before = orjson.dumps(doc, default=str)
    change(doc, case, rng)
    if orjson.dumps(doc, default=str) == before:
        return None
    if change in STILL_ALLOWED:
        return doc
    decide = loaded_engine("regorus-interpreter").decide
    allowed = decide(PolicyInput.model_validate(allowed_request(case, recipient)))
    changed = decide(PolicyInput.model_validate(doc))
    return doc if comparable(changed) != comparable(allowed) else None


def generate(count: int, seed: int) -> list[Generated]:
    """``count`` requests: two in five as a clause allows them; the others each made with one
    change in turn, on a clause and recipient where it bites (an OM consent change only
    matters for a clause that needs OM consent), then up to two more at random."""
    rng = random.Random(seed)
    generated = []
    for i in range(count):
        case = rng.choice(CASES)
        recipient = rng.randrange(len(case.clause.recipients))
        doc = allowed_request(case, recipient)
        changes: list[Change] = []
        if rng.random() >= 0.4:
            first = CHANGES[i % len(CHANGES)]
            for _ in range(300):
                case = rng.choice(CASES)
                recipient = rng.randrange(len(case.clause.recipients))
                bitten = _bites(first, case, recipient, rng)
                if bitten is not None:
                    doc, changes = bitten, [first]
                    break
            for change in rng.sample(CHANGES, rng.choice([0, 0, 1, 2])):
                change(doc, case, rng)
                changes.append(change)
        recipe = " + ".join([f"{case.id} by recipient {recipient}", *(c.__name__ for c in changes)])
        generated.append(Generated(PolicyInput.model_validate(doc), recipe))
    return generated


#: Requests for several categories at once (the gateway's usual request, and the shape of
#: bench/bench_policy.py's): fewer, since rego-cpp needs ~30 ms a decision.
SEVERAL_REQUESTS = 150


def generate_several(count: int, seed: int) -> list[Generated]:
    """``count`` requests from ``generate``, each asking one to four more categories of its
    covenant besides its own (in a random order, now and then with an unknown one or one
    asked twice): most decisions then disclose some categories and redact others, each for
    its own reasons, in one evaluation, and the change a request was made with still bites
    on the category it was made for."""
    rng = random.Random(seed)
    several = []
    for generated in generate(count, seed):
        doc = generated.request.model_dump(by_alias=True)
        covenant = COVENANTS.get(generated.request.case.covenant)
        known = [c.id for c in covenant.categories] if covenant else ["a-category", "another"]
        asked = generated.request.categories
        others = [c for c in known if c not in asked]
        categories = [*asked, *rng.sample(others, rng.randint(1, min(4, len(others))))]
        rng.shuffle(categories)
        if rng.random() < 0.1:
            categories.append("no-such-category")
        if rng.random() < 0.05:
            categories.append(categories[0])
        doc["categories"] = categories
        recipe = f"{generated.recipe}, asking {', '.join(categories)}"
        several.append(Generated(PolicyInput.model_validate(doc), recipe))
    return several


# --- comparing and counting ------------------------------------------------------------------


def comparable(decision: Decision) -> Any:
    """Every field of a decision but its id and the engine's name."""
    return (
        decision.allow,
        decision.clauses,
        decision.errors,
        decision.bundle_revision,
        {c: (d.outcome, d.answer, d.clauses, d.reasons) for c, d in decision.categories.items()},
    )


def reason_codes() -> list[str]:
    """The policy's own list of reason codes (``reason_order`` in authz.rego)."""
    evaluator = ENGINES["regorus"].factory(BUNDLE.modules, orjson.dumps(BUNDLE.data).decode(), [])
    codes = evaluator.rule("data.ketenpoort.authz.reason_order", "{}")
    assert isinstance(codes, list)
    assert codes
    return [str(code) for code in codes]


def _strings(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return set(value).union(*(_strings(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_strings(v) for v in value))
    return set()


def producible_reason_codes() -> list[str]:
    """The reason codes this bundle can give: those the compiled covenants hold (a clause's
    conditions, relations and static reasons are compiled into the verdict tables) and those
    the Rego writes itself (the request errors, ``unknown-category``, the OM consent states).
    A code of ``reason_order`` that no clause of these covenants can cause (e.g.
    ``not-event-recorder`` without a recipient bound to recording an event) is not."""
    compiled = {_code(part) for text in _strings(BUNDLE.data) for part in text.split(",")}
    rego = "\n".join(BUNDLE.modules.values())
    return [code for code in reason_codes() if code in compiled or rego.count(f'"{code}"') >= 2]


def _code(reason: str) -> str:
    return reason.split(":", 1)[0]  # "event-not-recorded:<event>" is the code with its event


@dataclass
class Tally:
    decisions: int = 0
    allowed: int = 0
    with_redaction: int = 0
    request_errors: int = 0
    clauses_allowed: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)

    def add(self, decision: Decision) -> None:
        self.decisions += 1
        self.allowed += decision.allow
        self.with_redaction += any(d.outcome == "redact" for d in decision.categories.values())
        self.request_errors += bool(decision.errors)
        self.clauses_allowed.update(decision.clauses)
        self.reasons.update(_code(r) for d in decision.categories.values() for r in d.reasons)

    def lines(self) -> list[str]:
        n = self.decisions
        return [
            f"differential: {n} requests on regorus-interpreter, {', '.join(ENGINE_NAMES)}",
            f"  allowed {self.allowed} ({self.allowed / n:.0%}), with a redaction "
            f"{self.with_redaction} ({self.with_redaction / n:.0%}), request errors "
            f"{self.request_errors} ({self.request_errors / n:.0%})",
            f"  clauses allowed: {len(self.clauses_allowed)} ("
            + ", ".join(f"{c} {k}" for c, k in sorted(self.clauses_allowed.items()))
            + ")",
            f"  reason codes: {len(self.reasons)} of the {len(producible_reason_codes())} this "
            "bundle can give ("
            + ", ".join(f"{c} {k}" for c, k in sorted(self.reasons.items()))
            + "); "
            "in reason_order but no clause can cause it: "
            + (", ".join(sorted(set(reason_codes()) - set(producible_reason_codes()))) or "none"),
        ]


def disagreements(engines: dict[str, Any], requests: list[Generated], tally: Tally) -> list[str]:
    """Each decision of ``engines`` that differs from regorus's interpreter in any field."""
    reference_engine = loaded_engine("regorus-interpreter")
    found: list[str] = []
    for generated in requests:
        reference = reference_engine.decide(generated.request)
        assert not set(reference.errors) & FAILED_CLOSED, generated.recipe
        tally.add(reference)
        for name, engine in engines.items():
            decision = engine.decide(generated.request)
            if comparable(decision) != comparable(reference):
                found.append(
                    f"{name}: {generated.recipe}: {comparable(decision)} != {comparable(reference)}"
                )
    return found


def test_engines_agree_on_every_field_of_allowed_and_denied_decisions(
    record_property: Callable[[str, object], None],
) -> None:
    tally = Tally()
    engines = {name: loaded_engine(name) for name in ENGINE_NAMES}
    found = disagreements(engines, generate(REQUESTS, SEED), tally)
    lines = tally.lines()
    record_property("summary", "\n".join(lines))
    print("\n".join(lines))
    assert found == []
    assert tally.allowed * 3 >= tally.decisions, lines
    assert tally.with_redaction * 3 >= tally.decisions, lines
    every_clause = {c.id for covenant in COVENANTS.values() for c in covenant.clauses}
    assert every_clause - set(tally.clauses_allowed) == set(), "clauses never allowed"
    assert set(producible_reason_codes()) - set(tally.reasons) == set(), "codes never produced"
    assert set(tally.reasons) <= set(reason_codes()), "a reason code outside reason_order"


def test_engines_agree_on_requests_for_several_categories(
    record_property: Callable[[str, object], None],
) -> None:
    tally = Tally()
    engines = {name: loaded_engine(name) for name in ENGINE_NAMES}
    requests = generate_several(SEVERAL_REQUESTS, SEED)
    found = disagreements(engines, requests, tally)
    reference = loaded_engine("regorus-interpreter")
    outcomes = [
        {d.outcome for d in reference.decide(g.request).categories.values()} for g in requests
    ]
    mixed = sum(outcome == {"disclose", "redact"} for outcome in outcomes)
    lines = [
        *tally.lines(),
        f"  disclosed and redacted in one decision {mixed} ({mixed / len(requests):.0%})",
    ]
    record_property("summary", "\n".join(lines))
    print("\n".join(lines))
    assert found == []
    # The interesting half: decisions that disclose some categories and redact others.
    assert mixed * 4 >= len(requests), lines
    assert tally.allowed * 3 >= tally.decisions, lines
    assert set(producible_reason_codes()) - set(tally.reasons) == set(), "codes never produced"


class _ReasonsInAnotherOrder:
    """regorus's RVM, except that a redaction with several reasons lists them reversed."""

    def __init__(self) -> None:
        self._inner = loaded_engine("regorus")

    def decide(self, request: PolicyInput) -> Decision:
        decision = self._inner.decide(request)
        categories = {
            name: verdict.model_copy(update={"reasons": verdict.reasons[::-1]})
            for name, verdict in decision.categories.items()
        }
        return decision.model_copy(update={"categories": categories})


def test_an_engine_differing_only_in_the_order_of_reasons_is_caught() -> None:
    found = disagreements({"reordered": _ReasonsInAnotherOrder()}, generate(100, SEED), Tally())
    assert found
    assert all(line.startswith("reordered: ") for line in found)


def test_generated_requests_are_the_same_on_every_run() -> None:
    first = [g.request.document() for g in generate(20, SEED)]
    assert first == [g.request.document() for g in generate(20, SEED)]
    assert first != [g.request.document() for g in generate(20, SEED + 1)]


@pytest.mark.parametrize("change", CHANGES, ids=[c.__name__ for c in CHANGES])
def test_every_change_alters_some_request(change: Change) -> None:
    # A change that never does anything would make the generator's variety a fiction.
    rng = random.Random(SEED)
    altered = 0
    for case in CASES:
        doc = allowed_request(case)
        before = orjson.dumps(doc, default=str)
        change(doc, case, rng)
        altered += orjson.dumps(doc, default=str) != before
    assert altered > 0
