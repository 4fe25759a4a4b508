"""The goals the benchmarks measure against, in one format, and the table ``make bench`` prints.

Every ``bench_*.py`` adds to its JSON result a ``"goals"`` list built with :func:`goal` (one
row per figure an issue sets a goal for) and a ``"host"`` block from :func:`host`. Runs of a
figure are summarised by :func:`spread` (min/median/max over at least three runs). Every
bench writes its JSON to :func:`results_path`: the directory ``$KETENPOORT_BENCH_RESULTS``,
by default ``bench/results``. After the benchmarks, ``python bench/goals.py`` reads every
``*.json`` there and prints each figure next to its goal:

    .venv/bin/python bench/goals.py [--results DIR]

It exits 0 whether or not goals are met: a missed goal is a finding, not a failure.
"""

from __future__ import annotations

import argparse
import json
import operator
import os
import secrets
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
#: The one setting of where the benches write (tests/bench runs them into a temporary directory).
RESULTS_ENV = "KETENPOORT_BENCH_RESULTS"

_COMPARE = {"<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt}


def results_dir() -> Path:
    """``$KETENPOORT_BENCH_RESULTS`` when set, else ``bench/results``."""
    return Path(os.environ.get(RESULTS_ENV) or RESULTS)


def results_path(name: str | Path) -> Path:
    """Where a bench writes its result ``name`` (``"audit.json"``): in :func:`results_dir`,
    which is created if missing. An absolute ``name`` is used as it is."""
    path = results_dir() / name
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def database_name(bench: str) -> str:
    """A name for a PostgreSQL database a bench creates and drops again: ``kp_bench_``, the
    bench, this process's id and a random part, so a database left behind names the bench
    and process that made it (tests/bench checks that none is)."""
    return f"kp_bench_{bench}_{os.getpid()}_{secrets.token_hex(3)}"


def spread(values: Sequence[float], digits: int = 3) -> dict[str, Any]:
    """min/median/max of a figure's runs (at least three runs are expected)."""
    if not values:
        raise ValueError("no runs to summarise")
    return {
        "runs": len(values),
        "min": round(min(values), digits),
        "median": round(statistics.median(values), digits),
        "max": round(max(values), digits),
    }


def host() -> dict[str, Any]:
    """What the figures were measured on: CPU count and the load average when this is called."""
    return {"cpus": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()]}


def goal(
    measure: str,
    value: float,
    *,
    op: str,
    target: float,
    unit: str,
    baseline: str | None = None,
) -> dict[str, Any]:
    """One figure against its goal, e.g. ``goal("mediated/bare throughput", 0.42, op=">=",
    target=0.6, unit="x", baseline="bare FastAPI + PostgreSQL read")``. ``value`` is the
    median over the runs; ``baseline`` names what a ratio is measured against in the same run."""
    if op not in _COMPARE:
        raise ValueError(f"op must be one of {sorted(_COMPARE)}")
    return {
        "measure": measure,
        "value": value,
        "unit": unit,
        "goal": f"{op} {target:g} {unit}".strip(),
        "met": bool(_COMPARE[op](value, target)),
        "baseline": baseline,
    }


def rows(results: Path) -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    for path in sorted(results.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            print(f"{path.name}: unreadable ({exc})", file=sys.stderr)
            continue
        for row in data.get("goals", []) if isinstance(data, dict) else []:
            found.append((path.stem, row))
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=results_dir())
    args = parser.parse_args(argv)
    found = rows(args.results)
    if not found:
        print(f"no goals recorded in {args.results}/*.json: run the benchmarks first")
        return 0
    width = max(len(f"{bench}: {row['measure']}") for bench, row in found)
    for bench, row in found:
        label = f"{bench}: {row['measure']}"
        mark = "met" if row["met"] else "MISSED"
        value = f"{row['value']:g} {row['unit']}".strip()
        against = f"  (vs {row['baseline']})" if row.get("baseline") else ""
        print(f"{label:<{width}}  {value:>14}  goal {row['goal']:<14} {mark}{against}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
