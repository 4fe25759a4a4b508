"""The OPA server client fails closed within the policy time limit: one setting
(``KETENPOORT_POLICY_TIMEOUT_SECONDS``) is the decision's deadline and the client's connect
and read timeout. Against real sockets on 127.0.0.1: a server that accepts and never
answers, one that trickles its answer a byte at a time (each read is quick, the whole is
not), one that refuses connections, and, as the positive control, one that answers (with
OPA's own Go evaluator, tests/policy/opa_stand_in.py)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from gateway.config import POLICY_TIME_LIMIT_SECONDS, Settings
from gateway.core.readiness import ReadinessChecks
from gateway.policy.covenant import load_covenants
from gateway.policy.opa_server import OpaServerEngine
from gateway.policy.wiring import build, make_engine
from tests.policy.conftest import BUNDLE
from tests.policy.opa_stand_in import OpaStandIn, opa_stand_in
from tests.policy.test_decisions import utrecht_request

REQUEST = utrecht_request(categories=["police-reports", "police-physical-violence"])
#: The time limit of the tests of that limit (a stand-in that hangs or trickles).
LIMIT = 0.2
#: The limit of an engine that must answer: the gateway's own (0.5 s). OPA's Go evaluator in
#: the stand-in took more than LIMIT for one decision on a loaded CI host, which failed a
#: test that expected an answer with "engine-timeout".
ANSWERING = POLICY_TIME_LIMIT_SECONDS
#: The old client's own timeout (opa-python-client's default, 1.5 s), before any retry: a
#: decision that took this long did not fail within the limit.
OLD_CLIENT_TIMEOUT = 1.5
DECISION_PATH = "/v1/data/ketenpoort/authz/decision"
#: What the gateway reads to know that OPA serves its bundle, before OPA's first decision.
CONTENT_READS = [
    "/v1/policies",
    "/v1/data/ketenpoort/covenants",
    "/v1/data/ketenpoort/revision",
]


@pytest.fixture
def opa(request: pytest.FixtureRequest) -> Iterator[OpaStandIn]:
    with opa_stand_in(request.param) as server:
        yield server


def engine_from_settings(url: str, limit: float = ANSWERING) -> OpaServerEngine:
    """The engine the gateway builds from its settings."""
    settings = Settings(opa_url=url, policy_timeout_seconds=limit)
    engine = make_engine(settings)
    assert isinstance(engine, OpaServerEngine)
    engine.load(BUNDLE)
    return engine


def await_content_read(engine: OpaServerEngine) -> None:
    """Wait (at most 5 s) until the read of what OPA serves, started by the load, has found
    the bundle: a test of the decision's own time limit does not race it (the decision
    waits for the read at most the limit, 0.2 s here, and under load it can take longer)."""
    deadline = time.monotonic() + 5
    while engine._distrust() is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert engine._distrust() is None


def _decide(engine: OpaServerEngine) -> tuple[Any, float]:
    started = time.perf_counter()
    decision = engine.decide(REQUEST)
    return decision, time.perf_counter() - started


def decisions_asked(opa: OpaStandIn) -> int:
    """How many decisions OPA was asked (each with the request's input)."""
    return sum(1 for target in opa.targets if target.startswith(DECISION_PATH))


def assert_nothing_disclosed(decision: Any, reason: str) -> None:
    assert decision.allow is False
    assert decision.errors == [reason]
    assert decision.engine == "opa"
    for verdict in decision.categories.values():
        assert (verdict.outcome, verdict.reasons) == ("redact", [reason])


@pytest.mark.parametrize("opa", ["answer"], indirect=True)
def test_opa_server_that_answers_within_the_limit_decides(opa: OpaStandIn) -> None:
    decision, _ = _decide(engine_from_settings(opa.url))
    assert decision.errors == []
    assert decision.allow is True
    assert decision.engine == "opa"
    assert decision.categories["police-reports"].clauses == ["U-5.3-meldingen"]


@pytest.mark.parametrize("opa", ["hang", "trickle"], indirect=True)
def test_opa_server_that_does_not_answer_in_time_denies_at_the_limit(
    opa: OpaStandIn,
) -> None:
    engine = engine_from_settings(opa.url, limit=LIMIT)
    await_content_read(engine)
    decision, elapsed = _decide(engine)
    assert_nothing_disclosed(decision, "engine-timeout")
    assert decisions_asked(opa) == 1  # it was asked, once: no retry
    assert LIMIT <= elapsed < OLD_CLIENT_TIMEOUT


def test_opa_server_refusing_connections_denies() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    # Nothing listens on the port now: the connection is refused.
    decision, _ = _decide(engine_from_settings(f"http://127.0.0.1:{port}"))
    assert_nothing_disclosed(decision, "engine-error")


def test_policy_time_limit_above_the_promised_half_second_is_refused() -> None:
    with pytest.raises(ValidationError, match="policy_timeout_seconds"):
        Settings(policy_timeout_seconds=1.5)
    assert Settings().policy_timeout_seconds == 0.5


@pytest.mark.parametrize("opa", ["answer"], indirect=True)
def test_opa_server_on_another_bundle_revision_than_the_gateway_denies(
    opa: OpaStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    """The gateway loaded a newer bundle (a covenant narrowed, say) while OPA still serves the
    one before: OPA's decision is by another covenant, so nothing is disclosed (503) until the
    two agree. The control is the test above: the same request, same server, same revision,
    allowed."""
    engine = engine_from_settings(opa.url)
    engine.load(replace(BUNDLE, revision="a-newer-revision"))
    decision, _ = _decide(engine)
    assert_nothing_disclosed(decision, "engine-error")
    assert decision.bundle_revision == "a-newer-revision"
    assert decisions_asked(opa) == 1
    stale = [r for r in caplog.records if r.getMessage().startswith("OPA decided on another")]
    assert [(r.served_revision, r.expected_revision) for r in stale] == [  # type: ignore[attr-defined]
        (BUNDLE.revision, "a-newer-revision")
    ]


@pytest.mark.parametrize("opa", ["answer"], indirect=True)
def test_readiness_reports_a_stale_opa_until_it_serves_the_gateways_revision(
    opa: OpaStandIn, tmp_path: Path
) -> None:
    """A replica whose OPA decides on another revision answers every decision 503, so it is
    not ready; taken out of service it receives no requests, so the readiness check asks OPA
    again itself, and the replica is ready once OPA serves the gateway's revision."""
    readiness: ReadinessChecks = {}
    settings = Settings(opa_url=opa.url, data_dir=tmp_path, policy_timeout_seconds=ANSWERING)
    engine = build(settings, load_covenants(), readiness)
    assert isinstance(engine, OpaServerEngine)
    assert engine.revision == BUNDLE.revision  # the stand-in serves the gateway's bundle
    assert readiness["policy"]() is None  # the control: ready
    engine.load(replace(BUNDLE, revision="a-newer-revision"))  # the gateway moved on
    assert_nothing_disclosed(engine.decide(REQUEST), "engine-error")
    asked = opa.requests
    assert readiness["policy"]() == (
        f"OPA serves bundle revision {BUNDLE.revision}, the gateway loaded a-newer-revision"
    )
    assert opa.requests == asked + 1  # it asked OPA again
    engine.load(BUNDLE)  # OPA caught up (here: the gateway's expectation moved back)
    assert readiness["policy"]() is None
    assert engine.decide(REQUEST).allow is True


@pytest.mark.parametrize("opa", ["answer"], indirect=True)
def test_opa_server_is_queried_with_strict_builtin_errors(opa: OpaStandIn) -> None:
    """OPA's Go evaluator in the tests errors where a builtin errors; the production server
    does so only when asked (review9b F2). The decision is the control: it is allowed."""
    decision, _ = _decide(engine_from_settings(opa.url))
    assert decision.allow is True
    assert opa.targets == [*CONTENT_READS, f"{DECISION_PATH}?strict-builtin-errors=true"]


@pytest.mark.parametrize("opa", ["answer"], indirect=True)
def test_a_builtin_error_on_the_opa_server_denies(opa: OpaStandIn) -> None:
    """A builtin that errors in the policy (here: ``concat`` over a null purpose, an input the
    gateway never sends) is HTTP 500 under strict builtin errors: the decision is an outage
    (engine-error, 503), not a decision on an undefined expression. The control is the test
    above: the same request, without the change, allowed."""

    def null_purpose(document: dict[str, Any]) -> None:
        document["purpose"] = None

    opa.change_input = null_purpose
    decision, _ = _decide(engine_from_settings(opa.url))
    assert_nothing_disclosed(decision, "engine-error")
    assert decisions_asked(opa) == 1


@pytest.mark.parametrize("opa", ["answer"], indirect=True)
def test_the_stand_in_refuses_a_query_without_strict_builtin_errors(opa: OpaStandIn) -> None:
    """So no test of the server path passes on a client that forgot the parameter."""
    import requests

    url = f"{opa.url}{DECISION_PATH}"
    assert requests.post(url, json={"input": {}}, timeout=5).status_code == 400
    strict = requests.post(f"{url}?strict-builtin-errors=TRUE", json={"input": {}}, timeout=5)
    assert strict.status_code == 200  # OPA reads the value in any case


def _health_checks(opa: OpaStandIn) -> int:
    return sum(1 for target in opa.targets if target.startswith("/health"))


@pytest.mark.parametrize("opa", ["answer"], indirect=True)
def test_readiness_reports_an_opa_server_that_is_down(opa: OpaStandIn, tmp_path: Path) -> None:
    """With OPA down every decision denies (engine-error, 503), so the replica is not ready;
    readiness asks OPA's health API (as the compose healthcheck and the k8s probe do), at most
    once per interval. The control: ready while OPA answers."""
    readiness: ReadinessChecks = {}
    settings = Settings(opa_url=opa.url, data_dir=tmp_path, policy_timeout_seconds=0.5)
    engine = build(settings, load_covenants(), readiness)
    assert isinstance(engine, OpaServerEngine)
    assert readiness["policy"]() is None
    assert readiness["policy"]() is None
    # Asked once within the interval; what it serves read once too (the control below),
    # from when the bundle was loaded, so in either order.
    assert sorted(opa.targets) == sorted(["/health?bundles=true", *CONTENT_READS])
    assert engine.decide(REQUEST).allow is True
    opa.shutdown()
    opa.server_close()  # OPA is down: connections are refused
    assert_nothing_disclosed(engine.decide(REQUEST), "engine-error")  # fails closed
    # The failed query dropped the verdict on what OPA serves: read again, and unreadable.
    # The health check's last answer (healthy) stands until its interval has passed.
    problem = readiness["policy"]()
    assert problem is not None
    assert problem.startswith("cannot read the policy the OPA server serves (ConnectionError)")
    engine.health_check_seconds = 0.0
    problem = readiness["policy"]()
    assert problem is not None
    assert problem.startswith("the OPA server (KETENPOORT_OPA_URL) does not answer its health")


@pytest.mark.parametrize("opa", ["hang"], indirect=True)
def test_readiness_reports_an_opa_server_that_does_not_answer_in_time(opa: OpaStandIn) -> None:
    engine = OpaServerEngine(opa.url, timeout_seconds=LIMIT)
    engine.load(BUNDLE)
    started = time.perf_counter()
    assert engine.readiness_problem() is not None
    assert time.perf_counter() - started < OLD_CLIENT_TIMEOUT  # within the client's limit
    assert _health_checks(opa) == 1


def _explain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, opa_url: str | None) -> str:
    from typer.testing import CliRunner

    from gateway.policy.cli import app

    monkeypatch.setenv("KETENPOORT_DATA_DIR", str(tmp_path))
    if opa_url is None:
        monkeypatch.delenv("KETENPOORT_OPA_URL", raising=False)
    else:
        monkeypatch.setenv("KETENPOORT_OPA_URL", opa_url)
    request_file = tmp_path / "request.json"
    request_file.write_text(REQUEST.model_dump_json())
    result = CliRunner().invoke(app, ["explain", "--input", str(request_file)])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("opa", ["answer"], indirect=True)
def test_policy_explain_asks_the_opa_server_a_gateway_with_opa_asks(
    opa: OpaStandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ketenpoort policy explain` decided on embedded regorus even in an OPA deployment
    (OPA path review L2): it now asks the engine the settings name, and says which."""
    output = _explain(tmp_path, monkeypatch, opa.url)
    assert f"revision: {BUNDLE.revision}   engine: opa" in output
    assert decisions_asked(opa) == 1
    assert "police-reports: disclose" in output
    # The control: without KETENPOORT_OPA_URL, embedded regorus decides the same.
    embedded = _explain(tmp_path, monkeypatch, None)
    assert f"revision: {BUNDLE.revision}   engine: regorus" in embedded
    assert decisions_asked(opa) == 1
    assert embedded.replace("engine: regorus", "engine: opa") == output
