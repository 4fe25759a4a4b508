"""The covenant package: one folder per covenant with its covenant, workflow and retention
files, checked against each other at start (gateway/covenant_package.py,
gateway/policy/layout.py), and role names read from the covenant."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pydantic import ValidationError

from gateway.cases.definition import WorkflowError, load_workflows
from gateway.config import Settings
from gateway.context import build_context
from gateway.covenant_package import check_workflows, load_covenant_package
from gateway.policy.covenant import load_covenants
from gateway.policy.errors import CovenantError
from gateway.policy.layout import PACKAGE_FILES, covenant_folders, default_package_dir
from gateway.retention.rules import load_rules

RIJSWIJK = "rijswijk-woonoverlast"
UTRECHT = "utrecht-extreme-woonoverlast"


def _package_copy(tmp_path: Path) -> Path:
    """A covenant directory with a copy of each packaged covenant folder."""
    directory = tmp_path / "covenants"
    directory.mkdir()
    for folder in covenant_folders():
        shutil.copytree(folder.path, directory / folder.id)
    return directory


def _replace(file: Path, old: str, new: str) -> None:
    text = file.read_text(encoding="utf-8")
    assert old in text, (file, old)
    file.write_text(text.replace(old, new, 1), encoding="utf-8")


def _retention_copy(tmp_path: Path, old: str, new: str) -> Path:
    """The packaged covenant folders, Rijswijk's retention rules with ``old`` replaced by
    ``new``."""
    directory = _package_copy(tmp_path)
    _replace(directory / RIJSWIJK / "retention.yaml", old, new)
    return directory


def test_the_shipped_package_fits_together(settings: Settings) -> None:
    package = load_covenant_package(settings)
    assert set(package.covenants) == {RIJSWIJK, "utrecht-extreme-woonoverlast"}
    assert set(package.workflows) >= set(package.covenants)
    assert package.retention is not None
    assert package.retention_problem is None
    assert set(package.workflows) == set(package.retention.policies) == set(package.covenants)


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
    broken = settings.model_copy(update={"covenant_dir": _retention_copy(tmp_path, old, new)})
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
    fine = settings.model_copy(update={"covenant_dir": _retention_copy(tmp_path, same, same)})
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


def test_a_covenant_without_phases_does_not_accept_every_workflow_state() -> None:
    """Unknown is not no: a covenant that lists no phases has none, so its workflow's states
    are all refused (before, an empty list skipped the check). The control above: the shipped
    covenant with its phases fits."""
    covenants = load_covenants()
    workflows = load_workflows()
    without = covenants[RIJSWIJK].model_copy(update={"phases": []})
    with pytest.raises(WorkflowError) as refused:
        check_workflows({**covenants, RIJSWIJK: without}, workflows)
    assert all(state.id in refused.value.detail for state in workflows[RIJSWIJK].states)


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


# --- the layout: one folder per covenant ------------------------------------------------------


def test_the_packaged_covenants_are_one_folder_each() -> None:
    folders = covenant_folders()
    assert [f.id for f in folders] == [RIJSWIJK, UTRECHT]  # not rego/ or examples/
    for folder in folders:
        assert sorted(p.name for p in folder.path.glob("*.yaml")) == sorted(PACKAGE_FILES)
    assert not list(default_package_dir().glob("*.yaml"))


def test_positive_control_a_copied_covenant_directory_starts_ready(
    tmp_path: Path, settings: Settings
) -> None:
    """The control for the refusals below: the same copy, untouched."""
    copied = settings.model_copy(update={"covenant_dir": _package_copy(tmp_path)})
    package = load_covenant_package(copied)
    assert set(package.covenants) == set(package.workflows) == {RIJSWIJK, UTRECHT}
    assert package.retention is not None
    context = build_context(copied)
    try:
        assert context.retention is not None
        assert context.readiness_checks["retention"]() is None
        assert context.readiness_checks["case-workflows"]() is None
    finally:
        context.close()


@pytest.mark.parametrize("missing", PACKAGE_FILES)
def test_a_folder_lacking_one_of_its_three_files_stops_the_start_naming_it(
    tmp_path: Path, settings: Settings, missing: str
) -> None:
    directory = _package_copy(tmp_path)
    (directory / RIJSWIJK / missing).unlink()
    broken = settings.model_copy(update={"covenant_dir": directory})
    with pytest.raises(CovenantError) as refused:
        load_covenant_package(broken)
    assert refused.value.file == str(directory / RIJSWIJK / missing)
    assert f"covenant folder '{RIJSWIJK}' lacks {missing}" in refused.value.detail
    with pytest.raises(CovenantError):
        build_context(broken)


def test_a_misnamed_file_in_a_covenant_folder_is_named(tmp_path: Path) -> None:
    directory = _package_copy(tmp_path)
    (directory / UTRECHT / "retention.yaml").rename(directory / UTRECHT / "retention.yml")
    with pytest.raises(CovenantError) as refused:
        covenant_folders(directory)
    assert refused.value.file == str(directory / UTRECHT / "retention.yml")
    assert "none of them" in refused.value.detail


def test_covenant_files_outside_a_folder_are_the_old_layout_and_refused(
    tmp_path: Path,
) -> None:
    directory = _package_copy(tmp_path)
    shutil.copy(directory / RIJSWIJK / "covenant.yaml", directory / f"{RIJSWIJK}.yaml")
    with pytest.raises(CovenantError) as refused:
        load_covenants(directory)
    assert refused.value.file == str(directory / f"{RIJSWIJK}.yaml")
    assert "<covenant-id>/covenant.yaml" in refused.value.detail


def test_a_directory_without_covenant_folders_is_refused(tmp_path: Path) -> None:
    (tmp_path / "rego").mkdir()
    (tmp_path / "rego" / "authz.rego").write_text("package x\n")
    with pytest.raises(CovenantError, match="no covenant folders"):
        covenant_folders(tmp_path)


def test_a_covenant_whose_id_is_not_its_folder_stops_the_start(
    tmp_path: Path, settings: Settings
) -> None:
    directory = _package_copy(tmp_path)
    _replace(directory / RIJSWIJK / "covenant.yaml", f"id: {RIJSWIJK}", "id: rijswijk-elders")
    with pytest.raises(CovenantError) as refused:
        load_covenant_package(settings.model_copy(update={"covenant_dir": directory}))
    assert refused.value.file == str(directory / RIJSWIJK / "covenant.yaml")
    assert f"id: 'rijswijk-elders' is not the name of its folder '{RIJSWIJK}'" in (
        refused.value.detail
    )


def test_a_workflow_of_another_covenant_in_the_folder_stops_the_start(
    tmp_path: Path, settings: Settings
) -> None:
    directory = _package_copy(tmp_path)
    shutil.copy(directory / UTRECHT / "workflow.yaml", directory / RIJSWIJK / "workflow.yaml")
    with pytest.raises(WorkflowError) as refused:
        load_covenant_package(settings.model_copy(update={"covenant_dir": directory}))
    assert str(directory / RIJSWIJK / "workflow.yaml") in refused.value.detail
    assert f"covenant: '{UTRECHT}' is not the name of its folder '{RIJSWIJK}'" in (
        refused.value.detail
    )


def test_retention_rules_of_another_covenant_leave_the_gateway_not_ready_naming_the_file(
    tmp_path: Path, settings: Settings
) -> None:
    directory = _package_copy(tmp_path)
    shutil.copy(directory / UTRECHT / "retention.yaml", directory / RIJSWIJK / "retention.yaml")
    broken = settings.model_copy(update={"covenant_dir": directory})
    package = load_covenant_package(broken)
    assert package.retention is None
    assert package.retention_problem is not None
    assert package.retention_problem.startswith(
        f"{RIJSWIJK}/retention.yaml: covenant: '{UTRECHT}' is not the name of its folder"
    )
    context = build_context(broken)
    try:
        assert context.retention is None  # no sweep on rules it cannot trust
        assert f"{RIJSWIJK}/retention.yaml" in (context.readiness_checks["retention"]() or "")
    finally:
        context.close()


def test_a_directory_of_one_covenant_folder_serves_that_covenant(
    tmp_path: Path, settings: Settings
) -> None:
    """What an operator does to add a covenant (one folder) or serve only some of them."""
    directory = tmp_path / "one"
    shutil.copytree(default_package_dir() / UTRECHT, directory / UTRECHT)
    package = load_covenant_package(settings.model_copy(update={"covenant_dir": directory}))
    assert set(package.covenants) == set(package.workflows) == {UTRECHT}
    assert package.retention is not None
    assert set(package.retention.policies) == {UTRECHT}


def test_moving_the_files_into_folders_keeps_the_retention_revision() -> None:
    """Verdicts stored under the rules' revision stay current when only the layout changed
    (the revisions the same files had in policies/retention/, before the folders: then
    bf878cea25f185f4 and df1ca7aebca4bc78). Pinned again on 6 December 2026, evening: Rijswijk's
    retention.yaml gained ``sanctionEvents`` and Utrecht's an empty one (review8a F2), which
    changes verdicts, so the stored ones must be refreshed under a new revision; the pin keeps
    any later change of the files (or of how the revision is computed) from passing unseen."""
    assert load_rules().revision == "a81d1b4c6c7caf19"
    assert load_rules(default_months=6).revision == "0b9377c489842c3b"


def test_the_retired_retention_directory_setting_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KETENPOORT_RETENTION_DIR", raising=False)
    assert Settings(data_dir=tmp_path).retention_dir is None  # positive control: unset
    monkeypatch.setenv("KETENPOORT_RETENTION_DIR", str(tmp_path))
    with pytest.raises(ValidationError, match="KETENPOORT_RETENTION_DIR is no longer read"):
        Settings(data_dir=tmp_path)
