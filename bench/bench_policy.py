"""Decision latency of decide() on the full compiled covenants vs an allow-all policy, on
every engine: regorus's RVM (the gateway's embedded engine), regorus's interpreter,
rego-cpp (regopy) and OPA's own Go evaluator (opa-go, in process through its shared library,
without the HTTP round trip an OPA server adds).

Same engine class, same process, same input; the two are measured interleaved (one
decision of each in turn) so that load from other processes on a shared machine hits
both alike, and the ratio stays meaningful when the absolute figures do not. The engines
are measured one after the other in one run; their ratios to regorus's RVM are reported.
Writes policy.json to bench/results (``$KETENPOORT_BENCH_RESULTS``).

The baseline of issue 20's goal: an OPA sidecar. ``OpaServerEngine`` (the gateway's own OPA
HTTP engine: its thread pool and the ``opa-python-client`` library over a keep-alive
``requests`` session) asks a tiny HTTP server in another process on 127.0.0.1, which
answers every query with a fixed decision document at once (the regorus decision for the
same input, so both engines return the same ``Decision``). That is the transport alone,
without any evaluation, so the ratio understates what a real sidecar costs. The sidecar
and regorus's RVM are measured one block after the other in every run (interleaving them
would charge regorus for the sidecar's threads still finishing their work).

Goals (issue 20), over ``--runs`` runs (min / median / max): decision p50 with 4 categories,
2 redacted, at most 40 µs on regorus's RVM; the sidecar round trip at least 10 times that.

Run: .venv/bin/python bench/bench_policy.py [--decisions N] [--runs 3] [--engine regorus ...]
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

# This checkout's gateway, not whichever one the virtualenv has installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from goals import goal, host, results_path, spread  # noqa: E402

from gateway.policy import opa_go  # noqa: E402
from gateway.policy.bundle import build_bundle  # noqa: E402
from gateway.policy.covenant import load_covenants  # noqa: E402
from gateway.policy.engine import (  # noqa: E402
    RegopyEngine,
    RegorusEngine,
    RegorusInterpreterEngine,
)
from gateway.policy.opa_go import OpaGoEngine  # noqa: E402
from gateway.policy.opa_server import OpaServerEngine  # noqa: E402
from gateway.policy.schemas import PolicyInput  # noqa: E402
from tests.policy.opa_stand_in import served_documents  # noqa: E402

ENGINES: dict[str, Callable[[], Any]] = {
    "regorus": RegorusEngine,
    "regorus-interpreter": RegorusInterpreterEngine,
    "regopy": RegopyEngine,
    "opa-go": OpaGoEngine,
}
#: Decisions per policy and scenario by default: fewer on the slow engines, so that one run
#: of every engine takes minutes, not hours (rego-cpp needs ~30 ms a decision).
DEFAULT_DECISIONS = {"regorus": 5000, "regorus-interpreter": 2000, "regopy": 100, "opa-go": 2000}

ALLOW_ALL = """package ketenpoort.authz
import rego.v1
decision := {"allow": true, "categories": {c: {"outcome": "disclose", "answer": "detail",
  "clauses": ["allow-all"], "reasons": []} | some c in input.categories},
  "clauses": ["allow-all"], "errors": [], "revision": "allow-all"}
"""


#: Issue 20: p50 of the four-category request on regorus's RVM, and the sidecar ratio.
TARGET_P50_US = 40
GOAL_SCENARIO = "4 categories, 2 redacted with reasons"
TARGET_SIDECAR_RATIO = 10.0
SIDECAR_DECISIONS = 2000


def request(categories: list[str], investigation: bool = False) -> PolicyInput:
    return PolicyInput.model_validate(
        {
            "requester": {"partner": "u-centraal", "role": "casemanager", "user": "pseudo"},
            "case": {
                "id": "case-1",
                "covenant": "utrecht-extreme-woonoverlast",
                "phase": "execution",
                "team": ["u-centraal", "politie-midden-nederland", "mitros"],
                "dwelling": {"ownership": "corporation", "corporation": "mitros"},
                "policeInvestigation": investigation,
            },
            "categories": categories,
            "purpose": "case-handling",
            "consents": [
                {
                    "kind": "corporation-permission",
                    "case": "case-1",
                    "partner": "mitros",
                    "grantedAt": "2025-01-01T00:00:00Z",
                }
            ],
            "now": datetime(2025, 3, 1, tzinfo=UTC),
        }
    )


SCENARIOS = {
    # The target scenario: one category, allowed.
    "1 category, allowed": request(["police-physical-violence"]),
    "4 categories, 2 redacted with reasons": request(
        [
            "police-physical-violence",
            "police-reports",
            "police-nuisance-antecedents",
            "police-atmosphere-report",
        ],
        investigation=True,
    ),
}


def _summary(samples: list[float]) -> dict[str, float]:
    samples = sorted(samples)
    return {
        "p50_us": round(statistics.median(samples), 1),
        "p99_us": round(samples[int(len(samples) * 0.99)], 1),
        "min_us": round(samples[0], 1),
    }


def measure(full: Any, allow_all: Any, policy_input: PolicyInput, n: int) -> dict[str, Any]:
    for _ in range(min(300, max(n // 5, 10))):
        full.decide(policy_input)
        allow_all.decide(policy_input)
    full_samples: list[float] = []
    base_samples: list[float] = []
    clock = time.perf_counter_ns
    gc.collect()
    for _ in range(n):
        started = clock()
        full.decide(policy_input)
        full_samples.append((clock() - started) / 1000)
        started = clock()
        allow_all.decide(policy_input)
        base_samples.append((clock() - started) / 1000)
    full_summary, base_summary = _summary(full_samples), _summary(base_samples)
    return {
        "full_covenant": full_summary,
        "allow_all": base_summary,
        "ratio_p50": round(full_summary["p50_us"] / base_summary["p50_us"], 2),
        "ratio_p99": round(full_summary["p99_us"] / base_summary["p99_us"], 2),
        "n": n,
    }


def allow_all_bundle(bundle: Any) -> Any:
    """``bundle`` with the allow-all policy, and data under which its answer is one the
    gateway accepts (gateway/policy/engine.py, ``to_decision``: every category of every
    plan of every covenant disclosed in detail under the clause "allow-all"): the baseline
    goes through the same checks as the full covenant's decision, not through the deny path.
    The allow-all policy reads no data."""
    covenants = {
        covenant_id: {
            "categories": {c: {"answer": "detail"} for c in covenant["categories"]},
            "partners": covenant["partners"],
            # The contract is per plan (role|purpose|phase, review7a F1): every plan key of
            # the covenant, each disclosing every category.
            "plans": {
                key: {
                    "categories": {
                        c: {
                            "": {
                                "": {
                                    "outcome": "disclose",
                                    "answer": "detail",
                                    "clauses": ["allow-all"],
                                }
                            }
                        }
                        for c in covenant["categories"]
                    }
                }
                for key in covenant["plans"]
            },
        }
        for covenant_id, covenant in bundle.data["ketenpoort"]["covenants"].items()
    }
    return replace(
        bundle,
        revision="allow-all",
        modules={"rego/allow_all.rego": ALLOW_ALL},
        data={"ketenpoort": {"revision": "allow-all", "covenants": covenants}},
    )


def measure_engine(name: str, bundle: Any, decisions: int, runs: int) -> dict[str, Any]:
    full = ENGINES[name]()
    full.load(bundle)
    allow_all = ENGINES[name]()
    allow_all.load(allow_all_bundle(bundle))
    if hasattr(full, "timeout_seconds"):  # measure, not deny: rego-cpp may exceed 0.5 s
        full.timeout_seconds = allow_all.timeout_seconds = 60.0
    for policy_input in SCENARIOS.values():  # each measures a decision, not a failure
        assert not full.decide(policy_input).errors
        assert allow_all.decide(policy_input).allow
    assert full.decide(SCENARIOS["1 category, allowed"]).allow
    scenarios: dict[str, Any] = {}
    for scenario, policy_input in SCENARIOS.items():
        done = [measure(full, allow_all, policy_input, decisions) for _ in range(runs)]
        p50s = [run["full_covenant"]["p50_us"] for run in done]
        middle = sorted(done, key=lambda run: run["full_covenant"]["p50_us"])[len(done) // 2]
        scenarios[scenario] = {
            **middle,  # the run with the median p50, for the tables
            "p50_us_runs": spread(p50s, digits=1),
            "allow_all_p50_us_runs": spread([run["allow_all"]["p50_us"] for run in done], digits=1),
            "runs": done,
        }
    return {"engine": name, "scenarios": scenarios}


# --- the OPA sidecar baseline -----------------------------------------------------------


def _serve_fixed_answers(
    answers: dict[str, bytes], documents: dict[str, bytes], port: Any, ready: Any
) -> None:
    """A keep-alive HTTP/1.1 server on 127.0.0.1 answering every POST at once with the
    fixed ``{"result": ...}`` body of the query's categories, and the GETs of what it
    serves (the engine decides only once it has read them: docs/policy.md) with the
    bundle's own documents (in another process)."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes: without TCP_NODELAY the body waits for
        # the client's delayed ACK (~40 ms), which no OPA server makes anyone wait.
        disable_nagle_algorithm = True

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            answer = answers[",".join(json.loads(body)["input"]["categories"])]
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            document = documents.get(self.path.split("?", 1)[0])
            if document is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(document)))
            self.end_headers()
            self.wfile.write(document)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port.value = server.server_address[1]
    ready.set()
    server.serve_forever()


def _timed(engine: Any, policy_input: PolicyInput, n: int) -> dict[str, float]:
    for _ in range(min(200, max(n // 5, 10))):
        engine.decide(policy_input)
    samples: list[float] = []
    clock = time.perf_counter_ns
    gc.collect()
    for _ in range(n):
        started = clock()
        engine.decide(policy_input)
        samples.append((clock() - started) / 1000)
    return _summary(samples)


def measure_sidecar(bundle: Any, decisions: int, runs: int) -> dict[str, Any]:
    """regorus's RVM against ``OpaServerEngine`` asking a local stub, one block after the
    other in each run."""
    regorus = RegorusEngine()
    regorus.load(bundle)
    answers = {}
    for policy_input in SCENARIOS.values():
        decision = regorus.decide(policy_input)
        document = {
            "allow": decision.allow,
            "categories": {c: d.model_dump() for c, d in decision.categories.items()},
            "clauses": decision.clauses,
            "errors": decision.errors,
            "revision": decision.bundle_revision,
        }
        answers[",".join(policy_input.categories)] = json.dumps({"result": document}).encode()
    context = multiprocessing.get_context("fork")
    port, ready = context.Value("i", 0), context.Event()
    documents = {
        path: json.dumps({"result": document}).encode()
        for path, document in served_documents(bundle).items()
    }
    server = context.Process(
        target=_serve_fixed_answers, args=(answers, documents, port, ready), daemon=True
    )
    server.start()
    try:
        if not ready.wait(10):
            raise RuntimeError("the stub OPA server did not start")
        sidecar = OpaServerEngine(f"http://127.0.0.1:{port.value}", timeout_seconds=5.0)
        sidecar.load(bundle)
        scenarios: dict[str, Any] = {}
        for scenario, policy_input in SCENARIOS.items():
            expected = regorus.decide(policy_input)
            got = sidecar.decide(policy_input)
            assert got.engine == "opa", got
            assert got.errors == [], got
            assert got.model_dump(exclude={"decision_id", "engine"}) == expected.model_dump(
                exclude={"decision_id", "engine"}
            )
            # In blocks, not interleaved: the sidecar's pool thread and the server process
            # still run for a moment after each answer, and would slow the next decision.
            done = []
            for _ in range(runs):
                local = _timed(regorus, policy_input, max(decisions, 2000))
                remote = _timed(sidecar, policy_input, decisions)
                done.append(
                    {
                        "sidecar": remote,
                        "regorus": local,
                        "ratio_p50": round(remote["p50_us"] / local["p50_us"], 2),
                    }
                )
            scenarios[scenario] = {
                "sidecar_p50_us": spread([run["sidecar"]["p50_us"] for run in done], 1),
                "regorus_p50_us": spread([run["regorus"]["p50_us"] for run in done], 1),
                "sidecar_over_regorus_p50": spread([run["ratio_p50"] for run in done], 2),
                "runs": done,
            }
        return {
            "what": "OpaServerEngine (opa-python-client, keep-alive requests session) to a "
            "stub HTTP server in another process answering a fixed decision at once",
            "scenarios": scenarios,
        }
    finally:
        server.terminate()
        server.join(5)


def main() -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, help="decisions per policy (default per engine)")
    parser.add_argument("--runs", type=int, default=3, help="runs per engine and scenario")
    parser.add_argument(
        "--engine", action="append", choices=sorted(ENGINES), help="default: every engine"
    )
    parser.add_argument(
        "--sidecar-decisions", type=int, default=SIDECAR_DECISIONS, help="per run and scenario"
    )
    args = parser.parse_args()
    names = args.engine or [n for n in ENGINES if n != "opa-go" or opa_go.available()]
    bundle = build_bundle(load_covenants(), ec.generate_private_key(ec.SECP256R1()))
    load1, _, _ = os.getloadavg()
    engines = {
        name: measure_engine(name, bundle, args.decisions or DEFAULT_DECISIONS[name], args.runs)
        for name in names
    }
    sidecar = measure_sidecar(bundle, args.sidecar_decisions, args.runs)
    baseline = engines.get("regorus")
    if baseline is not None:
        for result in engines.values():
            for scenario, figures in result["scenarios"].items():
                base = baseline["scenarios"][scenario]["full_covenant"]["p50_us"]
                figures["p50_vs_regorus_rvm"] = round(figures["full_covenant"]["p50_us"] / base, 1)
    goals = []
    if baseline is not None:
        goals.append(
            goal(
                f"decision p50, {GOAL_SCENARIO} (regorus RVM)",
                baseline["scenarios"][GOAL_SCENARIO]["p50_us_runs"]["median"],
                op="<=",
                target=TARGET_P50_US,
                unit="µs",
            )
        )
    goals.append(
        goal(
            f"OPA sidecar round trip / regorus decision p50, {GOAL_SCENARIO}",
            sidecar["scenarios"][GOAL_SCENARIO]["sidecar_over_regorus_p50"]["median"],
            op=">=",
            target=TARGET_SIDECAR_RATIO,
            unit="x",
            baseline="OpaServerEngine over HTTP to a local stub answering at once, same run",
        )
    )
    result: dict[str, Any] = {
        "target_p50_us": TARGET_P50_US,
        "cpus": os.cpu_count(),
        "load_average_at_start": round(load1, 2),
        "host": host(),
        "opa_go": opa_go.describe() if "opa-go" in names else None,
        "engines": engines,
        "opa_sidecar": sidecar,
        "goals": goals,
    }
    result["load_average_at_end"] = round(os.getloadavg()[0], 2)
    out = results_path("policy.json")
    out.write_text(json.dumps(result, indent=2) + "\n")
    summary = {
        "engines": {
            name: {
                scenario: {
                    "p50_us": f["p50_us_runs"],
                    "allow_all_p50_us": f["allow_all_p50_us_runs"],
                }
                for scenario, f in engine["scenarios"].items()
            }
            for name, engine in engines.items()
        },
        "opa_sidecar": {
            k: {x: y for x, y in v.items() if x != "runs"} for k, v in sidecar["scenarios"].items()
        },
        "goals": goals,
        "host": result["host"],
        "load_average_at_start": result["load_average_at_start"],
        "load_average_at_end": result["load_average_at_end"],
    }
    print(json.dumps(summary, indent=2))
    return result


if __name__ == "__main__":
    main()
