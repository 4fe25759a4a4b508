"""Everything a running gateway holds, built once at start and shared by all requests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from gateway.auth.dev import dev_jwks_dir, ensure_dev_keys
from gateway.auth.keys import TrustStore
from gateway.auth.service import PartnerDirectory, TokenVerifier
from gateway.config import Settings
from gateway.db import make_engine, make_sessionmaker, upgrade_database

if TYPE_CHECKING:
    from gateway.core.jobs import PeriodicJob
    from gateway.policy.covenant import Covenant

# A readiness check returns None when healthy, else a short reason without personal data.
ReadinessCheck = Callable[[], str | None]


@dataclass
class GatewayContext:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    covenants: dict[str, Covenant]
    partners: PartnerDirectory
    verifier: TokenVerifier
    readiness_checks: dict[str, ReadinessCheck] = field(default_factory=dict)
    # Domain services (policy engine, key provider, audit log...) register here at start.
    services: dict[str, Any] = field(default_factory=dict)
    #: Background jobs (checkpoints, retention sweep, token purge): started by
    #: :meth:`start_job`, stopped by :meth:`close`.
    jobs: list[PeriodicJob] = field(default_factory=list)

    def start_job(self, job: PeriodicJob) -> PeriodicJob:
        self.jobs.append(job)
        job.start()
        return job

    def close(self) -> None:
        # Jobs first: a job still running after close would work on a disposed engine (and,
        # in tests, on a database already dropped).
        while self.jobs:
            self.jobs.pop().stop()
        hot = self.services.pop("hot-threads", None)  # gateway.auth.deps.run_authenticated
        if hot is not None:
            hot.shutdown(wait=True)  # its threads drop their per-thread state themselves
        self.engine.dispose()


def partner_directory(covenants: dict[str, Covenant]) -> PartnerDirectory:
    return PartnerDirectory.from_covenants(covenants.values())


def build_context(settings: Settings) -> GatewayContext:
    from gateway.policy.covenant import load_covenants

    settings.ensure_data_dir()
    url = settings.resolved_database_url
    if settings.auto_migrate:
        upgrade_database(url)
    engine = make_engine(
        url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow
    )
    if engine.dialect.name == "postgresql":
        from gateway.core.metrics import instrument_pool

        instrument_pool(engine, settings.db_pool_size + settings.db_max_overflow)
    covenants = load_covenants(settings.covenant_dir)
    partners = partner_directory(covenants)
    trust = TrustStore(refresh_seconds=settings.jwks_refresh_seconds)
    trust.load_dir(settings.resolved_jwks_dir, partners.ids())
    if settings.demo_mode:
        ensure_dev_keys(settings, sorted(partners.ids()))
        trust.load_dir(dev_jwks_dir(settings), partners.ids())
    verifier = TokenVerifier(
        trust=trust,
        partners=partners,
        audience=settings.audience,
        max_lifetime=timedelta(seconds=settings.max_token_lifetime_seconds),
        leeway=timedelta(seconds=settings.clock_skew_seconds),
    )
    context = GatewayContext(
        settings=settings,
        engine=engine,
        session_factory=make_sessionmaker(engine),
        covenants=covenants,
        partners=partners,
        verifier=verifier,
    )
    try:
        install_domains(context)
    except BaseException:
        # A domain refused to start (e.g. an audit key is missing): release what the
        # others opened (database connections, jobs) before the error ends the start.
        context.close()
        raise
    return context


def install_domains(context: GatewayContext) -> None:
    """Each domain registers its services, readiness checks and jobs; order matters:
    policy, keys and the audit log come before the domains that use them."""
    import audit.wiring
    import gateway.auth.wiring
    import gateway.cases.wiring
    import gateway.crypto.wiring
    import gateway.exchange.wiring
    import gateway.policy.wiring
    import gateway.retention.wiring
    import gateway.web.wiring

    for install in (
        gateway.policy.wiring.install,
        gateway.crypto.wiring.install,
        audit.wiring.install,
        gateway.cases.wiring.install,
        gateway.exchange.wiring.install,
        gateway.retention.wiring.install,
        gateway.web.wiring.install,
        gateway.auth.wiring.install,
    ):
        install(context)
