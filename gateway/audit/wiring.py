"""Builds the audit log of a running gateway (``GatewayContext.audit``) and its readiness
check; the composition root schedules :func:`sign_checkpoint` as the checkpoint job."""

from __future__ import annotations

import contextlib
import logging
import subprocess
import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from audit.anchors import witness_endpoint
from audit.note import ED25519, Verifier, parse_vkey, vkey_text_or_file
from gateway.audit.keyguard import open_audit_keys
from gateway.audit.models import AuditHead
from gateway.audit.service import AuditLog, BlindIndexSubjects
from gateway.audit.witnessing import Witnessing
from gateway.config import Settings, StartRefused, log_origin_problem
from gateway.core.readiness import ReadinessChecks
from gateway.crypto.blind_index import BlindIndex

log = logging.getLogger("ketenpoort.audit")


def key_dir(settings: Settings) -> Path:
    configured = settings.audit_key_dir
    return configured if configured is not None else settings.data_dir / "audit"


def sign_checkpoint(service: AuditLog, session_factory: sessionmaker[Session]) -> None:
    """One run of the periodic checkpoint job. Replicas may all run it: the signing itself
    takes a database lock."""
    service.sign_checkpoint(session_factory)


def witnessing(settings: Settings) -> Witnessing | None:
    """The configured witnesses (``KETENPOORT_AUDIT_WITNESSES``), or ``None``."""
    endpoints = [witness_endpoint(text) for text in settings.audit_witnesses]
    if not endpoints:
        if settings.audit_witness_quorum:
            raise ValueError("KETENPOORT_AUDIT_WITNESS_QUORUM is set but no witness is configured")
        return None
    quorum = 1 if settings.audit_witness_quorum is None else settings.audit_witness_quorum
    return Witnessing(endpoints, quorum=quorum)


def pinned_log_key(settings: Settings) -> Verifier | None:
    """The configured log key (``KETENPOORT_AUDIT_LOG_KEY``: a vkey, or a file holding one),
    checked to be an Ed25519 key of this log's origin; ``None`` when not configured."""
    configured = settings.audit_log_key
    if not configured:
        return None
    verifier = parse_vkey(vkey_text_or_file(configured))
    if verifier.signature_type != ED25519 or verifier.name != settings.audit_log_origin:
        raise ValueError(
            "KETENPOORT_AUDIT_LOG_KEY is not an Ed25519 key of the log "
            f"{settings.audit_log_origin} (KETENPOORT_AUDIT_LOG_ORIGIN)"
        )
    return verifier


def checkpoint_origins(session_factory: sessionmaker[Session]) -> tuple[str, ...]:
    """The origins the log's oldest and newest checkpoints are signed under (the first line
    of a signed note), without repeats; empty while nothing is signed. Two rows by primary
    key, whatever the log's length."""
    from gateway.audit.models import AuditCheckpoint

    origins: list[str] = []
    with session_factory() as session:
        for order in (AuditCheckpoint.tree_size.asc(), AuditCheckpoint.tree_size.desc()):
            note = session.execute(
                select(AuditCheckpoint.note).order_by(order).limit(1)
            ).scalar_one_or_none()
            origin = None if note is None else note.split("\n", 1)[0]
            if origin is not None and origin not in origins:
                origins.append(origin)
    return tuple(origins)


def log_origins(url: str) -> tuple[str, ...]:
    """:func:`checkpoint_origins` of the database at ``url``, for ``serve`` before it
    migrates or creates anything: a SQLite file that does not exist yet, or a database
    without the checkpoint table, has none."""
    from sqlalchemy import inspect
    from sqlalchemy.engine import make_url

    from gateway.db import connect_or_refuse, make_engine, make_sessionmaker

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if not database or database == ":memory:" or not Path(database).exists():
            return ()
    engine = make_engine(url, pool_size=1, max_overflow=0)
    try:
        with connect_or_refuse(engine, url) as connection:
            if not inspect(connection).has_table("audit_checkpoint"):
                return ()
        return checkpoint_origins(make_sessionmaker(engine))
    finally:
        engine.dispose()


def open_audit_log(settings: Settings, session_factory: sessionmaker[Session]) -> AuditLog:
    """The audit log with keys checked against the log (see :mod:`audit.keyguard`) and, when
    configured, against the pinned log key. Outside demo mode the example origin or a
    placeholder stops a new log, and a name other than the one its checkpoints are signed
    under stops any log (``log_origin_problem``, a :class:`StartRefused`): no gateway starts
    and no checkpoint is signed under a name that is not this log's (review6a F2, review9c
    F2)."""
    problem = log_origin_problem(settings, checkpoint_origins(session_factory))
    if problem is not None:
        raise StartRefused(problem)
    pinned = pinned_log_key(settings)
    directory = key_dir(settings)
    signer, pseudonymiser = open_audit_keys(
        directory, session_factory, pinned.public_key if pinned is not None else None
    )
    return AuditLog(
        signer=signer,
        pseudonymiser=pseudonymiser,
        origin=settings.audit_log_origin,
        witnessing=witnessing(settings),
        key_dir=directory,
        pinned_key=pinned,
    )


def demo_log_key(settings: Settings) -> str | None:
    """Demo mode without a configured log key: the key directory's key as the pin (a demo has
    no one else to publish it), unless the log has rotated its key (then the first key is not
    in the key directory any more and nothing is pinned)."""
    from sqlalchemy import func

    from audit.keys import load_signer
    from audit.note import NEXT_KEY
    from gateway.audit.models import AuditCheckpoint
    from gateway.db import make_engine, make_sessionmaker

    try:
        signer = load_signer(key_dir(settings))
    except FileNotFoundError:
        return None  # the first start creates it; the next start pins it
    engine = make_engine(settings.resolved_database_url)
    try:
        with make_sessionmaker(engine)() as session:
            rotated = session.execute(
                select(func.count())
                .select_from(AuditCheckpoint)
                .where(AuditCheckpoint.note.contains(f"\n{NEXT_KEY} "))
            ).scalar_one()
    except SQLAlchemyError:
        return None
    finally:
        engine.dispose()
    if rotated:
        return None
    return signer.vkey(settings.audit_log_origin)


#: Readiness reports failing audit writes for this long after the last failure, unless a
#: write has succeeded since.
WRITE_FAILURE_WINDOW_SECONDS = 60.0


def build(
    settings: Settings,
    session_factory: sessionmaker[Session],
    blind_index: BlindIndex | None,
    readiness: ReadinessChecks,
) -> AuditLog:
    """The audit log (its keys missing or not the log's stops the start) and the ``audit``
    readiness check. Without a blind index (no key provider) a data subject cannot be looked
    up: the log says so (503) rather than search by anything else."""
    service = open_audit_log(settings, session_factory)
    if blind_index is not None:
        service.subject_indexer = BlindIndexSubjects(blind_index, session_factory)

    def audit_ready() -> str | None:
        try:
            with session_factory() as session:
                if session.execute(select(AuditHead.next_index)).first() is None:
                    return "audit log not initialised"
        except SQLAlchemyError:
            return "audit log unreachable"
        failed, succeeded = service.last_write_failure, service.last_write_success
        if (
            failed is not None
            and (succeeded is None or failed > succeeded)
            and time.monotonic() - failed < WRITE_FAILURE_WINDOW_SECONDS
        ):
            return "audit writes are failing: nothing can be disclosed"
        return None

    readiness["audit"] = audit_ready
    return service


def _die_with_parent() -> None:
    """Linux: the demo witness gets SIGTERM when the gateway process ends, however it ends
    (killed included), so a demo never leaves it behind. Elsewhere the gateway's own
    shutdown stops it."""
    import ctypes
    import signal

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def start_demo_witness(settings: Settings) -> tuple[subprocess.Popen[bytes], str]:
    """Demo mode: one witness on loopback, as its own process (``ketenpoort witness serve``),
    its key and state next to the data directory, never inside it. Returns the process and
    the ``KETENPOORT_AUDIT_WITNESSES`` value naming it. The audit keys are opened (checked
    against the log, created for an empty one) first: the witness must know the log key."""
    import json
    import socket
    import sys

    import httpx

    from gateway.audit.witness import WitnessSetupError, init_witness, load_cosigner
    from gateway.db import make_engine, make_sessionmaker

    engine = make_engine(settings.resolved_database_url)
    try:
        signer, _ = open_audit_keys(key_dir(settings), make_sessionmaker(engine))
    finally:
        engine.dispose()
    directory = settings.data_dir.with_name(settings.data_dir.name + "-witness")
    try:
        cosigner = load_cosigner(directory)
    except WitnessSetupError:
        cosigner = init_witness(directory, "witness.demo.localhost/ketenpoort")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "witness", "serve", "--dir", str(directory),
         "--log", signer.vkey(settings.audit_log_origin), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        preexec_fn=_die_with_parent,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(url + "/", timeout=1).status_code == 200:
                return process, json.dumps([f"{cosigner.verifier.vkey()} {url}"])
        except httpx.HTTPError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("the demo witness did not start")
