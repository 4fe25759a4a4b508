"""Benchmark of the mediated exchange path vs a baseline read, on PostgreSQL, several workers.

Mediated: ``GET /v1/information-requests/{id}/answers`` (authenticate, build the policy
input, decide, decrypt, append the audit entry and the disclosure row in one transaction,
answer with a receipt). Baseline: ``GET /bench/baseline/{id}``, mounted only by this file's
``make_app`` (never by the served app): it authenticates (token check and single-use jti,
as the mediated path does) and reads the same rows, without policy, decryption or audit.

Bare: ``GET /bare/{id}`` on a separate, bare FastAPI app (``make_bare_app``, its own uvicorn
with as many workers): the token's signature and claims checked by the gateway's verifier
(no single-use jti), then one indexed SELECT of the answered facts joined to their request,
on a pooled connection; no policy, no audit, no middleware, no transaction beyond the read.
The floor a mediated read is measured against (issue 20); the baseline above does the jti
insert and an ORM session, which flatters the ratio.

The server runs as deployed: ``uvicorn --workers W`` against a PostgreSQL database created
for this run (``CREATE DATABASE`` on the local server, dropped at the end), with the
connection pool per worker sized from ``KETENPOORT_DB_POOL_SIZE``/``..._MAX_OVERFLOW`` so
that all workers together stay under the server's ``max_connections``. The load comes from a
separate process (``--load-generator``: raw keep-alive HTTP/1.1 on asyncio and uvloop, one
process) on loopback; it mints a fresh single-use token per request before any timed phase.
``--rows`` answered requests are read in turn, so no single row is hot.

Phases, both paths each, baseline and mediated alternating (``--rounds``):
1. Closed loop, ``--concurrency`` requests in flight: maximum throughput, p50, p99.
   Targets: mediated keeps at least half the baseline's throughput, and 0.6 of the bare
   read's (issue 20).
2. Open loop at a fixed ``--rate`` (default 200 req/s) for ``--seconds``; latency counts
   from each request's scheduled send time (no coordinated omission), at most
   ``--max-inflight`` in flight. Targets: mediated p99 under 20 ms, and at most 1.5 times
   the bare read's p99 at the same rate.

A mediated answer with any category not disclosed (for example a decision that failed
closed on the engine's timeout) counts as an error, like any non-200 status.

Writes exchange.json to bench/results (``$KETENPOORT_BENCH_RESULTS``).
Run: .venv/bin/python bench/bench_exchange.py
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import gc
import json
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Connection, create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gateway.auth.deps import HotUnit  # noqa: E402
from gateway.auth.dev import mint_dev_token  # noqa: E402
from gateway.auth.principal import Principal  # noqa: E402
from gateway.config import Settings  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from goals import database_name, goal, host, results_path, spread  # noqa: E402

PG_URL = os.environ.get(
    "KETENPOORT_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REQUESTER = {"partner_id": "u-centraal", "role": "casemanager", "user": "cm-bench"}
#: Connections left free for psql, migrations and other tools while the bench runs.
SPARE_CONNECTIONS = 20


def make_app() -> Any:
    """The served app plus the baseline route (uvicorn --factory); only this bench mounts it."""
    from fastapi import APIRouter

    from gateway.app import create_app
    from gateway.exchange.models import CaseFact, InformationRequest, RequestItem

    app = create_app()
    router = APIRouter()
    # The route's annotations are resolved from this module's globals (postponed
    # annotations), hence HotUnit is imported at the top.

    @router.get("/bench/baseline/{request_id}")
    async def baseline(request_id: str, unit: HotUnit) -> Any:
        # Plumbed as the mediated read is (one hot thread, one pooled connection, its
        # transaction), with ORM reads in a Session joined to that transaction.
        def work(principal: Principal, connection: Connection) -> dict[str, Any]:
            with Session(bind=connection) as session:
                return read(principal, session)

        def read(principal: Principal, session: Session) -> dict[str, Any]:
            row = session.get(InformationRequest, request_id)
            if row is None or row.requester_partner_id != principal.partner_id:
                return {"values": []}
            items = session.scalars(
                select(RequestItem).where(RequestItem.request_id == row.id)
            ).all()
            facts = session.scalars(
                select(CaseFact).where(CaseFact.id.in_([i.fact_id for i in items if i.fact_id]))
            ).all()
            return {
                "values": [
                    {
                        "category": f.category,
                        "partnerId": f.partner_id,
                        "sealed": f.value_sealed.hex(),
                    }
                    for f in facts
                ]
            }

        return await unit.run(work)

    app.include_router(router)
    return app


BARE_SELECT = text(
    "SELECT f.category, f.partner_id, f.value_sealed"
    " FROM information_request r"
    " JOIN information_request_item i ON i.request_id = r.id"
    " JOIN case_fact f ON f.id = i.fact_id"
    " WHERE r.id = :request_id AND r.requester_partner_id = :partner"
)


def make_bare_app() -> Any:
    """The floor: a bare FastAPI app (uvicorn --factory), one authenticated indexed select.

    The gateway's own token verifier (signature and claims, as every gateway request does;
    no single-use jti, which costs a write), a pooled engine, one statement; no policy,
    no audit, no middleware. Configured from the same KETENPOORT_* environment."""
    from fastapi import FastAPI, Header, HTTPException

    from gateway.context import partner_directory, token_verifier
    from gateway.db import make_engine
    from gateway.policy.covenant import load_covenants

    settings = Settings()
    verifier = token_verifier(settings, partner_directory(load_covenants(settings.covenant_dir)))
    engine = make_engine(
        settings.resolved_database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )
    app = FastAPI(openapi_url=None)

    @app.get("/v1/health/ready")
    def ready() -> dict[str, str]:
        return {"status": "ready"}

    @app.get("/bare/{request_id}")
    def bare(request_id: str, authorization: str = Header("")) -> dict[str, Any]:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer":
            raise HTTPException(401)
        try:
            principal = verifier.verify(token)
        except Exception as error:  # noqa: BLE001 - any refusal is a 401 here
            raise HTTPException(401) from error
        with engine.connect() as connection:
            rows = connection.execute(
                BARE_SELECT, {"request_id": request_id, "partner": principal.partner_id}
            ).all()
        return {
            "values": [
                {"category": c, "partnerId": p, "sealed": bytes(v).hex()} for c, p, v in rows
            ]
        }

    return app


# --- the load generator (its own process) -------------------------------------------------


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def _summary(latencies: list[float], seconds: float, faults: dict[str, int]) -> dict[str, Any]:
    errors = sum(faults.values())
    return {
        "requests": len(latencies),
        "errors": errors,
        "seconds": round(seconds, 3),
        "throughput_rps": round((len(latencies) - errors) / seconds, 1),
        "p50_ms": round(_percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(_percentile(latencies, 0.99) * 1000, 2),
        "max_ms": round(max(latencies) * 1000, 2),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 2),
        "error_reasons": faults,
    }


class _Connection:
    """One keep-alive HTTP/1.1 connection, requests in turn: the leanest client asyncio
    allows (httpx costs the shared cores several times the CPU per request), so the
    measurement measures the server. uvicorn answers with a Content-Length."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str, token: str) -> tuple[int, bytes]:
        if self.reader is not None and self.reader.at_eof():
            await self.close()  # the server closed it while idle (keep-alive timeout)
        reused = self.writer is not None
        try:
            return await self._get(path, token)
        except asyncio.IncompleteReadError as error:
            if not reused or error.partial:
                raise
        # Closed by the server as this request went out, before it read a byte of it: sent
        # again on a new connection (had the server used the token, the retry would get 401
        # for the replayed jti and count as an error).
        await self.close()
        return await self._get(path, token)

    async def _get(self, path: str, token: str) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(
            f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\n"
            f"Authorization: Bearer {token}\r\n\r\n".encode("ascii")
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length = 0
        close = False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        body = await self.reader.readexactly(length)
        if close:
            await self.close()
        return status, body

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None


class _Client:
    """A pool of keep-alive connections, one request in flight on each."""

    def __init__(self, url: str, size: int) -> None:
        address = httpx.URL(url)
        self.idle = collections.deque(
            _Connection(address.host, address.port or 80) for _ in range(size)
        )

    async def get(self, path: str, token: str) -> tuple[int, bytes]:
        connection = self.idle.popleft()  # callers hold at most `size` requests in flight
        try:
            return await connection.get(path, token)
        except BaseException:
            await connection.close()  # a half-read answer must not be read by the next one
            raise
        finally:
            self.idle.append(connection)

    async def close(self) -> None:
        for connection in self.idle:
            await connection.close()


def _fault(kind: str, status: int, body: bytes) -> str | None:
    """None for a good answer, else why it is not (counted per reason in the results)."""
    if status != 200:
        return f"http-{status}"
    values = json.loads(body).get("values", [])
    if not values:
        return "no-values"
    if kind == "mediated" and any(v.get("outcome") != "disclosed" for v in values):
        # A redaction here (e.g. engine-timeout) is a decision that failed closed.
        return "not-disclosed"
    return None


def _ok(kind: str, status: int, body: bytes) -> bool:
    return _fault(kind, status, body) is None


async def _request(client: _Client, kind: str, path: str, token: str) -> str | None:
    try:
        status, body = await client.get(path, token)
    except (OSError, asyncio.IncompleteReadError, ValueError) as error:
        return type(error).__name__
    return _fault(kind, status, body)


async def _closed_loop(
    client: _Client, kind: str, paths: list[str], tokens: list[str], concurrency: int
) -> dict[str, Any]:
    pending = list(enumerate(tokens))
    pending.reverse()
    latencies: list[float] = []
    faults: dict[str, int] = {}

    async def worker() -> None:
        while pending:
            n, token = pending.pop()
            started = time.perf_counter()
            fault = await _request(client, kind, paths[n % len(paths)], token)
            latencies.append(time.perf_counter() - started)
            if fault is not None:
                faults[fault] = faults.get(fault, 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return _summary(latencies, time.perf_counter() - started, faults)


async def _open_loop(
    client: _Client,
    kind: str,
    paths: list[str],
    tokens: list[str],
    rate: float,
    max_inflight: int,
) -> dict[str, Any]:
    latencies: list[tuple[float, float]] = []  # (sent, seconds into the phase; latency)
    faults: dict[str, int] = {}
    limit = asyncio.Semaphore(max_inflight)

    async def one(n: int, token: str, scheduled: float) -> None:
        async with limit:
            fault = await _request(client, kind, paths[n % len(paths)], token)
        if fault is not None:
            faults[fault] = faults.get(fault, 0) + 1
        # From the scheduled send time: waiting for a free slot counts as latency.
        latencies.append((scheduled - started, time.perf_counter() - scheduled))

    started = time.perf_counter()
    began = time.monotonic()  # system-wide: the commit probe's clock
    tasks = []
    for n, token in enumerate(tokens):
        scheduled = started + n / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(n, token, scheduled)))
    await asyncio.gather(*tasks)
    result = _summary([latency for _, latency in latencies], time.perf_counter() - started, faults)
    # When the slow ones were sent (seconds into the phase): spread out or in bursts (stalls)?
    slowest = max(1, len(latencies) // 100)
    slow = sorted(latencies, key=lambda pair: pair[1], reverse=True)[:slowest]
    result["slowest_percent_sent_at_s"] = sorted(round(sent, 2) for sent, _ in slow)
    result["target_rate_rps"] = rate
    result["max_inflight"] = max_inflight
    result["monotonic_span"] = [began, time.monotonic()]
    return result


# --- the commit probe (its own process) -----------------------------------------------------

#: How often the probe commits: often enough to see a stall of a few tens of milliseconds,
#: rarely enough to add almost nothing to the database's load (50 small commits a second).
PROBE_INTERVAL_SECONDS = 0.02


def commit_probe(db_url: str, out: str) -> None:
    """Until SIGTERM: a one-row INSERT and a durable COMMIT every 20 ms on its own
    connection, each one's latency recorded. The mediated read ends with a durable commit
    (its audit entry), so a stall of the host's WAL flush (fsync) stalls every read in
    flight; the probe shows such stalls independently of the gateway."""
    import psycopg

    samples: list[tuple[float, float]] = []
    stop = False

    def finish(*_: Any) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, finish)
    url = make_url(db_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url) as connection:
        connection.execute("CREATE TABLE IF NOT EXISTS bench_commit_probe (at float8)")
        connection.commit()
        while not stop:
            began = time.monotonic()
            connection.execute("INSERT INTO bench_commit_probe VALUES (%s)", (began,))
            connection.commit()
            samples.append((began, time.monotonic() - began))
            time.sleep(max(0.0, PROBE_INTERVAL_SECONDS - (time.monotonic() - began)))
    Path(out).write_text(json.dumps(samples))


def _probe_during(samples: list[list[float]], span: list[float]) -> dict[str, Any]:
    """The probe's commits during one open-loop phase: how slow, and how often stalled."""
    within = [(began, latency) for began, latency in samples if span[0] <= began <= span[1]]
    if not within:
        return {"commits": 0}
    latencies = sorted(latency for _, latency in within)
    slowest_at, slowest = max(within, key=lambda sample: sample[1])
    return {
        "commits": len(within),
        "p50_ms": round(_percentile(latencies, 0.50) * 1000, 2),
        "max_ms": round(slowest * 1000, 1),
        # Seconds into the phase, comparable with slowest_percent_sent_at_s.
        "slowest_at_s": round(slowest_at - span[0], 2),
        "stalls_over_50ms": sum(1 for latency in latencies if latency > 0.05),
    }


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat_cpu(raw: str) -> tuple[str, int, float]:
    """(name, parent pid, utime + stime in seconds) of a /proc/<pid>[/task/<tid>]/stat line."""
    name = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    return name, int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICK


def _cpu_seconds(server_pid: int) -> dict[str, float]:
    """CPU seconds so far of the server (supervisor and workers), of every PostgreSQL process
    on the host (its other databases too: the host is shared) and of this load generator.

    ``server_event_loop`` is the part of ``server`` spent on the server processes' main
    threads: each uvicorn worker's event loop (HTTP, middleware, routing, dependencies, the
    response), as against its other threads (the hot threads' or the anyio pool's work and
    the background jobs). A supervisor's main thread counts too (it idles)."""
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    postgres = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                name, parent, seconds = _stat_cpu(stat.read())
        except OSError:
            continue
        if name == "postgres" or name.startswith("postgres:"):
            postgres += seconds
        parents[int(entry)] = parent
        cpu[int(entry)] = seconds
    server = event_loop = 0.0
    for pid, seconds in cpu.items():
        ancestor = pid
        while ancestor > 1 and ancestor != server_pid:
            ancestor = parents.get(ancestor, 0)
        if ancestor == server_pid:
            server += seconds
            try:
                with open(f"/proc/{pid}/task/{pid}/stat") as stat:
                    event_loop += _stat_cpu(stat.read())[2]
            except OSError:
                continue
    return {
        "server": server,
        "server_event_loop": event_loop,
        "postgres": postgres,
        "load_generator": time.process_time(),
    }


def _cpu_per_request(before: dict[str, float], after: dict[str, float], n: int) -> dict[str, float]:
    return {k: round((after[k] - before[k]) / n * 1000, 3) for k in before}


def _mint(settings: Settings, n: int) -> list[str]:
    return [mint_dev_token(settings, lifetime_seconds=600, **REQUESTER) for _ in range(n)]


def load_generator(config: dict[str, Any]) -> dict[str, Any]:
    settings = Settings(data_dir=Path(config["data_dir"]), demo_mode=True)
    paths = {
        "bare": [f"/bare/{rid}" for rid in config["request_ids"]],
        "baseline": [f"/bench/baseline/{rid}" for rid in config["request_ids"]],
        "mediated": [f"/v1/information-requests/{rid}/answers" for rid in config["request_ids"]],
    }
    urls = {"bare": config["bare_url"], "baseline": config["url"], "mediated": config["url"]}
    pids = {"bare": config["bare_pid"], "baseline": config["server_pid"]}
    pids["mediated"] = config["server_pid"]
    rounds = config["rounds"]
    per_round = config["requests"] // rounds
    # Every token is minted before any timed phase (each unique, single use, valid for 10
    # minutes), so signing competes with nothing that is measured.
    size = max(config["concurrency"], config["max_inflight"])
    warm = {kind: _mint(settings, 8 * size) for kind in paths}
    closed_tokens = {kind: [_mint(settings, per_round) for _ in range(rounds)] for kind in paths}
    fixed_tokens = {
        kind: [_mint(settings, int(rate * config["seconds"])) for rate in config["rates"]]
        for kind in paths
    }

    # The load generator's own pauses must not count as the server's latency: a full
    # collection over the tokens and tasks stalled its loop (requests sent late, at the same
    # moment in every phase). Collect between phases, never during one.
    gc.collect()
    gc.freeze()
    gc.disable()

    async def run() -> dict[str, Any]:
        clients = {kind: _Client(urls[kind], size) for kind in paths}
        closed: dict[str, list[dict[str, Any]]] = {kind: [] for kind in paths}
        fixed: dict[str, list[dict[str, Any]]] = {kind: [] for kind in paths}
        try:
            # Warm up both paths at the most requests in flight any phase has, so that every
            # client connection, worker thread and pooled database connection (with its
            # prepared statements) exists before the first timed phase, as on a server that
            # has been running.
            for kind, kind_paths in paths.items():
                await _closed_loop(clients[kind], kind, kind_paths, warm[kind], size)
            for n in range(rounds):
                for kind, kind_paths in paths.items():
                    before = _cpu_seconds(pids[kind])
                    result = await _closed_loop(
                        clients[kind],
                        kind,
                        kind_paths,
                        closed_tokens[kind][n],
                        config["concurrency"],
                    )
                    after = _cpu_seconds(pids[kind])
                    result["cpu_ms_per_request"] = _cpu_per_request(
                        before, after, result["requests"]
                    )
                    closed[kind].append(result)
            for n, rate in enumerate(config["rates"]):
                for kind, kind_paths in paths.items():
                    gc.collect()
                    await asyncio.sleep(1.0)  # let the previous phase's queue drain
                    fixed[kind].append(
                        await _open_loop(
                            clients[kind],
                            kind,
                            kind_paths,
                            fixed_tokens[kind][n],
                            rate,
                            config["max_inflight"],
                        )
                    )
        finally:
            for client in clients.values():
                await client.close()
        return {"closed_loop": closed, "fixed_rate": fixed}

    try:
        import uvloop  # uvicorn's loop; a leaner client loop than asyncio's own

        factory: Any = uvloop.new_event_loop
    except ImportError:
        factory = None
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(run())


def _merge(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Rounds together: summed requests and time; the worst round's p99."""
    seconds = sum(r["seconds"] for r in runs)
    requests = sum(r["requests"] for r in runs)
    errors = sum(r["errors"] for r in runs)
    return {
        "requests": requests,
        "errors": errors,
        "seconds": round(seconds, 3),
        "throughput_rps": round((requests - errors) / seconds, 1),
        "p50_ms": round(statistics.median(r["p50_ms"] for r in runs), 2),
        "p99_ms": max(r["p99_ms"] for r in runs),
        "cpu_ms_per_request": {
            k: round(statistics.fmean(r["cpu_ms_per_request"][k] for r in runs), 3)
            for k in runs[0]["cpu_ms_per_request"]
        },
        "rounds": runs,
    }


# --- the orchestrator ----------------------------------------------------------------------


def _utrecht_case(gw: Any) -> str:
    """A Utrecht case taken on, with the police in its team (the demo's first steps, played
    here with the partners' tokens: the bench starts no adapters)."""
    from gateway.demo import run as demo

    dwelling = {
        "address": {"postcode": "3511 AB", "houseNumber": 12},
        "ownership": "corporation",
        "corporationId": "mitros",
        "district": "binnenstad",
    }
    case = demo._report(gw, demo.BUURTTEAM_U, dwelling, "Overlast (bench).")["caseId"]
    gw.call(
        demo.CM_U,
        "POST",
        f"/cases/{case}/criteria",
        {
            "criteria": [
                {"criterion": "dwelling-related", "holds": True},
                {"criterion": "several-forms", "holds": True},
            ]
        },
    )
    demo._transition(gw, demo.CM_U, case, "request-permission")
    gw.call(
        demo.MITROS,
        "POST",
        f"/cases/{case}/consents",
        {"kind": "corporation-permission"},
        expect_status=201,
    )
    demo._transition(
        gw, demo.CM_U, case, "take-on", oggzCheck={"targetGroup": False, "referred": False}
    )
    gw.call(demo.CM_U, "POST", f"/cases/{case}/team", {"partnerId": "politie-midden-nederland"})
    return str(case)


def _setup_requests(url: str, settings: Settings, rows: int) -> list[str]:
    """One Utrecht case; ``rows`` information requests to the police, each answered."""
    from gateway.demo import run as demo

    police = demo.Partner("politie-midden-nederland", "adapter")
    ids: list[str] = []
    with httpx.Client(timeout=30) as client:
        gw = demo.DemoGateway(url, settings, client)
        case = _utrecht_case(gw)
        for n in range(rows):
            request = demo._ask(
                gw, case, demo.CM_U, "case-handling", [demo.VIOLENCE, "police-reports"]
            )
            gw.call(
                police,
                "POST",
                f"/information-requests/{request['id']}/answers",
                {
                    "answers": [
                        {"category": demo.VIOLENCE, "yesNo": True},
                        {"category": "police-reports", "value": f"{n + 1} meldingen, 1 inzet"},
                    ]
                },
            )
            ids.append(str(request["id"]))
        first = gw.call(demo.CM_U, "GET", f"/information-requests/{ids[0]}/answers")
        outcomes = {v["outcome"] for v in first["values"]}
        if outcomes != {"disclosed"}:
            raise SystemExit(f"setup: the mediated read is not fully disclosed: {outcomes}")
        token = mint_dev_token(settings, lifetime_seconds=60, **REQUESTER)
        response = client.get(
            f"{url}/bench/baseline/{ids[0]}", headers={"Authorization": f"Bearer {token}"}
        )
        if not _ok("baseline", response.status_code, response.content):
            raise SystemExit(f"setup: baseline: HTTP {response.status_code} {response.text[:300]}")
    return ids


def _stop(server: subprocess.Popen[bytes]) -> None:
    """The uvicorn supervisor and its workers form one process group (start_new_session)."""
    if server.poll() is not None:
        return
    try:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
    except ProcessLookupError:
        pass
    # Workers that outlived their supervisor would hold database connections.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGKILL)


def orchestrate(args: argparse.Namespace) -> dict[str, Any]:
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = database_name("exchange")
    with admin.connect() as connection:
        max_connections = int(connection.execute(text("SHOW max_connections")).scalar_one())
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    db_url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    # Each worker gets its share of the load plus headroom for the background jobs (audit
    # checkpoint, retention sweep); all workers of both servers (the gateway's and the bare
    # app's) together must fit under max_connections.
    pool_size = math.ceil(max(args.concurrency, args.max_inflight) / args.workers) + 2
    max_overflow = 4
    budget = max_connections - SPARE_CONNECTIONS
    if 2 * args.workers * (pool_size + max_overflow) > budget:
        pool_size = max(2, budget // (2 * args.workers) - max_overflow)
    data_dir = Path(tempfile.mkdtemp(prefix="ketenpoort-bench-"))
    server: subprocess.Popen[bytes] | None = None
    bare: subprocess.Popen[bytes] | None = None
    probe: subprocess.Popen[bytes] | None = None
    try:
        from gateway.context import build_context
        from gateway.db import upgrade_database
        from gateway.demo.run import _free_port, _wait_ready

        upgrade_database(db_url)
        settings = Settings(data_dir=data_dir, database_url=db_url, demo_mode=True)
        # Keys are created once before the workers start, so they do not race to create them.
        build_context(
            settings.model_copy(
                update={"audit_checkpoint_interval_seconds": 0, "auto_migrate": False}
            )
        ).close()
        port = _free_port()
        env = {
            **os.environ,
            "KETENPOORT_DATA_DIR": str(data_dir),
            "KETENPOORT_DATABASE_URL": db_url,
            "KETENPOORT_DEMO_MODE": "true",
            "KETENPOORT_AUTO_MIGRATE": "false",
            "KETENPOORT_DB_POOL_SIZE": str(pool_size),
            "KETENPOORT_DB_MAX_OVERFLOW": str(max_overflow),
            "KETENPOORT_AUDIT_CHECKPOINT_INTERVAL_SECONDS": str(args.checkpoint_interval),
        }
        server = subprocess.Popen(
            [
                sys.executable, "-m", "uvicorn", "bench.bench_exchange:make_app", "--factory",
                "--host", "127.0.0.1", "--port", str(port), "--workers", str(args.workers),
                "--log-level", "warning", "--no-access-log",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        _wait_ready(url, 60, server)
        bare_port = _free_port()
        bare = subprocess.Popen(
            [
                sys.executable, "-m", "uvicorn", "bench.bench_exchange:make_bare_app", "--factory",
                "--host", "127.0.0.1", "--port", str(bare_port), "--workers", str(args.workers),
                "--log-level", "warning", "--no-access-log",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )  # fmt: skip
        bare_url = f"http://127.0.0.1:{bare_port}"
        _wait_ready(bare_url, 60, bare)
        request_ids = _setup_requests(url, settings, args.rows)
        config = {
            "url": url,
            "server_pid": server.pid,
            "bare_url": bare_url,
            "bare_pid": bare.pid,
            "data_dir": str(data_dir),
            "request_ids": request_ids,
            "requests": args.requests,
            "concurrency": args.concurrency,
            "rates": args.rates,
            "seconds": args.seconds,
            "max_inflight": args.max_inflight,
            "rounds": args.rounds,
        }
        probe_out = data_dir / "commit-probe.json"
        probe = subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--commit-probe",
                db_url,
                str(probe_out),
            ],
            cwd=ROOT,
        )
        load = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--load-generator", json.dumps(config)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
        if load.returncode != 0:
            raise SystemExit(f"load generator failed:\n{load.stderr[-4000:]}")
        results: dict[str, Any] = json.loads(load.stdout)
        probe.terminate()
        probe.wait(timeout=30)
        samples = json.loads(probe_out.read_text()) if probe_out.exists() else []
        for phases in results["fixed_rate"].values():
            for phase in phases:
                phase["commit_probe"] = _probe_during(samples, phase.pop("monotonic_span"))
    finally:
        if probe is not None and probe.poll() is None:
            probe.kill()
        if server is not None:
            _stop(server)
        if bare is not None:
            _stop(bare)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        shutil.rmtree(data_dir, ignore_errors=True)
    return {
        "results": results,
        "max_connections": max_connections,
        "pool_size_per_worker": pool_size,
        "max_overflow_per_worker": max_overflow,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=20, help="answered requests read in turn")
    parser.add_argument("--requests", type=int, default=2000, help="per path, closed loop")
    parser.add_argument("--concurrency", type=int, default=16, help="closed loop, in flight")
    parser.add_argument(
        "--workers", type=int, default=max(2, min(4, os.cpu_count() or 2)), help="uvicorn"
    )
    parser.add_argument(
        "--rate",
        dest="rates",
        type=lambda v: [float(r) for r in v.split(",")],
        default=[200.0],
        help="open loop, requests/s; several as 50,100,200 (each for --seconds, per path)",
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="open loop, per path")
    parser.add_argument("--max-inflight", type=int, default=64, help="open loop bound")
    parser.add_argument(
        "--rounds", type=int, default=3, help="closed loop, alternating (each ratio per round)"
    )
    parser.add_argument(
        "--checkpoint-interval",
        type=float,
        default=5.0,
        help="the server's audit checkpoint job, seconds (the deployed default is 60)",
    )
    parser.add_argument("--load-generator", help=argparse.SUPPRESS)
    parser.add_argument("--commit-probe", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load_generator:
        print(json.dumps(load_generator(json.loads(args.load_generator))))
        return
    if args.commit_probe:
        commit_probe(*args.commit_probe)
        return

    # SIGTERM (a CI timeout, `kill`) unwinds like Ctrl-C, so the finally blocks still stop
    # the server and drop the database.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    load_before = os.getloadavg()
    run = orchestrate(args)
    results = run["results"]
    bare = _merge(results["closed_loop"]["bare"])
    base = _merge(results["closed_loop"]["baseline"])
    med = _merge(results["closed_loop"]["mediated"])
    rates = [
        {"rate_rps": rate, "bare": n, "baseline": b, "mediated": m}
        for rate, n, b, m in zip(
            args.rates,
            results["fixed_rate"]["bare"],
            results["fixed_rate"]["baseline"],
            results["fixed_rate"]["mediated"],
            strict=True,
        )
    ]
    target_rate = max(args.rates)
    at_target = next(r for r in rates if r["rate_rps"] == target_rate)
    med_rate = at_target["mediated"]
    ratio = med["throughput_rps"] / base["throughput_rps"]
    bare_ratio = med["throughput_rps"] / bare["throughput_rps"]
    p99_to_bare = med_rate["p99_ms"] / at_target["bare"]["p99_ms"]

    def holds(run: dict[str, Any]) -> bool:
        return bool(run["p99_ms"] < 20 and run["errors"] == 0)

    def highest(kind: str) -> float | None:
        return max((r["rate_rps"] for r in rates if holds(r[kind])), default=None)

    report = {
        "benchmark": "exchange",
        "database": "postgresql",
        "cpus": os.cpu_count(),
        # The host is shared: a load average above the CPU count means other work competed.
        "load_average_1m_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "workers": args.workers,
        "pool_size_per_worker": run["pool_size_per_worker"],
        "max_overflow_per_worker": run["max_overflow_per_worker"],
        "postgres_max_connections": run["max_connections"],
        "rows": args.rows,
        "closed_loop_concurrency": args.concurrency,
        "audit_checkpoint_interval_seconds": args.checkpoint_interval,
        "load_generator": "separate process, asyncio keep-alive HTTP/1.1 (raw), loopback; "
        "tokens minted before the timed phases",
        "bare": bare,
        "baseline": base,
        "mediated": med,
        "throughput_ratio_mediated_to_baseline": round(ratio, 3),
        "throughput_ratio_mediated_to_bare": round(bare_ratio, 3),
        "throughput_ratio_baseline_to_bare": round(
            base["throughput_rps"] / bare["throughput_rps"], 3
        ),
        "p99_ratio_mediated_to_bare_at_rate": round(p99_to_bare, 2),
        "fixed_rate": rates,
        "highest_rate_with_p99_under_20ms": {
            "bare": highest("bare"),
            "baseline": highest("baseline"),
            "mediated": highest("mediated"),
        },
        "targets": {
            "throughput_ratio_at_least": 0.5,
            "throughput_ratio_met": ratio >= 0.5 and med["errors"] == 0,
            "p99_ms_at_rate_under": 20,
            "rate_rps": target_rate,
            "p99_at_rate_met": holds(med_rate),
            # Issue 20: against the bare read, in the same run.
            "throughput_ratio_to_bare_at_least": 0.6,
            "throughput_ratio_to_bare_met": bare_ratio >= 0.6 and med["errors"] == 0,
            "p99_ratio_to_bare_at_rate_at_most": 1.5,
            "p99_ratio_to_bare_at_rate_met": p99_to_bare <= 1.5,
        },
    }
    # Each round runs the three paths one after the other: a ratio per round compares runs
    # of the same minute (the host is shared), and the goals take their median.
    per_round = {
        kind: [r["throughput_rps"] for r in results["closed_loop"][kind]]
        for kind in ("bare", "baseline", "mediated")
    }
    to_bare = [m / b for m, b in zip(per_round["mediated"], per_round["bare"], strict=True)]
    to_base = [m / b for m, b in zip(per_round["mediated"], per_round["baseline"], strict=True)]
    cpu = {
        part: [r["cpu_ms_per_request"][part] for r in results["closed_loop"]["mediated"]]
        for part in ("server", "server_event_loop", "postgres")
    }
    report["per_round"] = {
        "throughput_ratio_mediated_to_bare": spread(to_bare),
        "throughput_ratio_mediated_to_baseline": spread(to_base),
        "mediated_server_cpu_ms_per_request": spread(cpu["server"]),
        # Of which the workers' event loops (main threads); the rest is the hot threads'.
        "mediated_server_event_loop_cpu_ms_per_request": spread(cpu["server_event_loop"]),
        "mediated_postgres_cpu_ms_per_request": spread(cpu["postgres"]),
    }
    report["host"] = host()
    same_run = "in the same run, per closed-loop round (median)"
    report["goals"] = [
        goal(
            "exchange: mediated/bare throughput",
            report["per_round"]["throughput_ratio_mediated_to_bare"]["median"],
            op=">=",
            target=0.6,
            unit="x",
            baseline=f"bare FastAPI + PostgreSQL read, {same_run}",
        ),
        goal(
            "exchange: mediated/baseline throughput",
            report["per_round"]["throughput_ratio_mediated_to_baseline"]["median"],
            op=">=",
            target=0.5,
            unit="x",
            baseline=f"authenticated baseline read (jti, same rows), {same_run}",
        ),
        goal(
            f"exchange: mediated p99 / bare p99 at {target_rate:g} req/s",
            round(p99_to_bare, 2),
            op="<=",
            target=1.5,
            unit="x",
            baseline="bare read's p99 at the same open-loop rate, same run",
        ),
        goal(
            f"exchange: mediated p99 at {target_rate:g} req/s",
            med_rate["p99_ms"],
            op="<",
            target=20,
            unit="ms",
        ),
        goal(
            "exchange: worker CPU per mediated read",
            report["per_round"]["mediated_server_cpu_ms_per_request"]["median"],
            op="<=",
            target=1.2,
            unit="ms",
        ),
        goal(
            "exchange: PostgreSQL CPU per mediated read (all databases on the host)",
            report["per_round"]["mediated_postgres_cpu_ms_per_request"]["median"],
            op="<=",
            target=0.5,
            unit="ms",
        ),
    ]
    out = results_path("exchange.json")
    out.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
