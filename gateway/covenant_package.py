"""The covenant package: each covenant's covenant, workflow and retention files, loaded
together at start and checked against each other.

Each file is checked on its own by its loader (gateway/policy/covenant.py,
gateway/cases/definition.py, gateway/retention/rules.py); what ties them together is checked
here, once: a workflow's states are the covenant's phases, and the retention rules name
only the workflow's states and known enforcement instruments. What is refused and how:

- covenants or workflows that do not load, or a workflow state that is not a phase of its
  covenant: the gateway does not start (nothing can be decided or moved without them);
- retention rules that do not load or do not match the workflow: the gateway starts
  not-ready and no sweep runs (fail closed: nothing is erased on rules it cannot trust);
- a covenant without a workflow or without retention rules: not ready, and says which.
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

    def without_workflow(self) -> list[str]:
        return sorted(set(self.covenants) - set(self.workflows))

    def without_retention(self) -> list[str]:
        policies = self.retention.policies if self.retention is not None else {}
        return sorted(set(self.covenants) - set(policies))


def load_covenant_package(settings: Settings) -> CovenantPackage:
    covenants = load_covenants(settings.covenant_dir)
    workflows = load_workflows()
    check_workflows(covenants, workflows)
    try:
        rules = load_rules(
            settings.retention_dir,
            default_months=settings.retention_default_period_months,
            unsanctioned_months=settings.retention_unsanctioned_period_months,
            inactive_months=settings.retention_inactive_period_months,
        )
        problem = retention_mismatch(rules, workflows)
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
    by phase). A workflow of a covenant this gateway does not load is left alone."""
    for covenant_id, definition in workflows.items():
        covenant = covenants.get(covenant_id)
        if covenant is None:
            continue
        phases = {p.id for p in covenant.phases}
        missing = [s.id for s in definition.states if phases and s.id not in phases]
        if missing:
            raise WorkflowError(
                f"workflow of '{covenant_id}' has states that are not covenant phases: "
                f"{', '.join(missing)}"
            )


def retention_mismatch(
    rules: RetentionRules, workflows: dict[str, WorkflowDefinition]
) -> str | None:
    """Why the retention rules do not fit the workflows, or ``None``: a mediation state
    that is not a state of the covenant's workflow, or a sanction instrument the workflow
    cannot record, would silently never match and keep or erase a dossier on the wrong
    rule."""
    for covenant_id, policy in sorted(rules.policies.items()):
        definition = workflows.get(covenant_id)
        if definition is None:
            continue
        states = {s.id for s in definition.states}
        unknown_states = [s for s in policy.mediation_states if s not in states]
        if unknown_states:
            return (
                f"{covenant_id}.yaml: mediationStates names states its workflow does not "
                f"have: {', '.join(unknown_states)}"
            )
        unknown = [i for i in policy.sanction_instruments if i not in INSTRUMENTS]
        if unknown:
            return (
                f"{covenant_id}.yaml: sanctionInstruments names unknown instruments: "
                f"{', '.join(unknown)}"
            )
    return None
