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

import contextlib
import contextvars
import hashlib
import logging
import os
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlparse

import orjson

from gateway.config import POLICY_TIME_LIMIT_SECONDS
from gateway.policy.bundle import Bundle
from gateway.policy.compiler import DATA_ROOT, canonical_json
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
_PACKAGE_PATH = "ketenpoort/authz"
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


OpaQuery = Callable[[dict[str, Any]], Any]
#: Whether the OPA server answers its health check.
OpaHealth = Callable[[], bool]
#: What the OPA server serves: the text of every policy module it holds (``GET
#: /v1/policies``, each one's ``raw``), its ``data.ketenpoort.covenants`` and the revision
#: label of its bundle (``data.ketenpoort.revision``).
OpaContent = Callable[[], tuple[list[str], Any, Any]]

#: Once what the OPA server serves is known to be the gateway's bundle, it is read again at
#: most once per this many seconds (its modules, ~0.5 MB of data and the revision label);
#: the time limit of each socket wait of the three reads (not of a read as a whole, nor a
#: decision's).
OPA_CONTENT_CHECK_SECONDS = 60.0
OPA_CONTENT_TIMEOUT_SECONDS = 5.0
#: A read that found the bundle vouches for it this long after ``OPA_CONTENT_CHECK_SECONDS``,
#: counted from when that read began: the time the next read has to finish. After that the
#: verdict has expired, even while a read hangs, and every decision waits for a read (at
#: most its time limit) as before the first. So a policy OPA swapped to after a read began
#: decides at most check + grace seconds (65 s) after it was last found serving the bundle.
OPA_CONTENT_GRACE_SECONDS = OPA_CONTENT_TIMEOUT_SECONDS
#: The readiness probe waits at most this long for a read (Kubernetes gives the probe 3 s,
#: compose 2 to 3 s), then reports what is known: a probe never holds a worker for a read.
OPA_PROBE_WAIT_SECONDS = 1.0
#: While it is not known (not read yet since the bundle was loaded, the last read failed or
#: found another policy) every decision is refused, and a decision or readiness probe reads
#: it again at most once per this many seconds: soon enough that a replica decides again
#: within a second of OPA serving the bundle, rarely enough not to hammer an OPA that fails.
OPA_CONTENT_RETRY_SECONDS = 1.0

#: At most one health check of the OPA server per this many seconds (readiness probes come
#: every few seconds, from every replica); in between the readiness check reports the last.
OPA_HEALTH_CHECK_SECONDS = 5.0
#: OPA's health API: 200 once the server is up and its bundles are activated, as the
#: compose healthcheck and the Kubernetes readinessProbe of the sidecar ask it.
OPA_HEALTH_QUERY = {"bundles": "true"}

#: Decisions that may wait on the OPA server at once; more wait in line, within their limit.
OPA_CLIENT_THREADS = 32


def _propagate_trace_context(client: Any) -> None:
    """Every query to OPA carries the request's ``traceparent`` (gateway/core/tracing.py),
    so OPA's decision log and spans join the caller's trace. requests calls a session's
    ``auth`` on each outgoing request, in the thread that sends it."""
    from gateway.core.tracing import inject_trace_context

    def add_trace_context(request: Any) -> Any:
        inject_trace_context(request.headers)
        return request

    client._session.auth = add_trace_context


#: Sent with every query to the OPA server (OPA's REST API, data API query parameter
#: ``strict-builtin-errors``): a builtin that errors (a type error, say) fails the query with
#: HTTP 500 (``engine-error``: the gateway answers 503, nothing disclosed) instead of making
#: the expression undefined, where a `not` around it would hold. Without it the server would
#: decide differently from OPA's Go evaluator in the tests, which evaluates strictly
#: (``OpaGoEngine``; review9b F2).
STRICT_BUILTIN_ERRORS = {"strict-builtin-errors": "true"}


class StaleBundle(UntrustedPolicy):
    """The OPA server answered from another bundle revision than the gateway expects."""


class UnverifiedPolicy(UntrustedPolicy):
    """What the OPA server serves is not known to be the gateway's bundle: not read since
    the bundle was loaded, the last read failed, or it found another bundle revision."""


class ForeignPolicy(UnverifiedPolicy):
    """The OPA server's modules or data are not those of the gateway's bundle, under that
    bundle's revision label."""


class OpaQueryFailed(Exception):
    """A decision query the OPA server refused the connection to or answered with an HTTP
    error (``requests``' errors, translated where the client makes them): OPA may be
    restarting, perhaps on another policy, so what it serves is read again before it
    decides."""


#: Why decisions are refused before the first read of what OPA serves since a bundle was
#: loaded (and why the replica is not ready before a bundle is loaded at all).
_NOT_CHECKED = "what the OPA server serves is not checked yet"


def _content_digest(modules: list[str], covenants: Any) -> str:
    """A digest of a policy's module texts (in any order, without their names: OPA names a
    bundle's modules after its own paths) and its compiled covenants."""
    digest = hashlib.sha256()
    for text in sorted(modules):
        digest.update(hashlib.sha256(text.encode()).digest())
    digest.update(canonical_json(covenants))
    return digest.hexdigest()


class OpaServerEngine(_Engine):
    """An OPA server (``KETENPOORT_OPA_URL``) that loads the same signed bundle itself.

    ``query``, ``health`` and ``content`` are injectable for tests; by default they are
    ``opa_client``'s ``query_rule``, with strict builtin errors (``STRICT_BUILTIN_ERRORS``),
    ``check_health`` (``OPA_HEALTH_QUERY``) and three reads of OPA's REST API. The server's
    bundle revision is reported by the policy itself (``revision``).

    Fail closed on what OPA serves: a decision is asked of OPA only while OPA is known to
    serve the gateway's bundle itself (its modules' texts and compiled covenants, read
    back: ``_check_content``), not only a bundle under its revision label. Until the
    first read after a bundle is loaded has found it, after a read that failed and after
    one that found another policy, every decision is refused (``UnverifiedPolicy``,
    ``ForeignPolicy``: ``engine-error``, 503, nothing disclosed); the decision itself starts
    the read that is due and waits for it, at most its time limit (``_await_content``).
    A read that found the bundle vouches for it for ``content_check_seconds +
    content_grace_seconds`` from when it began (65 s), not until the next read ends: a read
    that hangs does not keep it, and a decision query or health check that fails (OPA
    restarting, perhaps on another policy) drops it at once. Between two reads OPA could
    swap its policy, and decides by the new one until the next read or the expiry: the
    check bounds that window, it cannot close it. With only an injected ``query`` nothing
    is read, and nothing refused for it.

    The time limit (``KETENPOORT_POLICY_TIMEOUT_SECONDS``, ``timeout_seconds``) is a
    deadline on the whole call: the query runs on a small thread pool and the deciding
    thread waits at most the limit for it (a server that accepts and never answers, or
    trickles its answer, denies with ``engine-timeout`` when the limit is reached). The
    client itself has the same limit as its connect and read timeout, and no retries (a
    retry cannot fit in the limit), so a pool thread is freed soon after.
    """

    name = "opa"
    measures_cpu = False  # waiting on the server is the cost: wall clock

    def __init__(
        self,
        url: str,
        query: OpaQuery | None = None,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        health: OpaHealth | None = None,
        content: OpaContent | None = None,
    ) -> None:
        super().__init__(timeout_seconds)
        #: Why OPA's last answer was refused (another bundle revision), until one is taken.
        self.stale: str | None = None
        self._stale_document: dict[str, Any] | None = None
        if query is None:
            query, client_health, client_content = self._client(url, timeout_seconds)
            health = health if health is not None else client_health
            content = content if content is not None else client_content
        self._query = query
        self._health: OpaHealth = health if health is not None else (lambda: True)
        #: None: what OPA serves is not checked (a test's injected query alone).
        self._content: OpaContent | None = content
        #: Seconds between two reads of what OPA serves: once it is known to be the bundle
        #: (``OPA_CONTENT_CHECK_SECONDS``), and while it is not (``OPA_CONTENT_RETRY_SECONDS``).
        self.content_check_seconds = OPA_CONTENT_CHECK_SECONDS
        self.content_retry_seconds = OPA_CONTENT_RETRY_SECONDS
        #: How long after ``content_check_seconds`` a verdict that OPA serves the bundle
        #: still stands (``OPA_CONTENT_GRACE_SECONDS``); how long a readiness probe waits
        #: for a read (``OPA_PROBE_WAIT_SECONDS``).
        self.content_grace_seconds = OPA_CONTENT_GRACE_SECONDS
        self.probe_wait_seconds = OPA_PROBE_WAIT_SECONDS
        #: When the last read began, then ended (``time.monotonic``); the read in flight.
        self._content_checked_at = -float("inf")
        self._content_check: Future[None] | None = None
        #: When the last read that found the bundle began: its verdict expires
        #: ``content_check_seconds + content_grace_seconds`` later.
        self._verified_at = -float("inf")
        #: Counts what makes a read's verdict moot: a bundle with other content loaded, a
        #: query or health check that failed. A read that began before is dropped.
        self._content_epoch = 0
        #: The loaded bundle's content digest (``_content_digest``) and its revision.
        self._expected_content: tuple[str, str] | None = None
        #: Why what OPA serves is not known to be the gateway's bundle (None: it is): while
        #: set, every decision is refused before OPA is asked.
        self._content_unknown: str | None = _NOT_CHECKED
        #: Set (to the same reason) while OPA serves other modules or data than the bundle's
        #: under the bundle's revision label (``ForeignPolicy``).
        self.foreign: str | None = None
        #: Guards the fields above; held only to read or swap them, never during a read.
        self._content_lock = threading.Lock()
        #: Seconds between two health checks (``OPA_HEALTH_CHECK_SECONDS``).
        self.health_check_seconds = OPA_HEALTH_CHECK_SECONDS
        self._health_checked_at = -float("inf")
        self._unhealthy: str | None = None
        self._health_lock = threading.Lock()
        self._pool = ThreadPoolExecutor(OPA_CLIENT_THREADS, thread_name_prefix="opa-client")

    @staticmethod
    def _client(url: str, timeout_seconds: float) -> tuple[OpaQuery, OpaHealth, OpaContent]:
        import requests
        from opa_client import OpaClient

        parsed = urlparse(url)
        client = OpaClient(
            host=parsed.hostname or "localhost",
            port=parsed.port or 8181,
            ssl=parsed.scheme == "https",
            timeout=timeout_seconds,
            retries=0,
        )
        _propagate_trace_context(client)

        def query(document: dict[str, Any]) -> Any:
            try:
                return client.query_rule(
                    input_data=document,
                    package_path=_PACKAGE_PATH,
                    rule_name="decision",
                    query_params=STRICT_BUILTIN_ERRORS,
                )
            except (requests.ConnectionError, requests.HTTPError) as exc:
                raise OpaQueryFailed(type(exc).__name__) from exc

        def health() -> bool:
            return bool(client.check_health(query=OPA_HEALTH_QUERY))

        def content() -> tuple[list[str], Any, Any]:
            # OPA's REST API: GET /v1/policies (every module, with its text as `raw`), GET
            # /v1/data/ketenpoort/covenants and .../revision (base documents: nothing is
            # evaluated).
            base = client.root_url
            session, limit = client._session, OPA_CONTENT_TIMEOUT_SECONDS

            def read(path: str) -> Any:
                response = session.get(f"{base}/{path}", timeout=limit)
                response.raise_for_status()
                return response.json()["result"]

            modules = [str(module["raw"]) for module in read("policies")]
            covenants = read(f"data/{DATA_ROOT}/covenants")
            return modules, covenants, read(f"data/{DATA_ROOT}/revision")

        return query, health, content

    def load(self, bundle: Bundle) -> None:
        # The server fetches and verifies the bundle itself; we expect its revision, check
        # each answer against the covenants of the bundle the gateway built, and what the
        # server serves against the bundle. The content first: a decision that already
        # expects the new revision never passes on the last bundle's verdict.
        digest = _content_digest(list(bundle.modules.values()), bundle.data[DATA_ROOT]["covenants"])
        with self._content_lock:
            loaded = self._expected_content
            self._expected_content = (digest, bundle.revision)
            if loaded is None or loaded[0] != digest:
                self._forget_content(_NOT_CHECKED)
                self.foreign = None
        self._expect(bundle)
        # Read now, not waited for: the first request (or probe) finds the read under way or
        # done, rather than starting it and waiting out its whole time.
        if self._content is not None:
            self._due_content_check()

    def readiness_problem(self) -> str | None:
        """For the readiness check. An OPA server that does not answer its health check: every
        decision would deny (engine-error, 503), so the replica is not ready; asked at most
        once per ``health_check_seconds``, the last answer reported in between, and never
        by two threads at once. Then whether what OPA serves is known to be the gateway's
        bundle (``_content_problem``: every decision is refused while it is not). Then,
        while OPA's last answer came from another bundle revision than the gateway's, ask
        it again (the request it was refused for, decided anew and discarded); None once
        OPA serves the gateway's revision. A replica taken out of service receives no
        requests, so without these checks it would never learn that OPA came back or
        caught up. At most the policy time limit for each question to OPA and
        ``probe_wait_seconds`` for the read: within a probe's timeout."""
        unhealthy = self._health_problem()
        if unhealthy is not None:
            return unhealthy
        unchecked = self._content_problem()
        if unchecked is not None:
            return unchecked
        document = self._stale_document
        if self.stale is None or document is None:
            return None
        with contextlib.suppress(Exception):  # still stale, or OPA unreachable: still not ready
            self._evaluate(document)
        return self.stale

    def _health_problem(self) -> str | None:
        now = time.monotonic()
        if now - self._health_checked_at >= self.health_check_seconds and (
            self._health_lock.acquire(blocking=False)
        ):
            try:
                self._health_checked_at = now
                healthy = False
                with contextlib.suppress(Exception):  # unreachable: not healthy
                    healthy = self._health()
                self._unhealthy = (
                    None
                    if healthy
                    else "the OPA server (KETENPOORT_OPA_URL) does not answer its health "
                    "check (/health?bundles): every decision is refused"
                )
            finally:
                self._health_lock.release()
            if not healthy:  # it may come back on another policy: read it before it decides
                self._distrust_content("the OPA server failed its health check")
        return self._unhealthy

    def _content_problem(self) -> str | None:
        """Why what OPA serves is not known to be the gateway's bundle (None: it is), after
        the read that is due (``_due_content_check``), waited for at most
        ``probe_wait_seconds``: the readiness probe reports what is known then, and that a
        read is still under way if it is and its verdict is needed."""
        if self._content is None:
            return None
        check = self._due_content_check()
        if check is not None:
            wait([check], timeout=self.probe_wait_seconds)
        problem = self._distrust()
        if problem is None:
            return None
        if check is not None and not check.done():
            return f"a check of what the OPA server serves is in progress; until it ends: {problem}"
        return str(problem)

    def _verdict_stands(self, now: float) -> bool:
        """Whether the last read found the bundle and its verdict has not expired (held
        under ``_content_lock``)."""
        expires = self._verified_at + self.content_check_seconds + self.content_grace_seconds
        return self._content_unknown is None and now < expires

    def _forget_content(self, reason: str) -> None:
        """What OPA serves is not known from now on (held under ``_content_lock``): a read
        in flight is dropped when it ends, and the next is due at once."""
        self._content_unknown, self._verified_at = reason, -float("inf")
        self._content_epoch += 1
        self._content_checked_at = -float("inf")

    def _distrust_content(self, why: str) -> None:
        """A failed decision query or health check: OPA may be restarting, perhaps on another
        policy, so the verdict that it serves the bundle is dropped and the next decision
        waits for a read, as after a load."""
        with self._content_lock:
            if self._expected_content is None or self._content_unknown is not None:
                return
            revision = self._expected_content[1]
            self._forget_content(
                f"{why}: what it serves is not known to be the gateway's bundle {revision} "
                "until it is read again: every decision is refused"
            )
        log.warning(
            "what the OPA server serves is read again before it decides",
            extra={"problem": why, "expected_revision": revision},
        )

    def _distrust(self) -> UntrustedPolicy | None:
        """Why OPA is not to be asked now (``ForeignPolicy``, ``UnverifiedPolicy``), None
        while the last read found the bundle and its verdict has not expired."""
        with self._content_lock:
            if self._verdict_stands(time.monotonic()):
                return None
            foreign, unknown, expected = self.foreign, self._content_unknown, self._expected_content
        if foreign is not None:
            return ForeignPolicy(foreign)
        if unknown is not None:
            return UnverifiedPolicy(unknown)
        stands = self.content_check_seconds + self.content_grace_seconds
        revision = expected[1] if expected is not None else None
        return UnverifiedPolicy(
            f"the last read that found the gateway's bundle {revision} in the OPA server "
            f"began over {stands:g} s ago: what it serves is not known to be that bundle "
            "now: every decision is refused until a read finds it"
        )

    def _due_content_check(self) -> Future[None] | None:
        """The read of what OPA serves that is in flight, started now if one is due; None if
        none is (or no bundle is loaded: nothing to compare with). Never two at once, and
        one per ``content_check_seconds`` while OPA is known to serve the bundle, one per
        ``content_retry_seconds`` while it is not, or the verdict expired (OPA down or
        refusing the read is asked once a second, not on every request)."""
        with self._content_lock:
            expected, running = self._expected_content, self._content_check
            if expected is None:
                return None
            if running is not None and not running.done():
                return running
            now = time.monotonic()
            verified = self._verdict_stands(now)
            interval = self.content_check_seconds if verified else self.content_retry_seconds
            if now - self._content_checked_at < interval:
                return None
            self._content_checked_at = now
            # A read from a state that found the bundle tries once more before failing: one
            # lost connection does not refuse every decision for a second.
            retry = self._content_unknown is None
            # On the client's pool: a decision waits for it at most its time limit, and a
            # read it gave up on still finishes and gives its verdict to the next ones.
            check = self._content_check = self._pool.submit(
                self._check_content, expected, self._content_epoch, now, retry
            )
            return check

    def _read_content(self, retry: bool) -> tuple[str, Any]:
        """The digest of what OPA serves (``_content_digest``) and its revision label; read
        twice before failing if ``retry``."""
        assert self._content is not None
        try:
            modules, covenants, label = self._content()
        except Exception:
            if not retry:
                raise
            modules, covenants, label = self._content()
        return _content_digest(modules, covenants), label

    def _check_content(
        self, expected: tuple[str, str], epoch: int, started: float, retry: bool
    ) -> None:
        """Whether OPA serves the gateway's bundle itself, not only its revision label: its
        modules' texts and its compiled covenants against ``expected`` (the digest and
        revision of the bundle loaded when the read began, at ``started``; the verdict is
        dropped if the gateway has loaded other content since, or a query or health check
        failed: ``epoch``). A bundle signed with the gateway's key but not built by this
        gateway (whoever holds the key can sign one, under any revision label), or a
        policy OPA was given some other way, makes every decision refused (``foreign``)
        until OPA serves the bundle again. Another policy under another label (mostly the
        last bundle, OPA not restarted yet) is refused as such, without alarm: OPA's every
        answer would carry that label and be refused (``StaleBundle``). A read that fails
        (twice, if ``retry``) refuses them too: OPA not known to serve the bundle is not
        trusted with a decision. A read that finds the bundle vouches for it until
        ``content_check_seconds + content_grace_seconds`` after ``started``."""
        digest, revision = expected
        foreign: str | None = None
        unknown: str | None = None
        # What is logged when the verdict changes (not at every read): level, message, fields.
        said: tuple[int, str, dict[str, Any]]
        try:
            served, label = self._read_content(retry)
        except Exception as exc:  # noqa: BLE001 - unreachable, refused, unreadable
            error = type(exc).__name__
            unknown = (
                f"cannot read the policy the OPA server serves ({error}): it is not "
                f"known to be the gateway's bundle {revision}: every decision is refused"
            )
            said = (
                logging.WARNING,
                "cannot read the policy the OPA server serves",
                {"problem": error},
            )
        else:
            if served == digest:
                said = (logging.INFO, "OPA serves the gateway's bundle", {})
            elif label != revision:
                unknown = f"OPA serves bundle revision {label}, the gateway loaded {revision}"
                said = (
                    logging.WARNING,
                    "OPA serves another bundle revision than the gateway loaded",
                    {"served_revision": label},
                )
            else:
                foreign = unknown = (
                    "the OPA server serves other policy modules or data than the "
                    f"gateway's bundle {revision}, under that bundle's revision label: every "
                    "decision is refused"
                )
                said = (logging.ERROR, "OPA serves another policy than the gateway's bundle", {})
        with self._content_lock:
            if self._content_epoch != epoch:
                return  # other content loaded, or OPA failed since: the next read decides
            self._content_checked_at = time.monotonic()  # the next read a full interval on
            changed = unknown != self._content_unknown
            self._content_unknown, self.foreign = unknown, foreign
            self._verified_at = started if unknown is None else -float("inf")
        if changed:
            level, message, fields = said
            log.log(level, message, extra={**fields, "expected_revision": revision})

    def decide(self, policy_input: PolicyInput) -> Decision:
        # The read of what OPA serves is waited for before the decision's clock starts, as
        # an embedded engine builds its thread's VM (_PerThread.decide): a cost once per
        # bundle (and after a failed read or query, or an expired verdict), not the
        # decision's.
        self._await_content(self.timeout_seconds)
        return super().decide(policy_input)

    def _await_content(self, seconds: float) -> None:
        """Start the read of what OPA serves if one is due (``_due_content_check``) and, while
        OPA is not known to serve the gateway's bundle, wait for it at most ``seconds``. So
        the first decision after a bundle is loaded is decided as soon as the read finds
        the bundle, not after the next readiness probe, and the decisions that arrive
        during the read wait for that same read (one read, however many requests; each at
        most its time limit, then refused: 503, and may be tried again). While the last
        read's verdict stands, a read that is due is started and not waited for: this
        decision is made under that verdict, the ones after the new read under its own;
        once the verdict has expired, the decision waits as for the first read."""
        if self._content is None:
            return  # a test's injected query alone: nothing to read
        check = self._due_content_check()
        if check is not None and self._distrust() is not None:
            wait([check], timeout=seconds)

    def _require_content(self) -> None:
        """Refuse to ask OPA (``UnverifiedPolicy``, or ``ForeignPolicy``) unless what it serves
        is known to be the gateway's bundle, by a read whose verdict has not expired."""
        if self._content is None:
            return
        problem = self._distrust()
        if problem is not None:
            raise problem

    def _evaluate(self, document: dict[str, Any]) -> Any:
        self._require_content()
        # In the caller's context: the query carries the request's trace context.
        future = self._pool.submit(contextvars.copy_context().run, self._query, document)
        try:
            response = future.result(timeout=self.timeout_seconds)
        except FutureTimeout:
            future.cancel()  # still waiting in line: never sent
            raise
        except (ConnectionError, OpaQueryFailed) as exc:
            problem = str(exc) if isinstance(exc, OpaQueryFailed) else type(exc).__name__
            self._distrust_content(f"a decision query to the OPA server failed ({problem})")
            raise
        if not isinstance(response, dict) or "result" not in response:
            return None  # OPA omits "result" when the rule is undefined
        result = response["result"]
        served = result.get("revision") if isinstance(result, dict) else None
        if served == self._revision:
            self.stale = None
        else:
            self.stale = f"OPA serves bundle revision {served}, the gateway loaded {self._revision}"
            self._stale_document = document
            # The server decides on another bundle than the gateway loaded: its poll has not
            # fetched the new one yet, or it refused it and kept the last good bundle. Its
            # decision is by another covenant than the one this gateway enforces, so it
            # decides nothing (engine-error: 503, nothing disclosed) until the two agree.
            log.warning(
                "OPA decided on another bundle revision than the gateway loaded",
                extra={"served_revision": served, "expected_revision": self._revision},
            )
            raise StaleBundle(self.stale)
        return result
