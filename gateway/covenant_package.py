"""The covenant package: one folder per covenant, ``<covenant-id>/covenant.yaml``,
``workflow.yaml`` and ``retention.yaml`` (gateway/policy/layout.py), loaded together at start
and checked against each other.

Each file is checked on its own by its loader (gateway/policy/covenant.py,
gateway/cases/definition.py, gateway/retention/rules.py), which also refuses a file whose
covenant id is not its folder's name; what ties them together is checked here, once: a
workflow's states are the covenant's phases, and the retention rules name only the
workflow's states and known enforcement instruments. What is refused and how:

- a folder lacking one of the three files or holding another YAML file, covenant files
  outside a folder (the layout before), covenants or workflows that do not load, an id
  that is not its folder's name, or a workflow state that is not a phase of its covenant:
  the gateway does not start, and the error names the file;
- retention rules that do not load or do not match the workflow: the gateway starts
  not-ready and no sweep runs (fail closed: nothing is erased on rules it cannot trust).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import get_args

from gateway.cases.definition import Instrument, WorkflowDefinition, WorkflowError, load_workflows
from gateway.config import Settings
from gateway.core.errors import GatewayError
from gateway.policy.covenant import Covenant, load_covenants
from gateway.retention.rules import RetentionRules, load_rules

log = logging.getLogger("ketenpoort.policy")

INSTRUMENTS = frozenset(get_args(Instrument))


@dataclass(frozen=True)
class CovenantPackage:
    covenants: dict[str, Covenant]
    workflows: dict[str, WorkflowDefinition]
    #: ``None`` when the rules did not load or do not match the workflows (see
    #: ``retention_problem``).
    retention: RetentionRules | None
    retention_problem: str | None = None


def load_covenant_package(settings: Settings) -> CovenantPackage:
    """Every covenant folder in ``settings.covenant_dir`` (default: the packaged ones)."""
    directory = settings.covenant_dir
    covenants = load_covenants(directory)  # checks the layout first: every folder, 3 files
    workflows = load_workflows(directory)
    check_workflows(covenants, workflows)
    try:
        rules = load_rules(
            directory,
            default_months=settings.retention_default_period_months,
            unsanctioned_months=settings.retention_unsanctioned_period_months,
            inactive_months=settings.retention_inactive_period_months,
        )
        problem = retention_mismatch(rules, workflows, covenants)
    except GatewayError as exc:
        rules, problem = None, exc.detail
    if problem is not None:
        log.error("retention rules invalid: %s", problem)
        return CovenantPackage(covenants, workflows, None, problem[:200])
    return CovenantPackage(covenants, workflows, rules)


def check_workflows(
    covenants: dict[str, Covenant], workflows: dict[str, WorkflowDefinition]
) -> None:
    """Every state of a covenant's workflow is a phase of that covenant (the policy decides
    by phase). A covenant that lists no phases has none: its workflow's states are all
    missing, not all accepted (no clause could ever name the phase a case is in)."""
    for covenant_id, definition in workflows.items():
        covenant = covenants.get(covenant_id)
        if covenant is None:
            continue
        phases = {p.id for p in covenant.phases}
        missing = [s.id for s in definition.states if s.id not in phases]
        if missing:
            raise WorkflowError(
                f"workflow of '{covenant_id}' has states that are not covenant phases: "
                f"{', '.join(missing)}"
            )


def retention_mismatch(
    rules: RetentionRules,
    workflows: dict[str, WorkflowDefinition],
    covenants: dict[str, Covenant] | None = None,
) -> str | None:
    """Why the retention rules do not fit the workflows, or ``None``: a mediation state
    that is not a state of the covenant's workflow, a sanction instrument the workflow
    cannot record, or a sanction event that is not one of the covenant's case events, would
    silently never match and keep or erase a dossier on the wrong rule."""
    for covenant_id, policy in sorted(rules.policies.items()):
        definition = workflows.get(covenant_id)
        if definition is None:
            continue
        states = {s.id for s in definition.states}
        unknown_states = [s for s in policy.mediation_states if s not in states]
        if unknown_states:
            return (
                f"{covenant_id}/retention.yaml: mediationStates names states its workflow does not "
                f"have: {', '.join(unknown_states)}"
            )
        unknown = [i for i in policy.sanction_instruments if i not in INSTRUMENTS]
        if unknown:
            return (
                f"{covenant_id}/retention.yaml: sanctionInstruments names unknown instruments: "
                f"{', '.join(unknown)}"
            )
        covenant = covenants.get(covenant_id) if covenants is not None else None
        events = {e.id for e in covenant.events} if covenant is not None else set()
        unknown_events = [e for e in policy.sanction_events if e not in events]
        if unknown_events and covenants is not None:
            return (
                f"{covenant_id}/retention.yaml: sanctionEvents names events the covenant does "
                f"not have: {', '.join(unknown_events)}"
            )
    return None
