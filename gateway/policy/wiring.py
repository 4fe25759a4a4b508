"""Builds the policy decision point of a running gateway (``GatewayContext.policy``).

At start the loaded covenants are compiled into a signed bundle (the gateway's own bundle
key, created at first start with 0600), written to ``<data_dir>/bundles/bundle.tar.gz`` (an
OPA server next to the replica may fetch it from there), verified as a reader would, and
loaded into the engine: embedded regorus by default, an OPA server when ``opa_url`` is set.

Fail closed: if anything here fails the engine stays without a policy, every decision
denies (``no-policy-loaded``), the exchange answers 503 and readiness reports why.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

from gateway.config import Settings
from gateway.core.errors import GatewayError
from gateway.core.readiness import ReadinessChecks
from gateway.policy.bundle import (
    build_bundle,
    default_key_path,
    load_or_create_signing_key,
    pack,
    read_bundle,
    write_bundle,
)
from gateway.policy.covenant import Covenant
from gateway.policy.engine import (
    PolicyEngine,
    RegorusEngine,
)
from gateway.policy.opa_server import OpaServerEngine

log = logging.getLogger("ketenpoort.policy")


def _signing_key(data_dir: Path) -> ec.EllipticCurvePrivateKey:
    path = default_key_path(data_dir)
    # Several workers may start at once: one creates the key (O_EXCL), the others read it
    # once it is written.
    for _ in range(50):
        try:
            return load_or_create_signing_key(path)
        except (FileExistsError, ValueError):
            time.sleep(0.1)
    return load_or_create_signing_key(path)


def make_engine(settings: Settings) -> PolicyEngine:
    """The engine the settings ask for, with the one time limit
    (``KETENPOORT_POLICY_TIMEOUT_SECONDS``)."""
    url, limit = settings.opa_url, settings.policy_timeout_seconds
    # RegorusEngine compiles a bundle once and gives each worker thread its own VM from the
    # compiled program (its engine objects may not cross threads); the wrapper that compiled
    # the bundle again on every thread is gone (review9b F5).
    return OpaServerEngine(url, timeout_seconds=limit) if url else RegorusEngine(limit)


#: Attempts at start before the gateway starts not-ready; a transient failure (a shared data
#: directory being written by another process, say) then heals at the next readiness probe.
LOAD_ATTEMPTS_AT_START = 3
#: At most one load attempt per this many seconds after start (from the readiness check).
RETRY_SECONDS = 5.0


class _BundleLoader:
    """Builds, writes, verifies and loads the bundle; remembers why it last failed, and tries
    again (rate-limited) when asked while nothing is loaded: a replica that came up without
    a loadable bundle does not stay down until restarted by hand."""

    def __init__(
        self, data_dir: Path, covenants: dict[str, Covenant], engine: PolicyEngine
    ) -> None:
        self.data_dir = data_dir
        self.covenants = covenants
        self.engine = engine
        self.problem: str | None = None
        self._last_attempt = 0.0
        self._lock = threading.Lock()

    def attempt(self) -> bool:
        self._last_attempt = time.monotonic()
        try:
            key = _signing_key(self.data_dir)
            bundle = build_bundle(self.covenants, key)
            write_bundle(bundle, self.data_dir / "bundles")
            # Load what a reader of the packed bundle gets, so the signature path is exercised.
            self.engine.load(read_bundle(pack(bundle), key.public_key()))
        except (GatewayError, OSError) as exc:
            self.problem = f"policy bundle not loaded: {getattr(exc, 'detail', type(exc).__name__)}"
            log.error("%s", self.problem)
            return False
        self.problem = None
        log.info("policy bundle %s loaded into %s", bundle.revision, self.engine.name)
        return True

    def at_start(self) -> None:
        for attempt in range(LOAD_ATTEMPTS_AT_START):
            if self.attempt():
                return
            if attempt + 1 < LOAD_ATTEMPTS_AT_START:
                time.sleep(0.2 * (attempt + 1))

    def ready(self) -> str | None:
        if self.problem is not None and time.monotonic() - self._last_attempt >= RETRY_SECONDS:
            with self._lock:
                if self.problem is not None:
                    self.attempt()
        if self.problem is not None:
            return self.problem
        if self.engine.revision is None:
            return "no policy loaded"
        # An OPA server that is down, or deciding on another bundle revision: every decision
        # is refused (503).
        return self.engine.readiness_problem()


def build(
    settings: Settings, covenants: dict[str, Covenant], readiness: ReadinessChecks
) -> PolicyEngine:
    """The engine (always: without a loaded bundle it denies everything) and the ``policy``
    readiness check."""
    engine = make_engine(settings)
    loader = _BundleLoader(settings.data_dir, covenants, engine)
    loader.at_start()
    readiness["policy"] = loader.ready
    return engine
