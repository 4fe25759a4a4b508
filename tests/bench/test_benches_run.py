"""Every benchmark in bench/ runs to its end at its smallest size and writes its JSON.

The benches are scripts no other test imports: two of them broke without anyone noticing
(bench_retention failed after every sync run until 3d74070, bench_cases stopped at the
gateway's start until df340c9). Each one here runs as ``make bench`` runs it (its own
process, from the repository's root) with ``KETENPOORT_BENCH_RESULTS`` pointing into the
test's temporary directory, at sizes that measure nothing worth reading but take the
steps of a real run (bench_audit in its two halves; bench_reports in its history shape only,
the all-open one would add 8 s). A ``bench_*.py`` without an entry in ``RUNS`` fails
``test_every_bench_has_a_run``, so a new bench cannot be added untested.

The benches clean up after themselves: each runs with ``TMPDIR`` in an empty directory
that must be empty again afterwards, and no database named for its process
(bench/goals.py ``database_name``) may be left on the server.

On PostgreSQL as tests/conftest.py does: skipped when no server answers, unless CI=true.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import IN_CI
from tests.conftest import PG_URL as TEST_PG_URL

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"
TEST_PG, BENCH_PG = "KETENPOORT_TEST_POSTGRES_URL", "KETENPOORT_BENCH_POSTGRES_URL"
#: The server each bench creates its databases on, by the variable it reads (its default).
POSTGRES_URLS = {
    TEST_PG: TEST_PG_URL,
    BENCH_PG: os.environ.get(
        "KETENPOORT_BENCH_POSTGRES_URL",
        "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
    ),
}
TIMEOUT_SECONDS = 300


@dataclasses.dataclass(frozen=True)
class Run:
    """One run of a bench: its arguments, the file it writes, whether it records goals at
    this size, and the PostgreSQL variable it needs (``None``: no database server)."""

    args: str
    writes: str
    goals: bool = False
    postgres: str | None = None
    check: Callable[[dict[str, Any]], None] | None = None


def _no_errors(result: dict[str, Any]) -> None:
    """A mediated read that failed is counted, not raised: at this size every one answers."""
    for kind in ("bare", "baseline", "mediated"):
        assert result[kind]["errors"] == 0, (kind, result[kind])
        for phase in result["fixed_rate"]:
            assert phase[kind]["errors"] == 0, (kind, phase[kind])


def _reports_goals(backends: set[str]) -> Callable[[dict[str, Any]], None]:
    def check(result: dict[str, Any]) -> None:
        # bench_reports leaves out a server it cannot reach (a SQLite-only run): here it ran.
        assert {row["backend"] for row in result["rows"]} == backends
        # Its goals are issue 20's at 50,000 cases, a size this test cannot afford: the rows of
        # the small run go through the same goal rows as if they were that size.
        goals = _bench_module("bench_reports")._goal_rows(
            [{**row, "cases": 50000} for row in result["rows"]]
        )
        # The report, its quarter and year replayed and with the months kept, and five first
        # pages per row; tenth pages need more than 1,000 cases.
        assert len(goals) == 10 * len(result["rows"])
        # The kept months publish what the replay publishes.
        assert all(row["steering_report_months_kept_equal_replayed"] for row in result["rows"])
        _assert_goals(goals)

    return check


EXCHANGE = (
    "--workers 1 --rows 5 --requests 50 --concurrency 4 --rate 50 --seconds 0.5 "
    "--max-inflight 8 --rounds 1 --checkpoint-interval 1"
)
REPORTS = "--sizes 1000 --shapes history --runs 3 --old-runs 3"
# The smallest arguments each bench accepts (bench_reports refuses fewer than 3 runs).
# bench_adapters, _cases, _framework and _tokens record no goals: no issue sets one for them.
RUNS: dict[str, list[Run]] = {
    "bench_adapters": [Run("--rows 100 --calls 50 --repeats 1", "adapters.json")],
    "bench_audit": [
        # Goals are recorded for 16 writers against pgbench. Each kind costs a spawned writer
        # process however short its run; the pause for the server's WAL counters (1.2 s
        # before and after each kind) and the entry-building loop are shortened here, where
        # no figure is read.
        Run(
            "--only-single --writers 1x16 --seconds 1 --rounds 1 --entry-builds 500 "
            "--stats-pause 0.1",
            "audit.json",
            goals=True,
            postgres=TEST_PG,
        ),
        Run(
            "--skip-single --entries 3000 --batched-entries 2000 --bulk-rows 200 --proofs 20 "
            "--out audit_log.json",
            "audit_log.json",
            postgres=TEST_PG,
        ),
    ],
    "bench_cases": [Run("--rows 20", "cases.json")],
    "bench_crypto": [
        Run("--ops 20 --rounds 2 --runs 1 --skip-postgres", "crypto.json", goals=True),
        Run(
            "--ops 20 --rounds 2 --runs 1 --rows 200 --lookups 20",
            "crypto.json",
            goals=True,
            postgres=BENCH_PG,
        ),
    ],
    "bench_exchange": [
        Run(EXCHANGE, "exchange.json", goals=True, postgres=BENCH_PG, check=_no_errors)
    ],
    "bench_framework": [Run("--requests 200", "framework.json")],
    "bench_policy": [
        Run("--decisions 50 --runs 1 --sidecar-decisions 50", "policy.json", goals=True)
    ],
    "bench_reports": [
        Run(f"{REPORTS} --no-postgres", "reports.json", check=_reports_goals({"sqlite"})),
        Run(
            REPORTS,
            "reports.json",
            postgres=TEST_PG,
            check=_reports_goals({"sqlite", "postgresql"}),
        ),
    ],
    "bench_retention": [
        Run("--rows 1000 --runs 1 --backend sqlite", "retention_sqlite.json", goals=True),
        Run("--rows 1000 --runs 1", "retention.json", goals=True, postgres=BENCH_PG),
        Run(
            "--rows 1000 --runs 1 --shape synced",
            "retention_synced.json",
            goals=True,
            postgres=BENCH_PG,
        ),
    ],
    "bench_tokens": [Run("--rounds 1", "tokens.json")],
}


def _cases() -> list[Any]:
    return [
        pytest.param(
            bench,
            run,
            id=f"{bench}-{'postgresql' if run.postgres else 'local'}-{number}",
            marks=[pytest.mark.postgres] if run.postgres else [],
        )
        for bench, runs in RUNS.items()
        for number, run in enumerate(runs)
    ]


def test_every_bench_has_a_run() -> None:
    found = {path.stem for path in BENCH.glob("bench_*.py")}
    assert found == set(RUNS), "add each bench_*.py to RUNS at its smallest size"


@pytest.mark.parametrize(("bench", "run"), _cases())
def test_bench_runs_and_writes_its_goals(bench: str, run: Run, tmp_path: Path) -> None:
    server = _server(run.postgres) if run.postgres else None
    results, scratch = tmp_path / "results", tmp_path / "tmp"
    scratch.mkdir()
    env = {
        **os.environ,
        "KETENPOORT_BENCH_RESULTS": str(results),
        "TMPDIR": str(scratch),
    }
    started = time.perf_counter()
    done = subprocess.Popen(
        [sys.executable, str(BENCH / f"{bench}.py"), *run.args.split()],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _, stderr = done.communicate(timeout=TIMEOUT_SECONDS)
    finally:
        if done.poll() is None:
            done.kill()
            done.communicate()
    took = time.perf_counter() - started
    assert done.returncode == 0, f"{bench} exited {done.returncode}:\n{stderr[-4000:]}"

    result = json.loads((results / run.writes).read_text(encoding="utf-8"))
    assert isinstance(result, dict)
    assert result, f"{bench} wrote an empty result"
    if run.goals:
        assert result.get("goals"), f"{bench} recorded no goals ({took:.1f} s)"
    _assert_goals(result.get("goals", []))
    if run.check is not None:
        run.check(result)
    assert not list(scratch.iterdir()), f"{bench} left temporary files behind"
    if server is not None:
        left = [name for name in server() if f"_{done.pid}_" in name]
        assert not left, f"{bench} left its databases behind: {left}"


def test_goals_table_reads_the_results_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    goals = _bench_module("goals")
    row = goals.goal("a figure", 3.0, op="<=", target=5, unit="ms")
    (tmp_path / "some.json").write_text(json.dumps({"goals": [row]}), encoding="utf-8")
    monkeypatch.setenv("KETENPOORT_BENCH_RESULTS", str(tmp_path))

    assert goals.results_path("other.json") == tmp_path / "other.json"
    assert goals.main([]) == 0
    assert "some: a figure" in capsys.readouterr().out

    monkeypatch.delenv("KETENPOORT_BENCH_RESULTS")
    assert goals.results_path("other.json") == BENCH / "results" / "other.json"


def _assert_goals(goals: list[dict[str, Any]]) -> None:
    for row in goals:
        value = row["value"]
        assert isinstance(value, int | float), row
        assert not isinstance(value, bool), row
        assert math.isfinite(value), row
        assert row["measure"], row
        assert isinstance(row["met"], bool), row


@functools.cache
def _bench_module(name: str) -> Any:
    """A bench's module, loaded from its file (bench/ is no package); its imports of
    ``goals`` find bench/goals.py."""
    if str(BENCH) not in sys.path:
        sys.path.append(str(BENCH))
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", BENCH / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _server(variable: str) -> Callable[[], list[str]]:
    """The names of the databases on the bench's server (to find one it left behind);
    skips, or under CI fails, when no server answers."""
    url = POSTGRES_URLS[variable]
    error = _unreachable(url)
    if error is not None:
        message = (
            f"PostgreSQL bench skipped: no server at {url} ({error}). To run it, start "
            f"PostgreSQL with trust auth for user postgres (or set {variable} to a URL of a user "
            "who may CREATE DATABASE); with CI=true it is required."
        )
        if IN_CI:
            pytest.fail("CI=true but " + message, pytrace=False)
        pytest.skip(message)

    def databases() -> list[str]:
        engine = create_engine(url, connect_args={"connect_timeout": 5})
        try:
            with engine.connect() as connection:
                return list(connection.scalars(text("SELECT datname FROM pg_database")))
        finally:
            engine.dispose()

    return databases


@functools.cache
def _unreachable(url: str) -> str | None:
    engine = create_engine(url, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means: not reachable
        return type(exc).__name__
    finally:
        engine.dispose()
    return None
