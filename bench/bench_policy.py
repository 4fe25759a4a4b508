"""Decision latency of decide() on the full compiled covenants vs an allow-all policy.

Same engine class, same process, same input. Writes bench/results/policy.json.
Run: .venv/bin/python bench/bench_policy.py
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

from gateway.policy.bundle import build_bundle
from gateway.policy.covenant import load_covenants
from gateway.policy.engine import RegorusEngine
from gateway.policy.schemas import PolicyInput

ALLOW_ALL = """package ketenpoort.authz
import rego.v1
decision := {"allow": true, "categories": {c: {"outcome": "disclose", "answer": "detail",
  "clauses": ["allow-all"], "reasons": []} | some c in input.categories},
  "clauses": ["allow-all"], "errors": [], "revision": "allow-all"}
"""

REQUEST = PolicyInput.model_validate(
    {
        "requester": {"partner": "u-centraal", "role": "casemanager", "user": "pseudo"},
        "case": {
            "id": "case-1",
            "covenant": "utrecht-extreme-woonoverlast",
            "phase": "execution",
            "team": ["u-centraal", "politie-midden-nederland", "mitros"],
            "dwelling": {"ownership": "corporation", "corporation": "mitros"},
            "policeInvestigation": False,
        },
        "categories": ["police-physical-violence"],
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


def measure(engine: RegorusEngine, n: int) -> dict[str, float]:
    for _ in range(200):
        engine.decide(REQUEST)
    samples = []
    for _ in range(n):
        started = time.perf_counter_ns()
        engine.decide(REQUEST)
        samples.append((time.perf_counter_ns() - started) / 1000)
    samples.sort()
    return {
        "p50_us": round(statistics.median(samples), 1),
        "p99_us": round(samples[int(n * 0.99)], 1),
        "n": n,
    }


def main(n: int = 5000) -> dict[str, object]:
    bundle = build_bundle(load_covenants(), ec.generate_private_key(ec.SECP256R1()))
    full = RegorusEngine()
    full.load(bundle)
    assert full.decide(REQUEST).allow
    allow_all = RegorusEngine()
    allow_all.load(replace(bundle, modules={"rego/allow_all.rego": ALLOW_ALL}))
    result: dict[str, object] = {
        "engine": "regorus",
        "request": "1 category, Utrecht, allowed",
        "full_covenant": measure(full, n),
        "allow_all": measure(allow_all, n),
        "target_p50_us": 50,
    }
    out = Path(__file__).parent / "results" / "policy.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
