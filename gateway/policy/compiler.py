"""Compile covenants into the data document the Rego modules in ``policies/rego`` interpret."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
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
        "recipients": _flags(clause.recipients),
        "purposes": _flags(clause.purposes),
        "phases": _flags(clause.phases),
        "conditions": _flags(clause.conditions),
    }


def compile_covenant(covenant: Covenant) -> dict[str, Any]:
    """The data one covenant contributes, under ``data.ketenpoort.covenants[<id>]``.

    Lookup tables, so the Rego decision never iterates over clauses: ``grants`` answers
    "which clauses may apply" with one key lookup, ``redaction`` explains a redaction with
    one lookup per fact of the request.
    """
    clauses = sorted(covenant.clauses, key=lambda c: c.id)
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
        "redaction": _redaction(covenant),
        # Categories with a clause that needs OM consent while an investigation runs.
        "omConsent": _flags(
            sorted({k for c in clauses if OM_CONDITION in c.conditions for k in c.categories})
        ),
        "answers": {c.id: c.answer for c in covenant.categories},
        "grants": _grants(covenant),
    }


def _grants(covenant: Covenant) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Clauses indexed by ``role|purpose|phase`` and category: the static part of a decision.

    Precomputed so that the Rego decision only evaluates the dynamic conditions (team,
    consents, time) of the few clauses that can apply.
    """
    grants: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for clause in sorted(covenant.clauses, key=lambda c: c.id):
        for role in clause.recipients:
            for purpose in clause.purposes:
                for phase in clause.phases:
                    by_category = grants.setdefault(f"{role}|{purpose}|{phase}", {})
                    for category_id in clause.categories:
                        by_category.setdefault(category_id, []).append(
                            {"id": clause.id, "conditions": _flags(clause.conditions)}
                        )
    return grants


#: A failing dynamic condition's reason code; in reason order (policies/rego/authz.rego).
CONDITION_REASONS = {
    "case-team": "not-in-case-team",
    "corporation-permission": "corporation-permission-missing",
    "police-in-case-team": "police-not-in-case-team",
}
OM_CONDITION = "om-consent-if-investigation"
OM_REASONS = ("om-consent-missing", "om-consent-expired")


def _redaction(covenant: Covenant) -> dict[str, dict[str, str]]:
    """Per category: each fact of a request that fails one of the category's clauses, mapped
    to its reason code. A redacted category lists the reasons of all its clauses' failures
    (their union), so a fact is listed when it fails at least one clause:

    - ``role:<role>``, ``purpose:<purpose>``, ``phase:<phase>``: a clause of the category
      does not allow it (the static reasons);
    - ``condition:<condition>``: a clause of the category has that condition (the request
      supplies the fact only when the condition fails);
    - ``om-consent-missing:<category>``, ``om-consent-expired:<category>``: a clause of the
      category needs OM consent (the request supplies them per category).
    """
    roles = sorted({r.id for r in covenant.roles} | {r for p in covenant.partners for r in p.roles})
    static = (
        ("role", "recipients", "role-not-recipient", roles),
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
        conditions = {condition for clause in clauses for condition in clause.conditions}
        for condition, reason in CONDITION_REASONS.items():
            if condition in conditions:
                facts[f"condition:{condition}"] = reason
        if OM_CONDITION in conditions:
            for reason in OM_REASONS:
                facts[f"{reason}:{category.id}"] = reason
        redaction[category.id] = facts
    return redaction


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


def revision_of(covenants: Mapping[str, Covenant], modules: Mapping[str, str]) -> str:
    """A revision derived from the inputs only: same covenants and modules, same revision."""
    digest = hashlib.sha256()
    for covenant_id in sorted(covenants):
        digest.update(canonical_json(covenants[covenant_id].model_dump(mode="json")))
    for name in sorted(modules):
        digest.update(name.encode() + b"\0" + modules[name].encode() + b"\0")
    return digest.hexdigest()[:20]


def compile_data(covenants: Mapping[str, Covenant], revision: str) -> dict[str, Any]:
    """The whole ``data.json`` document of a bundle."""
    return {
        DATA_ROOT: {
            "revision": revision,
            "covenants": {cid: compile_covenant(covenants[cid]) for cid in sorted(covenants)},
        }
    }
