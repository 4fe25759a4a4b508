"""``ketenpoort keys``: KEK status, rotation (re-wrap data keys only) and retirement."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gateway.core.cli import DataDir, open_database, progress_bar
from gateway.core.errors import GatewayError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from gateway.crypto.runtime import CryptoServices


app = typer.Typer(no_args_is_help=True)


@contextmanager
def _opened(data_dir: Path | None) -> Iterator[tuple[sessionmaker[Session], CryptoServices]]:
    from gateway.crypto.runtime import build_crypto_services, create_first_kek

    with open_database(data_dir) as (settings, factory):
        services = build_crypto_services(settings)
        try:
            # Same first-start rule as the server: a KEK is only ever created while no data
            # key exists, so a lost key file is reported, never silently replaced.
            create_first_kek(services.provider, factory)
            yield factory, services
        except GatewayError as exc:
            typer.echo(f"error: {exc.detail}", err=True)
            raise typer.Exit(2) from None
        finally:
            services.close()


@app.command("status")
def status(data_dir: DataDir = None) -> None:
    """Show the KEK versions and how many data keys each one wraps."""
    from gateway.crypto.service import key_status
    from gateway.db import transaction

    with _opened(data_dir) as (factory, services), transaction(factory) as session:
        result = key_status(session=session, provider=services.provider)
    typer.echo(f"provider:        {result.provider}")
    typer.echo(f"KEK versions:    {', '.join(map(str, result.kek_versions)) or 'none'}")
    typer.echo(f"active version:  {result.active_version or '-'}")
    typer.echo(f"provider check:  {result.provider_problem or 'ok'}")
    for version, count in sorted(result.data_keys_by_kek_version.items()):
        marker = "" if version == result.active_version else "  (rotate, then retire)"
        typer.echo(f"data keys under KEK v{version}: {count}{marker}")
    typer.echo(f"shredded scopes: {result.shredded_scopes}")
    if result.provider_problem:
        raise typer.Exit(1)


@app.command("rotate")
def rotate(
    data_dir: DataDir = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Data keys per transaction.")] = 500,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume", help="Do not create a new KEK; finish re-wrapping under the active one."
        ),
    ] = False,
) -> None:
    """Create a new KEK version and re-wrap every data key under it (no data re-encrypted).

    Safe while the gateway runs: reads keep working because the old KEK still unwraps until
    'ketenpoort keys retire'. Interrupted? Run again with --resume.
    """
    from gateway.crypto.service import rotate_kek

    with _opened(data_dir) as (factory, services), progress_bar("Re-wrapping data keys") as bar:
        result = rotate_kek(
            session_factory=factory,
            provider=services.provider,
            batch_size=batch_size,
            new_version=not resume,
            progress=bar.update,
        )
    typer.echo(
        f"KEK version {result.kek_version} is active; re-wrapped {result.rewrapped} data keys "
        f"in {result.passes} pass(es). Retire the old version with 'ketenpoort keys retire'."
    )


@app.command("retire")
def retire(data_dir: DataDir = None) -> None:
    """Destroy every KEK version but the active one (refused while data keys still need them)."""
    from gateway.crypto.service import retire_old_keks
    from gateway.db import transaction

    with _opened(data_dir) as (factory, services), transaction(factory) as session:
        retired = retire_old_keks(session=session, provider=services.provider)
    if retired:
        typer.echo(f"Retired KEK version(s) {', '.join(map(str, retired))}.")
    else:
        typer.echo("Nothing to retire: only the active KEK version exists.")
