"""The time limit of a decision: on the deciding thread's CPU time for the in-process
engines (a machine starved of CPU must not deny), on the wall clock for an OPA server."""

from __future__ import annotations

import time
from typing import Any

from gateway.policy.engine import RegorusEngine
from gateway.policy.opa_server import OpaServerEngine
from tests.policy.conftest import BUNDLE
from tests.policy.test_decisions import utrecht_request

REQUEST = utrecht_request(categories=["police-reports"])


class _Embedded(RegorusEngine):
    """The real embedded engine, with a pause before it answers."""

    def __init__(self, pause: Any, timeout_seconds: float) -> None:
        super().__init__(timeout_seconds)
        self._pause = pause
        self.load(BUNDLE)

    def _evaluate(self, document: dict[str, Any]) -> Any:
        self._pause()
        return super()._evaluate(document)


def _burn_cpu(seconds: float) -> None:
    started = time.thread_time()
    while time.thread_time() - started < seconds:
        pass


def test_embedded_decision_waiting_for_the_cpu_is_not_denied() -> None:
    # Off the CPU for three times the limit, as when other processes starve this one.
    engine = _Embedded(lambda: time.sleep(0.15), timeout_seconds=0.05)
    decision = engine.decide(REQUEST)
    assert decision.errors == []
    assert decision.allow is True


def test_embedded_decision_using_more_cpu_than_the_limit_is_denied() -> None:
    engine = _Embedded(lambda: _burn_cpu(0.1), timeout_seconds=0.05)
    decision = engine.decide(REQUEST)
    assert decision.allow is False
    assert decision.errors == ["engine-timeout"]
    assert decision.categories["police-reports"].outcome == "redact"
    assert decision.categories["police-reports"].reasons == ["engine-timeout"]


def _opa(pause: float, timeout_seconds: float) -> OpaServerEngine:
    reference = RegorusEngine()
    reference.load(BUNDLE)
    # Decided here: the query runs on the client's pool thread, and a regorus VM must stay
    # on the thread that made it.
    answer = {"result": reference._evaluate(REQUEST.document())}

    def query(document: dict[str, Any]) -> Any:
        assert document == REQUEST.document()
        time.sleep(pause)
        return answer  # the same bundle, as the server has it

    engine = OpaServerEngine("http://opa.invalid", query=query, timeout_seconds=timeout_seconds)
    engine.load(BUNDLE)
    return engine


def test_opa_server_answer_slower_than_the_limit_on_the_wall_clock_is_denied() -> None:
    decision = _opa(pause=0.15, timeout_seconds=0.05).decide(REQUEST)
    assert decision.allow is False
    assert decision.errors == ["engine-timeout"]


def test_opa_server_answer_within_the_limit_is_used() -> None:
    decision = _opa(pause=0.0, timeout_seconds=5.0).decide(REQUEST)
    assert decision.allow is True
    assert decision.categories["police-reports"].clauses == ["U-5.3-meldingen"]
