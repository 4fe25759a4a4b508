"""The policy decision point: one ``decide()`` over interchangeable Rego engines.

Fail closed: an engine error, a timeout, an undefined result or a missing bundle yields a
deny decision (every category redacted) and a log line naming only the reason code, the
engine and the revision; never the input, which holds personal data.

Hot path (``RegorusEngine``, the default): the input document goes to the engine as JSON
(orjson), the bundle is evaluated by regorus's compiled virtual machine (RVM) as one entry
point, ``data.ketenpoort.authz.decision``, which returns the whole decision document, and
the ``Decision`` is assembled by hand (no pydantic validation), after checking in ~1 µs that
the answer is one the policy can give on the loaded bundle (``to_decision``): anything else
denies as ``inconsistent-result``, whichever engine answered (review6a, finding 1).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from gateway.config import POLICY_TIME_LIMIT_SECONDS
from gateway.policy.bundle import Bundle
from gateway.policy.compiler import DATA_ROOT
from gateway.policy.errors import BundleError
from gateway.policy.schemas import CategoryDecision, Decision, PolicyInput, new_decision_id

# regorus builds an error value (anyhow) for every undefined lookup while it evaluates; with
# RUST_BACKTRACE=1 in the environment each of those captures a stack backtrace, which makes a
# decision ~25% slower. RUST_LIB_BACKTRACE=0 turns off backtraces for such library errors
# only: a panic still prints its backtrace. It must be set before the first capture, hence
# at import, and an operator's explicit setting wins.
os.environ.setdefault("RUST_LIB_BACKTRACE", "0")

log = logging.getLogger("gateway.policy")

DECISION_RULE = "data.ketenpoort.authz.decision"
#: The reasons of a decision the engine could not make (``deny``): an outage, answered 503
#: with nothing disclosed (gateway/exchange/enforcement.py), never a refusal by the covenant.
#: ``inconsistent-result``: the engine answered, but not what the policy can answer
#: (``to_decision``).
ENGINE_FAILURES = frozenset(
    {
        "no-policy-loaded",
        "engine-timeout",
        "undefined-result",
        "engine-error",
        "inconsistent-result",
    }
)
_OUTCOMES = frozenset({"disclose", "redact"})
_ANSWERS = frozenset({"detail", "yes-no", "none"})


class PolicyEngine(Protocol):
    name: str

    @property
    def revision(self) -> str | None: ...

    def load(self, bundle: Bundle) -> None: ...

    def decide(self, policy_input: PolicyInput) -> Decision: ...

    def readiness_problem(self) -> str | None:
        """Why the engine cannot decide on the bundle it loaded now (the readiness check):
        an OPA server that is down or decides on another bundle; None when it can."""
        ...


def deny(
    policy_input: PolicyInput,
    reason: str,
    engine: str,
    revision: str | None,
    problem: str | None = None,
) -> Decision:
    """The fail-closed decision: nothing is disclosed. ``problem``: what was wrong with the
    engine's answer (``InconsistentAnswer``: which check failed, never a value), or why the
    engine was not trusted to answer (``UntrustedPolicy``)."""
    decision_id = new_decision_id()
    log.warning(
        "policy decision failed closed",
        extra={
            "reason": reason,
            "engine": engine,
            "revision": revision,
            "decision_id": decision_id,
            "problem": problem,
        },
    )
    return Decision.trusted(
        allow=False,
        categories={
            c: CategoryDecision.trusted("redact", "none", [], [reason])
            for c in policy_input.categories
        },
        clauses=[],
        errors=[reason],
        bundle_revision=revision,
        decision_id=decision_id,
        engine=engine,
    )


#: The keys of the decision document and of a category's verdict (policies/rego/authz.rego,
#: ``decision``): a strict contract, an answer with a key more or less is refused.
_DECISION_SIZE = len(("allow", "categories", "clauses", "errors", "revision"))
_VERDICT_SIZE = len(("outcome", "answer", "clauses", "reasons"))
#: The answer forms a disclosure can have (a covenant's ``AnswerForm``); ``none`` is a
#: redaction's.
_DISCLOSED_ANSWERS = frozenset({"detail", "yes-no"})

#: The request errors of an invalid request (policies/rego/authz.rego ``reason_order``, the
#: first five): the only errors an answer may carry.
_REQUEST_ERRORS = frozenset(
    {
        "unknown-covenant",
        "unknown-partner",
        "role-not-held-by-partner",
        "unknown-purpose",
        "unknown-phase",
    }
)
#: A disclosure's key in a plan's contract: its answer form and clause ids, as the compiled
#: verdict cites them.
_Disclosure = tuple[str, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class CategoryContract:
    """What the policy may answer on one category to the requests of one plan
    (``role|purpose|phase``): each disclosure it can give (answer form, clause ids) with the
    relations to the case that hold in every state it is given in (``_RELATIONS``), and the
    reasons of each redaction it can give."""

    disclosures: dict[_Disclosure, tuple[str, ...]]
    redactions: frozenset[tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class CovenantContract:
    """What a decision on one covenant may say: the roles each partner holds (a request has a
    plan only with the partner holding its role), per plan key the categories' contracts,
    and the static reasons (role, purpose, phase) it can give a valid request without a plan."""

    roles: dict[str, frozenset[str]]
    plans: dict[str, dict[str, CategoryContract]]
    reasons: frozenset[str]


#: Per covenant id: what a decision may say (``answer_contract``), computed once per loaded
#: bundle.
AnswerContract = dict[str, CovenantContract]

#: The requester's relations to the case that a compiled state can require (its conditions,
#: policies/rego/authz.rego ``condition_fails``), checked again on the request itself: a
#: disclosure bound to one (the case team, the case lead, the dwelling's landlord) is
#: consistent only if the relation holds for this requester. The other conditions (consents,
#: events, the dwelling's pollution) are the case's state and are not re-derived here.
_RELATIONS: dict[str, Callable[[PolicyInput], bool]] = {
    "case-team": lambda i: i.requester.partner in i.case.team,
    "relation:case-lead": lambda i: i.case.lead == i.requester.partner,
    "relation:dwelling-landlord": lambda i: (
        i.case.dwelling.ownership == "corporation"
        and i.case.dwelling.corporation == i.requester.partner
    ),
}


class InconsistentAnswer(ValueError):
    """The engine's answer contradicts itself or the covenants of the loaded bundle."""


class UntrustedPolicy(Exception):
    """The OPA server is not known to decide by the gateway's bundle, so its answer is not
    asked for or not taken: the decision denies (``engine-error``, 503, nothing disclosed).
    The message says why (revisions, an error's type), never anything of the input."""


def _strings(tree: Any) -> set[str]:
    """Every string leaf of a compiled value (the reasons of ``staticReasons``)."""
    if isinstance(tree, str):
        return {tree}
    if isinstance(tree, dict):
        return set().union(*map(_strings, tree.values())) if tree else set()
    if isinstance(tree, list):
        return set().union(*map(_strings, tree)) if tree else set()
    return set()


def _category_contract(
    states: dict[str, dict[str, Any]], condition_set: set[str], answer: str | None
) -> CategoryContract:
    disclosures: dict[_Disclosure, set[str]] = {}
    redactions: set[tuple[str, ...]] = set()
    for failing, by_consent in states.items():
        holding = condition_set - set(failing.split(",") if failing else ())
        for verdict in by_consent.values():
            if verdict.get("outcome") == "disclose" and verdict.get("answer") == answer:
                key = (str(answer), tuple(verdict.get("clauses", ())))
                disclosures.setdefault(key, set(holding)).intersection_update(holding)
            else:
                redactions.add(tuple(verdict.get("reasons", ())))
    return CategoryContract(
        disclosures={
            key: tuple(sorted(held & _RELATIONS.keys()))
            for key, held in disclosures.items()
            if key[1] and answer in _DISCLOSED_ANSWERS
        },
        redactions=frozenset(redactions),
    )


def answer_contract(bundle: Bundle) -> AnswerContract:
    """What a decision on ``bundle`` may say, per covenant and plan (``role|purpose|phase``,
    the plan the Rego picks for the request: policies/rego/authz.rego ``plan``): per
    category, the disclosures its compiled states can give, each with its answer form, its
    clause ids and the relations to the case it needs, and the reasons of the redactions
    they can give (a category outside the plan: its ``unplanned`` reasons, or
    ``unknown-category``).

    A request without a plan (its partner not holding the role, or no clause for its role,
    purpose and phase), a covenant missing here, a category outside the plan or an answer
    form other than the covenant's ``detail`` or ``yes-no`` can never be disclosed."""
    contract: AnswerContract = {}
    covenants = bundle.data.get(DATA_ROOT, {}).get("covenants", {})
    for covenant_id, covenant in covenants.items():
        forms = {c: about.get("answer") for c, about in covenant.get("categories", {}).items()}
        # A valid request without a plan is told its static reasons (role, purpose, phase).
        reasons = _strings(covenant.get("staticReasons", {})) | {"unknown-category"}
        plans: dict[str, dict[str, CategoryContract]] = {}
        for key, plan in covenant.get("plans", {}).items():
            condition_set = set(plan.get("conditionSet", {}))
            by_category = {
                category: _category_contract(states, condition_set, forms.get(category))
                for category, states in plan.get("categories", {}).items()
            }
            for category, why in plan.get("unplanned", {}).items():
                by_category[category] = CategoryContract({}, frozenset({tuple(why)}))
            plans[key] = by_category
        contract[covenant_id] = CovenantContract(
            roles={
                partner: frozenset(about.get("roles", {}))
                for partner, about in covenant.get("partners", {}).items()
            },
            plans=plans,
            reasons=frozenset(reasons),
        )
    return contract


def to_decision(
    result: Any,
    engine: str,
    revision: str,
    contract: AnswerContract,
    policy_input: PolicyInput,
) -> Decision:
    """The engine's decision document as a ``Decision``. An answer that is not exactly what
    the policy gives to THIS request (review6a finding 1, review7a F1) raises
    ``InconsistentAnswer``, and the decision denies (fail closed): a key more or less;
    ``allow`` not a boolean, or not whether a category is disclosed; errors other than a
    request error, or with a disclosure; a disclosure that is not one of the verdicts of the
    request's plan (its role, purpose and phase, the partner holding the role) for the
    category (answer form and clause ids exactly as compiled), or bound to a relation to the
    case (case team, case lead, dwelling's landlord) that does not hold for the requester, or
    with reasons; a redaction with an answer form, clauses, no reasons or reasons the policy
    cannot give this request (with a plan: one of the plan's redactions of the category;
    without: the request's error, or the covenant's static reasons); ``clauses`` not those of
    the disclosures; a revision other than the loaded bundle's. The rest of the case's state
    (consents, events, pollution) is not re-derived: an answer for the same plan in another
    state of those passes.

    Checked by hand against lookup sets made at load (``answer_contract``), not by pydantic
    validation: this runs on every request (~1 µs). A key missing, a type that does not
    compare (an unhashable clause id, a reason that is no string) raises too (``KeyError``,
    ``TypeError``): ``_Engine.decide`` takes any exception here for an inconsistent answer.
    A key set is exact when its size is and each key is there.
    """
    if type(result) is not dict or len(result) != _DECISION_SIZE:
        raise InconsistentAnswer("the decision's keys")
    if result["revision"] != revision:
        raise InconsistentAnswer("another revision")
    verdicts, errors, clauses = result["categories"], result["errors"], result["clauses"]
    if type(verdicts) is not dict or type(errors) is not list or type(clauses) is not list:
        raise InconsistentAnswer("the decision's types")
    requester = policy_input.requester
    covenant = contract.get(policy_input.case.covenant, _NOTHING)
    # The plan the Rego picks (authz.rego ``plan``): only with the partner holding the role.
    plan = (
        covenant.plans.get(f"{requester.role}|{policy_input.purpose}|{policy_input.case.phase}")
        if requester.role in covenant.roles.get(requester.partner, ())
        else None
    )
    categories: dict[str, CategoryDecision] = {}
    trusted = CategoryDecision.trusted
    cited: set[str] = set()
    for name, d in verdicts.items():
        if type(d) is not dict or len(d) != _VERDICT_SIZE:
            raise InconsistentAnswer("a verdict's keys")
        outcome, answer, ids, reasons = d["outcome"], d["answer"], d["clauses"], d["reasons"]
        if type(ids) is not list or type(reasons) is not list:
            raise InconsistentAnswer("a verdict's types")
        granted = _UNKNOWN if plan is None else plan.get(name, _UNKNOWN)
        if outcome == "disclose":
            relations = granted.disclosures.get((answer, tuple(ids)))
            if relations is None or reasons:
                raise InconsistentAnswer("a disclosure the policy does not give this request")
            for relation in relations:
                if not _RELATIONS[relation](policy_input):
                    raise InconsistentAnswer("a disclosure bound to a relation that fails")
            cited.update(ids)
        elif outcome != "redact" or answer != "none" or ids or not reasons:
            raise InconsistentAnswer("a redaction")
        elif tuple(reasons) not in granted.redactions and (
            plan is not None
            # Without a plan: an invalid request's error, or a valid one's static reasons.
            or not (reasons == errors if errors else covenant.reasons.issuperset(reasons))
        ):
            raise InconsistentAnswer("a redaction's reasons")
        categories[name] = trusted(outcome, answer, ids, reasons)
    allow = result["allow"]
    if allow is not bool(cited):  # a boolean, and true exactly when something is disclosed
        raise InconsistentAnswer("allow")
    if errors:
        if cited:
            raise InconsistentAnswer("request errors with a disclosure")
        if not _REQUEST_ERRORS.issuperset(errors):  # an unhashable error: TypeError
            raise InconsistentAnswer("the decision's errors")
    if clauses != sorted(cited):
        raise InconsistentAnswer("the decision's clauses")
    return Decision.trusted(
        allow=allow,
        categories=categories,
        clauses=clauses,
        errors=errors,
        bundle_revision=revision,
        decision_id=new_decision_id(),
        engine=engine,
    )


#: A category outside the request's plan, or a request without one: never disclosed;
#: redacted only as an unknown category (or, without a plan, with the request's error or the
#: covenant's static reasons: ``CovenantContract.reasons``).
_UNKNOWN = CategoryContract({}, frozenset({("unknown-category",)}))
#: A covenant the bundle does not hold: nothing disclosed, redacted only by request errors.
_NOTHING = CovenantContract({}, {}, frozenset())


#: The default time limit of one decision, in seconds (see ``_Engine``); the gateway sets
#: it from ``KETENPOORT_POLICY_TIMEOUT_SECONDS``.
DEFAULT_TIMEOUT_SECONDS = POLICY_TIME_LIMIT_SECONDS


class _Engine(ABC):
    """Shared fail-closed ``decide``; subclasses implement ``_evaluate``.

    The time limit: a decision that took longer than ``timeout_seconds`` denies
    (``engine-timeout``). For the in-process engines (``measures_cpu``) the limit is on the
    CPU time of the deciding thread (``time.thread_time``), which the embedded engine runs
    on: a machine starved of CPU by other processes makes a decision slow on the wall clock
    but not more expensive, and must not deny it; a runaway policy still does. A remote
    engine (the OPA server) is limited on the wall clock, since waiting is its cost. The
    check is made when the engine returns: none of the engines can be interrupted.
    """

    name = "abstract"
    #: The time limit is on this thread's CPU time; otherwise on the wall clock.
    measures_cpu = True

    def __init__(self, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        self.timeout_seconds = timeout_seconds
        self._revision: str | None = None
        #: The loaded bundle's revision and what a decision on it may disclose, swapped as
        #: one so a decision never checks an answer against another bundle's covenants.
        self._expected: tuple[str, AnswerContract] | None = None

    @property
    def revision(self) -> str | None:
        return self._revision

    def _expect(self, bundle: Bundle) -> None:
        """Decide on ``bundle`` from now on: its revision, and its answer contract."""
        self._expected = (bundle.revision, answer_contract(bundle))
        self._revision = bundle.revision

    def readiness_problem(self) -> str | None:
        # An in-process engine decides on the bundle it loaded; the OPA server may not.
        return None

    @abstractmethod
    def _evaluate(self, document: dict[str, Any]) -> Any:
        """The engine's decision document for one input."""

    def _timed_out(self, wall_started: float, cpu_started: float) -> bool:
        limit = self.timeout_seconds
        if time.perf_counter() - wall_started <= limit:
            return False  # the cheap clock first: CPU time never exceeds wall time
        return not self.measures_cpu or time.thread_time() - cpu_started > limit

    def decide(self, policy_input: PolicyInput) -> Decision:
        expected = self._expected
        if expected is None:
            return deny(policy_input, "no-policy-loaded", self.name, None)
        revision, contract = expected
        wall_started = time.perf_counter()
        cpu_started = time.thread_time() if self.measures_cpu else 0.0
        try:
            result = self._evaluate(policy_input.document())
            if self._timed_out(wall_started, cpu_started):
                return deny(policy_input, "engine-timeout", self.name, revision)
            if not isinstance(result, dict):
                return deny(policy_input, "undefined-result", self.name, revision)
        except (KeyboardInterrupt, SystemExit):
            raise
        # BaseException: a Rust panic inside an engine binding surfaces as pyo3's
        # PanicException, which is not an Exception. Any engine failure must deny; one that
        # failed after the time limit (the OPA client giving up) is a timeout.
        except BaseException as exc:  # noqa: BLE001
            reason = (
                "engine-timeout" if self._timed_out(wall_started, cpu_started) else ("engine-error")
            )
            problem = str(exc) if isinstance(exc, UntrustedPolicy) else None
            return deny(policy_input, reason, self.name, revision, problem)
        try:
            decision = to_decision(result, self.name, revision, contract, policy_input)
        except Exception as exc:  # noqa: BLE001 - any answer that does not read is refused
            problem = str(exc) if isinstance(exc, InconsistentAnswer) else type(exc).__name__
            return deny(policy_input, "inconsistent-result", self.name, revision, problem)
        if decision.categories.keys() != set(policy_input.categories):
            return deny(policy_input, "undefined-result", self.name, revision)
        return decision


@dataclass(frozen=True)
class _Loaded:
    """One loaded bundle, swapped in as a whole so a thread never sees half of two."""

    generation: int
    revision: str
    modules: list[tuple[str, str]]
    data_json: str
    program: bytes = b""


class _PerThread(_Engine):
    """Engine objects of the regorus bindings are pinned to the thread that made them
    (pyo3 ``unsendable``: using one from another thread panics), so every thread builds its
    own from the loaded bundle, once per bundle generation. An outdated one is replaced by
    its own thread, never dropped from another."""

    def __init__(self, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        super().__init__(timeout_seconds)
        self._loaded: _Loaded | None = None
        self._local = threading.local()

    def _install(self, loaded: _Loaded, bundle: Bundle) -> None:
        self._loaded = loaded
        self._expect(bundle)

    def _next_generation(self) -> int:
        return self._loaded.generation + 1 if self._loaded is not None else 1

    @abstractmethod
    def _build(self, loaded: _Loaded) -> Any:
        """A new engine object for this thread, loaded with the bundle."""

    def _thread_engine(self) -> Any:
        loaded = self._loaded
        assert loaded is not None
        local = self._local
        if getattr(local, "generation", None) != loaded.generation:
            local.engine = self._build(loaded)
            local.generation = loaded.generation
        return local.engine

    def decide(self, policy_input: PolicyInput) -> Decision:
        # This thread's engine is made before the decision's clock starts (once per thread
        # and bundle), so making it never counts against the time limit; failing to make it
        # denies like any engine failure.
        if self._loaded is not None:
            try:
                self._thread_engine()
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException:  # noqa: BLE001 - see _Engine.decide
                return deny(policy_input, "engine-error", self.name, self._revision)
        return super().decide(policy_input)


def _compile_program(modules: list[tuple[str, str]], data_json: str) -> Any:
    import regorus

    return regorus.Program.compile_from_modules(data_json, modules, [DECISION_RULE])


class RegorusEngine(_PerThread):
    """Embedded regorus (default), on its compiled virtual machine (RVM).

    ``load`` compiles the bundle once into an RVM program (25-250 ms, with the machine's
    load) and proves it answers; each thread then gets its own VM from the serialized
    program, on its first decision (``_PerThread``): deserializing it takes ~0.2 ms, parsing
    the data (the compiled covenants, ~0.5 MB of JSON) ~15 ms of that thread's CPU, once per
    thread and bundle, outside the decision's time limit. The serialized program is
    complete (``deserialize_binary`` reports it not ``partial``); were it partial, the
    thread would compile it again from the sources.

    The gateway's embedded engine (``wiring.make_engine`` without ``KETENPOORT_OPA_URL``):
    one instance serves every worker thread.
    """

    name = "regorus"

    def load(self, bundle: Bundle) -> None:
        import regorus

        modules = sorted(bundle.modules.items())
        data_json = orjson.dumps(bundle.data).decode()
        try:
            program = _compile_program(modules, data_json)
            vm = regorus.Rvm()
            vm.load_program(program)
            vm.set_data_json(data_json)
            vm.set_input_json("{}")
            if orjson.loads(vm.execute()) == "<undefined>":
                raise ValueError(f"{DECISION_RULE} is undefined")
            serialized = bytes(program.serialize_binary())
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001 - see _Engine.decide
            raise BundleError(f"bundle {bundle.revision} does not compile: {exc}") from None
        # Swap only after the new policy proved itself: the previous one stays otherwise.
        generation = self._next_generation()
        self._install(_Loaded(generation, bundle.revision, modules, data_json, serialized), bundle)

    def _build(self, loaded: _Loaded) -> Any:
        import regorus

        program, partial = regorus.Program.deserialize_binary(loaded.program)
        if partial:  # the serialized form asks to be recompiled from its sources
            program = _compile_program(loaded.modules, loaded.data_json)
        vm = regorus.Rvm()
        vm.load_program(program)
        vm.set_data_json(loaded.data_json)
        return vm

    def _evaluate(self, document: dict[str, Any]) -> Any:
        vm = self._thread_engine()
        vm.set_input_json(orjson.dumps(document).decode())
        # The RVM reports an undefined entry point as the JSON string "<undefined>".
        return orjson.loads(vm.execute())


class RegorusInterpreterEngine(_PerThread):
    """regorus's tree-walking interpreter: the reference the RVM is checked against, and
    the engine that runs the Rego tests (which need ``with``)."""

    name = "regorus-interpreter"

    @staticmethod
    def build(modules: list[tuple[str, str]], data_json: str) -> Any:
        import regorus

        engine = regorus.Engine()
        for name, text in modules:
            engine.add_policy(name, text)
        engine.add_data_json(data_json)
        return engine

    def load(self, bundle: Bundle) -> None:
        modules = sorted(bundle.modules.items())
        data_json = orjson.dumps(bundle.data).decode()
        try:
            engine = self.build(modules, data_json)
            engine.set_input_json("{}")
            engine.eval_rule(DECISION_RULE)  # compiles and proves the rule exists
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001 - see _Engine.decide
            raise BundleError(f"bundle {bundle.revision} does not compile: {exc}") from None
        self._install(_Loaded(self._next_generation(), bundle.revision, modules, data_json), bundle)

    def _build(self, loaded: _Loaded) -> Any:
        return self.build(loaded.modules, loaded.data_json)

    def _evaluate(self, document: dict[str, Any]) -> Any:
        engine = self._thread_engine()
        engine.set_input_json(orjson.dumps(document).decode())
        return engine.eval_rule(DECISION_RULE)


class RegopyEngine(_Engine):
    """rego-cpp through regopy; used for the differential test run.

    ``load`` compiles the bundle once into a rego-cpp bundle with the decision as its entry
    point; a decision runs that entry point (~30 ms; a plain ``query`` compiles everything
    again, ~2 s). One interpreter per loaded bundle, used under a lock (not thread-safe).
    """

    name = "regopy"
    _ENTRYPOINT = DECISION_RULE.removeprefix("data.").replace(".", "/")

    def __init__(self, timeout_seconds: float = 2.0) -> None:
        super().__init__(timeout_seconds)
        self._interpreter: Any = None
        self._compiled: Any = None
        self._lock = threading.Lock()

    @staticmethod
    def interpreter(modules: dict[str, str], data: dict[str, Any]) -> Any:
        import regopy

        interpreter = regopy.Interpreter()
        for name, text in sorted(modules.items()):
            interpreter.add_module(name, text)
        interpreter.add_data_json(orjson.dumps(data).decode())
        return interpreter

    def load(self, bundle: Bundle) -> None:
        try:
            interpreter = self.interpreter(bundle.modules, bundle.data)
            compiled = interpreter.build(None, [self._ENTRYPOINT])
            interpreter.set_input_term("{}")
            ok = interpreter.query_bundle_entrypoint(compiled, self._ENTRYPOINT).ok()
        except Exception:  # noqa: BLE001 - regopy raises its own error types
            ok = False
        if not ok:
            raise BundleError(f"bundle {bundle.revision} does not compile on regopy")
        with self._lock:
            self._interpreter, self._compiled = interpreter, compiled
        self._expect(bundle)

    def _evaluate(self, document: dict[str, Any]) -> Any:
        with self._lock:
            self._interpreter.set_input_term(orjson.dumps(document).decode())
            output = self._interpreter.query_bundle_entrypoint(self._compiled, self._ENTRYPOINT)
            if not output.ok():
                return None  # not str(output): regopy 1.5.2 crashes rendering an error
            text = str(output)
        if text == "undefined":
            return None
        parsed = orjson.loads(text)
        return parsed["expressions"][0] if "expressions" in parsed else parsed
