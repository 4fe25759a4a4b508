"""Benchmark of the partner side: SDK per-call overhead and export reading.

1. SDK call overhead: ``KetenpoortClient.inbox()`` (sign a fresh Ed25519 token, build the
   request, parse the typed ``Inbox``) against a raw ``httpx.AsyncClient.get`` with a fixed
   header, both over the same in-memory ``MockTransport`` in the same run, so only the
   SDK's own work differs. Reports calls/s, the ratio and the overhead per call.
2. Export reading: N police records (default 10,000; ``--rows``) as JSON, JSON Lines and
   CSV, validated into records with line numbers, against plain ``json.loads`` of the same
   JSON file (baseline).

Writes adapters.json to bench/results (``$KETENPOORT_BENCH_RESULTS``).
Run: .venv/bin/python bench/bench_adapters.py [--rows N]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric import ed25519

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from goals import results_path  # noqa: E402

from adapters.exports import read_export  # noqa: E402
from adapters.police import PoliceRecord  # noqa: E402
from adapters.sdk import KetenpoortClient  # noqa: E402

INBOX = {
    "partnerId": "politie-midden-nederland",
    "items": [
        {
            "kind": "information-request",
            "requestId": "0b7f4f6e-3c1d-4d4e-9f51-8a2b7c7d1e10",
            "caseId": "5a0e7d4c-1b2a-4c3d-8e9f-0a1b2c3d4e5f",
            "covenantId": "utrecht-extreme-woonoverlast",
            "purpose": "case-handling",
            "categories": ["police-physical-violence", "police-reports"],
            "answerForms": {"police-physical-violence": "yes-no", "police-reports": "detail"},
            "createdAt": "2025-03-01T10:00:00Z",
        }
    ],
}


def handler(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=INBOX)


async def sdk_calls(calls: int) -> float:
    client = KetenpoortClient(
        "http://gateway.bench",
        "politie-midden-nederland",
        ed25519.Ed25519PrivateKey.generate(),
        transport=httpx.MockTransport(handler),
    )
    async with client:
        start = time.perf_counter()
        for _ in range(calls):
            await client.inbox()
        return time.perf_counter() - start


async def raw_calls(calls: int) -> float:
    headers = {"Authorization": "Bearer fixed", "Accept": "application/json"}
    async with httpx.AsyncClient(
        base_url="http://gateway.bench/v1", transport=httpx.MockTransport(handler)
    ) as client:
        start = time.perf_counter()
        for _ in range(calls):
            response = await client.get("/inbox", params={"waitSeconds": "0"}, headers=headers)
            response.json()
        return time.perf_counter() - start


def best_of(repeats: int, run: Any) -> float:
    return min(run() for _ in range(repeats))


def police_rows(rows: int) -> list[dict[str, Any]]:
    return [
        {
            "caseReference": f"UTR-2025-{i:06X}",
            "reportCount": 3,
            "reports": ["Geluid 's nachts", "Ruzie in het trappenhuis", "Bedreiging"],
            "policeAction": "Wijkagent op bezoek",
            "physicalViolence": i % 2 == 0,
            "seriousIntimidation": i % 3 == 0,
            "nuisanceAntecedents": i % 5 == 0,
            "investigationRunning": i % 7 == 0,
            "omConsents": [{"scope": ["police-nuisance-antecedents"], "expiresOn": "2099-12-31"}],
        }
        for i in range(rows)
    ]


def write_exports(directory: Path, rows: list[dict[str, Any]]) -> dict[str, Path]:
    paths = {
        "json": directory / "police.json",
        "jsonl": directory / "police.jsonl",
        "csv": directory / "police.csv",
    }
    paths["json"].write_text(json.dumps(rows, indent=2), encoding="utf-8")
    paths["jsonl"].write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    with paths["csv"].open("w", newline="", encoding="utf-8") as handle:
        columns = [k for k in rows[0] if k != "omConsents"] + [
            "omConsentScope",
            "omConsentExpiresOn",
        ]
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            flat = {k: v for k, v in row.items() if k != "omConsents"}
            flat["reports"] = "|".join(row["reports"])
            flat["omConsentScope"] = "police-nuisance-antecedents"
            flat["omConsentExpiresOn"] = "2099-12-31"
            writer.writerow(flat)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000, help="records per export")
    parser.add_argument("--calls", type=int, default=2_000, help="SDK calls per run")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    sdk = best_of(args.repeats, lambda: asyncio.run(sdk_calls(args.calls)))
    raw = best_of(args.repeats, lambda: asyncio.run(raw_calls(args.calls)))
    results: dict[str, Any] = {
        "sdk_call": {
            "calls": args.calls,
            "sdk_calls_per_second": round(args.calls / sdk),
            "raw_httpx_calls_per_second": round(args.calls / raw),
            "ratio_sdk_to_raw": round(raw / sdk, 3),
            "overhead_microseconds_per_call": round((sdk - raw) / args.calls * 1e6, 1),
        }
    }
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_exports(Path(tmp), police_rows(args.rows))
        baseline = best_of(
            args.repeats, lambda: _timed(lambda: json.loads(paths["json"].read_text()))
        )
        reading: dict[str, Any] = {
            "rows": args.rows,
            "baseline_json_loads_rows_per_second": round(args.rows / baseline),
        }
        for fmt, path in paths.items():
            took = best_of(args.repeats, lambda p=path: _timed(lambda: _read(p, args.rows)))
            reading[f"{fmt}_rows_per_second"] = round(args.rows / took)
            reading[f"{fmt}_ratio_to_baseline"] = round(baseline / took, 3)
        results["export_reading"] = reading

    out = results_path("adapters.json")
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))


def _read(path: Path, rows: int) -> None:
    export = read_export(path, PoliceRecord)
    if len(export.rows) != rows or export.problems:
        raise SystemExit(f"export not read whole: {[str(p) for p in export.problems[:3]]}")


def _timed(run: Any) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
