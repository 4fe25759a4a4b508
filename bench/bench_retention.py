"""Benchmark of the retention sweep on PostgreSQL.

For each size N (default 10k and 100k; ``--rows 10000,100000,1000000`` for the 1M run) a
fresh database gets N due cases, each with a data key, a sealed address on ``case_file``
and a sealed report on ``case_report`` (seeded set-based with generate_series). Then one
real sweep erases them all: shred N data keys, overwrite 2N ciphertexts, write N tombstones
and N audit entries. Reports seconds, cases per second, and the time ratio against the
smallest size next to the size ratio (linear growth: the two ratios match).

Target: 1M cases in under 2 minutes. Writes bench/results/retention.json.
Run: .venv/bin/python bench/bench_retention.py [--rows 10000,100000] [--batch-size 5000]
     [--workers 2]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import secrets
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gateway.audit.service import AuditLog  # noqa: E402
from gateway.db import make_engine, make_sessionmaker, upgrade_database  # noqa: E402
from gateway.retention.rules import load_rules  # noqa: E402
from gateway.retention.sweeper import SweepOptions, run_sweep  # noqa: E402

PG_ADMIN_URL = os.environ.get(
    "KETENPOORT_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
RESULTS = Path(
    os.environ.get("KETENPOORT_BENCH_RESULTS", Path(__file__).parent / "results" / "retention.json")
)
COVENANT = "rijswijk-woonoverlast"
RULE = "R-3.4-licht-bemiddeld"

SEED_SQL = [
    """INSERT INTO dwelling (id, covenant_id, address_index, ownership, district, created_at)
       VALUES ('bench-dwelling', :covenant, 'x', 'corporation', 'Centrum', now())""",
    # Case ids are zero-padded so keyset order matches insertion order.
    """INSERT INTO crypto_data_key (scope, kek_version, wrapped_key, created_at)
       SELECT 'case:c' || lpad(g::text, 8, '0'), 1, gen_random_bytes(60), now()
       FROM generate_series(1, :n) g""",
    """INSERT INTO case_file (id, reference, covenant_id, dwelling_id, district, address_sealed,
         state, state_entered_at, opened_at, first_report_at, lead_partner_id, acute_override,
         both_sides_heard, investigation_running, version)
       SELECT 'c' || lpad(g::text, 8, '0'), 'R-' || g, :covenant, 'bench-dwelling', 'Centrum',
         '\\x01'::bytea || int8send(g) || gen_random_bytes(60), 'closed', now(), now(), now(),
         'gemeente-rijswijk', false, false, false, 1
       FROM generate_series(1, :n) g""",
    """INSERT INTO case_report (id, case_id, source_partner_id, channel, received_at,
         registered_at, description_sealed)
       SELECT 'r' || g, 'c' || lpad(g::text, 8, '0'), 'gemeente-rijswijk', 'form', now(), now(),
         '\\x01'::bytea || int8send(g) || gen_random_bytes(200)
       FROM generate_series(1, :n) g""",
    # One causer per case with a BSN blind index: the audit entry names them (and the
    # dwelling), and the sweep overwrites their sealed identifier and clears the index.
    """INSERT INTO case_person (id, case_id, role, identifier_index, identifier_sealed)
       SELECT 'p' || g, 'c' || lpad(g::text, 8, '0'), 'causer', encode(sha256(int8send(g)), 'hex'),
         '\\x01'::bytea || int8send(g) || gen_random_bytes(40)
       FROM generate_series(1, :n) g""",
    """INSERT INTO retention_case (case_id, covenant_id, scope, rule_id, source_date, due_on,
         reason, rules_revision, stale)
       SELECT 'c' || lpad(g::text, 8, '0'), :covenant, 'case:c' || lpad(g::text, 8, '0'),
         :rule, DATE '2023-01-01', DATE '2024-01-01', 'bench', :revision, false
       FROM generate_series(1, :n) g""",
]


def _database(name: str) -> str:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def _drop(name: str) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _server_cpu(engine: Any, database: str) -> dict[int, float]:
    """CPU seconds used so far by each server process connected to ``database`` (the
    server runs on this machine; without /proc the figure is left out)."""
    with engine.connect() as connection:
        pids = connection.execute(
            text("SELECT pid FROM pg_stat_activity WHERE datname = :db"), {"db": database}
        ).scalars()
        spent: dict[int, float] = {}
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            spent[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return spent


class StatementTimes:
    """Client-side seconds per kind of statement (summed over the workers' connections):
    where the sweep waits for the server."""

    def __init__(self, engine: Any) -> None:
        from sqlalchemy import event

        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self._started = threading.local()
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    @staticmethod
    def _kind(statement: str) -> str:
        words = " ".join(statement.split())
        return words[:70]

    def _before(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self._started.value = time.perf_counter()

    def _after(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        kind = self._kind(statement)
        spent = time.perf_counter() - self._started.value
        with _times_lock:
            self.seconds[kind] = self.seconds.get(kind, 0.0) + spent
            self.calls[kind] = self.calls.get(kind, 0) + 1

    def top(self, count: int = 12) -> list[dict[str, Any]]:
        ranked = sorted(self.seconds.items(), key=lambda item: -item[1])[:count]
        return [
            {"statement": kind, "seconds": round(spent, 2), "calls": self.calls[kind]}
            for kind, spent in ranked
        ]


_times_lock = threading.Lock()


def run_size(
    n: int,
    batch_size: int,
    key_dir: Path,
    workers: int = 2,
    profile: bool = False,
    persons: bool = True,
) -> dict[str, Any]:
    name = f"kp_bench_retention_{n}_{secrets.token_hex(3)}"
    url = _database(name)
    try:
        upgrade_database(url)
        rules = load_rules()
        engine = make_engine(url)
        seed_started = time.perf_counter()
        with engine.begin() as connection:
            connection.execute(text("CREATE EXTENSION IF NOT EXISTS pgcrypto"))
            params = {"n": n, "covenant": COVENANT, "rule": RULE, "revision": rules.revision}
            for statement in SEED_SQL:
                if persons or "case_person" not in statement:
                    connection.execute(text(statement), params)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))
        seeded = time.perf_counter() - seed_started
        audit = AuditLog.from_key_dir(key_dir)
        times = StatementTimes(engine) if profile else None
        profiler = cProfile.Profile() if profile else None
        server_before = _server_cpu(engine, name)
        cpu_started = time.process_time()
        started = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        report = run_sweep(
            session_factory=make_sessionmaker(engine),
            rules=rules,
            audit=audit,
            keys=None,
            options=SweepOptions(
                as_of=date(2025, 1, 1),
                batch_size=batch_size,
                sync_cases=False,
                collect_items=False,
                workers=workers,
            ),
        )
        seconds = time.perf_counter() - started
        python_cpu = time.process_time() - cpu_started
        if profiler is not None:
            profiler.disable()
        server_after = _server_cpu(engine, name)
        server_cpu = sum(spent - server_before.get(pid, 0.0) for pid, spent in server_after.items())
        with engine.connect() as connection:
            left = connection.execute(
                text("SELECT count(*) FROM crypto_data_key WHERE wrapped_key IS NOT NULL")
            ).scalar_one()
            audited = connection.execute(
                text("SELECT count(*) FROM audit_entry WHERE activity = 'retention-redaction'")
            ).scalar_one()
        engine.dispose()
        if (report.redacted, left, audited) != (n, 0, n):
            raise RuntimeError(f"sweep incomplete: {(report.redacted, left, audited)}")
        result: dict[str, Any] = {
            "rows": n,
            "seedSeconds": round(seeded, 2),
            "sweepSeconds": round(seconds, 2),
            "casesPerSecond": round(n / seconds),
            "microsecondsPerCase": round(seconds / n * 1e6, 1),
            "batches": report.batches,
            # CPU seconds: the machine is shared, so wall time moves with its load.
            "pythonCpuSeconds": round(python_cpu, 2),
            "serverCpuSeconds": round(server_cpu, 2),
            "loadAverage": round(os.getloadavg()[0], 1),
        }
        if times is not None and profiler is not None:
            result["statementSeconds"] = times.top()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
            result["pythonProfileMainThread"] = out.getvalue().splitlines()[:60]
        return result
    finally:
        _drop(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="10000,100000", help="Comma-separated sizes.")
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2, help="Batches erased at once.")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="Add seconds per statement and a cProfile of the main thread (use --workers 1).",
    )
    parser.add_argument(
        "--persons",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="Seed a causer (BSN blind index, sealed identifier) per case (default: yes).",
    )
    args = parser.parse_args()
    sizes = sorted(int(part) for part in args.rows.split(","))
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as key_dir:
        for n in sizes:
            result = run_size(
                n, args.batch_size, Path(key_dir), args.workers, args.profile, args.persons
            )
            print(json.dumps(result), flush=True)
            results.append(result)
    base = results[0]
    for result in results:
        result["sizeRatio"] = round(result["rows"] / base["rows"], 2)
        result["timeRatio"] = round(result["sweepSeconds"] / base["sweepSeconds"], 2)
        result["linearity"] = round(result["timeRatio"] / result["sizeRatio"], 2)
    million = next((r for r in results if r["rows"] == 1_000_000), None)
    summary = {
        "benchmark": "retention sweep (PostgreSQL)",
        "batchSize": args.batch_size,
        "workers": args.workers,
        "personsPerCase": 1 if args.persons else 0,
        "results": results,
        "target": "1M due cases erased in under 120 s",
        "targetMet": None if million is None else million["sweepSeconds"] < 120,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
