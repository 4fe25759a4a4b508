"""Benchmark of the case workflow: what the engine, sealing, blind indexes and the audit log
cost per operation, against plain SQL doing the bare minimum in the same database and run.

1. Intake: ``register_report`` (blind indexes, known-case lookup, sealing the address, report
   and persons, team, audit entry) against a baseline INSERT of one unsealed row per case.
2. Transitions: ``apply_transition`` (visibility, actor, facts, guards, history, measure,
   audit entry) against a baseline ``UPDATE case_file SET state=...``.
3. Deadlines: ``partner_deadlines`` for the lead partner over N open cases, against a plain
   SELECT of the same cases; reports the time per open case.
4. Steering report over N cases.

Each operation runs in its own committed transaction, as a request would. Default: 300 cases
on SQLite in a temporary directory (``--rows`` for more, ``--database-url`` for PostgreSQL).
Writes cases.json to bench/results (``$KETENPOORT_BENCH_RESULTS``).
Run: .venv/bin/python bench/bench_cases.py [--rows N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from goals import results_path  # noqa: E402
from sqlalchemy import text  # noqa: E402

from gateway.auth.principal import Principal  # noqa: E402
from gateway.cases.intake import register_report  # noqa: E402
from gateway.cases.overview import partner_deadlines, steering_report  # noqa: E402
from gateway.cases.runtime import CaseRuntime  # noqa: E402
from gateway.cases.schemas import IntakeRequest, TransitionRequest  # noqa: E402
from gateway.cases.steering import report_window  # noqa: E402
from gateway.cases.workflow import apply_transition  # noqa: E402
from gateway.config import Settings  # noqa: E402
from gateway.context import GatewayContext, build_context, partner_directory  # noqa: E402
from gateway.db import transaction  # noqa: E402
from gateway.policy.covenant import load_covenants  # noqa: E402

COVENANT = "rijswijk-woonoverlast"


def _principal(partner: str, kind: str, role: str) -> Principal:
    built = partner_directory(load_covenants()).principal(
        partner_id=partner,
        role=role,
        user="bench",
        token_id="bench",
        expires_at=datetime.now(UTC) + timedelta(hours=1),
    )
    assert (built.partner_kind, built.covenant_id) == (kind, COVENANT)
    return built


CORPORATION = _principal("rijswijk-wonen", "housing-corporation", "woonconsulent")
MAYOR = _principal("gemeente-rijswijk", "municipality", "casemanager")


def _report(i: int) -> IntakeRequest:
    return IntakeRequest.model_validate(
        {
            "dwelling": {
                "address": {"postcode": f"{2280 + i % 9} AB", "houseNumber": i + 1},
                "ownership": "corporation",
                "corporationId": "rijswijk-wonen",
                "district": f"wijk-{i % 6}",
            },
            "persons": [{"role": "causer", "name": f"Bench Persoon {i}"}],
            "report": {"channel": "phone", "description": f"Overlastmelding nummer {i}."},
        }
    )


def _timed(operation: Callable[[], Any], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        operation()
        times.append(time.perf_counter() - start)
    return times


def _summary(times: list[float]) -> dict[str, float]:
    return {
        "ops_per_second": round(len(times) / sum(times), 1),
        "median_ms": round(statistics.median(times) * 1000, 3),
        "p95_ms": round(sorted(times)[int(len(times) * 0.95) - 1] * 1000, 3),
    }


def bench_intake(
    context: GatewayContext, runtime: CaseRuntime, rows: int
) -> tuple[dict[str, Any], list[str]]:
    case_ids: list[str] = []
    counter = iter(range(rows))

    def intake() -> None:
        with transaction(context.session_factory) as session:
            result = register_report(
                session, runtime=runtime, principal=CORPORATION, request=_report(next(counter))
            )
            case_ids.append(result.case_id)

    measured = _timed(intake, rows)
    with context.engine.begin() as connection:
        connection.execute(
            text(
                "CREATE TABLE bench_plain (id INTEGER PRIMARY KEY, state TEXT, "
                "address TEXT, description TEXT)"
            )
        )
    plain_counter = iter(range(rows))

    def plain() -> None:
        i = next(plain_counter)
        with context.engine.begin() as connection:
            connection.execute(
                text("INSERT INTO bench_plain VALUES (:i, 'intake', :a, :d)"),
                {"i": i, "a": f"{2280 + i % 9}AB|{i + 1}|", "d": f"Melding {i}"},
            )

    baseline = _timed(plain, rows)
    return {
        "gateway": _summary(measured),
        "baseline_plain_insert": _summary(baseline),
        "ratio_median": round(statistics.median(measured) / statistics.median(baseline), 1),
    }, case_ids


def bench_transitions(
    context: GatewayContext, runtime: CaseRuntime, case_ids: list[str]
) -> dict[str, Any]:
    # Two transitions per case: classify-complex (lead moves) and form-team (a guard).
    steps = [(CORPORATION, "classify-complex"), (MAYOR, "form-team")]
    work = iter([(case_id, actor, name) for actor, name in steps for case_id in case_ids])

    def move() -> None:
        case_id, actor, name = next(work)
        with transaction(context.session_factory) as session:
            apply_transition(
                session,
                runtime=runtime,
                case_id=case_id,
                principal=actor,
                request=TransitionRequest(transition=name),
            )

    measured = _timed(move, 2 * len(case_ids))
    plain_work = iter(range(2 * len(case_ids)))

    def plain() -> None:
        i = next(plain_work)
        with context.engine.begin() as connection:
            connection.execute(
                text("UPDATE bench_plain SET state = :s WHERE id = :i"),
                {"s": f"state-{i}", "i": i % len(case_ids)},
            )

    baseline = _timed(plain, 2 * len(case_ids))
    return {
        "gateway": _summary(measured),
        "baseline_plain_update": _summary(baseline),
        "ratio_median": round(statistics.median(measured) / statistics.median(baseline), 1),
    }


def bench_overview(context: GatewayContext, runtime: CaseRuntime, rows: int) -> dict[str, Any]:
    def deadlines() -> None:
        with context.session_factory() as session:
            partner_deadlines(
                session,
                runtime=runtime,
                covenant_id=COVENANT,
                partner_id="gemeente-rijswijk",
                partner_kind="municipality",
            )

    def plain() -> None:
        with context.engine.connect() as connection:
            connection.execute(
                text("SELECT * FROM case_file WHERE covenant_id = :c"), {"c": COVENANT}
            ).all()

    window = report_window(date.today())

    def report() -> None:
        with context.session_factory() as session:
            steering_report(
                session,
                runtime=runtime,
                covenant_id=COVENANT,
                # The default window: the twelve months that have ended (review5a F1).
                period_from=window[0],
                period_to=window[1],
            )

    runs = 10
    measured, baseline, figures = _timed(deadlines, runs), _timed(plain, runs), _timed(report, runs)
    return {
        "open_cases": rows,
        "deadlines": _summary(measured),
        "deadlines_ms_per_open_case": round(statistics.median(measured) * 1000 / rows, 4),
        "baseline_plain_select": _summary(baseline),
        "ratio_median": round(statistics.median(measured) / statistics.median(baseline), 1),
        "steering_report": _summary(figures),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=300, help="cases to open (default 300)")
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temp dir")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            data_dir=Path(tmp),
            database_url=args.database_url,
            auto_migrate=True,
            # The demo's partners and keys; outside demo mode the gateway refuses the
            # example audit log origin and token audience (docs/operations.md).
            demo_mode=True,
            audit_checkpoint_interval_seconds=0,
        )
        context = build_context(settings)
        try:
            runtime: CaseRuntime = context.cases
            intake, case_ids = bench_intake(context, runtime, args.rows)
            transitions = bench_transitions(context, runtime, case_ids)
            overview = bench_overview(context, runtime, args.rows)
            backend = context.engine.dialect.name
            with context.engine.begin() as connection:
                connection.execute(text("DROP TABLE bench_plain"))
        finally:
            context.close()
    results = {
        "benchmark": "cases",
        "backend": backend,
        "rows": args.rows,
        "intake": intake,
        "transitions": transitions,
        "overview": overview,
    }
    results_path("cases.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
