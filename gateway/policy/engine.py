"""The policy decision point: one ``decide()`` over interchangeable Rego engines.

Fail closed: an engine error, a timeout, an undefined result or a missing bundle yields a
deny decision (every category redacted) and a log line naming only the reason code, the
engine and the revision; never the input, which holds personal data.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import urlparse

from gateway.policy.bundle import Bundle
from gateway.policy.errors import BundleError
from gateway.policy.schemas import CategoryDecision, Decision, PolicyInput

log = logging.getLogger("gateway.policy")

DECISION_RULE = "data.ketenpoort.authz.decision"
_PACKAGE_PATH = "ketenpoort/authz"


class PolicyEngine(Protocol):
    name: str

    @property
    def revision(self) -> str | None: ...

    def load(self, bundle: Bundle) -> None: ...

    def decide(self, policy_input: PolicyInput) -> Decision: ...


def deny(policy_input: PolicyInput, reason: str, engine: str, revision: str | None) -> Decision:
    """The fail-closed decision: nothing is disclosed."""
    redacted = CategoryDecision.model_construct(
        outcome="redact", answer="none", clauses=[], reasons=[reason]
    )
    decision_id = str(uuid.uuid4())
    log.warning(
        "policy decision failed closed",
        extra={
            "reason": reason,
            "engine": engine,
            "revision": revision,
            "decision_id": decision_id,
        },
    )
    return Decision.model_construct(
        allow=False,
        categories={c: redacted for c in policy_input.categories},
        clauses=[],
        errors=[reason],
        bundle_revision=revision,
        decision_id=decision_id,
        engine=engine,
    )


def _to_decision(result: Any, engine: str, revision: str | None) -> Decision:
    # model_construct: the result comes from our own policy; a wrong shape raises below.
    categories = {
        name: CategoryDecision.model_construct(
            outcome=d["outcome"], answer=d["answer"], clauses=d["clauses"], reasons=d["reasons"]
        )
        for name, d in result["categories"].items()
    }
    for d in categories.values():
        if d.outcome not in ("disclose", "redact"):
            raise ValueError("bad outcome")
    return Decision.model_construct(
        allow=result["allow"] is True,
        categories=categories,
        clauses=list(result["clauses"]),
        errors=list(result["errors"]),
        bundle_revision=result.get("revision", revision),
        decision_id=str(uuid.uuid4()),
        engine=engine,
    )


class _Engine:
    """Shared fail-closed ``decide``; subclasses implement ``_evaluate``."""

    name = "abstract"

    def __init__(self, timeout_seconds: float = 0.5) -> None:
        self.timeout_seconds = timeout_seconds
        self._revision: str | None = None

    @property
    def revision(self) -> str | None:
        return self._revision

    def _evaluate(self, document: dict[str, Any]) -> Any:
        raise NotImplementedError

    def decide(self, policy_input: PolicyInput) -> Decision:
        if self._revision is None:
            return deny(policy_input, "no-policy-loaded", self.name, None)
        started = time.perf_counter()
        try:
            result = self._evaluate(policy_input.document())
            if time.perf_counter() - started > self.timeout_seconds:
                return deny(policy_input, "engine-timeout", self.name, self._revision)
            if not isinstance(result, dict):
                return deny(policy_input, "undefined-result", self.name, self._revision)
            decision = _to_decision(result, self.name, self._revision)
        except Exception:  # noqa: BLE001 - any engine failure must deny, never raise a 500
            return deny(policy_input, "engine-error", self.name, self._revision)
        if set(decision.categories) != set(policy_input.categories):
            return deny(policy_input, "undefined-result", self.name, self._revision)
        return decision


class RegorusEngine(_Engine):
    """Embedded regorus (default). One compiled prototype, a clone per thread."""

    name = "regorus"

    def __init__(self, timeout_seconds: float = 0.5) -> None:
        super().__init__(timeout_seconds)
        self._prototype: Any = None
        self._generation = 0
        self._local = threading.local()

    def load(self, bundle: Bundle) -> None:
        import regorus

        try:
            engine = regorus.Engine()
            for name, text in sorted(bundle.modules.items()):
                engine.add_policy(name, text)
            engine.add_data_json(json.dumps(bundle.data))
            engine.set_input_json("{}")
            engine.eval_rule(DECISION_RULE)  # compiles and proves the rule exists
        except Exception as exc:  # noqa: BLE001
            raise BundleError(f"bundle {bundle.revision} does not compile: {exc}") from None
        # Swap only after the new policy proved itself: the previous one stays otherwise.
        self._prototype = engine
        self._generation += 1
        self._revision = bundle.revision

    def _engine(self) -> Any:
        local = self._local
        if getattr(local, "generation", None) != self._generation:
            local.engine = self._prototype.clone()
            local.generation = self._generation
        return local.engine

    def _evaluate(self, document: dict[str, Any]) -> Any:
        engine = self._engine()
        engine.set_input_json(json.dumps(document))
        return engine.eval_rule(DECISION_RULE)


class RegopyEngine(_Engine):
    """rego-cpp through regopy; used for the differential test run."""

    name = "regopy"

    def __init__(self, timeout_seconds: float = 2.0) -> None:
        super().__init__(timeout_seconds)
        self._bundle: Bundle | None = None
        self._lock = threading.Lock()

    def _interpreter(self, bundle: Bundle) -> Any:
        import regopy

        interpreter = regopy.Interpreter()
        for name, text in sorted(bundle.modules.items()):
            interpreter.add_module(name, text)
        interpreter.add_data_json(json.dumps(bundle.data))
        return interpreter

    def load(self, bundle: Bundle) -> None:
        interpreter = self._interpreter(bundle)
        interpreter.set_input_term("{}")
        output = interpreter.query(DECISION_RULE)
        if not output.ok():
            raise BundleError(f"bundle {bundle.revision} does not compile on regopy")
        self._bundle = bundle
        self._revision = bundle.revision

    def _evaluate(self, document: dict[str, Any]) -> Any:
        assert self._bundle is not None
        with self._lock:
            interpreter = self._interpreter(self._bundle)
            interpreter.set_input_term(json.dumps(document))
            output = interpreter.query(DECISION_RULE)
            if not output.ok():
                return None
            parsed = json.loads(str(output.json()) if hasattr(output, "json") else str(output))
        return parsed["expressions"][0] if "expressions" in parsed else parsed


OpaQuery = Callable[[dict[str, Any]], Any]


class OpaServerEngine(_Engine):
    """An OPA server (``KETENPOORT_OPA_URL``) that loads the same signed bundle itself.

    ``query`` is injectable for tests; by default it is ``opa_client``'s ``query_rule``.
    The server's bundle revision is reported by the policy itself (``revision``).
    """

    name = "opa"

    def __init__(
        self, url: str, query: OpaQuery | None = None, timeout_seconds: float = 0.5
    ) -> None:
        super().__init__(timeout_seconds)
        self._query = query if query is not None else self._client_query(url)

    @staticmethod
    def _client_query(url: str) -> OpaQuery:
        from opa_client import OpaClient

        parsed = urlparse(url)
        client = OpaClient(
            host=parsed.hostname or "localhost",
            port=parsed.port or 8181,
            ssl=parsed.scheme == "https",
        )

        def query(document: dict[str, Any]) -> Any:
            return client.query_rule(
                input_data=document, package_path=_PACKAGE_PATH, rule_name="decision"
            )

        return query

    def load(self, bundle: Bundle) -> None:
        # The server fetches and verifies the bundle itself; we only expect its revision.
        self._revision = bundle.revision

    def _evaluate(self, document: dict[str, Any]) -> Any:
        response = self._query(document)
        if not isinstance(response, dict) or "result" not in response:
            return None  # OPA omits "result" when the rule is undefined
        return response["result"]
