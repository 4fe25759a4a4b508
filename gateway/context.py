"""The composition root: everything a running gateway holds, built once at start.

Each domain has one ``build(...)`` (in its ``wiring`` module) that takes exactly what it
needs as arguments and returns its typed service; :func:`build_context` calls them in
dependency order and schedules the background jobs. Nothing here is looked up by name, so
mypy checks every wire, and no domain imports this module to reach another domain: the
arrows point from here to the domains, never back (tests/standards/test_import_graph.py).
"""

from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from gateway.audit import AuditLog
from gateway.audit import wiring as audit_wiring
from gateway.auth import wiring as auth_wiring
from gateway.auth.dev import dev_jwks_dir, ensure_dev_keys
from gateway.auth.keys import TrustStore
from gateway.auth.service import PartnerDirectory, TokenVerifier
from gateway.cases import wiring as cases_wiring
from gateway.cases.runtime import CaseRuntime
from gateway.cases.snapshots import keep_state_figures
from gateway.config import Settings, token_audience_problem
from gateway.core import pagination
from gateway.core.jobs import PeriodicJob
from gateway.core.readiness import ReadinessCheck, ReadinessChecks
from gateway.covenant_package import load_covenant_package
from gateway.crypto import wiring as crypto_wiring
from gateway.crypto.runtime import CryptoServices
from gateway.db import SchemaScript, make_engine, make_sessionmaker, prepare_database
from gateway.exchange import wiring as exchange_wiring
from gateway.policy import wiring as policy_wiring
from gateway.policy.covenant import Covenant
from gateway.policy.engine import PolicyEngine
from gateway.retention import wiring as retention_wiring
from gateway.retention.wiring import RetentionService
from gateway.web import wiring as web_wiring
from gateway.web.oidc import OidcClient

__all__ = ["GatewayContext", "ReadinessCheck", "build_context", "partner_directory"]


@dataclass
class GatewayContext:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    covenants: dict[str, Covenant]
    partners: PartnerDirectory
    verifier: TokenVerifier
    #: The policy decision point; without a loaded bundle it denies everything.
    policy: PolicyEngine
    #: Field encryption and blind indexes; ``None`` when the key provider is misconfigured
    #: (the gateway runs not-ready and :meth:`require_keys` answers 503).
    keys: CryptoServices | None
    audit: AuditLog
    #: ``None`` when the retention rules are invalid (not ready, no sweep).
    retention: RetentionService | None
    cases: CaseRuntime
    #: The OIDC client of the pages' sign-in, when an issuer is configured.
    oidc: OidcClient | None
    #: Threads of the hot routes: long-lived, unlike the anyio pool's (those exit after 10 s
    #: idle), because each thread builds per-thread state on first use (its regorus engine
    #: compiles the policy, about 10 ms): a burst that spawned fresh threads stalled the
    #: worker for up to a second while they compiled. The executor starts its threads on
    #: first use; they drop their engines themselves (a regorus engine must not be dropped
    #: on another thread).
    hot_threads: ThreadPoolExecutor
    readiness_checks: ReadinessChecks = field(default_factory=dict)
    #: This code's migrations: the ``database`` readiness check compares the schema with it.
    schema: SchemaScript | None = None
    #: Background jobs (checkpoints, retention sweep, token purge): started by
    #: :meth:`start_job`, stopped by :meth:`close`.
    jobs: list[PeriodicJob[GatewayContext]] = field(default_factory=list)

    def require_keys(self) -> CryptoServices:
        """The key services, or 503: nothing personal is read or stored without them."""
        return crypto_wiring.require(self.keys)

    def require_retention(self) -> RetentionService:
        """The retention service, or 503 when its rules did not load."""
        return retention_wiring.require(self.retention)

    def start_job(self, job: PeriodicJob[GatewayContext]) -> PeriodicJob[GatewayContext]:
        self.jobs.append(job)
        job.start()
        return job

    def close(self) -> None:
        # Jobs first: a job still running after close would work on a disposed engine (and,
        # in tests, on a database already dropped).
        while self.jobs:
            self.jobs.pop().stop()
        self.hot_threads.shutdown(wait=True)
        self.engine.dispose()


def partner_directory(covenants: dict[str, Covenant]) -> PartnerDirectory:
    return PartnerDirectory.from_covenants(covenants.values())


def token_verifier(settings: Settings, partners: PartnerDirectory) -> TokenVerifier:
    problem = token_audience_problem(settings)
    if problem is not None:  # no gateway accepts tokens for the default audience
        raise ValueError(problem)
    trust = TrustStore(refresh_seconds=settings.jwks_refresh_seconds)
    trust.load_dir(settings.resolved_jwks_dir, partners.ids())
    if settings.demo_mode:
        ensure_dev_keys(settings, sorted(partners.ids()))
        trust.load_dir(dev_jwks_dir(settings), partners.ids())
    return TokenVerifier(
        trust=trust,
        partners=partners,
        audience=settings.audience,
        max_lifetime=timedelta(seconds=settings.max_token_lifetime_seconds),
        leeway=timedelta(seconds=settings.clock_skew_seconds),
    )


def build_context(settings: Settings) -> GatewayContext:
    """Every domain, in dependency order: policy, keys and the audit log come before the
    domains that use them; then the jobs."""
    settings.ensure_data_dir()
    url = settings.resolved_database_url
    # Migrated when auto_migrate is on; in any case at this code's head, or a one-line refusal
    # (review9c F1: on an older schema the gateway said ready and answered 500).
    schema = prepare_database(url, migrate=settings.auto_migrate)
    engine = make_engine(
        url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow
    )
    try:
        context = _build_domains(settings, engine)
    except BaseException:
        # A domain refused to start (e.g. an audit key is missing): release the database
        # connections before the error ends the start.
        engine.dispose()
        raise
    context.schema = schema
    try:
        _start_jobs(context)
    except BaseException:
        context.close()
        raise
    return context


def _build_domains(settings: Settings, engine: Engine) -> GatewayContext:
    if engine.dialect.name == "postgresql":
        # Imported here: prometheus-client opens its multiprocess files at the first metric,
        # which a command (a CronJob) on SQLite must not need.
        from gateway.core.metrics import instrument_pool

        instrument_pool(engine, settings.db_pool_size + settings.db_max_overflow)
    session_factory = make_sessionmaker(engine)
    package = load_covenant_package(settings)
    covenants = package.covenants
    partners = partner_directory(covenants)
    readiness: ReadinessChecks = {}
    policy = policy_wiring.build(settings, covenants, readiness)
    keys = crypto_wiring.build(settings, session_factory, readiness)
    if keys is not None:
        # Page cursors are signed with a key derived from the blind-index key (review8c F2).
        pagination.provide_cursor_key(session_factory, keys.keys.cursor_key)
    audit = audit_wiring.build(
        settings, session_factory, keys.blind_index if keys else None, readiness
    )
    retention = retention_wiring.build(
        settings,
        covenants,
        package.retention,
        package.retention_problem,
        session_factory,
        audit,
        keys.keys if keys else None,
        readiness,
    )
    cases = cases_wiring.build(
        covenants,
        package.workflows,
        keys,
        audit,
        retention.erasure_warnings() if retention else None,
        readiness,
        retention.register_new_case() if retention else None,
        # Always, also when the rules did not load: an erased case stays erased.
        retention_wiring.guard_write,
        session_factory,
    )
    if retention is not None:
        retention.before_erasure = functools.partial(keep_state_figures, session_factory, cases)
    exchange_wiring.build(keys, readiness)
    return GatewayContext(
        settings=settings,
        engine=engine,
        session_factory=session_factory,
        covenants=covenants,
        partners=partners,
        verifier=token_verifier(settings, partners),
        policy=policy,
        keys=keys,
        audit=audit,
        retention=retention,
        cases=cases,
        oidc=web_wiring.build(settings),
        hot_threads=ThreadPoolExecutor(settings.hot_threads, thread_name_prefix="ketenpoort-hot"),
        readiness_checks=readiness,
    )


def _start_jobs(context: GatewayContext) -> None:
    """The periodic jobs, each given the context per run (see :class:`PeriodicJob`); an
    interval of 0 switches a job off."""
    settings = context.settings
    if settings.audit_checkpoint_interval_seconds > 0:
        context.start_job(
            PeriodicJob(
                context,
                interval=settings.audit_checkpoint_interval_seconds,
                task=lambda c: audit_wiring.sign_checkpoint(c.audit, c.session_factory),
                name="audit-checkpoints",
                description="audit checkpoint signing",
                log=audit_wiring.log,
            )
        )
    if context.retention is not None and settings.retention_sweep_interval_seconds > 0:
        context.start_job(
            PeriodicJob(
                context,
                interval=settings.retention_sweep_interval_seconds,
                task=lambda c: retention_wiring.scheduled_sweep(c.require_retention()),
                name="retention-sweep",
                description="retention sweep",
                log=retention_wiring.log,
                join_timeout=30,
            )
        )
    if settings.used_token_purge_interval_seconds > 0:
        context.start_job(
            PeriodicJob(
                context,
                interval=settings.used_token_purge_interval_seconds,
                task=lambda c: auth_wiring.purge_expired_token_ids(c.settings, c.session_factory),
                name="used-token-purge",
                description="used token purge",
                log=auth_wiring.log,
            )
        )
