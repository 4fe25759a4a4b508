"""Decision latency of decide() on the full compiled covenants vs an allow-all policy, on
every engine: regorus's RVM (the gateway's embedded engine), regorus's interpreter,
rego-cpp (regopy) and OPA's own Go evaluator (opa-go, in process through its shared library,
without the HTTP round trip an OPA server adds).

Same engine class, same process, same input; the two are measured interleaved (one
decision of each in turn) so that load from other processes on a shared machine hits
both alike, and the ratio stays meaningful when the absolute figures do not. The engines
are measured one after the other in one run; their ratios to regorus's RVM are reported.
Writes bench/results/policy.json.

Run: .venv/bin/python bench/bench_policy.py [--decisions N] [--engine regorus ...]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from gateway.policy import opa_go
from gateway.policy.bundle import build_bundle
from gateway.policy.covenant import load_covenants
from gateway.policy.engine import RegopyEngine, RegorusEngine, RegorusInterpreterEngine
from gateway.policy.opa_go import OpaGoEngine
from gateway.policy.schemas import PolicyInput

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


TARGET_P50_US = 50


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
        "p50_within_target": full_summary["p50_us"] <= TARGET_P50_US,
        "n": n,
    }


def measure_engine(name: str, bundle: Any, decisions: int) -> dict[str, Any]:
    full = ENGINES[name]()
    full.load(bundle)
    allow_all = ENGINES[name]()
    allow_all.load(replace(bundle, modules={"rego/allow_all.rego": ALLOW_ALL}))
    if hasattr(full, "timeout_seconds"):  # measure, not deny: rego-cpp may exceed 0.5 s
        full.timeout_seconds = allow_all.timeout_seconds = 60.0
    assert full.decide(SCENARIOS["1 category, allowed"]).allow
    return {
        "engine": name,
        "scenarios": {
            scenario: measure(full, allow_all, policy_input, decisions)
            for scenario, policy_input in SCENARIOS.items()
        },
    }


def main() -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, help="decisions per policy (default per engine)")
    parser.add_argument(
        "--engine", action="append", choices=sorted(ENGINES), help="default: every engine"
    )
    args = parser.parse_args()
    names = args.engine or [n for n in ENGINES if n != "opa-go" or opa_go.available()]
    bundle = build_bundle(load_covenants(), ec.generate_private_key(ec.SECP256R1()))
    load1, _, _ = os.getloadavg()
    engines = {
        name: measure_engine(name, bundle, args.decisions or DEFAULT_DECISIONS[name])
        for name in names
    }
    baseline = engines.get("regorus")
    if baseline is not None:
        for result in engines.values():
            for scenario, figures in result["scenarios"].items():
                base = baseline["scenarios"][scenario]["full_covenant"]["p50_us"]
                figures["p50_vs_regorus_rvm"] = round(figures["full_covenant"]["p50_us"] / base, 1)
    result: dict[str, Any] = {
        "target_p50_us": TARGET_P50_US,
        "cpus": os.cpu_count(),
        "load_average_at_start": round(load1, 2),
        "opa_go": opa_go.describe() if "opa-go" in names else None,
        "engines": engines,
    }
    result["load_average_at_end"] = round(os.getloadavg()[0], 2)
    out = Path(__file__).parent / "results" / "policy.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
