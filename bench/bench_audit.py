"""Benchmark of the audit log on PostgreSQL: committed appends per second (one entry per
transaction from many threads, and batched), verification speed, checkpoint signing and
inclusion-proof time at the full size.

    .venv/bin/python bench/bench_audit.py                      # 100k entries
    .venv/bin/python bench/bench_audit.py --entries 1000000    # the 1M figure

Writes bench/results/audit.json. The baseline is the same insert without any index
reservation (what an unordered log would cost), measured in the same run, as is the previous
design (the head row locked through the commit) for comparison. ``--bulk-rows`` sizes the
retention sweeper's bulk path (append_many in one transaction against a plain insert).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from audit import AuditLog, receipt_for  # noqa: E402
from audit.entry import canonical_json, entry_body  # noqa: E402
from audit.export import db_checkpoints, db_entries, db_head_size  # noqa: E402
from audit.merkle import leaf_hash, verify_inclusion  # noqa: E402
from audit.models import AuditRecord  # noqa: E402
from audit.verify import verify_log  # noqa: E402
from gateway.db import make_engine, make_sessionmaker, transaction, upgrade_database, utcnow  # noqa: E402
from tests.audit.builders import disclosure  # noqa: E402

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


def bench_single_appends(
    factory: sessionmaker[Session], log: AuditLog, threads: int, seconds: float
) -> float:
    def work(worker: int) -> int:
        done, deadline = 0, time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            with transaction(factory) as session:
                log.append(session=session, entry=disclosure(worker * 100_000 + done))
            done += 1
        return done

    count, elapsed = run_threads(threads, work)
    return count / elapsed


def bench_unordered_baseline(factory: sessionmaker[Session], threads: int, seconds: float) -> float:
    """The same row insert, one per transaction, without the head lock (indexes far apart)."""

    def work(worker: int) -> int:
        done, deadline = 0, time.perf_counter() + seconds
        base = 10**12 + worker * 10**9
        while time.perf_counter() < deadline:
            entry = disclosure(done)
            body = canonical_json(entry_body(entry, index=base + done, recorded_at=utcnow()))
            with transaction(factory) as session:
                session.execute(
                    insert(AuditRecord),
                    [
                        {
                            "index": base + done,
                            "leaf_hash": leaf_hash(body),
                            "body": body.decode(),
                            "recorded_at": utcnow(),
                            "covenant_id": "bench",
                            "activity": "disclosure",
                            "outcome": "disclosed",
                            "clause_ids": "",
                            "data_owners": "",
                            "started_at": entry.started_at,
                        }
                    ],
                )
            done += 1
        return done

    count, elapsed = run_threads(threads, work)
    with transaction(factory) as session:
        session.execute(text("DELETE FROM audit_entry WHERE idx >= 1000000000000"))
    return count / elapsed


def bench_head_lock(factory: sessionmaker[Session], threads: int, seconds: float) -> float:
    """The previous design, for comparison: the baseline insert with the head row locked
    (``UPDATE ... RETURNING``) in the same transaction, so the lock is held through COMMIT."""

    def work(worker: int) -> int:
        done, deadline = 0, time.perf_counter() + seconds
        base = 2 * 10**12 + worker * 10**9
        while time.perf_counter() < deadline:
            entry = disclosure(done)
            body = canonical_json(entry_body(entry, index=base + done, recorded_at=utcnow()))
            with transaction(factory) as session:
                session.execute(
                    text("UPDATE audit_head SET next_index = next_index WHERE id = 1 "
                         "RETURNING next_index")
                )  # fmt: skip
                session.execute(insert(AuditRecord), [_row(base + done, body, entry.started_at)])
            done += 1
        return done

    count, elapsed = run_threads(threads, work)
    with transaction(factory) as session:
        session.execute(text("DELETE FROM audit_entry WHERE idx >= 1000000000000"))
    return count / elapsed


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
        _row(3 * 10**12 + n, canonical_json(entry_body(e, index=n, recorded_at=utcnow())),
             e.started_at)
        for n, e in enumerate(validated)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--bulk-rows", type=int, default=10_000)
    args = parser.parse_args()

    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"kp_bench_{secrets.token_hex(4)}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    results: dict[str, object] = {"entries": args.entries, "database": "postgresql"}
    try:
        upgrade_database(url)
        engine = make_engine(url)
        factory = make_sessionmaker(engine)
        log = AuditLog.from_key_dir(Path(tempfile.mkdtemp()) / "keys")

        results["load_average_before"] = [round(x, 2) for x in os.getloadavg()]
        results["cpus"] = os.cpu_count()
        baseline = bench_unordered_baseline(factory, args.threads, args.seconds)
        single = bench_single_appends(factory, log, args.threads, args.seconds)
        head_lock = bench_head_lock(factory, args.threads, args.seconds)
        results["threads"] = args.threads
        results["baseline_unordered_inserts_per_s"] = round(baseline)
        results["single_entry_commits_per_s"] = round(single)
        results["single_vs_baseline"] = round(single / baseline, 3)
        results["previous_head_lock_commits_per_s"] = round(head_lock)
        print(f"appends, one per transaction, {args.threads} threads: {single:,.0f}/s "
              f"(unordered baseline {baseline:,.0f}/s, "
              f"previous head-lock design {head_lock:,.0f}/s)")  # fmt: skip

        bulk = bench_bulk(factory, log, args.bulk_rows)
        results.update(bulk)
        print(f"append_many of {args.bulk_rows:,} in one transaction: "
              f"{bulk['bulk_append_many_s']}s "
              f"(plain insert {bulk['bulk_baseline_plain_insert_s']}s); "
              f"building entries {bulk['bulk_build_validated_us_per_entry']} us validated, "
              f"{bulk['bulk_build_model_copy_us_per_entry']} us as template copies")  # fmt: skip

        batched = fill(factory, log, args.entries, args.batch)
        results["batched_appends_per_s"] = round(batched)
        results["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
        results["batch_size"] = args.batch
        print(f"appends in batches of {args.batch}: {batched:,.0f}/s")

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

        timings = []
        with factory() as session:
            for index in random.sample(range(size - 1000), 50):
                started = time.perf_counter()
                receipt = receipt_for(session, index=index)
                timings.append(time.perf_counter() - started)
                assert receipt.checkpoint is not None
                assert receipt.inclusion_proof is not None
                verify_inclusion(
                    index,
                    receipt.checkpoint.tree_size,
                    bytes.fromhex(receipt.leaf_hash),
                    [bytes.fromhex(node) for node in receipt.inclusion_proof],
                    bytes.fromhex(receipt.checkpoint.root_hash),
                )
        results["inclusion_proof_ms_median"] = round(statistics.median(timings) * 1000, 2)
        results["inclusion_proof_ms_max"] = round(max(timings) * 1000, 2)
        print(f"inclusion proof at {size:,}: median {results['inclusion_proof_ms_median']} ms")
        engine.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    out = Path(__file__).parent / "results" / "audit.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
