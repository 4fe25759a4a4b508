"""The workflow files: valid, consistent with their covenants, and strict about mistakes."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.cases.definition import WorkflowError, load_workflows, parse_workflow
from gateway.policy.covenant import load_covenants

WORKFLOWS = load_workflows()


def test_every_covenant_has_a_workflow_whose_states_are_its_phases() -> None:
    covenants = load_covenants()
    assert set(WORKFLOWS) == set(covenants)
    for covenant_id, workflow in WORKFLOWS.items():
        phases = {p.id for p in covenants[covenant_id].phases}
        assert {s.id for s in workflow.states} <= phases


def test_every_actor_is_a_partner_kind_and_role_of_the_covenant() -> None:
    covenants = load_covenants()
    for covenant_id, workflow in WORKFLOWS.items():
        covenant = covenants[covenant_id]
        kinds = {k.id for k in covenant.partner_kinds}
        roles = {r.id for r in covenant.roles}
        for transition in workflow.transitions:
            for actor in transition.actors:
                assert set(actor.partner_kinds) <= kinds, transition.id
                assert set(actor.roles) <= roles, transition.id


def test_every_non_final_state_can_be_left_and_every_state_reached() -> None:
    for workflow in WORKFLOWS.values():
        reached = {workflow.initial_state} | {t.to for t in workflow.transitions}
        assert reached == {s.id for s in workflow.states}
        for state in workflow.states:
            assert state.final or workflow.transitions_from(state.id), state.id


def _text(**replace: str) -> str:
    text = (
        Path(__file__)
        .parents[2]
        .joinpath("policies/rijswijk-woonoverlast/workflow.yaml")
        .read_text()
    )
    for old, new in replace.items():
        assert old in text
        text = text.replace(old, new, 1)
    return text


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("name: penalty-within-limits", "name: penalty-within-limit", "unknown guard"),
        ("to: own-approach", "to: own-aproach", "unknown state 'own-aproach'"),
        ("penaltyPerBreachMaxEur: 5000", "penaltyPerBreachMaxEur: 0", "greater than 0"),
        ("initialState: intake", "initialState: start", "initialState 'start'"),
        # A case would open closed: in a final state without a closing moment.
        ("initialState: intake", "initialState: closed", "initialState 'closed' is final"),
        ("requires: [days]", "requires: [dayz]", "requires"),
        ('descriptionNl: "Monodisciplinair', 'descriptionNx: "Monodisciplinair', "descriptionNl"),
        # Every date of a covenant is a Dutch date (gateway.core.dutch_date): a calendar in
        # another zone would count deadlines on another day than the register and pages.
        ("timezone: Europe/Amsterdam", "timezone: Europe/Brussels", "timezone 'Europe/Amsterdam'"),
    ],
)
def test_a_broken_workflow_file_is_refused_with_the_reason(
    old: str, new: str, message: str
) -> None:
    with pytest.raises(WorkflowError) as error:
        parse_workflow(_text(**{old: new}), "rijswijk.yaml")
    assert message in error.value.detail
