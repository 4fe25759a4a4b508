"""The `ketenpoort` command line."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Annotated

import typer

from gateway.config import (
    Settings,
    StartRefused,
    log_origin_problem,
    token_audience_problem,
)
from gateway.core.cli import DataDir, load_settings
from gateway.core.logs import configure_logging, logging_config

app = typer.Typer(
    name="ketenpoort",
    help="Ketenpoort: the covenant gateway for sharing woonoverlast case data.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema commands.", no_args_is_help=True)
app.add_typer(db_app, name="db")
tokens_app = typer.Typer(help="Spent token ids (replay protection).", no_args_is_help=True)
app.add_typer(tokens_app, name="tokens")


def _register_domain_commands() -> None:
    from gateway.audit import cli as audit_cli
    from gateway.auth import cli as partners_cli
    from gateway.cases import cli as cases_cli
    from gateway.crypto import cli as crypto_cli
    from gateway.policy import cli as policy_cli
    from gateway.retention import cli as retention_cli

    app.add_typer(crypto_cli.app, name="keys", help="Key-encryption keys: status, rotate, retire.")
    app.add_typer(audit_cli.app, name="audit", help="The disclosure log: verify, export, reports.")
    app.add_typer(audit_cli.witness_app, name="witness")
    app.add_typer(cases_cli.app, name="cases", help="Cases and the steering-group report.")
    # A shortcut for the command a partner's monitoring runs most (docs/retention.md and
    # README.md name it): the same function as `ketenpoort cases deadlines`.
    app.command(
        "deadlines",
        help="What is due for a partner's cases, overdue first; exit code 1 when anything "
        "is overdue. The same as 'ketenpoort cases deadlines'.",
    )(cases_cli.deadlines)
    app.add_typer(policy_cli.app, name="policy")
    app.add_typer(
        partners_cli.app, name="partners", help="Partner keys: keygen, register, list, revoke."
    )
    app.add_typer(retention_cli.app, name="retention", help="Retention sweeps and legal holds.")


_register_domain_commands()


#: How long uvicorn's supervisor waits for a worker to answer its ping before it kills and
#: replaces the worker (uvicorn's --timeout-worker-healthcheck; its default, 5 s, killed every
#: worker of a start with 4 workers on a host at load 13 on 2 cores, review9c F8: a worker
#: importing the gateway for 12 s did not get the CPU to answer). A worker that is truly hung
#: is replaced this much later; the orchestrator's liveness probe still watches the whole.
WORKER_TIMEOUT_SECONDS = 60


@app.command()
def serve(
    data_dir: DataDir = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes (PostgreSQL only).")] = 1,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo/--no-demo",
            help="Embedded demo mode: development token issuer for the demo partners.",
            envvar="KETENPOORT_DEMO_MODE",
        ),
    ] = False,
    worker_timeout: Annotated[
        int,
        typer.Option(
            "--worker-timeout",
            min=1,
            help="With several workers: seconds a worker may take to answer the supervisor's "
            "ping before it is killed and replaced (uvicorn's default of 5 kills workers on "
            "a busy host).",
            envvar="KETENPOORT_WORKER_TIMEOUT_SECONDS",
        ),
    ] = WORKER_TIMEOUT_SECONDS,
    demo_data: Annotated[
        bool,
        typer.Option(
            "--demo-data/--no-demo-data",
            help="With --demo: seed demo cases to explore once (open cases of both covenants, "
            "requests waiting, answered and refused, a meeting, a legal hold, a case due for "
            "erasure), over the API once the gateway is ready.",
        ),
    ] = True,
) -> None:
    """Run the gateway (migrates the database first)."""

    import uvicorn

    from gateway.audit.wiring import log_origins
    from gateway.db import prepare_database
    from gateway.server import run_workers, uvicorn_options

    taken = port_taken(host, port)
    if taken is not None:
        typer.echo(taken, err=True)
        raise typer.Exit(1)
    settings = load_settings(data_dir, demo_mode=demo)
    url = settings.resolved_database_url
    try:
        # Before anything starts, migrates or is created (review6a F2): the log origin
        # against the names its checkpoints are signed under (review9c F2), and the token
        # audience.
        problem = log_origin_problem(settings, log_origins(url)) or token_audience_problem(settings)
        if problem is not None:
            raise StartRefused(problem)
        settings.ensure_data_dir()
        if settings.auto_migrate:  # off where the pod's init container migrates (Kubernetes)
            typer.echo(f"Migrating {_safe_url(url)} ...")
        # The schema at this code's head, or one line: unreachable (review9c F6), empty,
        # older or newer (review9c F1). The workers check again as they build the gateway.
        prepare_database(url, migrate=settings.auto_migrate)
    except StartRefused as refused:
        typer.echo(f"error: {refused}", err=True)
        raise typer.Exit(1) from None
    os.environ["KETENPOORT_DATA_DIR"] = str(settings.data_dir)
    os.environ["KETENPOORT_DEMO_MODE"] = "true" if settings.demo_mode else "false"
    if settings.demo_mode and "KETENPOORT_AUDIT_CHECKPOINT_INTERVAL_SECONDS" not in os.environ:
        # A receipt's proof waits for the next signed checkpoint: a minute (the default) is
        # a long silence in a demo. Cheap: a run with nothing new signs nothing.
        os.environ["KETENPOORT_AUDIT_CHECKPOINT_INTERVAL_SECONDS"] = str(
            DEMO_CHECKPOINT_INTERVAL_SECONDS
        )
    if workers > 1 and settings.resolved_database_url.startswith("sqlite"):
        typer.echo("SQLite serves one worker; use PostgreSQL for more.", err=True)
        workers = 1
    if not settings.resolved_database_url.startswith("sqlite"):
        warning = connection_budget_warning(settings, workers)
        if warning:
            typer.echo(warning, err=True)
    witness = None
    if settings.demo_mode and not settings.audit_witnesses:
        from gateway.audit.wiring import start_demo_witness

        witness, witnesses = start_demo_witness(settings)
        os.environ["KETENPOORT_AUDIT_WITNESSES"] = witnesses
        typer.echo(f"Demo witness cosigning the audit log: {witnesses}")
    if settings.demo_mode and not settings.audit_log_key:
        from gateway.audit.wiring import demo_log_key

        pinned = demo_log_key(settings)
        if pinned is not None:
            os.environ["KETENPOORT_AUDIT_LOG_KEY"] = pinned
            typer.echo(f"Demo log key pinned: {pinned}")
    typer.echo(f"Ketenpoort listening on http://{host}:{port}/v1 (demo mode: {settings.demo_mode})")
    if settings.demo_mode:
        typer.echo(curl_hint(host, port, data_dir))
    own_metrics_dir = _serve_metrics(settings, workers)
    if settings.demo_mode and demo_data:
        _seed_when_ready(settings, host, port, data_dir)
    options = {
        "host": host,
        "port": port,
        "workers": workers,
        "log_level": "info",
        # JSON or text lines in every worker; our access line has the route, not the path.
        "log_config": logging_config(settings.log_format),
        "access_log": False,
        "timeout_worker_healthcheck": worker_timeout,
        **uvicorn_options(),
    }
    try:
        if workers > 1:
            run_workers("gateway.asgi:app", **options)
        else:
            uvicorn.run("gateway.asgi:app", **options)
    finally:
        if witness is not None:
            witness.terminate()
            witness.wait(10)
        if own_metrics_dir is not None:
            shutil.rmtree(own_metrics_dir, ignore_errors=True)
            if os.environ.get("PROMETHEUS_MULTIPROC_DIR") == str(own_metrics_dir):
                # Not the operator's: a later serve in this process makes its own again.
                del os.environ["PROMETHEUS_MULTIPROC_DIR"]


#: How often ``serve --demo`` signs an audit checkpoint unless configured otherwise.
DEMO_CHECKPOINT_INTERVAL_SECONDS = 5


def _seed_when_ready(settings: Settings, host: str, port: int, data_dir: Path | None) -> None:
    """In a thread: wait until the gateway answers ready, then seed the demo cases over its
    API (gateway/demo/data.py; once: a marker in the data directory)."""
    import threading

    def seed() -> None:
        from gateway.demo.data import ensure_demo_data
        from gateway.demo.run import StepFailed, _wait_ready

        local = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        url = f"http://[{local}]:{port}" if ":" in local else f"http://{local}:{port}"
        try:
            _wait_ready(url, 120, None)
        except StepFailed as exc:
            typer.echo(f"Demo cases not seeded: {exc}", err=True)
            return
        # One block at the end: the server's access lines would split it up line by line.
        lines: list[str] = []
        ensure_demo_data(url, settings, lines.append)
        lines.append(curl_hint(host, port, data_dir))
        typer.echo("\n".join(["", *lines, ""]))

    threading.Thread(target=seed, name="demo-data", daemon=True).start()


def port_taken(host: str, port: int) -> str | None:
    """Why the gateway cannot listen on ``host:port``, said before anything else starts
    (uvicorn would say "listening" first and then fail with Errno 98); None when it can.

    Binds as uvicorn does (SO_REUSEADDR: a port in TIME_WAIT is free, one with a listener
    is not) and lets go at once."""
    import errno
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        return f"error: cannot listen on {host}:{port}: {exc.strerror}"
    family, kind, protocol, _, address = infos[0]
    with socket.socket(family, kind, protocol) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                return f"error: cannot listen on {host}:{port}: {exc.strerror}"
            return (
                f"error: port {port} on {host} is already in use (another gateway, or another "
                f"program). Start on another port: make run PORT={port + 1}  (or: ketenpoort "
                f"serve --port {port + 1})"
            )
    return None


def _command_name() -> str:
    """How to call ``ketenpoort`` from the current directory: the bare name when the shell
    finds this installation's script, else its path (``make run`` never puts .venv/bin
    on PATH, so a bare ``ketenpoort`` would not be found)."""
    import shutil
    import sys

    script = Path(sys.executable).parent / "ketenpoort"
    found = shutil.which("ketenpoort")
    if found is not None and Path(found).resolve() == script.resolve():
        return "ketenpoort"
    try:
        return str(script.absolute().relative_to(Path.cwd()))
    except ValueError:
        return str(script)


def curl_hint(host: str, port: int, data_dir: Path | None) -> str:
    """A first call that works as printed: the token command as this shell finds it, a
    user (the token names one), and the data directory when it is not the default."""
    import shlex

    where = f" --data-dir {shlex.quote(str(data_dir))}" if data_dir is not None else ""
    shown = f"[{host}]" if ":" in host else host
    return (
        f'Try: curl -H "Authorization: Bearer $({_command_name()} dev-token --partner '
        f'u-centraal --role casemanager --user cm-1{where})" http://{shown}:{port}/v1/me'
    )


def _serve_metrics(settings: Settings, workers: int) -> Path | None:
    """With several workers each counts in its own files (prometheus-client's multiprocess
    mode), set up before any worker starts; the metrics port is served by this process.
    Returns the temporary directory it made for those files (the caller removes it when the
    server stops), or None when the operator named one or there is one worker."""
    import tempfile

    made: Path | None = None
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        made = Path(tempfile.mkdtemp(prefix="ketenpoort-metrics-"))
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(made)
    elif os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Counts of an earlier run would be added to this one's: remove prometheus-client's
        # files (only those: the directory is the operator's).
        directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink(missing_ok=True)
    if settings.metrics_port is not None:
        from gateway.core.metrics import start_metrics_server

        start_metrics_server(
            settings.metrics_port,
            settings.metrics_host,
            settings.resolved_database_url,
            settings.audit_log_origin,
        )
        typer.echo(f"Metrics on http://{settings.metrics_host}:{settings.metrics_port}/metrics")
    return made


@app.command()
def demo(
    gateway: Annotated[
        str | None,
        typer.Option(help="Use this running gateway (demo mode) instead of starting one."),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="Data directory: default a fresh temporary one; with --gateway, that "
            "gateway's data directory (its development keys sign the partners' tokens).",
        ),
    ] = None,
    checkpoint_wait: Annotated[
        float, typer.Option(help="Seconds to wait for a signed audit checkpoint.")
    ] = 90.0,
) -> None:
    """Play one scenario per covenant end to end, narrated; non-zero exit if a step misbehaves."""
    from rich.console import Console

    from gateway.demo.run import run_demo

    code = run_demo(
        gateway=gateway, data_dir=data_dir, checkpoint_wait=checkpoint_wait, console=Console()
    )
    raise typer.Exit(code)


@db_app.command("upgrade")
def db_upgrade(data_dir: DataDir = None) -> None:
    """Apply all database migrations (SQLite file in the data dir, or KETENPOORT_DATABASE_URL).
    Safe to run from several pods at once: each migration takes a lock (docs/operations.md)."""
    from gateway.db import current_revisions, schema_problem, schema_script, upgrade_database

    settings = load_settings(data_dir)
    settings.ensure_data_dir()
    url = settings.resolved_database_url
    try:
        before = current_revisions(url)
        if before - schema_script().known:  # alembic would fail on it with a traceback
            raise StartRefused(schema_problem(url, before, schema_script()) or "")
    except StartRefused as refused:
        typer.echo(f"error: {refused}", err=True)
        raise typer.Exit(1) from None
    upgrade_database(url)
    after = current_revisions(url)
    typer.echo(
        f"Database {_safe_url(url)} at {', '.join(sorted(after)) or 'empty'}"
        + (" (unchanged)" if before == after else f" (was {', '.join(sorted(before)) or 'empty'})")
    )


@db_app.command("check")
def db_check(data_dir: DataDir = None) -> None:
    """Whether the database's schema is at this code's migration head; exit code 1 (with the
    reason) when it is not, or when the database cannot be reached. Changes nothing."""
    from gateway.db import current_revisions, schema_problem, schema_script

    settings = load_settings(data_dir)
    url = settings.resolved_database_url
    try:
        problem = schema_problem(url, current_revisions(url), schema_script())
    except StartRefused as refused:
        problem = str(refused)
    if problem is not None:
        typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(1)
    typer.echo(f"Database {_safe_url(url)} at {schema_script().head_text()} (this code's head)")


@tokens_app.command("purge")
def tokens_purge(data_dir: DataDir = None) -> None:
    """Forget the ids of spent tokens that have expired (the server does it every
    KETENPOORT_USED_TOKEN_PURGE_INTERVAL_SECONDS; this is the same job for cron)."""
    from datetime import timedelta

    from gateway.auth.service import purge_used_tokens
    from gateway.auth.wiring import PURGE_MARGIN
    from gateway.db import make_engine, make_sessionmaker, prepare_database, utcnow

    settings = load_settings(data_dir)
    # One line when the database is unreachable or not at this code's schema (review9c F1,
    # F6), as the other scheduled commands (gateway.core.cli.open_database).
    prepare_database(settings.resolved_database_url, migrate=settings.auto_migrate)
    engine = make_engine(settings.resolved_database_url, pool_size=1, max_overflow=0)
    try:
        grace = timedelta(seconds=settings.clock_skew_seconds) + PURGE_MARGIN
        purged = purge_used_tokens(make_sessionmaker(engine), utcnow(), grace)
    finally:
        engine.dispose()
    typer.echo(f"Forgot {purged} expired token ids.")


@app.command("dev-token")
def dev_token(
    partner: Annotated[str, typer.Option(help="Partner id, e.g. u-centraal or mitros.")],
    role: Annotated[str, typer.Option(help="Role, e.g. casemanager or privacy-officer.")],
    user: Annotated[str | None, typer.Option(help="User id within the partner.")] = None,
    lifetime: Annotated[int, typer.Option(help="Seconds the token lives.")] = 300,
    data_dir: DataDir = None,
) -> None:
    """Print a single-use token from the development issuer (embedded demo mode only)."""
    from gateway.auth.dev import mint_dev_token
    from gateway.core.errors import GatewayError

    settings = load_settings(data_dir)
    try:
        token = mint_dev_token(
            settings, partner_id=partner, role=role, user=user, lifetime_seconds=lifetime
        )
    except GatewayError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(2) from None
    typer.echo(token)


def connection_budget_warning(settings: Settings, workers: int) -> str | None:
    """Each worker has its own pool: the replica may open workers x (pool + overflow)."""
    per_worker = settings.db_pool_size + settings.db_max_overflow
    total = workers * per_worker
    if total <= settings.db_connection_budget:
        return None
    return (
        f"warning: {workers} workers x ({settings.db_pool_size} pool + "
        f"{settings.db_max_overflow} overflow) = {total} database connections, over the "
        f"budget of {settings.db_connection_budget} (KETENPOORT_DB_CONNECTION_BUDGET): "
        "PostgreSQL refuses connections past max_connections, and requests then fail with "
        "503. Lower the workers or KETENPOORT_DB_POOL_SIZE / KETENPOORT_DB_MAX_OVERFLOW."
    )


def _safe_url(url: str) -> str:
    """The database URL without a password, for messages."""
    from gateway.db import safe_url

    return safe_url(url)


def main() -> None:
    # Read before the settings, which may fail and must be able to say so in the format
    # the log collector expects.
    log_format = os.environ.get("KETENPOORT_LOG_FORMAT", "text").lower()
    configure_logging("json" if log_format == "json" else "text")
    try:
        app()
    except StartRefused as refused:  # any command: one line, not a traceback (review9c F6)
        typer.echo(f"error: {refused}", err=True)
        raise SystemExit(1) from None
