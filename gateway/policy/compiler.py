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

    Lookup tables, so the Rego decision never iterates over all clauses: ``grants`` answers
    "which clauses may apply" with one key lookup, ``clausesByCategory`` (clause objects
    embedded, sorted by id) explains a redaction by visiting only the category's clauses.
    """
    clauses = sorted(covenant.clauses, key=lambda c: c.id)
    by_category: dict[str, list[dict[str, Any]]] = {c.id: [] for c in covenant.categories}
    for clause in clauses:
        for category_id in clause.categories:
            by_category[category_id].append(_clause_data(clause))
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
        "clausesByCategory": by_category,
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
