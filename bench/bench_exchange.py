"""Benchmark of the mediated exchange path vs a baseline read, on PostgreSQL, several workers.

Mediated: ``GET /v1/information-requests/{id}/answers`` (authenticate, build the policy
input, decide, decrypt, append the audit entry and the disclosure row in one transaction,
answer with a receipt). Baseline: ``GET /bench/baseline/{id}``, mounted only by this file's
``make_app`` (never by the served app): it authenticates and reads the same rows, without
policy, decryption or audit. Both run in the same server (uvicorn, ``--workers``); the load
comes from this process over loopback with pre-minted single-use tokens.

1. Throughput: ``--requests`` calls per path at ``--concurrency``: req/s, p50, p99, ratio.
   Target: mediated keeps at least half the baseline's throughput.
2. Fixed rate: ``--rate`` req/s (default 200) for ``--seconds`` on the mediated path.
   Target: p99 under 20 ms.

Writes bench/results/exchange.json. Run: .venv/bin/python bench/bench_exchange.py
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gateway.auth.dev import mint_dev_token  # noqa: E402
from gateway.config import Settings  # noqa: E402

PG_URL = os.environ.get(
    "KETENPOORT_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def make_app() -> Any:
    """The served app plus the baseline route (uvicorn --factory)."""
    from fastapi import APIRouter

    from gateway.app import create_app
    from gateway.auth.deps import CurrentPrincipal, DbSession
    from gateway.exchange.models import CaseFact, InformationRequest, RequestItem

    app = create_app()
    router = APIRouter()

    @router.get("/bench/baseline/{request_id}")
    def baseline(request_id: str, principal: CurrentPrincipal, session: DbSession) -> Any:
        row = session.get(InformationRequest, request_id)
        if row is None or row.requester_partner_id != principal.partner_id:
            return {"values": []}
        items = session.scalars(select(RequestItem).where(RequestItem.request_id == row.id)).all()
        facts = session.scalars(
            select(CaseFact).where(CaseFact.id.in_([i.fact_id for i in items if i.fact_id]))
        ).all()
        return {
            "values": [
                {"category": f.category, "partnerId": f.partner_id, "sealed": f.value_sealed.hex()}
                for f in facts
            ]
        }

    app.include_router(router)
    return app


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _summary(latencies: list[float], seconds: float, errors: int) -> dict[str, Any]:
    return {
        "requests": len(latencies),
        "errors": errors,
        "seconds": round(seconds, 3),
        "throughput_rps": round(len(latencies) / seconds, 1),
        "p50_ms": round(_percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(_percentile(latencies, 0.99) * 1000, 2),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 2),
    }


async def _closed_loop(
    client: httpx.AsyncClient, url: str, tokens: list[str], concurrency: int
) -> dict[str, Any]:
    queue = list(reversed(tokens))
    latencies: list[float] = []
    errors = 0

    async def worker() -> None:
        nonlocal errors
        while queue:
            token = queue.pop()
            started = time.perf_counter()
            response = await client.get(url, headers={"Authorization": f"Bearer {token}"})
            latencies.append(time.perf_counter() - started)
            errors += response.status_code != 200

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return _summary(latencies, time.perf_counter() - started, errors)


async def _open_loop(
    client: httpx.AsyncClient, url: str, tokens: list[str], rate: float
) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0

    async def one(token: str) -> None:
        nonlocal errors
        started = time.perf_counter()
        response = await client.get(url, headers={"Authorization": f"Bearer {token}"})
        latencies.append(time.perf_counter() - started)
        errors += response.status_code != 200

    started = time.perf_counter()
    tasks = []
    for n, token in enumerate(tokens):
        delay = started + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(token)))
    await asyncio.gather(*tasks)
    result = _summary(latencies, time.perf_counter() - started, errors)
    result["target_rate_rps"] = rate
    return result


def _setup_case(url: str, settings: Settings) -> str:
    """One Utrecht case with a police answer on file; returns the request id."""
    from gateway.exchange import demo

    with httpx.Client(timeout=30) as client:
        gw = demo.DemoGateway(url, settings, client)
        state: dict[str, Any] = {}
        for _, step in demo.utrecht().steps[:4]:
            step(gw, state)
        request = demo._ask(
            gw, state["case"], demo.CM_U, "case-handling", [demo.VIOLENCE, "police-reports"]
        )
        gw.call(
            demo.POLICE_U_ADAPTER,
            "POST",
            f"/information-requests/{request['id']}/answers",
            {
                "answers": [
                    {"category": demo.VIOLENCE, "yesNo": True},
                    {"category": "police-reports", "value": "3 meldingen, 1 inzet"},
                ]
            },
        )
        return str(request["id"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000, help="per path, closed loop")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()

    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"kp_bench_{secrets.token_hex(4)}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    db_url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    from gateway.db import upgrade_database
    from gateway.exchange.demo import _free_port, _wait_ready

    upgrade_database(db_url)
    data_dir = Path(tempfile.mkdtemp(prefix="ketenpoort-bench-"))
    port = _free_port()
    env = {
        **os.environ,
        "KETENPOORT_DATA_DIR": str(data_dir),
        "KETENPOORT_DATABASE_URL": db_url,
        "KETENPOORT_DEMO_MODE": "true",
        "KETENPOORT_AUTO_MIGRATE": "false",
        "KETENPOORT_AUDIT_CHECKPOINT_INTERVAL_SECONDS": "5",
    }
    # Keys are created once before the workers start, so they do not race to create them.
    settings = Settings(data_dir=data_dir, database_url=db_url, demo_mode=True)
    from gateway.context import build_context

    build_context(settings.model_copy(update={"audit_checkpoint_interval_seconds": 0})).close()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.bench_exchange:make_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, 60, server)
        request_id = _setup_case(url, settings)

        def tokens(n: int) -> list[str]:
            return [
                mint_dev_token(
                    settings,
                    partner_id="u-centraal",
                    role="casemanager",
                    user="cm-bench",
                    lifetime_seconds=600,
                )
                for _ in range(n)
            ]

        mediated = f"{url}/v1/information-requests/{request_id}/answers"
        baseline = f"{url}/bench/baseline/{request_id}"

        async def run() -> dict[str, Any]:
            limits = httpx.Limits(max_connections=args.concurrency + 50)
            async with httpx.AsyncClient(timeout=30, limits=limits) as client:
                await _closed_loop(client, baseline, tokens(100), 8)  # warm up both paths
                await _closed_loop(client, mediated, tokens(100), 8)
                base = await _closed_loop(client, baseline, tokens(args.requests), args.concurrency)
                med = await _closed_loop(client, mediated, tokens(args.requests), args.concurrency)
                rate = await _open_loop(
                    client, mediated, tokens(int(args.rate * args.seconds)), args.rate
                )
            return {"baseline": base, "mediated": med, "mediated_fixed_rate": rate}

        results = asyncio.run(run())
    finally:
        server.terminate()
        server.wait(timeout=20)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    base, med, rate = results["baseline"], results["mediated"], results["mediated_fixed_rate"]
    ratio = med["throughput_rps"] / base["throughput_rps"]
    report = {
        "benchmark": "exchange",
        "database": "postgresql",
        "workers": args.workers,
        "concurrency": args.concurrency,
        **results,
        "throughput_ratio_mediated_to_baseline": round(ratio, 3),
        "targets": {
            "throughput_ratio_at_least": 0.5,
            "throughput_ratio_met": ratio >= 0.5,
            "p99_ms_at_rate_under": 20,
            "p99_at_rate_met": rate["p99_ms"] < 20 and rate["errors"] == 0,
        },
    }
    out = ROOT / "bench" / "results" / "exchange.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
