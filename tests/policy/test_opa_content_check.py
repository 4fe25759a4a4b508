"""The OPA server decides only once it is known to serve the gateway's bundle itself.

OPA's answers carry only a revision label, and whoever holds the signing key can sign a
policy of their own under the gateway's revision (OPA path review M1). So the gateway reads
what OPA serves (its modules' texts, its compiled covenants, its revision label) and
compares it with its own bundle; until a read has found the bundle since it was loaded,
after a read that failed, and after one that found another policy, every decision is
refused (engine-error: 503, nothing disclosed) before OPA is asked, so the request's input
never reaches it. The decision itself starts the read, so the first request after a load
decides as soon as OPA is found to serve the bundle, without waiting for a readiness probe.
A read that found the bundle vouches for it for a bounded time (the check's interval and a
grace, from when it began), not until the next read ends, and a failed query or health
check drops it at once. Between two reads OPA could swap its policy and is obeyed until the
verdict expires: the tests show that window as well as its end.

End to end against the OPA stand-in (OPA's Go evaluator behind its REST API), and with an
injected query and read where the test needs to count, hold or fail them.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from gateway.policy.bundle import Bundle
from gateway.policy.compiler import DATA_ROOT
from gateway.policy.opa_server import (
    OPA_CONTENT_CHECK_SECONDS,
    OPA_CONTENT_GRACE_SECONDS,
    OPA_CONTENT_RETRY_SECONDS,
    OPA_PROBE_WAIT_SECONDS,
    OpaServerEngine,
)
from tests.policy.conftest import BUNDLE, loaded_engine
from tests.policy.opa_stand_in import opa_stand_in, served_documents
from tests.policy.test_decisions import utrecht_request
from tests.policy.test_opa_client import (
    ANSWERING,
    CONTENT_READS,
    LIMIT,
    REQUEST,
    assert_nothing_disclosed,
    decisions_asked,
    engine_from_settings,
)

#: The reviewer's tampered policy (OPA path review M1): the OM consent never fails.
_OM_RULE = "om_failures := {} if {\n\tinput.case.policeInvestigation == false\n}"
_TAMPERED_RULE = "om_failures := {} if {\n\ttrue\n}"
#: The case manager asks the police's antecedents while an investigation runs, without OM
#: consent: withheld (om-consent-missing) by the gateway's bundle.
ANTECEDENTS = utrecht_request(
    case__policeInvestigation=True, categories=["police-nuisance-antecedents"]
)
FOREIGN = (
    "the OPA server serves other policy modules or data than the gateway's bundle "
    f"{BUNDLE.revision}, under that bundle's revision label: every decision is refused"
)


def _tampered_modules() -> Bundle:
    modules = {
        name: text.replace(_OM_RULE, _TAMPERED_RULE) for name, text in BUNDLE.modules.items()
    }
    assert modules != BUNDLE.modules
    # Signed with the gateway's key by whoever holds it, under the gateway's revision label.
    return replace(BUNDLE, modules=modules)


def _tampered_data() -> Bundle:
    """The compiled covenants changed under the same revision label (here only a covenant's
    name: any change of the data counts)."""
    data = copy.deepcopy(BUNDLE.data)
    covenants = data[DATA_ROOT]["covenants"]
    covenants["utrecht-extreme-woonoverlast"]["name"] += " (tampered)"
    return replace(BUNDLE, data=data)


def _antecedents(decision: Any) -> tuple[str, list[str]]:
    verdict = decision.categories["police-nuisance-antecedents"]
    return verdict.outcome, verdict.reasons


def _served(bundle: Bundle) -> tuple[list[str], Any, Any]:
    """What OPA's REST API reads out of ``bundle``, as the gateway's read returns it."""
    root = bundle.data[DATA_ROOT]
    return list(bundle.modules.values()), root["covenants"], root["revision"]


# --- against the OPA stand-in ------------------------------------------------------------


def test_the_first_decision_on_opa_serving_the_bundle_reads_it_and_decides() -> None:
    """The positive control of the refusals below: right after the bundle is loaded, with
    no readiness probe in between, the first request reads what OPA serves, finds the
    bundle and is decided; the ones after it are not read again (once per minute)."""
    with opa_stand_in("answer", BUNDLE) as opa:
        engine = engine_from_settings(opa.url)
        assert _antecedents(engine.decide(ANTECEDENTS)) == ("redact", ["om-consent-missing"])
        assert engine.decide(REQUEST).allow is True
        assert opa.targets[:3] == CONTENT_READS
        assert opa.targets.count("/v1/policies") == 1
        assert decisions_asked(opa) == 2
        assert engine.readiness_problem() is None


def test_opa_serving_a_tampered_policy_under_the_gateways_revision_decides_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The review's tampered policy, signed under the gateway's revision label: refused from
    the very first request, which never reaches OPA, and the refusal's log line says why."""
    with opa_stand_in("answer", _tampered_modules()) as opa:
        engine = engine_from_settings(opa.url)
        assert_nothing_disclosed(engine.decide(ANTECEDENTS), "engine-error")
        assert opa.targets == CONTENT_READS  # read, and not asked to decide
        failed = [r for r in caplog.records if r.getMessage() == "policy decision failed closed"]
        assert [r.problem for r in failed] == [FOREIGN]  # type: ignore[attr-defined]
        assert engine.readiness_problem() == FOREIGN
        assert_nothing_disclosed(engine.decide(ANTECEDENTS), "engine-error")
        assert decisions_asked(opa) == 0
    alarms = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [r.getMessage() for r in alarms] == [
        "OPA serves another policy than the gateway's bundle"  # once, not at every read
    ]


def test_the_tampered_policy_discloses_when_its_content_is_not_read() -> None:
    """Why the read matters (the review's reproduction): the same OPA, with a read that
    claims the gateway's bundle, is asked and discloses what the covenant withholds."""
    with opa_stand_in("answer", _tampered_modules()) as opa:
        engine = OpaServerEngine(
            opa.url, timeout_seconds=ANSWERING, content=lambda: _served(BUNDLE)
        )
        engine.load(BUNDLE)
        assert _antecedents(engine.decide(ANTECEDENTS)) == ("disclose", [])


def test_opa_serving_tampered_data_under_the_gateways_revision_decides_nothing() -> None:
    with opa_stand_in("answer", _tampered_data()) as opa:
        engine = engine_from_settings(opa.url)
        assert_nothing_disclosed(engine.decide(ANTECEDENTS), "engine-error")
        assert decisions_asked(opa) == 0
        assert engine.readiness_problem() == FOREIGN


def test_opa_still_serving_the_last_bundle_is_named_by_its_revision() -> None:
    """Another policy under another label, mostly the last bundle before OPA restarted:
    refused too, and named by both revisions as the answers' check names it."""
    older = _tampered_data()  # its data a copy of the bundle's
    older.data[DATA_ROOT]["revision"] = "the-last-revision"
    with opa_stand_in("answer", older) as opa:
        engine = engine_from_settings(opa.url)
        assert_nothing_disclosed(engine.decide(REQUEST), "engine-error")
        assert decisions_asked(opa) == 0
        assert engine.readiness_problem() == (
            f"OPA serves bundle revision the-last-revision, the gateway loaded {BUNDLE.revision}"
        )
        assert engine.foreign is None


def test_before_a_bundle_is_loaded_what_opa_serves_is_not_judged() -> None:
    """No bundle of its own yet: the replica is not ready, and no policy is called foreign
    (the control: once the bundle is loaded, the same OPA is found to serve it)."""
    with opa_stand_in("answer", BUNDLE) as opa:
        engine = OpaServerEngine(opa.url, timeout_seconds=LIMIT)
        assert engine.readiness_problem() == "what the OPA server serves is not checked yet"
        assert engine.foreign is None
        assert opa.targets == ["/health?bundles=true"]
        engine.load(BUNDLE)
        assert engine.readiness_problem() is None


def test_a_replica_whose_opa_serves_its_bundle_again_decides_again() -> None:
    with opa_stand_in("answer", _tampered_modules()) as opa:
        engine = engine_from_settings(opa.url)
        engine.content_retry_seconds = 0.0
        assert engine.readiness_problem() == FOREIGN
        opa.documents = served_documents(BUNDLE)  # OPA restarted on the bundle
        assert engine.readiness_problem() is None
        assert engine.foreign is None
        assert engine.decide(REQUEST).allow is True  # (the stand-in still decides as before)


def test_what_opa_serves_unreadable_refuses_every_decision_until_it_is_read() -> None:
    """A read that fails is not "the gateway's bundle": decisions are refused (OPA is not
    asked) and the replica is not ready, until a read finds the bundle; then the same
    request is decided."""
    with opa_stand_in("answer", BUNDLE) as opa:
        policies = opa.documents.pop("/v1/policies")  # answered 400, as a query would be
        engine = engine_from_settings(opa.url)
        assert_nothing_disclosed(engine.decide(REQUEST), "engine-error")
        problem = engine.readiness_problem()
        assert problem is not None
        assert problem.startswith("cannot read the policy the OPA server serves (HTTPError)")
        assert decisions_asked(opa) == 0
        opa.documents["/v1/policies"] = policies
        engine.content_retry_seconds = 0.0  # the next request reads again
        assert engine.decide(REQUEST).allow is True
        assert engine.readiness_problem() is None


def test_a_read_that_starts_failing_once_verified_refuses_decisions_until_one_succeeds() -> None:
    with opa_stand_in("answer", BUNDLE) as opa:
        engine = engine_from_settings(opa.url)
        assert engine.decide(REQUEST).allow is True  # verified
        policies = opa.documents.pop("/v1/policies")
        engine.content_check_seconds = 0.0  # the minute passed
        problem = engine.readiness_problem()
        assert problem is not None
        assert problem.startswith("cannot read the policy the OPA server serves")
        asked = decisions_asked(opa)
        assert_nothing_disclosed(engine.decide(REQUEST), "engine-error")
        assert decisions_asked(opa) == asked
        opa.documents["/v1/policies"] = policies
        engine.content_retry_seconds = 0.0
        assert engine.decide(REQUEST).allow is True


def test_opa_swapping_to_a_tampered_policy_decides_by_it_only_until_the_verdict_expires() -> None:
    """Time of check against time of use: OPA swaps to the review's tampered policy (under
    the gateway's revision label) after a read found the bundle. Until that read's verdict
    expires (60 s and a 5 s grace from when it began) or the next read ends, OPA's
    decisions are the tampered policy's: here the first one after the swap discloses what
    the covenant withholds. The check bounds that window, it cannot close it. Once the
    verdict has expired, the decision waits for a read, which finds the tampered policy:
    refused, and OPA not asked."""
    with opa_stand_in("answer", BUNDLE) as opa:
        engine = engine_from_settings(opa.url)
        assert _antecedents(engine.decide(ANTECEDENTS)) == ("redact", ["om-consent-missing"])
        opa.serve(_tampered_modules())
        assert _antecedents(engine.decide(ANTECEDENTS)) == ("disclose", [])  # the window
        asked = decisions_asked(opa)
        # The verdict's 65 s have passed (and a second since the last read).
        engine.content_check_seconds = engine.content_grace_seconds = 0.0
        engine.content_retry_seconds = 0.0
        assert_nothing_disclosed(engine.decide(ANTECEDENTS), "engine-error")
        assert decisions_asked(opa) == asked
        assert engine.readiness_problem() == FOREIGN


# --- with an injected query and read -----------------------------------------------------


class _Opa:
    """An injected OPA: its query answers REQUEST as the bundle does (decided beforehand
    by regorus, on the test's thread), or is refused while ``query_failing``; its read of
    what it serves returns the bundle's content, fails while ``failing`` and for the next
    ``failures`` reads, or waits for ``gate`` first. Both count their calls."""

    def __init__(self) -> None:
        self.answer = {"result": loaded_engine("regorus")._evaluate(REQUEST.document())}
        self.queries = 0
        self.reads = 0
        self.query_failing = False
        self.failing = False
        self.failures = 0
        self.gate: threading.Event | None = None
        self._lock = threading.Lock()

    def query(self, _document: dict[str, Any]) -> Any:
        with self._lock:
            self.queries += 1
        if self.query_failing:
            raise ConnectionError("connection refused")
        return self.answer

    def read(self) -> tuple[list[str], Any, Any]:
        with self._lock:
            self.reads += 1
            failing, self.failures = self.failing or self.failures > 0, max(0, self.failures - 1)
        if self.gate is not None:
            self.gate.wait(5)
        if failing:
            raise ConnectionError("connection refused")
        return _served(BUNDLE)


@pytest.fixture
def opa() -> _Opa:
    return _Opa()


@pytest.fixture
def engine(opa: _Opa) -> Iterator[OpaServerEngine]:
    """The engine on the injected OPA, before its bundle is loaded (the read starts then)."""
    yield OpaServerEngine("http://opa.invalid", query=opa.query, content=opa.read)
    if opa.gate is not None:
        opa.gate.set()


def test_the_read_starts_when_the_bundle_is_loaded(opa: _Opa, engine: OpaServerEngine) -> None:
    """Not at the first request: that one finds the read under way or done."""
    engine.load(BUNDLE)
    deadline = time.monotonic() + 5
    while opa.reads == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert opa.reads == 1
    assert engine.decide(REQUEST).allow is True
    assert (opa.reads, opa.queries) == (1, 1)


def test_while_reads_fail_opa_is_read_at_most_once_a_second(
    opa: _Opa, engine: OpaServerEngine
) -> None:
    """An OPA that refuses the read is not hammered by every request: while what it serves
    is unknown, it is read at most once per second (``OPA_CONTENT_RETRY_SECONDS``), and
    every request in between is refused at once. The control: with no pause, every request
    reads it, so the count can grow."""
    assert OPA_CONTENT_RETRY_SECONDS == 1.0
    opa.failing = True
    started = time.monotonic()
    engine.load(BUNDLE)
    for _ in range(40):
        assert_nothing_disclosed(engine.decide(REQUEST), "engine-error")
    elapsed = time.monotonic() - started
    assert 1 <= opa.reads <= 1 + int(elapsed / OPA_CONTENT_RETRY_SECONDS)
    assert opa.queries == 0
    engine.content_retry_seconds = 0.0
    reads = opa.reads
    for _ in range(5):
        assert_nothing_disclosed(engine.decide(REQUEST), "engine-error")
    assert opa.reads == reads + 5


def test_once_verified_opa_is_read_again_only_after_the_interval(
    opa: _Opa, engine: OpaServerEngine
) -> None:
    engine.load(BUNDLE)
    for _ in range(20):
        assert engine.decide(REQUEST).allow is True
    assert (opa.reads, opa.queries) == (1, 20)


def test_requests_during_the_first_read_wait_for_it_and_are_decided(
    opa: _Opa, engine: OpaServerEngine
) -> None:
    """Requests that arrive while the first read runs wait for that same read (one read,
    however many requests) and are decided once it finds the bundle."""
    engine.timeout_seconds = 2.0  # each request's wait: room for a loaded machine
    opa.gate = threading.Event()
    engine.load(BUNDLE)
    decisions: list[Any] = []
    threads = [
        threading.Thread(target=lambda: decisions.append(engine.decide(REQUEST))) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    time.sleep(0.1)
    opa.gate.set()
    for thread in threads:
        thread.join(5)
    assert [d.allow for d in decisions] == [True] * 8
    assert (opa.reads, opa.queries) == (1, 8)


def test_a_read_that_hangs_refuses_the_decision_at_its_time_limit(
    opa: _Opa, engine: OpaServerEngine
) -> None:
    """The read is waited for at most the decision's time limit: a hanging OPA answers 503
    at the limit, not after the read's own timeout (5 s a read); the read goes on, and once
    it finds the bundle the next request is decided without reading again."""
    engine.timeout_seconds = LIMIT
    gate = opa.gate = threading.Event()
    engine.load(BUNDLE)
    started = time.perf_counter()
    assert_nothing_disclosed(engine.decide(REQUEST), "engine-error")
    assert LIMIT <= time.perf_counter() - started < 1.0
    assert opa.queries == 0
    gate.set()
    assert engine.decide(REQUEST).allow is True
    assert (opa.reads, opa.queries) == (1, 1)


def test_decisions_alone_notice_a_read_that_starts_failing(
    opa: _Opa, engine: OpaServerEngine
) -> None:
    """Without a readiness probe: once the interval has passed a decision reads again (not
    waiting for it); when that read fails, the requests after it are refused. The control:
    once reads succeed again, they are decided."""
    engine.load(BUNDLE)
    assert engine.decide(REQUEST).allow is True
    engine.content_check_seconds = 0.0
    opa.failing = True
    deadline = time.monotonic() + 3
    while engine.decide(REQUEST).allow and time.monotonic() < deadline:
        time.sleep(0.01)
    assert_nothing_disclosed(engine.decide(REQUEST), "engine-error")
    opa.failing = False
    engine.content_retry_seconds = 0.0
    assert engine.decide(REQUEST).allow is True


def test_a_bundle_loaded_with_other_content_is_read_again_before_opa_decides(
    opa: _Opa, engine: OpaServerEngine
) -> None:
    """A verdict on the last bundle is not carried to the next: the gateway loads other
    content (OPA still serves the first) and refuses until a read finds it; the control:
    the first bundle loaded again is read again and decided."""
    engine.load(BUNDLE)
    assert engine.decide(REQUEST).allow is True
    gate = opa.gate = threading.Event()
    engine.load(_tampered_data())  # its read (OPA still serves the first bundle) held
    assert_nothing_disclosed(engine.decide(REQUEST), "engine-error")  # not read yet
    assert engine.foreign is None
    gate.set()
    assert engine.readiness_problem() == FOREIGN  # the held read, ended
    opa.gate = None
    engine.load(BUNDLE)
    assert engine.decide(REQUEST).allow is True
    assert (opa.reads, opa.queries) == (3, 2)


def test_a_read_begun_for_the_last_bundle_does_not_vouch_for_the_next(
    opa: _Opa, engine: OpaServerEngine
) -> None:
    """A read that began before the gateway loaded other content finds the first bundle:
    its verdict is dropped, and the request after it is refused. The control: the first
    bundle loaded again is read and decided."""
    gate = opa.gate = threading.Event()
    engine.load(BUNDLE)
    assert_nothing_disclosed(engine.decide(REQUEST), "engine-error")  # the read hangs
    engine.load(_tampered_data())  # while the read for the first bundle runs
    gate.set()
    assert_nothing_disclosed(engine.decide(REQUEST), "engine-error")
    engine.load(BUNDLE)
    assert engine.decide(REQUEST).allow is True


def test_an_injected_query_alone_reads_nothing_and_decides() -> None:
    """The engines of the other tests (an injected query, no read): as before."""
    answer = {"result": loaded_engine("regorus")._evaluate(REQUEST.document())}
    engine = OpaServerEngine("http://opa.invalid", query=lambda _document: answer)
    engine.load(BUNDLE)
    assert engine.decide(REQUEST).allow is True
    assert engine.readiness_problem() is None


def test_a_read_that_hangs_once_verified_keeps_the_verdict_only_until_it_expires(
    opa: _Opa, engine: OpaServerEngine
) -> None:
    """The read after the interval hangs (the reads' time limit is per socket wait, so one
    may never end). The last read's verdict still stands for its grace, so decisions go on
    (the control); once it has expired they wait for the hanging read at most their time
    limit and are refused, OPA not asked, and the probe says a read is under way. When the
    read ends, having found the bundle, they are decided again."""
    engine.timeout_seconds = LIMIT
    engine.load(BUNDLE)
    assert engine.decide(REQUEST).allow is True
    gate = opa.gate = threading.Event()
    engine.content_check_seconds = 0.0  # the next read is due
    assert engine.decide(REQUEST).allow is True  # starts it, not waited for: the verdict stands
    engine.content_grace_seconds = 0.0  # the verdict's time is up, the read still hangs
    started = time.perf_counter()
    assert_nothing_disclosed(engine.decide(REQUEST), "engine-error")
    assert LIMIT <= time.perf_counter() - started < 1.0
    assert opa.queries == 2
    problem = engine.readiness_problem()
    assert problem is not None
    assert problem.startswith(
        "a check of what the OPA server serves is in progress; until it ends: the last read "
        "that found the gateway's bundle"
    )
    engine.content_check_seconds = OPA_CONTENT_CHECK_SECONDS
    engine.content_grace_seconds = OPA_CONTENT_GRACE_SECONDS
    gate.set()
    assert engine.readiness_problem() is None
    assert engine.decide(REQUEST).allow is True
    assert (opa.reads, opa.queries) == (2, 3)


def test_the_readiness_probe_waits_for_a_hanging_read_at_most_a_second(
    opa: _Opa, engine: OpaServerEngine
) -> None:
    """Within a probe's timeout (3 s in Kubernetes, 2 to 3 s in compose), and holding a
    worker no longer: it reports that a read is under way (not ready). The control: once
    the read ends, having found the bundle, the replica is ready."""
    gate = opa.gate = threading.Event()
    engine.load(BUNDLE)
    started = time.perf_counter()
    problem = engine.readiness_problem()
    assert OPA_PROBE_WAIT_SECONDS <= time.perf_counter() - started < OPA_PROBE_WAIT_SECONDS + 0.5
    assert problem == (
        "a check of what the OPA server serves is in progress; until it ends: what the OPA "
        "server serves is not checked yet"
    )
    gate.set()
    assert engine.readiness_problem() is None


def test_a_failed_query_drops_the_verdict_and_opa_is_read_before_it_decides_again(
    opa: _Opa, engine: OpaServerEngine
) -> None:
    """A query whose connection is refused (OPA restarting, perhaps on another policy): that
    decision fails closed, and the next waits for a read (held here: refused, OPA not
    asked); once the read finds the bundle, decided. The control: without a failed query,
    20 decisions read OPA once (test_once_verified_opa_is_read_again_only_after_the_interval)."""
    engine.timeout_seconds = LIMIT
    engine.load(BUNDLE)
    assert engine.decide(REQUEST).allow is True
    opa.query_failing = True
    assert_nothing_disclosed(engine.decide(REQUEST), "engine-error")
    opa.query_failing = False
    gate = opa.gate = threading.Event()
    assert_nothing_disclosed(engine.decide(REQUEST), "engine-error")
    assert opa.queries == 2  # the refused decision was not asked
    problem = engine.readiness_problem()
    assert problem is not None
    assert "a decision query to the OPA server failed (ConnectionError)" in problem
    gate.set()
    assert engine.readiness_problem() is None
    assert engine.decide(REQUEST).allow is True
    assert (opa.reads, opa.queries) == (2, 3)


def test_a_failed_health_check_drops_the_verdict(opa: _Opa) -> None:
    """OPA failing its health check may come back on another policy: the next decision
    waits for a read (held here: refused); once it finds the bundle, decided."""
    healthy = threading.Event()
    healthy.set()
    engine = OpaServerEngine(
        "http://opa.invalid", query=opa.query, content=opa.read, health=healthy.is_set
    )
    engine.timeout_seconds = LIMIT
    engine.load(BUNDLE)
    assert engine.decide(REQUEST).allow is True
    assert engine.readiness_problem() is None  # healthy: the verdict stands (the control)
    healthy.clear()
    engine.health_check_seconds = 0.0
    problem = engine.readiness_problem()
    assert problem is not None
    assert problem.startswith("the OPA server (KETENPOORT_OPA_URL) does not answer its health")
    gate = opa.gate = threading.Event()
    try:
        assert_nothing_disclosed(engine.decide(REQUEST), "engine-error")
        assert opa.queries == 1
    finally:
        gate.set()
    healthy.set()
    assert engine.readiness_problem() is None
    assert engine.decide(REQUEST).allow is True
    assert opa.reads == 2


def test_one_failed_read_once_verified_is_tried_again_at_once(
    opa: _Opa, engine: OpaServerEngine
) -> None:
    """One lost connection does not refuse every decision for a second: from a verdict
    that found the bundle, a read that fails is tried again at once in the same check.
    The control: two failures in a row refuse."""
    engine.load(BUNDLE)
    assert engine.decide(REQUEST).allow is True
    opa.failures = 1
    engine.content_check_seconds = 0.0  # the next read is due
    assert engine.decide(REQUEST).allow is True  # starts it
    engine.content_check_seconds = OPA_CONTENT_CHECK_SECONDS
    assert engine.readiness_problem() is None  # waits for it: failed, tried again, found
    assert opa.reads == 3
    assert engine.decide(REQUEST).allow is True
    opa.failures = 2
    engine.content_check_seconds = 0.0
    assert engine.decide(REQUEST).allow is True  # starts it
    engine.content_check_seconds = OPA_CONTENT_CHECK_SECONDS
    problem = engine.readiness_problem()
    assert problem is not None
    assert problem.startswith("cannot read the policy the OPA server serves (ConnectionError)")
    assert opa.reads == 5
    assert_nothing_disclosed(engine.decide(REQUEST), "engine-error")
