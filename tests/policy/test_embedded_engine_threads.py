"""The gateway's embedded engine (``make_engine`` without an OPA URL) compiles a bundle once;
each worker thread gets its own VM from the compiled program (review9b F5: a wrapper
compiled the whole bundle again on every thread's first decision, 120-200 ms)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from gateway.config import Settings
from gateway.policy import engine as engine_module
from gateway.policy.engine import RegorusEngine
from gateway.policy.schemas import Decision
from gateway.policy.wiring import make_engine
from tests.policy.conftest import BUNDLE
from tests.policy.test_decisions import utrecht_request

REQUEST = utrecht_request(categories=["police-reports"])


def _decide_on_new_threads(engine: Any, threads: int) -> list[Decision]:
    decisions: list[Decision] = []
    for _ in range(threads):
        thread = threading.Thread(target=lambda: decisions.append(engine.decide(REQUEST)))
        thread.start()
        thread.join()
    return decisions


def test_the_bundle_is_compiled_once_however_many_threads_decide(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    compiled: list[int] = []
    compile_program = engine_module._compile_program

    def counting(*args: Any) -> Any:
        compiled.append(1)
        return compile_program(*args)

    monkeypatch.setattr(engine_module, "_compile_program", counting)
    engine = make_engine(Settings())
    engine.load(BUNDLE)
    decisions = _decide_on_new_threads(engine, 3)
    assert [d.allow for d in decisions] == [True, True, True]  # each thread decides
    assert len(compiled) == 1


def test_a_threads_engine_that_cannot_be_made_denies(monkeypatch: pytest.MonkeyPatch) -> None:
    """Made on the thread's first decision: a failure there (memory exhausted, say) is an
    engine failure (503), not an exception escaping the decision. The control: the first
    thread, made before the failure, decides."""
    engine = make_engine(Settings())
    engine.load(BUNDLE)
    assert _decide_on_new_threads(engine, 1)[0].allow is True

    def fail(self: RegorusEngine, loaded: Any) -> Any:
        raise MemoryError

    monkeypatch.setattr(RegorusEngine, "_build", fail)
    [decision] = _decide_on_new_threads(engine, 1)
    assert (decision.allow, decision.errors) == (False, ["engine-error"])


def test_making_a_threads_engine_does_not_count_against_the_time_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A thread's VM is made before the decision's clock starts: with a limit far below what
    making it costs here, the first decision on a thread is still decided."""
    build = RegorusEngine._build

    def slow_build(self: RegorusEngine, loaded: Any) -> Any:
        started = time.thread_time()
        while time.thread_time() - started < 0.05:  # CPU, as parsing the data is
            pass
        return build(self, loaded)

    monkeypatch.setattr(RegorusEngine, "_build", slow_build)
    engine = RegorusEngine(timeout_seconds=0.02)
    engine.load(BUNDLE)
    [decision] = _decide_on_new_threads(engine, 1)
    assert (decision.allow, decision.errors) == (True, [])
