"""What an operator sees: /metrics (Prometheus text, behind its own token, no identifier in
any label), JSON log lines with request and trace ids and no personal data, W3C trace
context honoured, echoed, passed on to OPA and into audit entries, and API docs that load
without the internet."""

from __future__ import annotations

import io
import json
import logging
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, get_args

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlalchemy import select

from audit.entry import Outcome
from gateway.app import create_app
from gateway.audit.models import AuditRecord
from gateway.config import Settings
from gateway.context import GatewayContext
from gateway.core.logs import JsonFormatter
from gateway.db import transaction
from tests.exchange.conftest import ANTECEDENTS, POLICE, VIOLENCE, Auth, open_utrecht_case

METRICS_TOKEN = "metrics-token-for-the-test"
CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
# What the Utrecht case of tests/exchange carries: none of it may reach a label or a log.
PERSONAL = ("111222333", "3511 AB", "3511AB", "Nachtelijk lawaai", "cm-1")


@pytest.fixture
def gateway(settings: Settings, context: GatewayContext) -> Iterator[TestClient]:
    operated = settings.model_copy(update={"metrics_token": SecretStr(METRICS_TOKEN)})
    with TestClient(create_app(operated, context), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """The gateway's log as the image writes it (KETENPOORT_LOG_FORMAT=json)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    test_client = logging.getLogger("httpx2")  # the TestClient's own request lines
    previous = root.level, test_client.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    test_client.setLevel(logging.WARNING)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(previous[0])
        test_client.setLevel(previous[1])


def _scrape(client: TestClient) -> str:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


def _samples(text: str) -> dict[str, list[dict[str, str]]]:
    found: dict[str, list[dict[str, str]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append({**sample.labels, "": str(sample.value)})
    return found


def _label_key(sample: dict[str, str]) -> frozenset[tuple[str, str]]:
    return frozenset((label, value) for label, value in sample.items() if label != "")


def _sample_values(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], str]:
    return {
        (name, _label_key(sample)): sample[""]
        for name, samples in _samples(text).items()
        for sample in samples
    }


def _route_templates(routes: Any) -> set[str]:
    """Every route template the app serves, included routers' too (FastAPI 0.16x keeps an
    included router apart and lists its routes as effective route contexts)."""
    found: set[str] = set()
    for route in routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is not None:
            found |= {context.path_format for context in contexts()}
        elif isinstance(getattr(route, "path", None), str):
            found.add(route.path)
    return found


def _exchange_with_a_denial_a_disclosure_and_a_replay(gateway: TestClient, auth: Auth) -> str:
    case = open_utrecht_case(gateway, auth)
    case.investigation(True)
    request = case.request([ANTECEDENTS, VIOLENCE])  # antecedents: om-consent-missing
    answered = case.answer(request["id"], [{"category": VIOLENCE, "yesNo": True}])
    assert answered.status_code == 200, answered.text
    case.read(request["id"])
    used = case.as_(POLICE)
    assert gateway.get("/v1/me", headers=used).status_code == 200
    assert gateway.get("/v1/me", headers=used).status_code == 401  # the replay
    return case.case_id


def test_metrics_count_requests_decisions_disclosures_audit_and_replays(
    gateway: TestClient, auth: Auth, context: GatewayContext
) -> None:
    _exchange_with_a_denial_a_disclosure_and_a_replay(gateway, auth)
    samples = _samples(_scrape(gateway))

    requests = samples["ketenpoort_http_requests_total"]
    assert any(
        s["route"] == "/v1/information-requests" and s["method"] == "POST" and s["status"] == "201"
        for s in requests
    )
    assert any(s["route"] == "/v1/me" and s["status"] == "401" for s in requests)
    decisions = samples["ketenpoort_policy_decisions_total"]
    assert any(s["reason"] == "om-consent-missing" for s in decisions)
    assert any(s["outcome"] in ("disclosed", "partially-disclosed") for s in decisions)
    disclosures = samples["ketenpoort_disclosures_total"]
    assert {s["covenant"] for s in disclosures} & set(context.covenants)
    assert float(samples["ketenpoort_audit_append_duration_seconds_count"][0][""]) >= 2
    assert float(samples["ketenpoort_token_replays_refused_total"][0][""]) >= 1
    assert samples["ketenpoort_metrics_database_up"][0][""] == "1.0"
    assert "ketenpoort_retention_sweep_failed_runs" in samples
    if context.engine.dialect.name == "postgresql":
        assert float(samples["ketenpoort_db_pool_capacity"][0][""]) >= 1


def test_no_metric_label_carries_an_identifier_or_personal_data(
    gateway: TestClient, auth: Auth, context: GatewayContext
) -> None:
    # The registry is the worker process's: other tests' apps (a test-only route among them)
    # count there too. The labels checked are those of the samples this test moved.
    before = _sample_values(_scrape(gateway))
    case_id = _exchange_with_a_denial_a_disclosure_and_a_replay(gateway, auth)
    text = _scrape(gateway)
    moved = {key for key, value in _sample_values(text).items() if before.get(key) != value}
    for value in (*PERSONAL, case_id):
        assert value not in text
    document = gateway.get("/v1/openapi.json").json()
    routes = {document["servers"][0]["url"] + path for path in document["paths"]}
    routes |= _route_templates(gateway.app.routes)  # the pages' templates too
    routes |= {"unmatched", "/metrics"}
    allowed = {
        "method": {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"},
        "route": routes,
        "outcome": set(get_args(Outcome)),
        "covenant": set(context.covenants),
    }
    checked = 0
    for name, samples in _samples(text).items():
        if not name.startswith("ketenpoort_"):
            continue
        for sample in samples:
            if (name, _label_key(sample)) not in moved:
                continue
            for label, value in sample.items():
                if label in ("", "le"):
                    continue
                if label == "status":
                    assert re.fullmatch(r"[1-5]\d\d", value), (name, value)
                elif label == "reason":
                    assert re.fullmatch(r"[a-z0-9-]*", value), (name, value)
                else:
                    assert value in allowed[label], (name, label, value)
                checked += 1
    assert checked > 10


def test_metrics_give_each_witness_the_age_of_its_newest_cosignature(
    gateway: TestClient, context: GatewayContext
) -> None:
    from datetime import UTC, datetime, timedelta

    from gateway.audit.models import AuditNoteSignature

    origin = context.settings.audit_log_origin
    signed = datetime.now(UTC) - timedelta(seconds=600)
    with transaction(context.session_factory) as session:
        # The log's own signature line is not a witness's; its age must not show here.
        for signer, age in ((origin, 0), ("witness.example/partner", 600)):
            session.add(
                AuditNoteSignature(
                    tree_size=1,
                    signer=signer,
                    line=f"\u2014 {signer} AAAA",
                    signed_at=signed + timedelta(seconds=600 - age),
                )
            )
    samples = _samples(_scrape(gateway))["ketenpoort_audit_witnessed_checkpoint_age_seconds"]
    assert [s["witness"] for s in samples] == ["witness.example/partner"]
    assert 600 <= float(samples[0][""]) < 1200


def test_metrics_need_their_token_on_the_api_port(gateway: TestClient) -> None:
    assert gateway.get("/metrics").status_code == 401
    wrong = gateway.get("/metrics", headers={"Authorization": "Bearer guessed"})
    assert wrong.status_code == 401
    assert wrong.headers["content-type"] == "application/problem+json"
    assert "ketenpoort_http_requests_total" in _scrape(gateway)  # positive control


def test_without_a_metrics_token_the_api_port_has_no_metrics(client: TestClient) -> None:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 404


def test_log_lines_are_json_with_request_and_trace_ids_and_no_personal_data(
    gateway: TestClient, auth: Auth, log_lines: io.StringIO
) -> None:
    _exchange_with_a_denial_a_disclosure_and_a_replay(gateway, auth)
    # A BSN in a URL is refused before routing (issue 14.10) and is not logged either.
    assert gateway.get("/v1/health/ready?bsn=111222333").status_code == 400
    response = gateway.get(
        "/v1/health/ready?postcode=3511AB",
        headers={"traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"},
    )
    assert response.status_code == 200
    text = log_lines.getvalue()
    for value in PERSONAL:
        assert value not in text
    events = [json.loads(line) for line in text.splitlines()]
    access = [e for e in events if e.get("event") == "access"]
    assert len(access) >= 8
    for event in access:
        assert re.fullmatch(r"[0-9a-f]{32}", event["request_id"])
        assert re.fullmatch(r"[0-9a-f]{32}", event["trace_id"])
        assert "?" not in event["http_route"]
        assert {"time", "level", "logger", "message", "span_id", "duration_ms"} <= set(event)
    last = access[-1]
    assert last["http_route"] == "/v1/health/ready"
    assert last["request_id"] == response.headers["x-request-id"]
    assert last["trace_id"] == response.headers["traceparent"].split("-")[1]


def test_traceparent_is_honoured_echoed_and_recorded_in_the_audit_entry(
    gateway: TestClient, auth: Auth, context: GatewayContext
) -> None:
    """Logboek Dataverwerkingen: the request is a trace of the gateway's own; the partner's
    operation is its foreign operation (and a span link), the response names our span."""
    case = open_utrecht_case(gateway, auth)
    caller = f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"
    response = gateway.post(
        "/v1/information-requests",
        json={"caseId": case.case_id, "purpose": "case-handling", "categories": [VIOLENCE]},
        headers={**case.as_(("u-centraal", "casemanager"), "cm-1"), "traceparent": caller},
    )
    assert response.status_code == 201, response.text
    version, trace_id, span_id, flags = response.headers["traceparent"].split("-")
    assert version == "00"
    assert int(flags, 16) & 1  # sampled
    assert trace_id != CALLER_TRACE  # our own trace, not a continuation of the partner's
    with context.session_factory() as session:
        bodies = [json.loads(b) for b in session.scalars(select(AuditRecord.body))]
    traced = [b["trace"] for b in bodies if b.get("trace", {}).get("traceId") == trace_id]
    assert len(traced) == 1, "the request's audit entry is not in the request's trace"
    assert traced[0]["parentSpanId"] == span_id
    assert traced[0]["foreignOperation"] == {
        "traceId": CALLER_TRACE,
        "spanId": CALLER_SPAN,
        "partnerId": "u-centraal",
    }

    # Without a traceparent the gateway starts a trace all the same, and says which.
    fresh = gateway.get("/v1/health/live")
    assert re.fullmatch(r"00-[0-9a-f]{32}-[0-9a-f]{16}-0[13]", fresh.headers["traceparent"])


# A BSN as a partner's trace or span id (review10 F3): 111222333, and 011122237 without its
# leading zero.
TRACEPARENTS_WITH_A_BSN = [
    f"00-11122233300000000000000000000a00-{CALLER_SPAN}-01",
    f"00-f11122237fffffffffffffffffffffff-{CALLER_SPAN}-01",
    f"00-{CALLER_TRACE}-0000000111222333-01",
]


def _trace_of_the_entry(context: GatewayContext, trace_id: str) -> dict[str, Any]:
    with context.session_factory() as session:
        bodies = [json.loads(b) for b in session.scalars(select(AuditRecord.body))]
    (traced,) = [b["trace"] for b in bodies if b.get("trace", {}).get("traceId") == trace_id]
    assert isinstance(traced, dict)
    return traced


@pytest.mark.parametrize("caller", TRACEPARENTS_WITH_A_BSN)
def test_a_traceparent_whose_ids_hold_a_bsn_is_dropped_from_the_audit_entry_and_the_logs(
    gateway: TestClient, auth: Auth, context: GatewayContext, log_lines: io.StringIO, caller: str
) -> None:
    """The request is served under the gateway's own trace; the partner's operation is not
    recorded, since an audit entry is kept for years (review10 F3: the BSN was its
    foreignOperation.traceId). The positive control is the test above."""
    case = open_utrecht_case(gateway, auth)
    response = gateway.post(
        "/v1/information-requests",
        json={"caseId": case.case_id, "purpose": "case-handling", "categories": [VIOLENCE]},
        headers={**case.as_(("u-centraal", "casemanager"), "cm-1"), "traceparent": caller},
    )
    assert response.status_code == 201, response.text
    _, trace_id, span_id, _ = response.headers["traceparent"].split("-")
    traced = _trace_of_the_entry(context, trace_id)
    assert traced["parentSpanId"] == span_id
    assert traced.get("foreignOperation") is None
    _, their_trace, their_span, _ = caller.split("-")
    text = log_lines.getvalue()
    for value in ("111222333", "11122237", their_trace, their_span):
        assert value not in text
        assert value not in str(response.headers)
    events = [json.loads(line) for line in text.splitlines()]
    dropped = [e for e in events if e.get("event") == "traceparent-dropped"]
    assert [e["request_id"] for e in dropped] == [response.headers["x-request-id"]]
    assert [e["trace_id"] for e in dropped] == [trace_id]


def test_with_an_exporter_each_request_is_an_exported_span_with_the_same_ids(
    settings: Settings, context: GatewayContext, auth: Auth, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without an exporter a request's span is only its ids (issue 20); with one it is an SDK
    span, exported, named by its route, linked to the partner's operation, and the ids the
    response and the audit entry carry are the exported span's."""
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    import gateway.app
    from gateway.core.tracing import tracer_provider

    assert tracer_provider(settings) is None  # the default: no exporter, nothing recorded
    exported = InMemorySpanExporter()
    monkeypatch.setattr(
        gateway.app, "tracer_provider", lambda s: tracer_provider(s, exporter=exported)
    )
    with TestClient(create_app(settings, context), raise_server_exceptions=False) as traced:
        case = open_utrecht_case(traced, auth)
        response = traced.post(
            "/v1/information-requests",
            json={"caseId": case.case_id, "purpose": "case-handling", "categories": [VIOLENCE]},
            headers={
                **case.as_(("u-centraal", "casemanager"), "cm-1"),
                "traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-01",
            },
        )
        assert response.status_code == 201, response.text
        assert traced.get("/v1/no-such-thing").status_code == 404
    _, trace_id, span_id, _ = response.headers["traceparent"].split("-")
    spans = {span.name: span for span in exported.get_finished_spans()}
    span = spans["POST /v1/information-requests"]
    assert (f"{span.context.trace_id:032x}", f"{span.context.span_id:016x}") == (trace_id, span_id)
    assert dict(span.attributes or {})["http.response.status_code"] == 201
    assert [f"{link.context.trace_id:032x}" for link in span.links] == [CALLER_TRACE]
    assert dict(spans["GET unmatched"].attributes or {})["http.response.status_code"] == 404
    with context.session_factory() as session:
        bodies = [json.loads(b) for b in session.scalars(select(AuditRecord.body))]
    traced_entries = [b["trace"] for b in bodies if b.get("trace", {}).get("traceId") == trace_id]
    assert [entry["parentSpanId"] for entry in traced_entries] == [span_id]


def test_with_an_exporter_a_traceparent_whose_ids_hold_a_bsn_is_not_linked(
    settings: Settings, context: GatewayContext, auth: Auth, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A span leaves the gateway for a tracing backend: no link to an operation whose id is
    a BSN (review10 F3). The positive control is the test above (its link is exported)."""
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    import gateway.app
    from gateway.core.tracing import tracer_provider

    exported = InMemorySpanExporter()
    monkeypatch.setattr(
        gateway.app, "tracer_provider", lambda s: tracer_provider(s, exporter=exported)
    )
    with TestClient(create_app(settings, context), raise_server_exceptions=False) as traced:
        case = open_utrecht_case(traced, auth)
        response = traced.post(
            "/v1/information-requests",
            json={"caseId": case.case_id, "purpose": "case-handling", "categories": [VIOLENCE]},
            headers={
                **case.as_(("u-centraal", "casemanager"), "cm-1"),
                "traceparent": TRACEPARENTS_WITH_A_BSN[0],
            },
        )
        assert response.status_code == 201, response.text
    _, trace_id, _, _ = response.headers["traceparent"].split("-")
    spans = {span.name: span for span in exported.get_finished_spans()}
    span = spans["POST /v1/information-requests"]
    assert f"{span.context.trace_id:032x}" == trace_id
    assert list(span.links) == []
    assert _trace_of_the_entry(context, trace_id).get("foreignOperation") is None


class _FakeOpa(BaseHTTPRequestHandler):
    seen: list[str | None] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        _FakeOpa.seen.append(self.headers.get("traceparent"))
        self.rfile.read(int(self.headers.get("content-length", 0)))
        body = b"{}"  # undefined: the engine denies, which this test does not look at
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def test_the_query_to_opa_carries_the_requests_trace_context() -> None:
    from opentelemetry.sdk.trace import TracerProvider

    from gateway.policy.opa_server import OpaServerEngine
    from tests.policy.conftest import BUNDLE
    from tests.policy.test_decisions import utrecht_request

    server = HTTPServer(("127.0.0.1", 0), _FakeOpa)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        # What it serves is the bundle (read here without a server): the query is sent.
        root = BUNDLE.data["ketenpoort"]
        engine = OpaServerEngine(
            f"http://127.0.0.1:{server.server_port}",
            timeout_seconds=5,
            content=lambda: (list(BUNDLE.modules.values()), root["covenants"], root["revision"]),
        )
        engine.load(BUNDLE)
        tracer = TracerProvider().get_tracer("test")
        with tracer.start_as_current_span("request") as span:
            engine.decide(utrecht_request())
            context = span.get_span_context()
        engine.decide(utrecht_request())
    finally:
        server.shutdown()
        server.server_close()
    inside, outside = _FakeOpa.seen[-2:]
    assert inside is not None
    assert inside.startswith(f"00-{context.trace_id:032x}-{context.span_id:016x}-")
    assert outside is None  # positive control: the header comes from the span


def test_api_docs_load_from_the_gateway_itself(client: TestClient) -> None:
    page = client.get("/v1/docs")
    assert page.status_code == 200
    assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", page.text), "external URL"
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert len(assets) >= 3
    for asset in assets:
        assert asset.startswith("/v1/docs/assets/"), asset
        assert client.get(asset).status_code == 200, asset
    assert "/v1/openapi.json" in page.text


@pytest.mark.parametrize(
    "offered",
    [
        "111222333",  # a bare BSN (review9c F5: logged in every line of the request)
        "111222333-Ingrid-Reqid",  # a BSN and a first name
        "00000000-0000-0000-0000-000111222333",  # a BSN inside a UUID's shape
        "11122233-3abc-4def-8abc-abcdefabcdef",  # one split by a dash
        "ingress-0123456789",  # no id shape an ingress makes
        # 011122237 without its leading zero, as a system keeping BSNs as numbers writes it
        # (review10 F4: only nine-digit runs were tested).
        "f11122237fffffffffffffffffffffff",
        "3f2a9c0e-5b7d-4e1f-a0b1-c11122237abc",
    ],
)
def test_a_request_id_that_could_carry_personal_data_is_replaced_and_never_logged(
    gateway: TestClient, auth: Auth, log_lines: io.StringIO, offered: str
) -> None:
    response = gateway.get(
        "/v1/me", headers={**auth("mitros", "woonconsulent"), "X-Request-Id": offered}
    )
    assert response.status_code == 200
    ours = response.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", ours)
    text = log_lines.getvalue()
    assert offered not in text
    assert "111222333" not in text
    assert "11122237" not in text
    assert "Ingrid" not in text
    events = [json.loads(line) for line in text.splitlines()]
    replaced = [e for e in events if e.get("event") == "request-id-replaced"]
    assert [e["request_id"] for e in replaced] == [ours]
    access = [e for e in events if e.get("event") == "access"]
    assert [e["request_id"] for e in access] == [ours]


@pytest.mark.parametrize(
    "offered",
    ["3f2a9c0e-5b7d-4e1f-a0b1-c2d3e4f5a6b7", "3f2a9c0e5b7d4e1fa0b1c2d3e4f5a6b7"],
)
def test_an_ingress_request_id_is_kept_echoed_and_logged(
    gateway: TestClient, auth: Auth, log_lines: io.StringIO, offered: str
) -> None:
    """The positive control: a UUID (Envoy) or 32 hex digits (nginx, a W3C trace id)."""
    response = gateway.get(
        "/v1/me", headers={**auth("mitros", "woonconsulent"), "X-Request-Id": offered}
    )
    assert response.status_code == 200
    assert response.headers["x-request-id"] == offered
    events = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    assert not [e for e in events if e.get("event") == "request-id-replaced"]
    assert [e["request_id"] for e in events if e.get("event") == "access"] == [offered]
