"""`ketenpoort policy test`: the Rego tests run on every engine and the engines are compared.

regorus's interpreter evaluates `with input as` itself; rego-cpp (regopy) and regorus's RVM
run each test staged (the runner performs the `with` on that engine). Any failure, and any
disagreement between the runs, fails.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from gateway.policy import regotest
from gateway.policy.regotest import (
    ENGINES,
    EngineSpec,
    Evaluator,
    rego_test_modules,
    rego_test_rules,
    run_rego_tests,
    stage_module,
)
from tests.policy.conftest import require_engine

REGO_TESTS = rego_test_rules(rego_test_modules())
DECISION = "data.ketenpoort.authz.decision"


def _require_regopy() -> None:
    require_engine("regopy")


def test_every_rego_test_passes_on_every_engine_including_opa_and_the_runs_agree() -> None:
    _require_regopy()
    require_engine("opa-go")
    report = run_rego_tests(["regorus", "regorus-rvm", "regopy", "opa-go"])
    assert len(REGO_TESTS) >= 15
    by_run: dict[str, list[str]] = {}
    for result in report.results:
        assert result.passed, (result.run, result.rule, result.error)
        by_run.setdefault(result.run, []).append(result.rule)
    # each test ran once per run: natively with `with`, and staged on each engine
    runs = [
        "regorus",
        "regorus/staged",
        "regorus-rvm/staged",
        "regopy/staged",
        "opa-go",
        "opa-go/staged",
    ]
    assert by_run == dict.fromkeys(runs, REGO_TESTS)
    assert report.disagreements == []
    assert report.ok


def test_policy_test_command_runs_opa_and_says_which_opa() -> None:
    from gateway.policy.cli import app

    require_engine("opa-go")
    # Two engines only: the test above runs them all (rego-cpp alone takes a minute).
    result = CliRunner().invoke(app, ["test", "--engine", "regorus", "--engine", "opa-go"])
    assert result.exit_code == 0, result.output
    assert "engine opa-go: OPA (Go) v1.20.2, the production OPA server's evaluator" in (
        result.output
    )
    assert "engine regopy: rego-cpp (regopy)  (not run: not selected)\n" in result.output
    assert f"opa-go: PASS: {len(REGO_TESTS)}/{len(REGO_TESTS)}\n" in result.output
    assert "all engines agree (regorus, regorus/staged, opa-go, opa-go/staged)" in result.output


def test_opa_redacts_an_open_ended_permission_checked_as_not_expires_at_before_now(
    tmp_path: Path,
) -> None:
    # The construct authz.rego used until OPA ran here: regorus counts the permission, OPA
    # does not. The runs must disagree, and the check must say so.
    require_engine("opa-go")
    text = (
        "package extra_test\n\nimport rego.v1\n\n"
        "open_ended if { some c in input.consents; not c.expiresAt <= input.now }\n\n"
        "test_open_ended_permission_counts if {\n"
        '\td := data.extra_test.open_ended with input as {"consents": [{"grantedAt": 1}], '
        '"now": 5}\n'
        "\td == true\n"
        "}\n"
    )
    report = run_rego_tests(["regorus", "opa-go"], root=_extra(tmp_path, text))
    verdicts = {r.run: r.passed for r in report.results}
    assert verdicts == {
        "regorus": True,
        "regorus/staged": True,
        "opa-go": False,
        "opa-go/staged": False,
    }
    assert report.disagreements
    assert not report.ok


class _Tampering:
    """An engine that answers like regorus's RVM, except that its decisions are altered."""

    def __init__(self, inner: Evaluator, alter: Any) -> None:
        self._inner, self._alter = inner, alter

    def rule(self, ref: str, input_json: str) -> Any:
        value = self._inner.rule(ref, input_json)
        return self._alter(value) if ref == DECISION and isinstance(value, dict) else value


def _tampering_spec(alter: Any) -> EngineSpec:
    def factory(modules: Mapping[str, str], data_json: str, refs: list[str]) -> Evaluator:
        return _Tampering(ENGINES["regorus-rvm"].factory(modules, data_json, refs), alter)

    return EngineSpec(factory, supports_with=False, module="regorus")


def _disclose_everything(decision: dict[str, Any]) -> dict[str, Any]:
    categories = {
        name: {**verdict, "outcome": "disclose", "reasons": []}
        for name, verdict in decision["categories"].items()
    }
    return {**decision, "allow": True, "categories": categories}


def test_an_engine_that_decides_differently_fails_the_check() -> None:
    specs = {**ENGINES, "fake": _tampering_spec(_disclose_everything)}
    report = run_rego_tests(["regorus", "fake"], specs=specs)
    failed = {r.rule for r in report.results if r.run == "fake/staged" and not r.passed}
    assert "data.ketenpoort.authz_test.test_outside_case_team_gets_nothing" in failed
    assert any("fake/staged=FAIL" in line for line in report.disagreements)
    assert any("gives different documents" in line for line in report.disagreements)
    assert not report.ok


def test_an_engine_that_differs_only_where_no_test_looks_still_fails_the_check() -> None:
    # Every test still passes on it; the staged decision documents differ from regorus's.
    specs = {**ENGINES, "fake": _tampering_spec(lambda d: {**d, "revision": "other"})}
    report = run_rego_tests(["regorus", "fake"], specs=specs)
    assert all(r.passed for r in report.results)
    assert report.disagreements
    assert all("gives different documents on fake, regorus" in d for d in report.disagreements)
    assert not report.ok


def test_policy_test_command_exits_nonzero_when_engines_disagree(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from gateway.policy.cli import app

    monkeypatch.setitem(regotest.ENGINES, "fake", _tampering_spec(_disclose_everything))
    result = CliRunner().invoke(app, ["test", "--engine", "regorus", "--engine", "fake"])
    assert result.exit_code == 1
    assert "DISAGREE: data.ketenpoort.authz_test.test_outside_case_team_gets_nothing" in (
        result.output
    )


def test_policy_test_command_reports_each_test_per_run() -> None:
    from gateway.policy.cli import app

    result = CliRunner().invoke(app, ["test", "--engine", "regorus", "--engine", "regorus-rvm"])
    assert result.exit_code == 0, result.output
    rule = "data.ketenpoort.authz_test.test_antecedents_disclosed_with_om_consent"
    for run in ["regorus", "regorus/staged", "regorus-rvm/staged"]:
        assert f"{run}: {rule}: PASS" in result.output
    assert "all engines agree" in result.output


_CHAINED = """package extra_test

import rego.v1

base := {
	"requester": {"partner": "u-centraal", "role": "casemanager", "user": "p"},
	"case": {
		"id": "c1", "covenant": "utrecht-extreme-woonoverlast", "phase": "execution",
		"team": ["u-centraal", "politie-midden-nederland"],
		"dwelling": {"ownership": "owner-occupied", "corporation": null},
		"policeInvestigation": false
	},
	"categories": ["police-reports"],
	"purpose": "case-handling",
	"consents": [],
	"now": 1000
}

# The second input is built from the first decision: the staged rounds must resolve in order.
test_second_request_built_from_first_decision if {
	first := data.ketenpoort.authz.decision with input as base
	first.allow == true
	again := object.union(base, {"categories": [first.clauses[0]]})
	second := data.ketenpoort.authz.decision with input as again
	second.categories[first.clauses[0]].reasons == ["unknown-category"]
}

test_wrong_expectation_fails if {
	d := data.ketenpoort.authz.decision with input as base
	d.allow == false
}

test_body_that_fails_before_the_with if {
	false
	d := data.ketenpoort.authz.decision with input as base
	d.allow == true
}
"""


def _extra(tmp_path: Path, text: str) -> Path:
    (tmp_path / "extra_test.rego").write_text(text)
    return tmp_path


def test_staged_runs_give_the_same_verdicts_as_native_with_including_failures(
    tmp_path: Path,
) -> None:
    _require_regopy()
    report = run_rego_tests(["regorus", "regorus-rvm", "regopy"], root=_extra(tmp_path, _CHAINED))
    verdicts = {(r.run, r.rule.rsplit(".", 1)[1]): r.passed for r in report.results}
    for run in ["regorus", "regorus/staged", "regorus-rvm/staged", "regopy/staged"]:
        assert verdicts[(run, "test_second_request_built_from_first_decision")] is True
        assert verdicts[(run, "test_wrong_expectation_fails")] is False
        assert verdicts[(run, "test_body_that_fails_before_the_with")] is False
    assert report.disagreements == []
    assert not report.ok  # the failing tests fail the run


def test_a_with_the_runner_cannot_stage_fails_instead_of_being_skipped(tmp_path: Path) -> None:
    text = _CHAINED.split("# The second")[0] + (
        "test_with_data if {\n"
        "\td := data.ketenpoort.authz.decision with input as base with data.x as 1\n"
        "\td.allow == true\n"
        "}\n"
    )
    report = run_rego_tests(["regorus", "regorus-rvm"], root=_extra(tmp_path, text))
    staged = [r for r in report.results if r.run == "regorus-rvm/staged"]
    assert [r.passed for r in staged] == [False]
    assert staged[0].error is not None
    assert "one `with`" in staged[0].error
    assert report.disagreements  # regorus evaluated it natively and passed
    assert not report.ok


def test_staging_rewrites_the_with_and_computes_the_input_from_the_lines_before_it() -> None:
    module, withs, unsupported = stage_module(
        'package p\n\ntest_a if {\n\tx := {"a": 1}\n'
        '\td := data.q.r.categories["c"] with input as object.union(x, {"b": "#2"}) # note\n'
        "\td == 1\n}\n",
        {"p", "q"},
    )
    assert unsupported == {}
    assert [(w.test, w.index, w.probe, w.target) for w in withs] == [
        ("data.p.test_a", 0, "data.p.regotest_probe_test_a_0", "data.q.r")
    ]
    assert '\td := data.regotest_with["data.p.test_a"]["0"].categories["c"]\n' in module
    assert (
        'regotest_probe_test_a_0 := (object.union(x, {"b": "#2"})) if {\n\tx := {"a": 1}\n}'
        in module
    )
    assert " with " not in module


def test_a_malformed_batch_answer_is_asked_again_one_rule_at_a_time() -> None:
    from gateway.policy.regotest import UNDEFINED, _batched

    class Engine:
        def rule(self, ref: str, input_json: str) -> Any:
            # As regorus's RVM answers a set rule `s contains [k, v] if { v := undefined }`.
            answers = {"batch": [["t1", 1], "<undefined>"], "p1": 1, "p2": UNDEFINED}
            return answers[ref]

    assert _batched(Engine(), "batch", {"t1": "p1", "t2": "p2"}, pairs=True) == {"t1": 1}
