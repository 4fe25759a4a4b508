"""``ketenpoort audit``: verify, export, checkpoint, and the privacy officers' reports."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gateway.core.cli import DataDir, load_settings, open_database, progress_bar

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from audit.verify import VerificationResult

app = typer.Typer(no_args_is_help=True)

PublicKeyOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--public-key",
        help="A trusted public key file (base64 raw Ed25519 or PEM); repeatable. "
        "Default: the gateway's own key (database) or the keys in the export file.",
    ),
]


def _trusted_keys(files: list[Path] | None) -> list[Ed25519PublicKey]:
    from audit.keys import public_key_from_text

    return [public_key_from_text(path.read_text(encoding="utf-8")) for path in files or []]


def _report(result: VerificationResult) -> None:
    typer.echo(
        f"{result.entries} entries, {result.checkpoints} checkpoints; "
        f"signed and verified up to tree size {result.verified_tree_size}."
    )
    if result.ok:
        unsigned = result.entries - result.verified_tree_size
        if unsigned:
            typer.echo(f"{unsigned} newer entries are consistent but not yet in a checkpoint.")
        typer.echo("OK: the log verifies.")
        return
    first = result.first_problem
    typer.echo(f"FAILED: first bad {first}", err=True)
    for problem in result.problems:
        if problem is not first:
            typer.echo(f"  also: {problem}", err=True)
    raise typer.Exit(1)


@app.command("verify")
def verify(
    data_dir: DataDir = None,
    export: Annotated[
        Path | None,
        typer.Option("--export", help="Verify this export file offline (no database)."),
    ] = None,
    public_key: PublicKeyOption = None,
) -> None:
    """Verify every entry against the signed checkpoints; names the first bad entry."""
    from audit.verify import verify_log

    extra = _trusted_keys(public_key)
    if export is not None:
        from audit.export import read_export
        from audit.keys import public_key_id

        try:
            exported = read_export(export)
        except (OSError, ValueError) as exc:
            typer.echo(f"error: cannot read {export}: {exc}", err=True)
            raise typer.Exit(2) from None
        keys = extra or exported.public_keys
        for key in keys:
            typer.echo(f"Trusting signing key {public_key_id(key)}")
        with progress_bar("Verifying export", exported.tree_size) as bar:
            result = verify_log(
                exported.entries(),
                exported.checkpoints,
                keys,
                expected_size=exported.tree_size,
                progress=bar.advance,
            )
        _report(result)
        return
    from audit.export import verify_database
    from audit.keys import load_public_key
    from audit.wiring import key_dir

    with open_database(data_dir) as (settings, factory):
        try:
            keys = extra or [load_public_key(key_dir(settings))]
        except FileNotFoundError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        with progress_bar("Verifying log") as bar:
            result = verify_database(factory, keys, sized=bar.set_total, progress=bar.advance)
    _report(result)


@app.command("export")
def export_log(
    file: Annotated[Path, typer.Argument(help="Where to write the export (JSON Lines).")],
    data_dir: DataDir = None,
) -> None:
    """Write entries, checkpoints and the public key to FILE for offline verification."""
    from audit.export import db_head_size, write_export
    from audit.keys import load_public_key, public_key_id
    from audit.wiring import key_dir

    with open_database(data_dir) as (settings, factory):
        key = load_public_key(key_dir(settings))
        with factory() as session:
            size = db_head_size(session)
        with file.open("w", encoding="utf-8") as out, progress_bar("Exporting", size) as bar:
            written = write_export(factory, out, [key], progress=bar.advance)
    typer.echo(f"Wrote {written} entries to {file}; signing key {public_key_id(key)}")


@app.command("checkpoint")
def checkpoint(data_dir: DataDir = None) -> None:
    """Sign a checkpoint over every committed entry (for cron; safe next to the server)."""
    from audit.service import AuditLog
    from audit.wiring import key_dir

    with open_database(data_dir) as (settings, factory):
        view = AuditLog.from_key_dir(key_dir(settings)).sign_checkpoint(factory)
    if view is None:
        typer.echo("No new entries since the last checkpoint.")
    else:
        typer.echo(f"Signed checkpoint: tree size {view.tree_size}, root {view.root_hash}")


@app.command("public-key")
def public_key_command(data_dir: DataDir = None) -> None:
    """Print the checkpoint signing public key (base64) and its fingerprint."""
    from audit.keys import load_or_create_signer, public_key_text
    from audit.wiring import key_dir

    signer = load_or_create_signer(key_dir(load_settings(data_dir)))
    typer.echo(public_key_text(signer.public_key))
    typer.echo(f"key id (SHA-256): {signer.key_id}", err=True)
