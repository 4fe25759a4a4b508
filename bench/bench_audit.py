"""Benchmark of the audit log on PostgreSQL: committed appends per second (one entry per
transaction, from several processes x threads as the gateway's workers run them), batched
appends, verification speed, checkpoint signing and inclusion-proof time at the full size.

    .venv/bin/python bench/bench_audit.py --only-single                  # appends only
    .venv/bin/python bench/bench_audit.py --skip-single --entries 1000000  # the 1M figures

Writes audit.json (``--out``) to bench/results (``$KETENPOORT_BENCH_RESULTS``).
Single appends are compared, in the same run and
the same processes x threads, with two baselines: ``baseline``, the same row by a plain
INSERT in the same kind of session transaction (what the disclosure's transaction costs
without any index reservation), and ``raw``, the same row by a prepared INSERT + COMMIT on a
bare psycopg connection (the ceiling of this machine for one row per transaction from
Python), and with ``pgbench`` itself (the same row by ``pgbench -M prepared``, one INSERT per
transaction, as many clients as writers: the floor of this server for it, issue 20's
baseline). Kinds run interleaved, ``--rounds`` times (min/median/max reported), with the WAL
flushes (``pg_stat_wal.wal_sync``) each kind caused: commits per WAL flush is how many commits
PostgreSQL's own group commit put behind one fsync. A kind suffixed ``+cdN`` (``append+cd100``)
runs with ``commit_delay = N`` microseconds set on the benchmark's own database (``ALTER
DATABASE``; the server's setting is not touched). A kind suffixed ``+nowait`` runs with
``synchronous_commit = off`` on that database: every commit answers before its WAL flush. The
gateway never does that for an entry (it answers only after the entry is durable); the figure
is the ceiling any group commit could reach, since a shared flush can only save the waiting
that ``+nowait`` skips altogether.
``--bulk-rows`` sizes the retention sweeper's bulk path (append_many in one transaction
against a plain insert). Beyond ``--batched-entries`` the log is filled in the database
(bodies built and hashed by PostgreSQL) so the 1M measurements take minutes, not an hour.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).parent))

from goals import database_name, goal, host, results_path, spread  # noqa: E402

from audit.entry import (  # noqa: E402
    AuditEntry,
    DecisionRef,
    EntryTemplate,
    canonical_json,
    entry_body,
    new_salts,
)
from audit.merkle import leaf_hash, verify_inclusion  # noqa: E402
from audit.verify import verify_log  # noqa: E402
from gateway.audit import AuditLog, receipt_for  # noqa: E402
from gateway.audit.export import db_checkpoints, db_entries, db_head_size  # noqa: E402
from gateway.audit.log import (  # noqa: E402
    _PLACEHOLDER,
    _search_columns,
    _split_body,
    fast_canonical_json,
)
from gateway.audit.models import AuditRecord  # noqa: E402
from gateway.db import make_engine, make_sessionmaker, transaction, upgrade_database, utcnow  # noqa: E402
from tests.audit.builders import T0, disclosure  # noqa: E402

PG_URL = os.environ.get(
    "KETENPOORT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def run_threads(threads: int, work: Callable[[int], int]) -> tuple[int, float]:
    counts = [0] * threads
    barrier = threading.Barrier(threads + 1)

    def run(worker: int) -> None:
        barrier.wait()
        counts[worker] = work(worker)

    pool = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in pool:
        thread.join()
    return sum(counts), time.perf_counter() - started


ENTRY_POOL = 64
#: Indexes far above any real one for the baselines (no reservation, never in the log).
BASELINE_BASE = 10**12


def _baseline_row(index: int, entry: AuditEntry) -> dict[str, object]:
    salt = new_salts(1)[0]
    body = fast_canonical_json(entry_body(entry, index=index, recorded_at=utcnow(), salt=salt))
    return _row(index, body, entry.started_at)


def _writer_threads(kind: str, url: str, key_dir: str, threads: int, seconds: float,
                    process: int, barrier: Any) -> tuple[int, float, float]:  # fmt: skip
    """One process of ``threads`` writers, each committing one row per transaction for
    ``seconds``: ``append`` (log.append in a session transaction, as the gateway's routes
    do), ``append-connection`` (log.append in a Core connection's transaction, as the
    mediated read does),
    ``baseline`` (the same row, plain INSERT in a session transaction, no index reservation)
    or ``raw`` (the same row, plain INSERT + COMMIT on a bare psycopg connection: the ceiling
    of this machine for one row per transaction from Python)."""
    engine = make_engine(url, pool_size=threads, max_overflow=0)
    factory = make_sessionmaker(engine)
    log = AuditLog.from_key_dir(Path(key_dir))
    entries = [disclosure(n) for n in range(ENTRY_POOL)]  # built once: the caller's work
    counts = [0] * threads
    local = threading.Barrier(threads + 1)
    go = threading.Barrier(threads + 1)

    def work(worker: int) -> None:
        base = BASELINE_BASE + (process * 1000 + worker) * 10**8
        raw = psycopg.connect(_libpq_url(url)) if kind == "raw" else None
        local.wait()
        go.wait()
        done, deadline = 0, time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            entry = entries[done % ENTRY_POOL]
            if kind == "append":
                with transaction(factory) as session:
                    log.append(session=session, entry=entry)
            elif kind == "append-connection":
                # The mediated read's unit (gateway.auth.deps.authenticated_unit): the pooled
                # Core connection's own transaction, no ORM Session.
                with engine.connect() as connection, connection.begin():
                    log.append(session=connection, entry=entry)
            elif kind == "baseline":
                with transaction(factory) as session:
                    session.execute(insert(AuditRecord), [_baseline_row(base + done, entry)])
            else:
                assert raw is not None
                row = _baseline_row(base + done, entry)
                raw.execute(RAW_INSERT, [row[c] for c in RAW_COLUMNS], prepare=True)
                raw.commit()
            done += 1
        counts[worker] = done
        if raw is not None:
            raw.close()

    pool = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    local.wait()
    barrier.wait()  # every process starts together
    go.wait()
    started, cpu = time.perf_counter(), time.process_time()
    for thread in pool:
        thread.join()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    engine.dispose()
    return sum(counts), elapsed, cpu


def _libpq_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


RAW_COLUMNS = ("index", "leaf_hash", "body", "recorded_at", "covenant_id", "activity", "outcome",
               "clause_ids", "data_owners", "started_at")  # fmt: skip
RAW_INSERT = (
    "INSERT INTO audit_entry (idx, leaf_hash, body, recorded_at, covenant_id, activity, outcome, "
    "clause_ids, data_owners, started_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)


def _process_main(kind: str, url: str, key_dir: str, threads: int, seconds: float,
                  process: int, barrier: Any, results: Any) -> None:  # fmt: skip
    results.put(_writer_threads(kind, url, key_dir, threads, seconds, process, barrier))


#: pgbench's row: the same columns and body size as the baseline's, its index from its own
#: sequence far above any real one (like BASELINE_BASE), one INSERT per transaction.
PGBENCH_SCRIPT = (
    "INSERT INTO audit_entry (idx, leaf_hash, body, recorded_at, covenant_id, activity, "
    "outcome, clause_ids, data_owners, started_at) VALUES "
    "(2000000000000 + nextval('bench_pgbench_seq'), decode(:leaf, 'hex'), :body, now(), "
    "'bench', 'disclosure', 'disclosed', '', '', now());\n"
)


def bench_pgbench(url: str, clients: int, seconds: float) -> tuple[float, float]:
    """Rows per second and pgbench's own CPU per row (µs): ``clients`` pgbench clients (2
    threads, as this machine has 2 cores), prepared statements, one row per transaction."""
    entry = disclosure(0)
    fields = entry_body(entry, index=BASELINE_BASE, recorded_at=utcnow(), salt=new_salts(1)[0])
    body = fast_canonical_json(fields)
    parsed = make_url(url)
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
        script.write(PGBENCH_SCRIPT)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        done = subprocess.run(
            ["pgbench", "-n", "-M", "prepared", "-c", str(clients), "-j", "2",
             "-T", str(max(1, round(seconds))), "-f", script.name,
             "-D", f"body={body.decode()}", "-D", f"leaf={leaf_hash(body).hex()}",
             "-h", parsed.host or "127.0.0.1", "-p", str(parsed.port or 5432),
             "-U", parsed.username or "postgres", str(parsed.database)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
    finally:
        os.unlink(script.name)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    rows, rate = 0, 0.0
    for line in done.stdout.splitlines():
        if line.startswith("number of transactions actually processed:"):
            rows = int(line.split(":")[1].split("/")[0])
        if line.startswith("tps ="):
            rate = float(line.split()[2])
    if not rows or not rate:
        raise RuntimeError(f"pgbench said: {done.stdout} {done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return rate, cpu / rows * 1e6


def wal_counters(url: str, pause: float) -> tuple[int, int]:
    """(``pg_stat_wal.wal_sync``, committed transactions of this database): WAL flushes of
    the whole server (other databases' commits count too: the machine is shared) and this
    database's commits. Read after ``pause`` seconds, since backends report them about once
    a second (1.2 s by default; the test suite's smoke run, which reads no figure, less)."""
    time.sleep(pause)
    parsed = make_url(url)
    with psycopg.connect(_libpq_url(url), autocommit=True) as connection:
        syncs = connection.execute("SELECT wal_sync FROM pg_stat_wal").fetchone()
        commits = connection.execute(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = %s", [parsed.database]
        ).fetchone()
    assert syncs is not None
    assert commits is not None
    return int(syncs[0]), int(commits[0])


def set_commit_delay(url: str, microseconds: int, *, wait_for_flush: bool = True) -> None:
    """``commit_delay`` (and ``synchronous_commit``) for new connections to the benchmark's
    own database only."""
    name = make_url(url).database
    with psycopg.connect(_libpq_url(url), autocommit=True) as connection:
        if microseconds:
            connection.execute(f'ALTER DATABASE "{name}" SET commit_delay = {int(microseconds)}')
        else:
            connection.execute(f'ALTER DATABASE "{name}" RESET commit_delay')
        if wait_for_flush:
            connection.execute(f'ALTER DATABASE "{name}" RESET synchronous_commit')
        else:
            connection.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')


def run_kind(kind: str, url: str, key_dir: Path, processes: int, threads: int,
             seconds: float, stats_pause: float) -> dict[str, float]:  # fmt: skip
    """One run of ``kind`` (``append``, ``baseline``, ``raw``, ``pgbench``, each optionally
    ``+cdN`` or ``+nowait``): rows per second, client CPU per row, and commits per WAL flush."""
    kind, nowait, _ = kind.partition("+nowait")
    base, _, delay = kind.partition("+cd")
    set_commit_delay(url, int(delay or 0), wait_for_flush=not nowait)
    syncs, commits = wal_counters(url, stats_pause)
    if base == "pgbench":
        rate, cpu_us = bench_pgbench(url, processes * threads, seconds)
    else:
        rate, cpu_us = bench_writers(base, url, key_dir, processes, threads, seconds)
    syncs_after, commits_after = wal_counters(url, stats_pause)
    set_commit_delay(url, 0)
    if base == "pgbench":
        with psycopg.connect(_libpq_url(url), autocommit=True) as connection:
            connection.execute("DELETE FROM audit_entry WHERE idx >= %s", [BASELINE_BASE])
    flushes = syncs_after - syncs
    return {
        "rate": rate,
        "cpu_us": cpu_us,
        "commits_per_wal_sync": (commits_after - commits) / flushes if flushes else 0.0,
    }


def bench_writers(kind: str, url: str, key_dir: Path, processes: int, threads: int,
                  seconds: float) -> tuple[float, float]:  # fmt: skip
    """Committed rows per second, and the writers' own CPU time per row (µs), from
    ``processes`` x ``threads`` writers (spawned processes, as the gateway's workers: no
    shared interpreter lock)."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(processes)
    results = context.Queue()
    pool = [
        context.Process(
            target=_process_main,
            args=(kind, url, str(key_dir), threads, seconds, number, barrier, results),
        )
        for number in range(processes)
    ]
    for process in pool:
        process.start()
    outcomes = [results.get(timeout=seconds + 120) for _ in pool]
    for process in pool:
        process.join()
    engine = make_engine(url)
    with transaction(make_sessionmaker(engine)) as session:
        session.execute(text(f"DELETE FROM audit_entry WHERE idx >= {BASELINE_BASE}"))
    engine.dispose()
    count = sum(outcome[0] for outcome in outcomes)
    rate = count / max(outcome[1] for outcome in outcomes)
    cpu_us = sum(outcome[2] for outcome in outcomes) / count * 1e6 if count else 0.0
    return rate, cpu_us


def _row(index: int, body: bytes, started_at: object) -> dict[str, object]:
    return {
        "index": index,
        "leaf_hash": leaf_hash(body),
        "body": body.decode(),
        "recorded_at": utcnow(),
        "covenant_id": "bench",
        "activity": "disclosure",
        "outcome": "disclosed",
        "clause_ids": "",
        "data_owners": "",
        "started_at": started_at,
    }


def bench_bulk(factory: sessionmaker[Session], log: AuditLog, rows: int) -> dict[str, float]:
    """The retention sweeper's path: build ``rows`` entries and append them in one
    transaction; the baseline is a plain multi-row insert of prepared rows."""
    started = time.perf_counter()
    validated = [disclosure(n) for n in range(rows)]
    build_validated = time.perf_counter() - started
    template = validated[0]
    started = time.perf_counter()
    copied = [template.model_copy(update={"case_id": f"case-{n}"}) for n in range(rows)]
    build_copied = time.perf_counter() - started
    timings = []
    for _ in range(3):  # the median of three: one sweep is short and the machine is shared
        started = time.perf_counter()
        with transaction(factory) as session:
            log.append_many(session=session, entries=copied)
        timings.append(time.perf_counter() - started)
    append_many = statistics.median(timings)
    prepared = [
        _row(3 * 10**12 + n,
             canonical_json(entry_body(e, index=n, recorded_at=utcnow(), salt=salt)),
             e.started_at)
        for n, (e, salt) in enumerate(zip(validated, new_salts(rows), strict=True))
    ]  # fmt: skip
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        with transaction(factory) as session:
            session.execute(insert(AuditRecord), prepared)
        timings.append(time.perf_counter() - started)
        with transaction(factory) as session:
            session.execute(text("DELETE FROM audit_entry WHERE idx >= 1000000000000"))
    plain_insert = statistics.median(timings)
    return {
        "bulk_rows": rows,
        "bulk_build_validated_us_per_entry": round(build_validated / rows * 1e6, 1),
        "bulk_build_model_copy_us_per_entry": round(build_copied / rows * 1e6, 1),
        "bulk_append_many_s": round(append_many, 3),
        "bulk_append_many_us_per_entry": round(append_many / rows * 1e6, 1),
        "bulk_baseline_plain_insert_s": round(plain_insert, 3),
    }


def bench_entry_build(count: int = 20_000, repeats: int = 3) -> dict[str, object]:
    """Client CPU (process time, one thread) to build one request's entry: validated in full
    (``AuditEntry(...)`` with its parts, as tests/audit/builders.disclosure does) against
    :class:`audit.entry.EntryTemplate` setting the case, the two times and the decision."""
    template = EntryTemplate(disclosure(0))
    decisions = [DecisionRef(decision_id=f"dec-{n}", bundle_revision="rev-1") for n in range(64)]
    validated, templated = [], []
    for _ in range(repeats):
        started = time.process_time()
        for n in range(count):
            disclosure(n)
        validated.append((time.process_time() - started) / count * 1e6)
        started = time.process_time()
        for n in range(count):
            template.entry(
                case_id=f"case-{n % 5}", started_at=T0, ended_at=T0, decision=decisions[n % 64]
            )
        templated.append((time.process_time() - started) / count * 1e6)
    return {
        "entry_build_validated_us": spread(validated, 1),
        "entry_build_template_us": spread(templated, 1),
    }


def fill(factory: sessionmaker[Session], log: AuditLog, target: int, batch: int) -> float:
    """Batched appends (append_many) from 4 threads until the log holds ``target`` entries."""
    with factory() as session:
        start_size = db_head_size(session)
    remaining = max(0, target - start_size)
    per_thread = remaining // 4
    entries = [disclosure(i) for i in range(batch)]

    def work(worker: int) -> int:
        todo = per_thread + (remaining % 4 if worker == 0 else 0)
        done = 0
        while done < todo:
            size = min(batch, todo - done)
            with transaction(factory) as session:
                log.append_many(session=session, entries=entries[:size])
            done += size
        return done

    count, elapsed = run_threads(4, work)
    return count / elapsed if elapsed else 0.0


def fill_sql(factory: sessionmaker[Session], target: int, chunk: int = 100_000) -> float:
    """Fill the log up to ``target`` entries quickly for the size-dependent measurements: the
    database builds each body from one entry's canonical JSON with its own index spliced in
    (as the single-append path does) and hashes it (RFC 6962 leaf), ``chunk`` per statement.
    Returns entries per second."""
    entry = disclosure(0)
    recorded_at = utcnow()
    # One salt for every filled entry: bench data, sized as real entries are.
    fields = entry_body(entry, index=_PLACEHOLDER, recorded_at=recorded_at, salt=new_salts(1)[0])
    prefix, suffix = _split_body(fast_canonical_json(fields))
    columns = _search_columns(entry)
    statement = text(
        "INSERT INTO audit_entry (idx, leaf_hash, body, recorded_at, "
        + ", ".join(columns)
        + ") SELECT r.n, sha256(decode('00', 'hex') || convert_to(r.body, 'UTF8')), r.body, "
        ":recorded_at, "
        + ", ".join(f":{name}" for name in columns)
        + " FROM (SELECT s.n, CAST(:prefix AS text) || s.n::text || CAST(:suffix AS text) AS body"
        " FROM (SELECT nextval('audit_index_seq') AS n FROM generate_series(1, :count)) AS s)"
        " AS r"
    )
    with factory() as session:
        start_size = db_head_size(session)
    remaining = max(0, target - start_size)
    started = time.perf_counter()
    done = 0
    while done < remaining:
        count = min(chunk, remaining - done)
        with transaction(factory) as session:
            session.execute(
                statement,
                {**columns, "recorded_at": recorded_at, "prefix": prefix.decode(),
                 "suffix": suffix.decode(), "count": count},
            )  # fmt: skip
        done += count
    elapsed = time.perf_counter() - started
    return done / elapsed if elapsed else 0.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_witness_process(log: AuditLog, directory: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A real witness (``ketenpoort witness serve``) on a loopback port, trusting ``log``."""
    from gateway.audit.witness import init_witness

    cosigner = init_witness(directory, "witness.bench.test/kp")
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "witness", "serve", "--dir", str(directory),
         "--log", log.signer.vkey(log.origin), "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if httpx.get(url + "/", timeout=1).status_code == 200:
                return process, f"{cosigner.verifier.vkey()} {url}"
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the witness did not start")


def bench_witnessing(
    factory: sessionmaker[Session], log: AuditLog, witness: str, *, threads: int,
    seconds: float, rounds: int, interval: float,
) -> dict[str, object]:  # fmt: skip
    """Committed single appends per second from ``threads`` writers while the checkpoint job
    runs every ``interval`` seconds, with witnessing off (sign only) and on (sign, then ask
    one witness over HTTP for its cosignature), interleaved ``rounds`` times."""
    from audit.anchors import witness_endpoint
    from gateway.audit.witnessing import Witnessing

    entries = [disclosure(n) for n in range(ENTRY_POOL)]
    witnessing = Witnessing([witness_endpoint(witness)], quorum=1)
    runs: dict[str, list[float]] = {"off": [], "on": []}
    signed: dict[str, list[int]] = {"off": [], "on": []}
    for _ in range(rounds):
        for mode in ("off", "on"):
            log.witnessing = witnessing if mode == "on" else None
            stop = threading.Event()
            count = [0]

            def checkpoints(counter: list[int] = count, halt: threading.Event = stop) -> None:
                while not halt.wait(interval):
                    if log.sign_checkpoint(factory) is not None:
                        counter[0] += 1

            job = threading.Thread(target=checkpoints)
            job.start()

            def work(worker: int) -> int:
                done, deadline = 0, time.perf_counter() + seconds
                while time.perf_counter() < deadline:
                    with transaction(factory) as session:
                        log.append(session=session, entry=entries[(worker + done) % ENTRY_POOL])
                    done += 1
                return done

            appended, elapsed = run_threads(threads, work)
            stop.set()
            job.join()
            runs[mode].append(appended / elapsed)
            signed[mode].append(count[0])
    log.witnessing = None
    with factory() as session:
        cosigned = session.execute(
            text("SELECT count(*) FROM audit_note_signature WHERE signer <> :o"), {"o": log.origin}
        ).scalar_one()
    off, on = statistics.median(runs["off"]), statistics.median(runs["on"])
    return {
        "threads": threads,
        "seconds": seconds,
        "checkpoint_interval_s": interval,
        "appends_per_s_witnessing_off": round(off),
        "appends_per_s_witnessing_on": round(on),
        "on_vs_off": round(on / off, 3),
        "runs_off": [round(r) for r in runs["off"]],
        "runs_on": [round(r) for r in runs["on"]],
        "checkpoints_signed_off": signed["off"],
        "checkpoints_signed_on": signed["on"],
        "checkpoints_cosigned": int(cosigned),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument(
        "--writers", type=_shape, nargs="+", default=[(1, 16), (2, 8), (4, 4)],
        help="processes x threads for the single-append test, e.g. 4x4 2x8",
    )  # fmt: skip
    parser.add_argument(
        "--kinds", nargs="+", default=["pgbench", "raw", "baseline", "append"],
        help="append, append-connection, baseline, raw, pgbench; +cdN runs with commit_delay "
        "N µs (append+cd100), +nowait with synchronous_commit off (append+nowait)",
    )  # fmt: skip
    parser.add_argument("--rounds", type=int, default=3, help="runs of each kind (min/median/max)")
    parser.add_argument("--only-single", action="store_true")
    parser.add_argument("--skip-single", action="store_true")
    parser.add_argument("--proofs", type=int, default=200)
    parser.add_argument(
        "--batched-entries", type=int, default=100_000,
        help="entries written through append_many (the rest up to --entries in the database)",
    )  # fmt: skip
    parser.add_argument(
        "--out", default="audit.json", help="file name in $KETENPOORT_BENCH_RESULTS (bench/results)"
    )
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument(
        "--entry-builds", type=int, default=20_000,
        help="entries built per repeat when timing one entry's construction",
    )  # fmt: skip
    parser.add_argument(
        "--stats-pause", type=float, default=1.2,
        help="seconds to wait for the server's WAL and commit counters before and after a kind",
    )  # fmt: skip
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--bulk-rows", type=int, default=10_000)
    parser.add_argument(
        "--only-witnessing", action="store_true",
        help="only appends per second with witnessing on and off (one run, interleaved)",
    )  # fmt: skip
    parser.add_argument("--witnessing-threads", type=int, default=16)
    parser.add_argument("--checkpoint-interval", type=float, default=1.0)
    args = parser.parse_args()

    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = database_name("audit")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    results: dict[str, object] = {"entries": args.entries, "database": "postgresql"}
    scratch = tempfile.TemporaryDirectory(prefix="kp-bench-audit-")
    try:
        upgrade_database(url)
        with psycopg.connect(_libpq_url(url), autocommit=True) as connection:
            connection.execute("CREATE SEQUENCE bench_pgbench_seq")
        engine = make_engine(url)
        factory = make_sessionmaker(engine)
        key_dir = Path(scratch.name) / "keys"
        log = AuditLog.from_key_dir(key_dir)

        results["load_average_before"] = [round(x, 2) for x in os.getloadavg()]
        results["cpus"] = os.cpu_count()
        if args.only_witnessing:
            witness, line = start_witness_process(log, key_dir.parent / "witness")
            try:
                found = bench_witnessing(
                    factory, log, line, threads=args.witnessing_threads, seconds=args.seconds,
                    rounds=args.rounds, interval=args.checkpoint_interval,
                )  # fmt: skip
            finally:
                witness.terminate()
                witness.wait(10)
            results["witnessing"] = found
            results["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
            print(f"single appends per second while checkpoints are signed every "
                  f"{args.checkpoint_interval}s: {found}")  # fmt: skip
            engine.dispose()
            _write_results(results, args.out)
            return
        writers: dict[str, object] = {}
        goals: list[dict[str, object]] = []
        for processes, threads in [] if args.skip_single else args.writers:
            shape = f"{processes}x{threads}"
            found: dict[str, dict[str, list[float]]] = {
                kind: {"rate": [], "cpu_us": [], "commits_per_wal_sync": []} for kind in args.kinds
            }
            for _ in range(args.rounds):  # kinds interleaved: the machine's load drifts
                for kind in args.kinds:
                    run = run_kind(
                        kind, url, key_dir, processes, threads, args.seconds, args.stats_pause
                    )
                    for figure, value in run.items():
                        found[kind][figure].append(value)
            rates: dict[str, object] = {}
            for kind, figures in found.items():
                rates[kind] = round(statistics.median(figures["rate"]))
                rates[f"{kind}_runs"] = [round(r) for r in figures["rate"]]
                rates[f"{kind}_per_s"] = spread(figures["rate"], 0)
                rates[f"{kind}_client_cpu_us_per_row"] = spread(figures["cpu_us"], 0)
                rates[f"{kind}_commits_per_wal_sync"] = spread(figures["commits_per_wal_sync"], 2)
            for kind in args.kinds:
                for other in ("baseline", "raw", "pgbench"):
                    if kind.startswith("append") and other in found:
                        # Per round (same minute, same load), then min/median/max.
                        ratios = [
                            a / b
                            for a, b in zip(found[kind]["rate"], found[other]["rate"], strict=True)
                        ]
                        rates[f"{kind}_vs_{other}"] = spread(ratios, 3)
            writers[shape] = rates
            for kind in ("append", "append-connection"):
                if kind not in found or "pgbench" not in found or processes * threads != 16:
                    continue
                unit = "" if kind == "append" else ", in a Core connection's transaction"
                ratio = rates[f"{kind}_vs_pgbench"]
                assert isinstance(ratio, dict)
                goals.append(
                    goal(
                        f"audit appends/s{unit}, {shape} writers, vs pgbench (16 clients)",
                        ratio["median"], op=">=", target=0.5, unit="x",
                        baseline="pgbench -M prepared inserting the same row, same run",
                    )
                )  # fmt: skip
                cpu_row = rates[f"{kind}_client_cpu_us_per_row"]
                assert isinstance(cpu_row, dict)
                goals.append(
                    goal(
                        f"client CPU per committed append{unit}, {shape} writers "
                        "(whole transaction)",
                        cpu_row["median"], op="<=", target=100, unit="us",
                    )
                )  # fmt: skip
            print(f"{processes} processes x {threads} threads, one entry per transaction: "
                  f"{json.dumps(rates)}")  # fmt: skip
        if not args.skip_single:
            results.update(bench_entry_build(args.entry_builds))
            print(f"building one entry: validated {results['entry_build_validated_us']} us, "
                  f"from a template {results['entry_build_template_us']} us")  # fmt: skip
        if goals:
            results["goals"] = goals
        results["host"] = host()
        results["single_appends_per_s_by_processes_x_threads"] = writers
        results["load_average_after_single"] = [round(x, 2) for x in os.getloadavg()]
        if args.only_single:
            _write_results(results, args.out)
            return

        bulk = bench_bulk(factory, log, args.bulk_rows)
        results.update(bulk)
        print(f"append_many of {args.bulk_rows:,} in one transaction: "
              f"{bulk['bulk_append_many_s']}s "
              f"(plain insert {bulk['bulk_baseline_plain_insert_s']}s); "
              f"building entries {bulk['bulk_build_validated_us_per_entry']} us validated, "
              f"{bulk['bulk_build_model_copy_us_per_entry']} us as template copies")  # fmt: skip

        batched = fill(factory, log, min(args.entries, args.batched_entries), args.batch)
        results["batched_appends_per_s"] = round(batched)
        results["batch_size"] = args.batch
        print(f"appends in batches of {args.batch}: {batched:,.0f}/s")
        if args.entries > args.batched_entries:
            rate = fill_sql(factory, args.entries)
            results["fill_in_database_entries_per_s"] = round(rate)
            print(f"filled up to {args.entries:,} in the database: {rate:,.0f}/s")
        results["load_average_after_fill"] = [round(x, 2) for x in os.getloadavg()]

        started = time.perf_counter()
        checkpoint = log.sign_checkpoint(factory)
        results["first_checkpoint_s"] = round(time.perf_counter() - started, 3)
        assert checkpoint is not None
        with transaction(factory) as session:
            log.append_many(session=session, entries=[disclosure(i) for i in range(1000)])
        started = time.perf_counter()
        log.sign_checkpoint(factory)
        results["incremental_checkpoint_1000_s"] = round(time.perf_counter() - started, 3)
        print(f"checkpoint over {checkpoint.tree_size:,}: {results['first_checkpoint_s']}s; "
              f"+1000 entries: {results['incremental_checkpoint_1000_s']}s")  # fmt: skip

        with factory() as session:
            checkpoints = db_checkpoints(session)
            size = db_head_size(session)
        started = time.perf_counter()
        verified = verify_log(
            db_entries(factory), checkpoints, [log.signer.public_key], expected_size=size
        )
        elapsed = time.perf_counter() - started
        assert verified.ok, verified.problems
        results["verified_entries"] = verified.entries
        results["verify_entries_per_min"] = round(verified.entries / elapsed * 60)
        print(f"verify {verified.entries:,} entries: {elapsed:.1f}s "
              f"= {verified.entries / elapsed * 60:,.0f}/min")  # fmt: skip

        timings, checks = [], []
        with factory() as session:
            for index in random.sample(range(size - 1000), args.proofs):
                started = time.perf_counter()
                receipt = receipt_for(session, index=index)
                timings.append(time.perf_counter() - started)
                assert receipt.checkpoint is not None
                assert receipt.inclusion_proof is not None
                started = time.perf_counter()
                verify_inclusion(  # raises ProofError when the proof is wrong
                    index,
                    receipt.checkpoint.tree_size,
                    bytes.fromhex(receipt.leaf_hash),
                    [bytes.fromhex(node) for node in receipt.inclusion_proof],
                    bytes.fromhex(receipt.checkpoint.root_hash),
                )
                checks.append(time.perf_counter() - started)
        timings.sort()
        results["inclusion_proofs"] = args.proofs
        results["inclusion_proof_tree_size"] = size
        results["inclusion_proof_ms_median"] = round(statistics.median(timings) * 1000, 2)
        results["inclusion_proof_ms_p99"] = round(timings[int(len(timings) * 0.99) - 1] * 1000, 2)
        results["inclusion_proof_ms_max"] = round(timings[-1] * 1000, 2)
        results["inclusion_proof_verify_us_median"] = round(statistics.median(checks) * 1e6, 1)
        results["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
        print(f"inclusion proof at {size:,}: median {results['inclusion_proof_ms_median']} ms, "
              f"p99 {results['inclusion_proof_ms_p99']} ms, max "
              f"{results['inclusion_proof_ms_max']} ms; checking one "
              f"{results['inclusion_proof_verify_us_median']} us")  # fmt: skip
        engine.dispose()
    finally:
        scratch.cleanup()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    _write_results(results, args.out)


def _write_results(results: dict[str, object], name: str) -> None:
    out = results_path(name)
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")


def _shape(value: str) -> tuple[int, int]:
    processes, _, threads = value.partition("x")
    return int(processes), int(threads)


if __name__ == "__main__":
    main()
