"""Compile covenants into the data document the Rego modules in ``policies/rego`` interpret."""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import policies
from gateway.policy.covenant import Clause, Covenant

#: Everything the bundle holds lives under this data path; also the manifest's root.
DATA_ROOT = "ketenpoort"


def default_rego_dir() -> Path:
    return Path(policies.__file__).parent / "rego"


def _flags(values: Iterable[str]) -> dict[str, bool]:
    # Objects of flags, not arrays: membership is a constant-time lookup in Rego.
    return {value: True for value in values}


def _clause_data(clause: Clause) -> dict[str, Any]:
    return {
        "id": clause.id,
        "provider": clause.provider,
        "recipients": _flags(clause.roles),
        "purposes": _flags(clause.purposes),
        "phases": _flags(clause.phases),
        "conditions": _flags(clause.condition_names),
    }


def compile_covenant(covenant: Covenant) -> dict[str, Any]:
    """The data one covenant contributes, under ``data.ketenpoort.covenants[<id>]``.

    Lookup tables, so the Rego decision never iterates over clauses: ``plans`` answers
    "which verdict" with a few key lookups, ``staticReasons`` explains the redaction of a
    category no clause may grant to the request (by its role, purpose and phase alone: see
    ``_reasons`` for why nothing of the case's state is told then).
    """
    clauses = sorted(covenant.clauses, key=lambda c: c.id)
    grants = _grants(covenant)
    redaction = _redaction(covenant)
    om_categories = sorted(
        {k for c in clauses if OM_CONDITION in c.condition_names for k in c.categories}
    )
    # The case-level dynamic conditions (not a recipient's relation), in reason order.
    used = {name for clause in clauses for name in clause.condition_names}
    condition_order = sorted((c for c in used if c != OM_CONDITION), key=_condition_rank)
    answers = {c.id: c.answer for c in covenant.categories}
    category_conditions = {
        category: [c for c in condition_order if f"condition:{c}" in why]
        for category, why in redaction.items()
    }
    return {
        "name": covenant.name,
        "partners": {p.id: {"kind": p.kind, "roles": _flags(p.roles)} for p in covenant.partners},
        "purposes": _flags(p.id for p in covenant.purposes),
        "phases": _flags(p.id for p in covenant.phases),
        "categories": {
            c.id: {
                "owner": c.owner,
                "sensitivity": c.sensitivity,
                "special": c.special,
                "answer": c.answer,
            }
            for c in covenant.categories
        },
        "clauses": {c.id: _clause_data(c) for c in clauses},
        # Per category, the reason a role, a purpose and a phase of the request give when a
        # clause of the category does not allow it.
        "staticReasons": {
            category: {kind: _facts_of(why, kind) for kind in ("role", "purpose", "phase")}
            for category, why in sorted(redaction.items())
        },
        "corporations": _flags(p.id for p in covenant.partners if p.kind == "housing-corporation"),
        # Categories with a clause that needs OM consent while an investigation runs (or
        # while nobody recorded whether one runs).
        "omConsent": _flags(om_categories),
        # Condition name -> the case event it requires (``event:<id>``), or whose recorder
        # the requester must be (``relation:event-recorder:<id>``).
        "eventConditions": {c: c.removeprefix("event:") for c in used if c.startswith("event:")},
        "recorderConditions": {
            r.condition: r.event
            for clause in clauses
            for r in clause.recipients
            if r.event is not None and r.condition is not None
        },
        "plans": _plans(grants, redaction, category_conditions, set(om_categories), answers),
        "police": _flags(p.id for p in covenant.partners if p.kind == "police"),
    }


Grant = dict[str, Any]


def _grants(covenant: Covenant) -> dict[str, dict[str, list[Grant]]]:
    """Clauses indexed by ``role|purpose|phase`` and category: the static part of a decision.
    A recipient bound to a relation adds that relation to the grant's conditions.

    Precomputed so that the Rego decision only evaluates the dynamic conditions (team,
    consents, events, relations) of the few clauses that can apply.
    """
    grants: dict[str, dict[str, list[Grant]]] = {}
    for clause in sorted(covenant.clauses, key=lambda c: c.id):
        for recipient in clause.recipients:
            conditions = list(clause.condition_names)
            if recipient.condition is not None:
                conditions.append(recipient.condition)
            for purpose in clause.purposes:
                for phase in clause.phases:
                    by_category = grants.setdefault(f"{recipient.role}|{purpose}|{phase}", {})
                    for category_id in clause.categories:
                        by_category.setdefault(category_id, []).append(
                            {"id": clause.id, "conditions": _flags(conditions)}
                        )
    return grants


#: A failing dynamic condition's reason code, in reason order (policies/rego/authz.rego).
CONDITION_REASONS = {
    "case-team": "not-in-case-team",
    "relation:dwelling-landlord": "not-dwelling-landlord",
    "relation:case-lead": "not-case-lead",
    "relation:event-recorder": "not-event-recorder",
    "corporation-permission": "corporation-permission-missing",
    "police-in-case-team": "police-not-in-case-team",
    "dwelling-pollution": "dwelling-pollution-not-established",
    "event": "event-not-recorded",
}
OM_CONDITION = "om-consent-if-investigation"
OM_REASONS = ("om-consent-missing", "om-consent-expired")
#: Nobody recorded whether an investigation runs: treated as if one runs (U §5.3; unknown
#: is not no), and said so before the consent's own reason.
STATUS_UNKNOWN = "investigation-status-unknown"
OM_STATES = (*OM_REASONS, *(f"{STATUS_UNKNOWN},{r}" for r in OM_REASONS))
#: The reasons that tell how the OM consent fails, and with it whether a police
#: investigation runs: the status is unknown, the consent is missing (one runs) or expired
#: (one was given). ``_reasons`` gives them only to a requester that a clause needing the
#: consent names; the audit log shows them only to the partners that were told them or
#: know (gateway/audit/reports.py, ``LogReader``).
INVESTIGATION_REASONS = frozenset((STATUS_UNKNOWN, *OM_REASONS))
#: What any other reader of the log is shown for each of them: the same code whatever the
#: status and the consent, so it tells neither (review3, finding 1). Never given by the
#: policy itself.
OM_CONDITION_UNMET = "om-consent-condition-not-met"


def tells_investigation(reason: str) -> bool:
    """Whether a refusal's reason (one code, or codes joined by ",") tells how the OM
    consent fails."""
    return not INVESTIGATION_REASONS.isdisjoint(reason.split(","))


def _condition_kind(name: str) -> str:
    """``event:x`` -> ``event``, ``relation:event-recorder:x`` -> ``relation:event-recorder``."""
    if name.startswith("event:"):
        return "event"
    if name.startswith("relation:event-recorder:"):
        return "relation:event-recorder"
    return name


def _condition_rank(name: str) -> tuple[int, str]:
    return (list(CONDITION_REASONS).index(_condition_kind(name)), name)


def condition_reason(name: str) -> str:
    """The reason code of a failing dynamic condition; an event's names the event."""
    reason = CONDITION_REASONS[_condition_kind(name)]
    return f"{reason}:{name.removeprefix('event:')}" if name.startswith("event:") else reason


def _redaction(covenant: Covenant) -> dict[str, dict[str, str]]:
    """Per category: each fact of a request that fails one of the category's clauses, mapped
    to its reason code. A redacted category lists the reasons of all its clauses' failures
    (their union), so a fact is listed when it fails at least one clause:

    - ``role:<role>``, ``purpose:<purpose>``, ``phase:<phase>``: a clause of the category
      does not allow it (the static reasons);
    - ``condition:<condition>``: a clause of the category has that case-level condition
      (a recipient's relation is not listed here: it is reported only to that recipient's
      role, from the plan of its request);
    - ``<om reason>:<category>``: a clause of the category needs OM consent (the request
      supplies them per category).
    """
    roles = sorted({r.id for r in covenant.roles} | {r for p in covenant.partners for r in p.roles})
    static = (
        ("role", "roles", "role-not-recipient", roles),
        ("purpose", "purposes", "purpose-not-allowed", [p.id for p in covenant.purposes]),
        ("phase", "phases", "phase-not-allowed", [p.id for p in covenant.phases]),
    )
    redaction: dict[str, dict[str, str]] = {}
    for category in covenant.categories:
        clauses = [c for c in covenant.clauses if category.id in c.categories]
        facts: dict[str, str] = {}
        for kind, field, reason, values in static:
            for value in values:
                if any(value not in getattr(clause, field) for clause in clauses):
                    facts[f"{kind}:{value}"] = reason
        conditions = {name for clause in clauses for name in clause.condition_names}
        for condition in sorted(conditions - {OM_CONDITION}, key=_condition_rank):
            facts[f"condition:{condition}"] = condition_reason(condition)
        if OM_CONDITION in conditions:
            for reason in (*OM_REASONS, STATUS_UNKNOWN):
                facts[f"{reason}:{category.id}"] = reason
        redaction[category.id] = facts
    return redaction


def _facts_of(why: Mapping[str, str], kind: str) -> dict[str, str]:
    """``{value: reason}`` for the ``<kind>:<value>`` facts of a ``redaction`` table."""
    prefix = f"{kind}:"
    return {fact[len(prefix) :]: r for fact, r in why.items() if fact.startswith(prefix)}


def _states(
    condition_order: list[str], om_category: bool
) -> list[tuple[str, tuple[str, ...], str]]:
    """Every state a request can be in for one category: (conditions key, failing
    conditions, OM consent failure). The conditions key is what authz.rego computes (the
    failing conditions of ``condition_order``, sorted by name, joined by ","; the failing
    conditions themselves stay in reason order); the OM consent failure is
    ``om_failures[category]`` there, "" for none (and always "" for a category without a
    clause that needs OM consent)."""
    om_states = ("", *OM_STATES) if om_category else ("",)
    return [
        (",".join(sorted(failing)), failing, om)
        for size in range(len(condition_order) + 1)
        for failing in itertools.combinations(condition_order, size)
        for om in om_states
    ]


def _by_state(
    condition_order: list[str], om_category: bool, value: Callable[[tuple[str, ...], str], Any]
) -> dict[str, dict[str, Any]]:
    """``{conditions key: {OM consent failure: value(failing, om)}}`` over ``_states``."""
    table: dict[str, dict[str, Any]] = {}
    for key, failing, om in _states(condition_order, om_category):
        table.setdefault(key, {})[om] = value(failing, om)
    return table


def _about_the_requester(condition: str) -> bool:
    """Whether a dynamic condition is about who asks (in the case team, its relation to the
    case) rather than about the case's state."""
    return condition == "case-team" or condition.startswith("relation:")


def _reasons(
    why: Mapping[str, str],
    static_facts: list[str],
    grants: list[Grant],
    failing: tuple[str, ...],
    om: str,
) -> list[str]:
    """The reasons of a redaction of a category a clause may grant to the request's role,
    purpose and phase (``grants``): the facts of the request in reason order (static facts,
    failing conditions, the OM consent failure), each looked up in the category's
    ``redaction`` table; a failing relation is listed when one of ``grants`` binds the role
    to it.

    The reasons never tell a requester a fact of the case it may not see (review2, finding
    1). Whether a police investigation runs is criminal-law information (U §5.3: the police
    share it with the case manager only) that the case summary withholds from all but the
    police and a lead whose role such a clause names (gateway/cases/summary_readers.py,
    review3 finding 2), so how the OM consent fails
    (``investigation-status-unknown``, ``om-consent-*``) is told only to a requester that a
    clause needing the consent names, in the team and with its relation to the case. A
    requester outside the case team sees nothing of the case: it is told only that (and the
    static facts). The same holds for every other fact of the case's state (an event such
    as the landlord's eviction procedure, the pollution of the dwelling, the corporation's
    permission, the police in the team): a failing condition on it is told only when it is
    a condition of a grant whose conditions about the requester all hold (review6b, P1). A
    requester every grant refuses by its relation to the case (not the landlord, not the
    lead) is told that relation alone, whatever the case's state. A category no clause
    grants to the role, purpose and phase is explained by those alone (the plan's
    ``unplanned``, the covenant's ``staticReasons``)."""
    reasons = [why[fact] for fact in static_facts if fact in why]
    # Each grant's conditions about who asks that fail: all grants failing on the case team
    # put the requester outside the case; a grant without such a failure could disclose.
    refusals = [
        [c for c in failing if c in grant["conditions"] and _about_the_requester(c)]
        for grant in grants
    ]
    if all("case-team" in refused for refused in refusals):
        return [*reasons, condition_reason("case-team")]
    relations = {c for grant in grants for c in grant["conditions"] if c.startswith("relation:")}
    # The grants that only the case's state refuses: the requester is a recipient they
    # name, in the team and with its relation. Only their conditions on the case's state are
    # told (review6b, P1): a requester that every grant refuses by who it is learns nothing
    # of the case's state from a refusal it gets anyway.
    open_grants = [grant for grant, refused in zip(grants, refusals, strict=True) if not refused]
    told = {c for grant in open_grants for c in grant["conditions"]}
    for condition in failing:
        if condition in relations:
            reasons.append(condition_reason(condition))
        elif condition in told and f"condition:{condition}" in why:
            reasons.append(why[f"condition:{condition}"])
    om_told = any(OM_CONDITION in grant["conditions"] for grant in open_grants)
    for part in om.split(",") if om and om_told else ():
        reasons.extend(why[key] for key in why if key.startswith(f"{part}:"))
    return reasons


def _plans(
    grants: Mapping[str, Mapping[str, list[Grant]]],
    redaction: Mapping[str, Mapping[str, str]],
    category_conditions: Mapping[str, list[str]],
    om_categories: set[str],
    answers: Mapping[str, str],
) -> dict[str, dict[str, Any]]:
    """Per ``role|purpose|phase``: the dynamic conditions that matter to it (``conditions``,
    in reason order) and the whole verdict of every category a clause may grant to it, in
    every state of those conditions (see ``_states``): the decision looks the verdict up
    instead of evaluating the clauses' conditions and the reasons of a redaction; and the
    static reasons of every other category (``unplanned``)."""
    plans: dict[str, dict[str, Any]] = {}
    for rpp, by_category in grants.items():
        role, purpose, phase = rpp.split("|")
        static_facts = [f"role:{role}", f"purpose:{purpose}", f"phase:{phase}"]
        relations = {
            c
            for category_grants in by_category.values()
            for grant in category_grants
            for c in grant["conditions"]
            if c.startswith("relation:")
        }
        conditions = sorted(
            {c for category in by_category for c in category_conditions[category]} | relations,
            key=_condition_rank,
        )
        categories = {
            category: _by_state(
                conditions,
                category in om_categories,
                _verdict_of(
                    category_grants,
                    answers[category],
                    functools.partial(_reasons, redaction[category], static_facts, category_grants),
                ),
            )
            for category, category_grants in by_category.items()
        }
        plans[rpp] = {
            "conditions": conditions,
            # The same as flags: authz.rego intersects their names with the failing ones.
            "conditionSet": _flags(conditions),
            "categories": categories,
            # Every other category of the covenant: no clause may grant it here, and it is
            # redacted with these static reasons (the role's, the purpose's and the phase's,
            # in reason order) alone: nothing of the case's state (``_reasons``).
            "unplanned": {
                category: [why[fact] for fact in static_facts if fact in why]
                for category, why in sorted(redaction.items())
                if category not in by_category
            },
        }
    return plans


def _verdict_of(
    grants: list[Grant], answer: str, reasons: Callable[[tuple[str, ...], str], list[str]]
) -> Callable[[tuple[str, ...], str], dict[str, Any]]:
    """A category's verdict in a state, from the clauses that may grant it."""

    def verdict(failing: tuple[str, ...], om: str) -> dict[str, Any]:
        ids = [
            grant["id"]
            for grant in grants
            if not any(c in grant["conditions"] for c in failing)
            and not (om and OM_CONDITION in grant["conditions"])
        ]
        if ids:
            return {
                "outcome": "disclose",
                "answer": answer,
                "clauses": list(dict.fromkeys(ids)),
                "reasons": [],
            }
        return {
            "outcome": "redact",
            "answer": "none",
            "clauses": [],
            "reasons": reasons(failing, om),
        }

    return verdict


def rego_modules(rego_dir: Path | None = None) -> dict[str, str]:
    """The policy modules (``*.rego`` without tests), keyed by their bundle path."""
    rego_dir = rego_dir if rego_dir is not None else default_rego_dir()
    return {
        f"rego/{path.relative_to(rego_dir).as_posix()}": path.read_text(encoding="utf-8")
        for path in sorted(rego_dir.rglob("*.rego"))
        if not path.name.endswith("_test.rego")
    }


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


#: Changes when what the revision is a digest of changes (not with the bundle's content).
_REVISION_SCHEME = b"ketenpoort-bundle-content/2\0"


def revision_of(data: Mapping[str, Any], modules: Mapping[str, str]) -> str:
    """The bundle's revision: a digest of its content, the Rego modules (by bundle path) and
    ``data.json`` without its own ``revision`` field, in canonical JSON.

    A digest of the content, not of the compiler's inputs: a change to the compiler alone
    changes ``data.json`` and so the revision, and an OPA server still serving the older
    bundle is refused as serving another revision (the revision was a hash of the covenants
    and modules only, so a compiler fix kept it: review of the OPA path, H1). Deterministic:
    the same content gives the same revision in any process.
    """
    root = {key: value for key, value in data[DATA_ROOT].items() if key != "revision"}
    content = {"data": {**data, DATA_ROOT: root}, "modules": dict(modules), "roots": [DATA_ROOT]}
    return hashlib.sha256(_REVISION_SCHEME + canonical_json(content)).hexdigest()[:20]


def compile_data(covenants: Mapping[str, Covenant], modules: Mapping[str, str]) -> dict[str, Any]:
    """The whole ``data.json`` document of a bundle with these Rego modules, its revision
    (``data.ketenpoort.revision``, :func:`revision_of`) included."""
    compiled = {cid: compile_covenant(covenants[cid]) for cid in sorted(covenants)}
    data: dict[str, Any] = {DATA_ROOT: {"covenants": compiled}}
    data[DATA_ROOT]["revision"] = revision_of(data, modules)
    return data
