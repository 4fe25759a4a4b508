"""Run the Rego ``test_`` rules under ``policies/`` on every Rego engine available, like
``opa test``: each test rule is evaluated against the compiled covenants and passes when it
is true. regorus's interpreter always runs them (the RVM has no ``with``); regopy
(rego-cpp) does too when it is installed, as the differential check.
"""

from __future__ import annotations

import importlib.util
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from gateway.policy.compiler import compile_data, rego_modules, revision_of
from gateway.policy.covenant import Covenant, default_covenant_dir, load_covenants

_TEST_RULE = re.compile(r"^(test_[A-Za-z0-9_]+)\b", re.MULTILINE)
_PACKAGE = re.compile(r"^package\s+([A-Za-z0-9_.]+)", re.MULTILINE)


@dataclass(frozen=True)
class RegoTestResult:
    engine: str
    rule: str
    passed: bool
    microseconds: float
    error: str | None = None
    #: The engine cannot run this test at all (not a verdict on the policy).
    skipped: bool = False


class EngineLimitation(Exception):
    """The engine cannot evaluate the test's construct; the test is skipped, with why."""


# rego-cpp 1.5 fails `with input as ...` whenever the rule under test reads another rule
# that depends on input (internal error "shape `rego-localref` has no field
# `rego-refhead`"); every test of a real policy does. Its decisions are still checked
# against regorus by tests/policy, through decide() without `with`.
_REGOPY_WITH_LIMITATION = (
    "rego-cpp 1.5 cannot evaluate `with input` through rule references; "
    "differential coverage: tests/policy/test_differential.py"
)


def rego_test_modules(root: Path | None = None) -> dict[str, str]:
    """The ``*_test.rego`` files under ``policies/``, keyed by their path."""
    root = root if root is not None else default_covenant_dir().parent
    return {
        path.relative_to(root).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(root.rglob("*_test.rego"))
    }


def rego_test_rules(modules: Mapping[str, str]) -> list[str]:
    rules: list[str] = []
    for text in modules.values():
        package = _PACKAGE.search(text)
        if package:
            rules += [f"data.{package.group(1)}.{rule}" for rule in _TEST_RULE.findall(text)]
    return list(dict.fromkeys(rules))


Evaluate = Callable[[str], bool]


def _regorus(modules: Mapping[str, str], data_json: str) -> Evaluate:
    import regorus

    engine = regorus.Engine()
    for name, text in sorted(modules.items()):
        engine.add_policy(name, text)
    engine.add_data_json(data_json)
    engine.set_input_json("{}")

    def evaluate(rule: str) -> bool:
        return bool(engine.eval_rule(rule) is True)  # undefined (None) fails

    return evaluate


def _regopy(modules: Mapping[str, str], data_json: str) -> Evaluate:
    import regopy

    interpreter = regopy.Interpreter()
    for name, text in sorted(modules.items()):
        interpreter.add_module(name, text)
    interpreter.add_data_json(data_json)
    interpreter.set_input_term("{}")

    def evaluate(rule: str) -> bool:
        output = interpreter.query(rule)
        if not output.ok():
            # Not str(output): regopy 1.5.2 crashes rendering an error result.
            error = _regopy_error(interpreter)
            if "rego-localref" in error or "rego-with" in error:
                raise EngineLimitation(_REGOPY_WITH_LIMITATION)
            raise RuntimeError(error or "rego-cpp reported an error evaluating the rule")
        text = str(output)
        return text != "undefined" and orjson.loads(text).get("expressions") == [True]

    return evaluate


def _regopy_error(interpreter: Any) -> str:
    try:
        from regopy.rego_shared import rego_get_error  # type: ignore[import-untyped]

        return str(rego_get_error(interpreter._impl)).splitlines()[0]
    except (ImportError, AttributeError, IndexError):
        return ""


_ENGINES: dict[str, tuple[str, Callable[[Mapping[str, str], str], Evaluate]]] = {
    "regorus": ("regorus", _regorus),
    "regopy": ("regopy", _regopy),
}


def available_engines() -> list[str]:
    return [name for name, (module, _) in _ENGINES.items() if importlib.util.find_spec(module)]


def run_rego_tests(
    engines: list[str] | None = None,
    covenants: Mapping[str, Covenant] | None = None,
    root: Path | None = None,
) -> list[RegoTestResult]:
    """Every test rule on every engine; an engine that cannot load the policy fails all."""
    covenants = covenants if covenants is not None else load_covenants()
    policy = rego_modules()
    data: Any = compile_data(covenants, revision_of(covenants, policy))
    data_json = orjson.dumps(data).decode()
    tests = rego_test_modules(root)
    modules = {**policy, **tests}
    rules = rego_test_rules(tests)
    results: list[RegoTestResult] = []
    for engine in engines if engines is not None else available_engines():
        try:
            evaluate = _ENGINES[engine][1](modules, data_json)
        except Exception as exc:  # noqa: BLE001 - reported as failures, not a crash
            results += [RegoTestResult(engine, rule, False, 0.0, str(exc)) for rule in rules]
            continue
        for rule in rules:
            started = time.perf_counter()
            error: str | None = None
            skipped = False
            try:
                passed = evaluate(rule)
            except EngineLimitation as exc:
                passed, error, skipped = False, str(exc), True
            except Exception as exc:  # noqa: BLE001
                passed, error = False, str(exc).splitlines()[0] if str(exc) else "error"
            elapsed = (time.perf_counter() - started) * 1e6
            results.append(RegoTestResult(engine, rule, passed, elapsed, error, skipped))
    return results
