"""Run the Rego ``test_`` rules under ``policies/`` on every Rego engine available, like
``opa test``, and compare the engines: any disagreement fails.

Two ways to run a test:

- ``with``: the engine evaluates the test rule as written (regorus's interpreter).
- ``staged``: for engines that cannot evaluate ``with input as ...`` (rego-cpp 1.5 fails
  it as soon as the rule under test calls any builtin or operator: internal error "shape
  `rego-localref` has no field `rego-refhead`"; regorus's RVM has no ``with`` at all), the
  runner performs the ``with`` itself, on the same engine, for the same test text:

  1. each statement ``<lhs> with input as <expr>`` of a test body becomes ``<lhs>`` with its
     one ``data.`` reference replaced by ``data.regotest_with["<test>"]["<k>"]``;
  2. a probe rule ``<probe> := <expr> if { <the body lines before that statement> }``
     computes the input exactly as the test would at that point, on the engine under test;
  3. the engine evaluates the referenced rule with that input set natively, and the result
     (or nothing, when it is undefined) goes into ``data.regotest_with``;
  4. when every ``with`` of every test is resolved, the engine evaluates the rewritten test
     rules: the same assertions over the same values.

  Only that statement form is rewritten; any other ``with`` (multi-line, ``with data``, a
  function call, an ``input`` reference outside the replaced one) fails the test on that
  engine rather than being skipped. regorus's interpreter runs both ways, so the rewrite
  itself is checked against native ``with`` on every run.

The differential check: every test must have the same verdict in every run, and every staged
``with`` must give the same decision document on every staged engine.
"""

from __future__ import annotations

import importlib.util
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import orjson

from gateway.policy.compiler import compile_data, rego_modules
from gateway.policy.covenant import Covenant, load_covenants
from gateway.policy.layout import default_package_dir

_TEST_RULE = re.compile(r"^(test_[A-Za-z0-9_]+)\b", re.MULTILINE)
_PACKAGE = re.compile(r"^package\s+([A-Za-z0-9_.]+)", re.MULTILINE)
_BLOCK_START = re.compile(r"^(test_[A-Za-z0-9_]+)\s+if\s*\{\s*(#.*)?$")
_WITH = re.compile(r"\bwith\b")
_WITH_INPUT = re.compile(r"^(?P<indent>\s*)(?P<lhs>.+?)\s+with\s+input\s+as\s+(?P<expr>.+?)\s*$")
_DATA_REF = re.compile(r"\bdata(?:\.[A-Za-z_][A-Za-z0-9_]*)+")

#: The top-level data key the staged runner writes resolved ``with`` results under.
STAGED_DATA_KEY = "regotest_with"


class Undefined:
    """A rule without a value (not JSON null)."""

    def __repr__(self) -> str:
        return "<undefined>"


UNDEFINED = Undefined()


class Evaluator(Protocol):
    def rule(self, ref: str, input_json: str) -> Any:
        """The rule's value as JSON-compatible data, or ``UNDEFINED``; raises on an error."""


#: (modules, data JSON, the rule references that will be evaluated) -> an evaluator.
EvaluatorFactory = Callable[[Mapping[str, str], str, list[str]], Evaluator]


@dataclass(frozen=True)
class EngineSpec:
    factory: EvaluatorFactory
    #: Evaluates ``with input as`` itself (also run staged, as the check on the rewrite).
    supports_with: bool
    #: The Python module the engine needs, for ``available_engines``.
    module: str
    #: What the engine is, for reports.
    describes: str = ""


@dataclass(frozen=True)
class RegoTestResult:
    engine: str
    #: "with" (the engine evaluated ``with``) or "staged" (the runner did, see above).
    mode: str
    rule: str
    passed: bool
    microseconds: float
    error: str | None = None

    @property
    def run(self) -> str:
        return self.engine if self.mode == "with" else f"{self.engine}/staged"


@dataclass
class RegoTestReport:
    results: list[RegoTestResult] = field(default_factory=list)
    #: One line per test or staged ``with`` on which the runs disagree.
    disagreements: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.results) and not self.disagreements and all(r.passed for r in self.results)


# --- engines --------------------------------------------------------------------------------


class _RegorusInterpreter:
    def __init__(self, modules: Mapping[str, str], data_json: str, _: list[str]) -> None:
        import regorus

        self._engine = regorus.Engine()
        for name, text in sorted(modules.items()):
            self._engine.add_policy(name, text)
        self._engine.add_data_json(data_json)

    def rule(self, ref: str, input_json: str) -> Any:
        self._engine.set_input_json(input_json)
        return _from_json(self._engine.eval_rule_as_json(ref))


class _RegorusRvm:
    def __init__(self, modules: Mapping[str, str], data_json: str, refs: list[str]) -> None:
        import regorus

        program = regorus.Program.compile_from_modules(
            data_json, sorted(modules.items()), sorted(set(refs))
        )
        self._vm = regorus.Rvm()
        self._vm.load_program(program)
        self._vm.set_data_json(data_json)

    def rule(self, ref: str, input_json: str) -> Any:
        self._vm.set_input_json(input_json)
        return _from_json(self._vm.execute_entry_point(ref))


def _from_json(text: str) -> Any:
    value = orjson.loads(text)
    return UNDEFINED if value == "<undefined>" else value


class _Regopy:
    """rego-cpp: the modules compiled once into a bundle with the rules to evaluate as entry
    points (a plain ``query`` compiles everything again, ~2 s each)."""

    def __init__(self, modules: Mapping[str, str], data_json: str, refs: list[str]) -> None:
        import regopy

        self._interpreter = regopy.Interpreter()
        for name, text in sorted(modules.items()):
            self._interpreter.add_module(name, text)
        self._interpreter.add_data_json(data_json)
        entrypoints = sorted({_entrypoint(ref) for ref in refs})
        self._bundle = self._interpreter.build(None, entrypoints)
        if self._bundle is None or not self._bundle.ok():
            raise RuntimeError(_regopy_error(self._interpreter) or "rego-cpp cannot compile")

    def rule(self, ref: str, input_json: str) -> Any:
        self._interpreter.set_input_term(input_json)
        output = self._interpreter.query_bundle_entrypoint(self._bundle, _entrypoint(ref))
        if not output.ok():
            # Not str(output): regopy 1.5.2 crashes rendering an error result.
            raise RuntimeError(_regopy_error(self._interpreter) or "rego-cpp reported an error")
        text = str(output)
        if text == "undefined":
            return UNDEFINED
        return orjson.loads(text)["expressions"][0]


def _entrypoint(ref: str) -> str:
    return ref.removeprefix("data.").replace(".", "/")


def _regopy_error(interpreter: Any) -> str:
    try:
        from regopy.rego_shared import rego_get_error  # type: ignore[import-untyped]

        return str(rego_get_error(interpreter._impl)).splitlines()[0]
    except (ImportError, AttributeError, IndexError):
        return ""


class _OpaGo:
    """OPA's own Go evaluator (gateway/policy/opa_go.py): evaluates ``with`` itself."""

    def __init__(self, modules: Mapping[str, str], data_json: str, _: list[str]) -> None:
        from gateway.policy.opa_go import OpaGo

        self._opa = OpaGo(modules, orjson.loads(data_json))

    def rule(self, ref: str, input_json: str) -> Any:
        from gateway.policy.opa_go import Undefined

        try:
            return self._opa.rule(ref, orjson.loads(input_json))
        except Undefined:
            return UNDEFINED


ENGINES: dict[str, EngineSpec] = {
    "regorus": EngineSpec(
        _RegorusInterpreter, True, "regorus", "regorus, interpreter (embedded engine's reference)"
    ),
    "regorus-rvm": EngineSpec(
        _RegorusRvm, False, "regorus", "regorus, RVM (the gateway's embedded engine)"
    ),
    "regopy": EngineSpec(_Regopy, False, "regopy", "rego-cpp (regopy)"),
    "opa-go": EngineSpec(
        _OpaGo, True, "opa_bindings", "OPA (Go), the production OPA server's evaluator"
    ),
}


def available_engines() -> list[str]:
    return [name for name, spec in ENGINES.items() if importlib.util.find_spec(spec.module)]


# --- test files -----------------------------------------------------------------------------


def rego_test_modules(root: Path | None = None) -> dict[str, str]:
    """The ``*_test.rego`` files under ``policies/``, keyed by their path."""
    root = root if root is not None else default_package_dir()
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


class UnsupportedWith(ValueError):
    """A ``with`` the staged runner does not rewrite; the test fails on staged engines."""


@dataclass(frozen=True)
class StagedWith:
    test: str  # full rule reference of the test
    index: int
    probe: str  # full rule reference of the probe that computes the input
    target: str  # the data reference evaluated with that input


@dataclass
class StagedModules:
    modules: dict[str, str]
    withs: list[StagedWith]
    #: test rule reference -> why it cannot be staged
    unsupported: dict[str, str]


def _code(line: str, keep_strings: bool = False) -> str:
    """The line without its comment and (unless kept) string contents."""
    out: list[str] = []
    in_string = False
    escaped = False
    for char in line:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
                out.append('"')
                continue
            if keep_strings:
                out.append(char)
            continue
        if char == "#":
            break
        if char == '"':
            in_string = True
        out.append(char)
    return "".join(out)


def _balanced(code: str) -> bool:
    depth = 0
    for char in code:
        depth += char in "([{"
        depth -= char in ")]}"
        if depth < 0:
            return False
    return depth == 0


def _staged_key(test: str, index: int) -> str:
    return f'data.{STAGED_DATA_KEY}["{test}"]["{index}"]'


def stage_module(text: str, packages: set[str]) -> tuple[str, list[StagedWith], dict[str, str]]:
    """The module with its test rules' ``with input as`` statements rewritten (see above);
    ``packages`` are those of the modules loaded, to tell the rule in a data reference."""
    package_match = _PACKAGE.search(text)
    if package_match is None:
        return text, [], {}
    package = package_match.group(1)
    lines = text.splitlines()
    out: list[str] = []
    probes: list[tuple[str, str]] = []  # (test, probe rule)
    withs: list[StagedWith] = []
    unsupported: dict[str, str] = {}
    outside = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        start = _BLOCK_START.match(line)
        if start is None:
            if _WITH.search(_code(line)) and not outside:
                outside = line.strip()
            out.append(line)
            i += 1
            continue
        name = start.group(1)
        test = f"data.{package}.{name}"
        end = i + 1
        while end < len(lines) and not re.match(r"^\}\s*(#.*)?$", lines[end]):
            end += 1
        body = lines[i + 1 : end]
        rewritten: list[str] = []
        for body_line in body:
            code = _code(body_line)
            if not _WITH.search(code):
                rewritten.append(body_line)
                continue
            index = len([w for w in withs if w.test == test])
            problem = _stage_statement(_code(body_line, keep_strings=True), packages)
            if isinstance(problem, str):
                unsupported[test] = f"{problem}: {body_line.strip()}"
                continue
            indent, lhs, expr, target = problem
            probe_name = f"regotest_probe_{name}_{index}"
            prefix = list(rewritten)
            if any(p.strip() for p in prefix):
                body_text = "\n".join(prefix)
                probes.append((test, f"{probe_name} := ({expr}) if {{\n{body_text}\n}}"))
            else:
                probes.append((test, f"{probe_name} := ({expr})"))
            withs.append(StagedWith(test, index, f"data.{package}.{probe_name}", target))
            rewritten.append(indent + lhs.replace(target, _staged_key(test, index), 1))
        if test in unsupported:
            # Left out, so that the rest of the module still compiles on the engine.
            probes = [p for p in probes if p[0] != test]
            withs = [w for w in withs if w.test != test]
            out.append(f"{name} := false")
        else:
            out += [line, *rewritten]
            if end < len(lines):
                out.append(lines[end])
        i = end + 1
    if outside:
        # A `with` outside a test block (a helper rule, a one-line test): any test of the
        # module may depend on it, so every test of the module fails staged.
        rules = list(dict.fromkeys(_TEST_RULE.findall(text)))
        why = f"`with` outside a test block: {outside}"
        unsupported = {f"data.{package}.{r}": why for r in rules}
        stub = [f"package {package}", "", *(f"{r} := false" for r in rules)]
        return "\n".join(stub) + "\n", [], unsupported
    return "\n".join([*out, "", *(p for _, p in probes)]) + "\n", withs, unsupported


def _stage_statement(code: str, packages: set[str]) -> tuple[str, str, str, str] | str:
    """(indent, lhs, expr, data reference) of ``<lhs> with input as <expr>``, or why not."""
    match = _WITH_INPUT.match(code)
    if match is None:
        return "only `<statement> with input as <expression>` is staged"
    indent, lhs, expr = match.group("indent"), match.group("lhs"), match.group("expr")
    if (
        _WITH.search(_code(expr))
        or ";" in _code(code)
        or not _balanced(_code(expr))
        or not _balanced(_code(lhs))
    ):
        return "the `with` statement must be one complete line with one `with`"
    refs = _DATA_REF.findall(_code(lhs))
    if len(refs) != 1:
        return "the statement must reference exactly one `data.` rule"
    ref = refs[0]
    if lhs[lhs.index(ref) + len(ref) :].startswith("("):
        return "a function call under `with` is not staged"
    # The rule: a loaded package's path and one more name; the rest stays in the statement.
    parts = ref.split(".")[1:]
    rules = [
        "data." + ".".join(parts[: n + 1])
        for n in range(len(parts) - 1, 0, -1)
        if ".".join(parts[:n]) in packages
    ]
    if not rules:
        return "the `data.` reference names no rule of a loaded package"
    target = rules[0]
    if re.search(r"\binput\b", _code(lhs)):
        return "`input` in the statement itself is not staged"
    return indent, lhs, expr, target


def stage_modules(tests: Mapping[str, str], packages: set[str]) -> StagedModules:
    modules: dict[str, str] = {}
    withs: list[StagedWith] = []
    unsupported: dict[str, str] = {}
    for name, text in tests.items():
        modules[name], module_withs, module_unsupported = stage_module(text, packages)
        withs += module_withs
        unsupported.update(module_unsupported)
    return StagedModules(modules, withs, unsupported)


# --- running --------------------------------------------------------------------------------


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def _data_with(data: Any, resolved: Mapping[str, Mapping[str, Any]]) -> str:
    return orjson.dumps({**data, STAGED_DATA_KEY: resolved}).decode()


def run_with(
    engine: str,
    factory: EvaluatorFactory,
    modules: Mapping[str, str],
    data: Any,
    rules: list[str],
) -> list[RegoTestResult]:
    """Every test evaluated by the engine as written."""
    try:
        evaluator = factory(modules, orjson.dumps(data).decode(), rules)
    except BaseException as exc:  # noqa: BLE001 - engine bindings panic as BaseException
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        return [RegoTestResult(engine, "with", r, False, 0.0, _first_line(exc)) for r in rules]
    results = []
    for rule in rules:
        started = time.perf_counter()
        error: str | None = None
        try:
            passed = evaluator.rule(rule, "{}") is True  # undefined fails
        except Exception as exc:  # noqa: BLE001
            passed, error = False, _first_line(exc)
        elapsed = (time.perf_counter() - started) * 1e6
        results.append(RegoTestResult(engine, "with", rule, passed, elapsed, error))
    return results


_BATCH_PACKAGE = "regotest_batch"


def _batch_module(staged: StagedModules, rules: list[str], rounds: int) -> str:
    """Rules that collect every probe of a round, and every passed test, in one query each
    (rego-cpp recompiles on every query, ~0.2 s); a batch that errors is rerun one by one."""
    lines = [f"package {_BATCH_PACKAGE}", "", "import rego.v1", ""]
    for k in range(rounds):
        for w in staged.withs:
            if w.index == k:
                lines.append(f'round_{k} contains ["{w.test}", v] if {{ v := {w.probe} }}')
    for rule in rules:
        lines.append(f'passed contains "{rule}" if {{ {rule} == true }}')
    return "\n".join(lines) + "\n"


def _batched(
    evaluator: Evaluator, batch: str, singles: Mapping[str, str], pairs: bool
) -> dict[str, Any]:
    """key -> value (or the exception) of the rule ``singles[key]``, absent when undefined,
    through one query of ``batch``: a set of ``[key, value]`` pairs, or (``pairs=False``)
    of the keys whose rule is true. A batch that errors is rerun one rule at a time."""
    try:
        found = evaluator.rule(batch, "{}")
    except Exception:  # noqa: BLE001 - find out which one errors, below
        found = None
    if isinstance(found, list):
        if pairs and all(
            isinstance(item, list)
            and len(item) == 2
            and isinstance(item[0], str)
            and item[0] in singles
            for item in found
        ):
            return {item[0]: item[1] for item in found}
        if not pairs and all(isinstance(item, str) and item in singles for item in found):
            return dict.fromkeys(found, True)
        # Anything else (regorus's RVM puts "<undefined>" into a set for an undefined
        # `v := rule`): ask one rule at a time.
    values: dict[str, Any] = {}
    for key, ref in singles.items():
        try:
            value = evaluator.rule(ref, "{}")
        except Exception as exc:  # noqa: BLE001
            value = exc
        if value is not UNDEFINED:
            values[key] = value
    return values


def run_staged(
    engine: str,
    factory: EvaluatorFactory,
    policy: Mapping[str, str],
    data: Any,
    tests: Mapping[str, str],
    rules: list[str],
) -> tuple[list[RegoTestResult], dict[tuple[str, int], Any]]:
    """Every test with the runner performing its ``with`` statements on the engine; also
    the value each staged ``with`` produced, for the comparison between engines."""
    texts = [*policy.values(), *tests.values()]
    packages = {m.group(1) for text in texts if (m := _PACKAGE.search(text))}
    staged = stage_modules(tests, packages)
    # Round k resolves the k-th `with` of every test; its probe sees rounds 0..k-1.
    rounds = max((w.index + 1 for w in staged.withs), default=0)
    modules = {
        **policy,
        **staged.modules,
        "regotest_batch.rego": _batch_module(staged, rules, rounds),
    }
    batch = f"data.{_BATCH_PACKAGE}"
    refs = [
        *rules,
        *(w.probe for w in staged.withs),
        *(w.target for w in staged.withs),
        *(f"{batch}.round_{k}" for k in range(rounds)),
        f"{batch}.passed",
    ]
    resolved: dict[str, dict[str, Any]] = {}
    values: dict[tuple[str, int], Any] = {}
    errors: dict[str, str] = dict(staged.unsupported)
    started = time.perf_counter()
    try:
        for k in range(rounds):
            evaluator = factory(modules, _data_with(data, resolved), refs)
            withs = [w for w in staged.withs if w.index == k and w.test not in errors]
            probes = _batched(
                evaluator, f"{batch}.round_{k}", {w.test: w.probe for w in withs}, True
            )
            for w in withs:
                given = probes.get(w.test, UNDEFINED)
                if given is UNDEFINED:  # the test body fails before this `with`
                    continue
                try:
                    if isinstance(given, Exception):
                        raise given
                    value = evaluator.rule(w.target, orjson.dumps(given).decode())
                except Exception as exc:  # noqa: BLE001
                    errors[w.test] = _first_line(exc)
                    continue
                values[(w.test, k)] = value
                if value is not UNDEFINED:
                    resolved.setdefault(w.test, {})[str(k)] = value
        evaluator = factory(modules, _data_with(data, resolved), refs)
        passed = _batched(evaluator, f"{batch}.passed", {r: r for r in rules}, False)
    except BaseException as exc:  # noqa: BLE001 - engine bindings panic as BaseException
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        failed = [RegoTestResult(engine, "staged", r, False, 0.0, _first_line(exc)) for r in rules]
        return failed, values
    # One figure for the whole staged run: the rounds are shared by all tests.
    micros = (time.perf_counter() - started) * 1e6 / max(len(rules), 1)
    results = []
    for rule in rules:
        outcome: Any = passed.get(rule, False)
        error = errors.get(rule)
        if isinstance(outcome, Exception):
            outcome, error = False, error or _first_line(outcome)
        ok = outcome is True and error is None
        results.append(RegoTestResult(engine, "staged", rule, ok, micros, error))
    return results, values


def compare(
    results: list[RegoTestResult], staged_values: Mapping[str, Mapping[tuple[str, int], Any]]
) -> list[str]:
    """Where the runs disagree: a test's verdict, or the value of a staged ``with``."""
    disagreements: list[str] = []
    verdicts: dict[str, dict[str, bool]] = {}
    for result in results:
        verdicts.setdefault(result.rule, {})[result.run] = result.passed
    for rule, by_run in verdicts.items():
        if len(set(by_run.values())) > 1:
            runs = ", ".join(f"{run}={'PASS' if ok else 'FAIL'}" for run, ok in by_run.items())
            disagreements.append(f"{rule}: {runs}")
    keys = sorted({key for values in staged_values.values() for key in values})
    for test, index in keys:
        seen = {
            engine: orjson.dumps(
                values.get((test, index), UNDEFINED), default=repr, option=orjson.OPT_SORT_KEYS
            )
            for engine, values in staged_values.items()
        }
        if len(set(seen.values())) > 1:
            engines = ", ".join(sorted(seen))
            disagreements.append(
                f"{test}: `with` #{index + 1} gives different documents on {engines}"
            )
    return disagreements


def run_rego_tests(
    engines: list[str] | None = None,
    covenants: Mapping[str, Covenant] | None = None,
    root: Path | None = None,
    specs: Mapping[str, EngineSpec] | None = None,
) -> RegoTestReport:
    """Every test rule on every engine (``with`` where the engine can, staged on every
    engine), compared across the runs."""
    specs = specs if specs is not None else ENGINES
    covenants = covenants if covenants is not None else load_covenants()
    policy = rego_modules()
    data: Any = compile_data(covenants, policy)
    tests = rego_test_modules(root)
    rules = rego_test_rules(tests)
    report = RegoTestReport()
    staged_values: dict[str, dict[tuple[str, int], Any]] = {}
    for engine in engines if engines is not None else available_engines():
        spec = specs[engine]
        if spec.supports_with:
            report.results += run_with(engine, spec.factory, {**policy, **tests}, data, rules)
        results, values = run_staged(engine, spec.factory, policy, data, tests, rules)
        report.results += results
        staged_values[engine] = values
    report.disagreements = compare(report.results, staged_values)
    return report
