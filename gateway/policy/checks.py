"""Semantic checks on a parsed covenant, each failure pinned to a file and line."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.policy.errors import CovenantError

if TYPE_CHECKING:
    from gateway.policy.covenant import Covenant

_Path = tuple[str | int, ...]

#: Where each part of a covenant file starts: a path of keys and indexes to its line.
LineMap = dict[_Path, int]


def line_of(lines: LineMap, path: _Path) -> int | None:
    """The line of ``path`` or of its nearest ancestor that appears in the file."""
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None


class _Checker:
    def __init__(self, covenant: Covenant, file: Path, lines: LineMap) -> None:
        self.covenant = covenant
        self.file = file
        self.lines = lines

    def fail(self, path: _Path, problem: str) -> CovenantError:
        return CovenantError(self.file, line_of(self.lines, path), problem)

    def unique_ids(self, section: str, ids: Sequence[str]) -> set[str]:
        seen: set[str] = set()
        for index, item_id in enumerate(ids):
            if item_id in seen:
                raise self.fail((section, index, "id"), f"duplicate {section} id '{item_id}'")
            seen.add(item_id)
        return seen

    def known(self, path: _Path, values: Iterable[str], allowed: set[str], what: str) -> None:
        for index, value in enumerate(values):
            if value not in allowed:
                raise self.fail((*path, index), f"unknown {what} '{value}'")


def check_covenant(covenant: Covenant, file: Path, lines: LineMap) -> None:
    """Raise :class:`CovenantError` for the first semantic problem found."""
    c = _Checker(covenant, file, lines)
    kinds = c.unique_ids("partnerKinds", [k.id for k in covenant.partner_kinds])
    roles = c.unique_ids("roles", [r.id for r in covenant.roles])
    partners = c.unique_ids("partners", [p.id for p in covenant.partners])
    every_partner = [r.id for r in covenant.roles if r.every_partner]
    non_recipients = {r.id: r.kind for r in covenant.roles if not r.receives_data}
    phases = c.unique_ids("phases", [p.id for p in covenant.phases])
    purposes = c.unique_ids("purposes", [p.id for p in covenant.purposes])
    categories = c.unique_ids("categories", [k.id for k in covenant.categories])
    c.unique_ids("clauses", [k.id for k in covenant.clauses])
    events = c.unique_ids("events", [e.id for e in covenant.events])

    for i, partner in enumerate(covenant.partners):
        if partner.kind not in kinds:
            raise c.fail(("partners", i, "kind"), f"unknown partner kind '{partner.kind}'")
        c.known(("partners", i, "roles"), partner.roles, roles, "role")
        for role in every_partner:
            if role not in partner.roles:
                problem = f"partner '{partner.id}' lacks role '{role}'"
                raise c.fail(("partners", i, "roles"), problem)

    coordinating = covenant.coordinating_privacy_officer
    if coordinating is not None:
        at_coordinating: _Path = ("coordinatingPrivacyOfficer",)
        if coordinating not in partners:
            raise c.fail(at_coordinating, f"unknown partner '{coordinating}'")
        officer = covenant.partner(coordinating)
        audit_roles = {r.id for r in covenant.roles if r.kind == "audit"}
        if officer is None or not audit_roles.intersection(officer.roles):
            raise c.fail(at_coordinating, f"partner '{coordinating}' holds no audit role")

    steering = covenant.steering
    if steering is not None and steering.readers != "every-partner":
        c.known(("steering", "readers"), steering.readers, partners, "partner")

    owners: dict[str, str] = {}
    for i, category in enumerate(covenant.categories):
        if category.owner not in kinds:
            raise c.fail(("categories", i, "owner"), f"unknown partner kind '{category.owner}'")
        owners[category.id] = category.owner

    for i, event in enumerate(covenant.events):
        if event.category not in categories:
            raise c.fail(("events", i, "category"), f"unknown category '{event.category}'")

    used: set[str] = set()
    for i, clause in enumerate(covenant.clauses):
        at: _Path = ("clauses", i)
        if clause.provider not in kinds:
            raise c.fail((*at, "provider"), f"unknown partner kind '{clause.provider}'")
        for j, recipient in enumerate(clause.recipients):
            where = (*at, "recipients", j)
            if recipient.role not in roles:
                raise c.fail(where, f"unknown role '{recipient.role}'")
            if recipient.role in non_recipients:
                raise c.fail(
                    where,
                    f"role '{recipient.role}' ({non_recipients[recipient.role]}) "
                    "never receives case data",
                )
            if (recipient.relation == "event-recorder") != (recipient.event is not None):
                raise c.fail(where, "'event' names the event of an 'event-recorder' relation only")
            if recipient.event is not None and recipient.event not in events:
                raise c.fail(where, f"unknown event '{recipient.event}'")
        for j, condition in enumerate(clause.conditions):
            if not isinstance(condition, str) and condition.event not in events:
                raise c.fail((*at, "conditions", j), f"unknown event '{condition.event}'")
        c.known((*at, "categories"), clause.categories, categories, "category")
        c.known((*at, "purposes"), clause.purposes, purposes, "purpose")
        c.known((*at, "phases"), clause.phases, phases, "phase")
        for j, category_id in enumerate(clause.categories):
            if owners[category_id] != clause.provider:
                raise c.fail(
                    (*at, "categories", j),
                    f"category '{category_id}' is held by '{owners[category_id]}', "
                    f"not by the clause's provider '{clause.provider}'",
                )
        for field in ("recipients", "categories", "purposes", "phases"):
            if not getattr(clause, field):
                raise c.fail((*at, "id"), f"clause '{clause.id}' has no {field}")
        if "case-team" not in clause.condition_names:
            # Need to know is the covenant's first principle: no clause may skip it.
            raise c.fail((*at, "conditions"), f"clause '{clause.id}' lacks condition 'case-team'")
        used.update(clause.categories)

    for i, category in enumerate(covenant.categories):
        if category.id not in used:
            raise c.fail(("categories", i, "id"), f"category '{category.id}' is used by no clause")
