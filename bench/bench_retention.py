"""Benchmark of the retention sweep, fact sync included, on PostgreSQL (and SQLite).

For each size N (default 100k and 1M on PostgreSQL) a fresh database gets N closed cases in
the cases domain's tables, seeded set-based: a case file with a sealed address, a data key, a
sealed report, a causer with a BSN blind index and a sealed identifier, and a transition out
of mediation. With ``--shape sync`` (the default) the retention register knows none of them,
as after a bulk import or a rules change: the sweep's fact sync registers N cases, imports
3N facts (the report, the end of the mediation, the closing) plus N activity facts, computes
N verdicts, and then erases all N (shred N data keys, overwrite their ciphertexts, write N
tombstones and N audit entries). ``--shape synced`` seeds the register with current
verdicts and skips the sync (the figure docs/retention.md had before issue 20).

Each size runs ``--runs`` times (a fresh database each time) and reports min/median/max of
the sweep and of its phases (sync, verdicts, erasure). The baseline, in the same run: one
plain ``UPDATE`` of the same N register rows (every row touched once, no Python), and the
smallest size for linearity.

Goal (issue 20): 1M due cases swept, fact sync included, in under 2 minutes on PostgreSQL.
Writes retention.json (``--backend sqlite``: retention_sqlite.json) to bench/results
(``$KETENPOORT_BENCH_RESULTS``).
Run: flock /tmp/bench.lock .venv/bin/python bench/bench_retention.py [--rows 100000,1000000]
     [--runs 3] [--backend postgresql|sqlite] [--shape sync|synced] [--batch-size 10000]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).parent))

from goals import database_name, goal, host, results_path, spread  # noqa: E402

from gateway.audit.service import AuditLog  # noqa: E402
from gateway.db import make_engine, make_sessionmaker, upgrade_database  # noqa: E402
from gateway.policy.covenant import load_covenants  # noqa: E402
from gateway.retention.rules import load_rules  # noqa: E402
from gateway.retention.sweeper import SweepOptions, run_sweep  # noqa: E402

PG_ADMIN_URL = os.environ.get(
    "KETENPOORT_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
COVENANT = "rijswijk-woonoverlast"
RULE = "R-3.4-zonder-sancties"
AS_OF = date(2025, 1, 1)
GOAL_SECONDS = 120.0

# Per backend: an n-digit case id in keyset order, random bytes, a blind index, and the
# series 1..n. The same statements then seed both databases.
_PG = {
    "id": "'c' || lpad(g::text, 8, '0')",
    "num": "g::text",
    "sealed": "'\\x01'::bytea || gen_random_bytes({n})",
    "bytes": "gen_random_bytes({n})",
    "index": "encode(sha256(int8send(g)), 'hex')",
    "address": "encode(sha256(int8send(-g)), 'hex')",
    "series": "generate_series(1, :n) g",
    "day": "(TIMESTAMPTZ '2023-01-01 10:00+00' + (g % 300) * INTERVAL '1 day')",
    "earlier": "(TIMESTAMPTZ '2022-06-01 10:00+00' + (g % 300) * INTERVAL '1 day')",
    "bool": "{v}",
    # A record key (gateway/cases/cell_key.py): the column has no default since migration
    # 0050's review (an insert that left it out wrote 0 for every row).
    "key": "(('x' || encode(gen_random_bytes(4), 'hex'))::bit(32)::bigint % 2147483648)::integer",
}
_SQLITE = {
    "id": "'c' || printf('%08d', g.n)",
    "num": "CAST(g.n AS TEXT)",
    "sealed": "randomblob({n} + 1)",
    "bytes": "randomblob({n})",
    "index": "lower(hex(randomblob(32)))",
    "address": "lower(hex(randomblob(32)))",
    "series": "g",
    "day": "strftime('%Y-%m-%d %H:%M:%S', '2023-01-01 10:00:00', '+' || (g.n % 300) || ' days')",
    "earlier": (
        "strftime('%Y-%m-%d %H:%M:%S', '2022-06-01 10:00:00', '+' || (g.n % 300) || ' days')"
    ),
    "bool": "{v}",
    "key": "abs(random() % 2147483648)",
}
_SQLITE_SERIES = "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < :n) "

CASES_SQL = [
    """INSERT INTO dwelling (id, covenant_id, ownership, district, created_at)
       VALUES ('bench-dwelling', :covenant, 'corporation', 'Centrum', :now)""",
    """INSERT INTO crypto_data_key (scope, kek_version, wrapped_key, created_at)
       SELECT 'case:' || {id}, 1, {bytes60}, :now FROM {series}""",
    """INSERT INTO case_file (id, reference, covenant_id, dwelling_id, district, address_sealed,
         address_index, state, state_entered_at, opened_at, first_report_at, closed_at,
         lead_partner_id, acute_override, both_sides_heard, investigation_running, version,
         record_key)
       SELECT {id}, 'R-' || {num}, :covenant, 'bench-dwelling', 'Centrum', {sealed60},
         {address}, 'closed', {day}, {earlier}, {earlier}, {day}, 'gemeente-rijswijk',
         {false}, {false}, {false}, 1, {key}
       FROM {series}""",
    """INSERT INTO case_report (id, case_id, source_partner_id, channel, received_at,
         registered_at, description_sealed)
       SELECT 'r' || {num}, {id}, 'gemeente-rijswijk', 'form', {earlier}, {earlier},
         {sealed200}
       FROM {series}""",
    # One causer per case with a BSN blind index: the register's resident, the audit
    # entry's data subject; the sweep overwrites the sealed identifier and clears the index.
    """INSERT INTO case_person (id, case_id, role, identifier_index, identifier_sealed)
       SELECT 'p' || {num}, {id}, 'causer', {index}, {sealed40}
       FROM {series}""",
    # Out of mediation into closure: a failed mediation (it did not go to aftercare), so the
    # unsanctioned rule applies: due a year after the closing.
    """INSERT INTO case_transition (id, case_id, covenant_id, transition, from_state,
         to_state, at, actor_partner_id, actor_role, facts, record_key)
       SELECT 't' || {num}, {id}, :covenant, 'close', 'mediation', 'closed', {day},
         'gemeente-rijswijk', 'casemanager', '{{}}', {key}
       FROM {series}""",
]
#: What the sync imports for one seeded case (gateway/retention/casefacts.py): the failed
#: mediation's end, the closing transition's activity, the report's receipt and its
#: registration's activity (since b5f2364, review8a F1), and the closing.
FACTS_PER_CASE = 5
# --shape synced: the register and its facts as the sync leaves them.
SYNCED_SQL = [
    """INSERT INTO retention_case (case_id, covenant_id, scope, resident_key, rule_id,
         source_date, due_on, reason, rules_revision, stale, on_hold)
       SELECT {id}, :covenant, 'case:' || {id}, {index}, :rule, DATE '2023-01-01',
         DATE '2024-01-01', 'bench', :revision, {false}, {false}
       FROM {series}""",
]


def _sql(statement: str, backend: str) -> str:
    words = _PG if backend == "postgresql" else _SQLITE
    filled = statement.format(
        id=words["id"],
        num=words["num"],
        bytes60=words["bytes"].format(n=60),
        sealed40=words["sealed"].format(n=40),
        sealed60=words["sealed"].format(n=60),
        sealed200=words["sealed"].format(n=200),
        index=words["index"],
        address=words["address"],
        series=words["series"],
        day=words["day"],
        earlier=words["earlier"],
        false="false" if backend == "postgresql" else "0",
        key=words["key"],
    )
    if backend == "sqlite" and "{series}" in statement:
        filled = _SQLITE_SERIES + filled
    if backend == "sqlite":
        filled = filled.replace("DATE '2023-01-01'", "'2023-01-01'").replace(
            "DATE '2024-01-01'", "'2024-01-01'"
        )
    return filled


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


def _seed(engine: Any, backend: str, n: int, shape: str, revision: str) -> None:
    from gateway.db import utcnow

    params = {"n": n, "covenant": COVENANT, "rule": RULE, "revision": revision, "now": utcnow()}
    statements = CASES_SQL + (SYNCED_SQL if shape == "synced" else [])
    with engine.begin() as connection:
        if backend == "postgresql":
            connection.execute(text("CREATE EXTENSION IF NOT EXISTS pgcrypto"))
        for statement in statements:
            connection.execute(text(_sql(statement, backend)), params)
    if backend == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    else:
        with engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE")
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def _baseline(engine: Any, n: int) -> float:
    """One plain UPDATE of the same N register rows, committed: the floor for touching each
    case's row once, with no Python per row."""
    started = time.perf_counter()
    with engine.begin() as connection:
        updated = connection.execute(
            text("UPDATE retention_case SET computed_at = erased_at WHERE erased_at IS NOT NULL")
        ).rowcount
    seconds = time.perf_counter() - started
    if updated != n:
        raise RuntimeError(f"baseline updated {updated} rows, not {n}")
    return seconds


def run_once(
    backend: str,
    n: int,
    shape: str,
    batch_size: int,
    key_dir: Path,
    workers: int,
    profile: bool,
) -> dict[str, Any]:
    name = database_name(f"retention_{n}")
    sqlite_dir = None
    if backend == "postgresql":
        url = _database(name)
    else:
        sqlite_dir = tempfile.TemporaryDirectory(prefix="kp_retention_")
        url = f"sqlite:///{sqlite_dir.name}/bench.db"
    try:
        upgrade_database(url)
        rules = load_rules()
        covenants = load_covenants()
        engine = make_engine(url)
        seed_started = time.perf_counter()
        _seed(engine, backend, n, shape, rules.revision)
        seeded = time.perf_counter() - seed_started
        audit = AuditLog.from_key_dir(key_dir)
        times = StatementTimes(engine) if profile else None
        profiler = cProfile.Profile() if profile else None
        server_before = _server_cpu(engine, name) if backend == "postgresql" else {}
        load_before = os.getloadavg()[0]
        # CPU seconds per phase (Python: the whole process; server: the database's
        # backends), sampled as each phase starts.
        samples: list[tuple[str, float, float]] = []

        def on_phase(name_: str) -> None:
            server = sum(_server_cpu(engine, name).values()) if backend == "postgresql" else 0.0
            samples.append((name_, time.process_time(), server))

        cpu_started = time.process_time()
        started = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        report = run_sweep(
            session_factory=make_sessionmaker(engine),
            rules=rules,
            covenants=covenants,
            audit=audit,
            keys=None,
            options=SweepOptions(
                as_of=AS_OF,
                batch_size=batch_size,
                sync_cases=shape == "sync",
                collect_items=False,
                workers=workers,
            ),
            phase=on_phase,
        )
        seconds = time.perf_counter() - started
        python_cpu = time.process_time() - cpu_started
        if profiler is not None:
            profiler.disable()
        server_cpu = None
        if backend == "postgresql":
            server_after = _server_cpu(engine, name)
            server_cpu = sum(
                spent - server_before.get(pid, 0.0) for pid, spent in server_after.items()
            )
        with engine.connect() as connection:
            left = connection.execute(
                text("SELECT count(*) FROM crypto_data_key WHERE wrapped_key IS NOT NULL")
            ).scalar_one()
            audited = connection.execute(
                text("SELECT count(*) FROM audit_entry WHERE activity = 'retention-redaction'")
            ).scalar_one()
            facts = connection.execute(text("SELECT count(*) FROM retention_fact")).scalar_one()
        if (report.redacted, left, audited) != (n, 0, n):
            raise RuntimeError(f"sweep incomplete: {(report.redacted, left, audited)}")
        if shape == "sync" and facts != FACTS_PER_CASE * n:
            raise RuntimeError(f"sync imported {facts} facts, not {FACTS_PER_CASE * n}")
        baseline = _baseline(engine, n)
        sweeps_view = _sweeps_view(engine, rules, covenants, str(report.run_id), n)
        engine.dispose()
        result: dict[str, Any] = {
            "rows": n,
            "seedSeconds": round(seeded, 2),
            "sweepSeconds": round(seconds, 2),
            "phases": {k: round(v, 2) for k, v in report.phases.items()},
            "baselineUpdateSeconds": round(baseline, 3),
            # GET /v1/retention/sweeps for the coordinating officer: each of the run's cases
            # (erased under a rule chosen by sanctions) decided (runs.erased_in_view).
            "sweepsViewSeconds": round(sweeps_view, 3),
            "casesPerSecond": round(n / seconds),
            "microsecondsPerCase": round(seconds / n * 1e6, 1),
            "batches": report.batches,
            # CPU seconds: the machine is shared, so wall time moves with its load.
            "pythonCpuSeconds": round(python_cpu, 2),
            "serverCpuSeconds": None if server_cpu is None else round(server_cpu, 2),
            "loadAverage": [round(load_before, 2), round(os.getloadavg()[0], 2)],
            "phaseCpuSeconds": _phase_cpu(samples, backend == "postgresql"),
        }
        if times is not None and profiler is not None:
            result["statementSeconds"] = times.top()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(30)
            result["pythonProfileMainThread"] = out.getvalue().splitlines()[:70]
        return result
    finally:
        if backend == "postgresql":
            _drop(name)
        elif sqlite_dir is not None:
            sqlite_dir.cleanup()


def _sweeps_view(engine: Any, rules: Any, covenants: dict[str, Any], run_id: str, n: int) -> float:
    """Seconds the sweeps view's count (runs.erased_in_view) takes for the covenant's
    coordinating officer over the run, every case under a rule chosen by sanctions, so each
    is read and decided (the cases, closed out of mediation, withhold it from that officer:
    it counts none); checked against what the sweep's entries name (officers_told).
    """
    from types import SimpleNamespace

    from gateway.auth.service import PartnerDirectory
    from gateway.retention.runs import erased_in_view
    from gateway.retention.sanctions import officers_told

    covenant = covenants[COVENANT]
    officer = PartnerDirectory.from_covenants([covenant]).principal(
        partner_id=covenant.coordinating_privacy_officer,
        role="privacy-officer",
        user=None,
        token_id="bench",
        expires_at=datetime.max.replace(tzinfo=UTC),
    )
    runtime = SimpleNamespace(covenants=covenants)
    with make_sessionmaker(engine)() as session:
        started = time.perf_counter()
        counted = erased_in_view(
            session, run_ids=[run_id], reader=officer, rules=rules, runtime=runtime
        )
        seconds = time.perf_counter() - started
        [sample] = session.scalars(
            text("SELECT case_id FROM retention_case WHERE erased_run_id = :run LIMIT 1"),
            {"run": run_id},
        )
        told = officers_told(
            session, rules=rules, covenants=covenants, verdicts={sample: (COVENANT, RULE)}
        )[sample]
    expected = n if told is None or officer.partner_id in told else 0
    if counted.get(run_id, 0) != expected:
        raise RuntimeError(f"sweeps view counted {counted}, not {expected}")
    return seconds


def _phase_cpu(
    samples: list[tuple[str, float, float]], server: bool
) -> dict[str, dict[str, float | None]]:
    """Python and server CPU seconds of each phase, from the samples taken as phases start.
    The server figure sums the processes connected at both ends of a phase (a connection
    opened and closed within one phase is missed: the pool keeps the sweep's connections)."""
    spent: dict[str, dict[str, float | None]] = {}
    for (name, python, pg), (_, python_end, pg_end) in zip(samples, samples[1:], strict=False):
        spent[name] = {
            "python": round(python_end - python, 2),
            "server": round(pg_end - pg, 2) if server else None,
        }
    return spent


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    phases = sorted({phase for run in runs for phase in run["phases"]})
    return {
        "rows": runs[0]["rows"],
        "sweepSeconds": spread([r["sweepSeconds"] for r in runs], 2),
        "phaseSeconds": {
            phase: spread([r["phases"].get(phase, 0.0) for r in runs], 2) for phase in phases
        },
        "baselineUpdateSeconds": spread([r["baselineUpdateSeconds"] for r in runs], 3),
        "ratioToBaseline": spread(
            [r["sweepSeconds"] / r["baselineUpdateSeconds"] for r in runs], 1
        ),
        "pythonCpuSeconds": spread([r["pythonCpuSeconds"] for r in runs], 2),
        "phaseCpuSeconds": {
            phase: {
                side: spread([r["phaseCpuSeconds"][phase][side] or 0.0 for r in runs], 2)
                for side in ("python", "server")
            }
            for phase in sorted(runs[0]["phaseCpuSeconds"])
        },
        "serverCpuSeconds": (
            None
            if runs[0]["serverCpuSeconds"] is None
            else spread([r["serverCpuSeconds"] for r in runs], 2)
        ),
        "runs": runs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default=None, help="Comma-separated sizes.")
    parser.add_argument(
        "--runs",
        default="3",
        help="Runs per size (fresh data each): one number, or one per size (e.g. 3,1).",
    )
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--shape", choices=["sync", "synced"], default="sync")
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2, help="Batches erased at once.")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="Add seconds per statement and a cProfile of the main thread (use --workers 1).",
    )
    args = parser.parse_args()
    default = "100000,1000000" if args.backend == "postgresql" else "10000,100000"
    sizes = sorted(int(part) for part in (args.rows or default).split(","))
    started_host = host()
    sizes_out: list[dict[str, Any]] = []
    counts = [int(part) for part in args.runs.split(",")]
    counts += [counts[-1]] * (len(sizes) - len(counts))
    with tempfile.TemporaryDirectory() as key_dir:
        for n, count in zip(sizes, counts, strict=False):
            runs = []
            for _ in range(count):
                result = run_once(
                    args.backend,
                    n,
                    args.shape,
                    args.batch_size,
                    Path(key_dir),
                    args.workers,
                    args.profile,
                )
                print(json.dumps(result), flush=True)
                runs.append(result)
            sizes_out.append(_summary(runs))
    base = sizes_out[0]
    for size in sizes_out:
        size["sizeRatio"] = round(size["rows"] / base["rows"], 2)
        size["timeRatio"] = round(
            size["sweepSeconds"]["median"] / base["sweepSeconds"]["median"], 2
        )
        size["linearity"] = round(size["timeRatio"] / size["sizeRatio"], 2)
    label = "PostgreSQL" if args.backend == "postgresql" else "SQLite"
    with_sync = "fact sync included" if args.shape == "sync" else "register already synced"
    goals = []
    for size in sizes_out:
        goals.append(
            goal(
                f"retention sweep {size['rows']:,} cases, {with_sync} ({label}), median",
                size["sweepSeconds"]["median"],
                op="<",
                target=GOAL_SECONDS * size["rows"] / 1_000_000,
                unit="s",
                baseline=(
                    f"plain UPDATE of the same rows: {size['baselineUpdateSeconds']['median']} s"
                    f" (x{size['ratioToBaseline']['median']})"
                ),
            )
        )
        if size is not base:
            goals.append(
                goal(
                    f"retention sweep {size['rows']:,} vs {base['rows']:,}: time ratio / size "
                    f"ratio ({label})",
                    size["linearity"],
                    op="<=",
                    target=1.25,
                    unit="x",
                    baseline=f"the {base['rows']:,}-case sweep of the same run",
                )
            )
    summary = {
        "benchmark": f"retention sweep ({label}, {with_sync})",
        "backend": args.backend,
        "shape": args.shape,
        "batchSize": args.batch_size,
        "workers": args.workers,
        "goals": goals,
        "host": {"start": started_host, "end": host()},
        "sizes": sizes_out,
    }
    name = "retention.json" if args.backend == "postgresql" else "retention_sqlite.json"
    if args.shape != "sync":
        name = name.replace(".json", f"_{args.shape}.json")
    out = results_path(name)
    out.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    print(json.dumps({k: v for k, v in summary.items() if k != "sizes"}, indent=2))


if __name__ == "__main__":
    main()
