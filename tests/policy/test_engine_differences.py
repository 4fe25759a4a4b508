"""Pins the Rego constructs that the engines evaluate differently (policies/rego/
ENGINE-DIFFERENCES.md): each construct, in its smallest form, on regorus's interpreter, its
RVM, rego-cpp and OPA's Go evaluator, with each engine's answer as observed; and the form the
policy writes instead, which every engine answers alike. When an engine changes, its row
fails here and the list is updated."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

from gateway.policy.regotest import ENGINES, UNDEFINED
from tests.policy.conftest import require_engine

LIST = Path(__file__).resolve().parents[2] / "policies" / "rego" / "ENGINE-DIFFERENCES.md"
ENGINE_NAMES = ("regorus", "regorus-rvm", "regopy", "opa-go")
ERROR = "error"  # the engine refuses the module


@dataclass(frozen=True)
class Construct:
    name: str
    rules: str
    input: Any
    data: Any
    #: engine -> its answer (``"undefined"``, ``ERROR`` or the value); absent: ``agreed``.
    answers: dict[str, Any]
    #: What the engines that follow OPA answer.
    agreed: Any
    #: The form the policy uses instead, answered alike (``agreed``) by every engine.
    instead: str
    #: What every engine answers to ``instead`` when that is not ``agreed``: a guard that
    #: refuses what the engines disagree on (``comparison-across-types``).
    instead_answer: Any = None


CONSTRUCTS = [
    Construct(
        "not-over-an-undefined-reference",
        "p if { some c in input.cs; not c.expiresAt <= input.now }",
        {"cs": [{"grantedAt": 1}], "now": 5},
        {},
        {"regorus": True, "regorus-rvm": True, "regopy": True, "opa-go": "undefined"},
        True,
        "p if { some c in input.cs; not expired(c) }\nexpired(c) if c.expiresAt <= input.now",
    ),
    Construct(
        "comprehension-without-iteration-nested-in-a-comprehension",
        "p := [[c | c := input.v] | some x in [1]]",
        {},
        {},
        {"regorus-rvm": [["<undefined>"]]},
        [[]],
        'p := [object.get(input, "v", []) | some x in [1]]',
    ),
    Construct(
        "some-key-value-in-an-array-comprehension",
        "p := [v | some i, v in input.xs]",
        {"xs": ["a", "b"]},
        {},
        {"regopy": ERROR},
        ["a", "b"],
        "p := [v | some v in input.xs]",
    ),
    Construct(
        "assignment-from-a-missing-key",
        'p := {k: x | some k in ["a", "b"]; x := data.tbl[k]}',
        {},
        {"tbl": {"a": 1}},
        {"regorus-rvm": {"a": 1, "b": "<undefined>"}},
        {"a": 1},
        'p := {k: x | some k in ["a", "b"]; data.tbl[k]; x := data.tbl[k]}',
    ),
    Construct(
        "concat-over-a-set",
        'p := concat(",", {input.b, input.a})',
        {"a": "a", "b": "b"},
        {},
        {"regopy": "b,a"},
        "a,b",
        'p := concat(",", sort({input.b, input.a}))',
    ),
    Construct(
        # authz.rego compared a consent's grantedAt and expiresAt with `now` unguarded: an
        # ISO expiry never expired on regorus and OPA, a null one on rego-cpp (review9b F1).
        "comparison-across-types",
        'p := {k | some k in ["n", "s"]; input[k] <= 5}',
        {"n": None, "s": "1"},
        {},
        {"regopy": ["s"]},
        ["n"],
        'p := {k | some k in ["n", "s"]; is_number(input[k]); input[k] <= 5}',
        instead_answer=[],
    ),
]


def _answer(engine: str, rules: str, given: Any, data: Any) -> Any:
    module = f"package t\n\nimport rego.v1\n\n{rules}\n"
    try:
        evaluator = ENGINES[engine].factory({"t.rego": module}, orjson.dumps(data).decode(),
                                            ["data.t.p"])  # fmt: skip
        value = evaluator.rule("data.t.p", orjson.dumps(given).decode())
    except Exception:  # noqa: BLE001 - an engine refusing the module is an answer here
        return ERROR
    return "undefined" if value is UNDEFINED else value


@pytest.mark.parametrize("engine", ENGINE_NAMES)
@pytest.mark.parametrize("construct", CONSTRUCTS, ids=[c.name for c in CONSTRUCTS])
def test_engine_answers_the_construct_as_listed(construct: Construct, engine: str) -> None:
    require_engine(engine)
    expected = construct.answers.get(engine, construct.agreed)
    assert _answer(engine, construct.rules, construct.input, construct.data) == expected


@pytest.mark.parametrize("engine", ENGINE_NAMES)
@pytest.mark.parametrize("construct", CONSTRUCTS, ids=[c.name for c in CONSTRUCTS])
def test_the_form_written_instead_means_the_same_on_every_engine(
    construct: Construct, engine: str
) -> None:
    require_engine(engine)
    expected = construct.agreed if construct.instead_answer is None else construct.instead_answer
    assert _answer(engine, construct.instead, construct.input, construct.data) == expected


def test_every_construct_differs_on_some_engine_and_opa_gives_the_agreed_answer() -> None:
    for construct in CONSTRUCTS:
        assert construct.answers, construct.name
        assert any(v != construct.agreed for v in construct.answers.values())
        if construct.name != "not-over-an-undefined-reference":
            assert "opa-go" not in construct.answers  # OPA, the production engine, agrees


def test_the_list_in_policies_rego_names_each_pinned_construct() -> None:
    listed = re.findall(r"^\| `([a-z-]+)` \|", LIST.read_text(), re.MULTILINE)
    assert listed == [c.name for c in CONSTRUCTS]


POLICY = LIST.parent / "authz.rego"


def test_the_policy_cites_only_listed_constructs_and_keeps_no_list_of_its_own() -> None:
    """authz.rego's header once kept its own list of constructs to avoid, which contradicted
    the table (review9b F3): it points to the table now, and each rule written around a
    construct names the table's row."""
    text = POLICY.read_text()
    listed = {c.name for c in CONSTRUCTS}
    cited = set(re.findall(r"ENGINE-DIFFERENCES\.md `([a-z-]+)`", text))
    assert cited - listed == set()
    assert {"assignment-from-a-missing-key", "comparison-across-types"} <= cited
    header = text.split("\npackage ", 1)[0]
    portability = header[header.index("# Portability") :]
    assert "ENGINE-DIFFERENCES.md" in portability
    assert not re.search(r"^# - ", portability, re.MULTILINE)  # no list of its own
