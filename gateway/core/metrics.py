"""Prometheus metrics (``prometheus-client``): what an operator watches (docs/operations.md).

No label carries personal data or an identifier: labels are route templates, methods, status
codes, decision outcomes and reason codes, covenant ids and pool states, each a small fixed
vocabulary. Counters live in the process that counts; with several uvicorn workers, ``serve``
sets ``PROMETHEUS_MULTIPROC_DIR`` and a scrape adds up every worker's files. What the
database knows (the newest checkpoint, the last retention sweep) is read at scrape time.

Exposed on ``KETENPOORT_METRICS_PORT`` (a listener of its own, for a network only Prometheus
reaches) and/or at ``/metrics`` on the API port behind ``KETENPOORT_METRICS_TOKEN``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import Engine, text

REQUESTS = Counter(
    "ketenpoort_http_requests",
    "Requests answered, by route template and status.",
    ["method", "route", "status"],
)
REQUEST_SECONDS = Histogram(
    "ketenpoort_http_request_duration_seconds",
    "Time to answer a request, by route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
DECISIONS = Counter(
    "ketenpoort_policy_decisions",
    "Recorded decisions by outcome; redacted categories by their reason code.",
    ["outcome", "reason"],
)
DISCLOSURES = Counter(
    "ketenpoort_disclosures",
    "Audit entries that disclosed at least one category.",
    ["covenant"],
)
AUDIT_APPEND_SECONDS = Histogram(
    "ketenpoort_audit_append_duration_seconds",
    "Time to append one audit entry (inside the request's transaction).",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1),
)
TOKEN_REPLAYS = Counter(
    "ketenpoort_token_replays_refused", "Tokens refused because their jti was used before."
)
POOL_IN_USE = Gauge(
    "ketenpoort_db_pool_connections_in_use",
    "Database connections checked out of the pools.",
    multiprocess_mode="livesum",
)
POOL_CAPACITY = Gauge(
    "ketenpoort_db_pool_capacity",
    "Connections the pools may open (pool size + max overflow, all workers).",
    multiprocess_mode="livesum",
)


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(method, route, str(status)).inc()
    REQUEST_SECONDS.labels(method, route).observe(seconds)


def instrument_pool(engine: Engine, capacity: int) -> None:
    """Count checked-out connections (PostgreSQL pools; SQLite's is per thread)."""
    from sqlalchemy import event

    POOL_CAPACITY.inc(capacity)

    @event.listens_for(engine, "checkout")
    def _checkout(*_: Any) -> None:
        POOL_IN_USE.inc()

    @event.listens_for(engine, "checkin")
    def _checkin(*_: Any) -> None:
        POOL_IN_USE.dec()


class DatabaseCollector(Collector):
    """Gauges read from the database at scrape time: the age of the newest signed audit
    checkpoint and the state of the last retention sweep. A database that cannot answer
    gives ``ketenpoort_metrics_database_up 0`` (and the readiness probe says more)."""

    def __init__(self, engine: Engine, log_origin: str) -> None:
        self._engine = engine
        self._log_origin = log_origin

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily(
            "ketenpoort_metrics_database_up", "1 when the scrape could read the database."
        )
        try:
            with self._engine.connect() as connection:
                newest = connection.execute(
                    text("SELECT MAX(signed_at) FROM audit_checkpoint")
                ).scalar()
                # Every signature line but the log's own is a witness's cosignature.
                witnessed = connection.execute(
                    text(
                        "SELECT signer, MAX(signed_at) FROM audit_note_signature "
                        "WHERE signer <> :origin GROUP BY signer ORDER BY signer"
                    ),
                    {"origin": self._log_origin},
                ).all()
                sweep = connection.execute(
                    text(
                        "SELECT started_at, finished_at, status, redacted FROM retention_run "
                        "WHERE dry_run = :no ORDER BY started_at DESC LIMIT 1"
                    ),
                    {"no": False},
                ).first()
                failed = connection.execute(
                    text("SELECT COUNT(*) FROM retention_run WHERE status = 'failed'")
                ).scalar_one()
        except Exception:  # noqa: BLE001 - a scrape must not fail because the database did
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        now = datetime.now(UTC)
        age = GaugeMetricFamily(
            "ketenpoort_audit_checkpoint_age_seconds",
            "Seconds since the newest signed audit checkpoint (absent: none signed yet).",
        )
        if newest is not None:
            age.add_metric([], (now - _aware(newest)).total_seconds())
        yield age
        # Per witness (an operator-configured key name, never personal data): a witness
        # that stops cosigning shows here before the quorum fails.
        witnessed_age = GaugeMetricFamily(
            "ketenpoort_audit_witnessed_checkpoint_age_seconds",
            "Seconds since the newest checkpoint the witness cosigned (absent: none yet).",
            labels=["witness"],
        )
        for signer, signed_at in witnessed:
            witnessed_age.add_metric([signer], (now - _aware(signed_at)).total_seconds())
        yield witnessed_age
        yield from _sweep_metrics(sweep, int(failed), now)


def _sweep_metrics(sweep: Any, failed: int, now: datetime) -> Iterator[GaugeMetricFamily]:
    running = GaugeMetricFamily(
        "ketenpoort_retention_sweep_running", "1 while the last retention sweep is running."
    )
    redacted = GaugeMetricFamily(
        "ketenpoort_retention_sweep_cases_erased",
        "Cases the last retention sweep erased so far (its progress).",
    )
    since = GaugeMetricFamily(
        "ketenpoort_retention_sweep_last_finished_age_seconds",
        "Seconds since the last retention sweep finished.",
    )
    failures = GaugeMetricFamily(
        "ketenpoort_retention_sweep_failed_runs", "Retention sweeps recorded as failed."
    )
    failures.add_metric([], failed)
    if sweep is not None:
        running.add_metric([], 1 if sweep.status == "running" else 0)
        redacted.add_metric([], sweep.redacted or 0)
        if sweep.finished_at is not None:
            since.add_metric([], (now - _aware(sweep.finished_at)).total_seconds())
    yield from (running, redacted, since, failures)


def _aware(moment: Any) -> datetime:
    value: datetime = moment if isinstance(moment, datetime) else datetime.fromisoformat(moment)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def multiprocess() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def scrape(engine: Engine, log_origin: str) -> bytes:
    """The exposition text: every worker's counters and the database's gauges."""
    database = CollectorRegistry(auto_describe=True)
    database.register(DatabaseCollector(engine, log_origin))
    if multiprocess():
        workers = CollectorRegistry()
        MultiProcessCollector(workers)  # type: ignore[no-untyped-call]
        return generate_latest(workers) + generate_latest(database)
    return generate_latest(REGISTRY) + generate_latest(database)


def start_metrics_server(port: int, host: str, database_url: str, log_origin: str) -> None:
    """The metrics listener of ``serve``, in the supervising process: its own connection to
    the database, opened per scrape and closed after (NullPool)."""
    from prometheus_client import start_http_server
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    engine = create_engine(database_url, poolclass=NullPool)
    registry = CollectorRegistry()
    registry.register(DatabaseCollector(engine, log_origin))
    if multiprocess():
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(_Forward(REGISTRY))
    start_http_server(port, addr=host, registry=registry)


class _Forward(Collector):
    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Iterator[Any]:
        yield from self._registry.collect()
