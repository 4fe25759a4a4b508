"""The covenant package: covenant, workflow and retention files checked against each other at
start (gateway/covenant_package.py), and role names read from the covenant."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gateway.cases.definition import WorkflowError, load_workflows
from gateway.config import Settings
from gateway.context import build_context
from gateway.covenant_package import check_workflows, load_covenant_package
from gateway.policy.covenant import load_covenants
from gateway.retention.rules import POLICY_DIR

RIJSWIJK = "rijswijk-woonoverlast"


def _retention_copy(tmp_path: Path, old: str, new: str) -> Path:
    """The packaged retention files, Rijswijk's with ``old`` replaced by ``new``."""
    directory = tmp_path / "retention"
    shutil.copytree(POLICY_DIR, directory)
    path = directory / f"{RIJSWIJK}.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return directory


def test_the_shipped_package_fits_together(settings: Settings) -> None:
    package = load_covenant_package(settings)
    assert set(package.covenants) == {RIJSWIJK, "utrecht-extreme-woonoverlast"}
    assert set(package.workflows) >= set(package.covenants)
    assert package.retention is not None
    assert package.retention_problem is None
    assert package.without_workflow() == []
    assert package.without_retention() == []


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        ("mediationStates: [mediation]", "mediationStates: [mediaton]", "mediaton"),
        ("  - last-chance-contract\n", "  - last-chance-contrct\n", "last-chance-contrct"),
    ],
)
def test_retention_rules_that_do_not_fit_the_workflow_leave_the_gateway_not_ready(
    tmp_path: Path, settings: Settings, old: str, new: str, reason: str
) -> None:
    broken = settings.model_copy(update={"retention_dir": _retention_copy(tmp_path, old, new)})
    package = load_covenant_package(broken)
    assert package.retention is None
    assert package.retention_problem is not None
    assert reason in package.retention_problem
    context = build_context(broken)
    try:
        assert context.retention is None  # no service: no sweep runs on these rules
        problem = context.readiness_checks["retention"]()
        assert problem is not None
        assert reason in problem
    finally:
        context.close()


def test_positive_control_the_same_copy_unchanged_is_ready(
    tmp_path: Path, settings: Settings
) -> None:
    same = "mediationStates: [mediation]"
    fine = settings.model_copy(update={"retention_dir": _retention_copy(tmp_path, same, same)})
    package = load_covenant_package(fine)
    assert package.retention is not None
    assert package.retention_problem is None
    context = build_context(fine)
    try:
        assert context.retention is not None
        assert context.readiness_checks["retention"]() is None
    finally:
        context.close()


def test_a_workflow_state_that_is_not_a_covenant_phase_stops_the_start() -> None:
    covenants = load_covenants()
    workflows = load_workflows()
    check_workflows(covenants, workflows)  # positive control: the shipped files fit
    rijswijk = covenants[RIJSWIJK]
    phases = [p for p in rijswijk.phases if p.id != "mediation"]
    assert len(phases) == len(rijswijk.phases) - 1
    without = rijswijk.model_copy(update={"phases": phases})
    with pytest.raises(WorkflowError) as refused:
        check_workflows({**covenants, RIJSWIJK: without}, workflows)
    assert "mediation" in refused.value.detail


def test_role_names_come_from_the_covenant() -> None:
    covenants = load_covenants()
    for covenant in covenants.values():
        for role in covenant.roles:
            assert role.name.strip(), role.id
            assert covenant.role_name(role.id) == role.name
    utrecht = covenants["utrecht-extreme-woonoverlast"]
    assert utrecht.role_name("privacy-officer") == "Privacyfunctionaris"
    assert utrecht.role_name("no-such-role") == "no-such-role"  # shown as it is, not hidden


def test_pages_show_the_role_name_of_the_page_covenant() -> None:
    from gateway.web.pages import TEMPLATES

    utrecht = load_covenants()["utrecht-extreme-woonoverlast"]
    renamed = utrecht.model_copy(
        update={
            "roles": [
                r.model_copy(update={"name": "Regisseur"}) if r.id == "casemanager" else r
                for r in utrecht.roles
            ]
        }
    )
    label = TEMPLATES.env.from_string("{{ role|rol }}")
    assert label.render(role="casemanager", covenant=renamed) == "Regisseur"
    assert label.render(role="casemanager", covenant=utrecht) == "Casemanager"
    assert label.render(role="casemanager", covenant=None) == "casemanager"
