"""Decision latency of decide() on the full compiled covenants vs an allow-all policy.

Same engine class, same process, same input; the two are measured interleaved (one
decision of each in turn) so that load from other processes on a shared machine hits
both alike, and the ratio stays meaningful when the absolute figures do not.
Writes bench/results/policy.json.

Run: .venv/bin/python bench/bench_policy.py [--decisions N] [--engine regorus|...]
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

from gateway.policy.bundle import build_bundle
from gateway.policy.covenant import load_covenants
from gateway.policy.engine import RegopyEngine, RegorusEngine, RegorusInterpreterEngine
from gateway.policy.schemas import PolicyInput

ENGINES: dict[str, Callable[[], Any]] = {
    "regorus": RegorusEngine,
    "regorus-interpreter": RegorusInterpreterEngine,
    "regopy": RegopyEngine,
}

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
    for _ in range(300):
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


def main() -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=5000, help="decisions per policy")
    parser.add_argument("--engine", choices=sorted(ENGINES), default="regorus")
    args = parser.parse_args()
    bundle = build_bundle(load_covenants(), ec.generate_private_key(ec.SECP256R1()))
    full = ENGINES[args.engine]()
    full.load(bundle)
    allow_all = ENGINES[args.engine]()
    allow_all.load(replace(bundle, modules={"rego/allow_all.rego": ALLOW_ALL}))
    assert full.decide(SCENARIOS["1 category, allowed"]).allow
    load1, _, _ = os.getloadavg()
    result: dict[str, Any] = {
        "engine": args.engine,
        "target_p50_us": TARGET_P50_US,
        "cpus": os.cpu_count(),
        "load_average_at_start": round(load1, 2),
        "scenarios": {
            name: measure(full, allow_all, policy_input, args.decisions)
            for name, policy_input in SCENARIOS.items()
        },
    }
    result["load_average_at_end"] = round(os.getloadavg()[0], 2)
    out = Path(__file__).parent / "results" / "policy.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
