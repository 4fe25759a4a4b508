"""``ketenpoort partners``: onboarding a partner's system (docs/operations.md, first step).

keygen (on the partner's side, or by the operator for a reference adapter) -> register the
public JWKS with the gateway -> list -> rotate: register the new key, move the adapter to it,
revoke the old one. ``token`` signs one single-use token with a partner's key, for the first
call and for checks by hand.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from gateway.core.cli import DataDir, load_settings, read_text_file

app = typer.Typer(no_args_is_help=True)


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _partner_ids(covenant_dir: Path | None) -> set[str]:
    from gateway.context import partner_directory
    from gateway.policy.covenant import load_covenants

    return set(partner_directory(load_covenants(covenant_dir)).ids())


@app.command("keygen")
def keygen(
    key_file: Annotated[
        Path, typer.Option("--key-file", help="Where to write the private key (PEM, 0600).")
    ],
    algorithm: Annotated[
        str, typer.Option(help="EdDSA (Ed25519, the default) or ES256 (P-256).")
    ] = "EdDSA",
) -> None:
    """Create a key pair for a partner's adapter: the private key (0600) and, beside it,
    <name>.jwks.json with the public key to register. The private key stays with the partner."""
    from gateway.auth.partners import OnboardingError, generate_key_pair

    if algorithm not in ("EdDSA", "ES256"):
        raise _fail("--algorithm must be EdDSA or ES256")
    try:
        kid, jwks_file = generate_key_pair(key_file, algorithm=algorithm)  # type: ignore[arg-type]
    except OnboardingError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"Private key: {key_file} (0600; keep it on the partner's system)")
    typer.echo(f"Public JWKS: {jwks_file} (register it: ketenpoort partners register)")
    typer.echo(f"Key id (kid): {kid}")


@app.command("register")
def register(
    partner: Annotated[str, typer.Option(help="Partner id as in the covenant, e.g. mitros.")],
    jwks_file: Annotated[
        str, typer.Argument(help="The partner's public JWKS file, or - for standard input.")
    ],
    data_dir: DataDir = None,
) -> None:
    """Trust a partner's public key(s). Keys registered before stay valid (rotation overlap);
    every replica picks the change up within seconds, without a restart."""
    from gateway.auth.partners import OnboardingError, register_keys

    settings = load_settings(data_dir)
    text = (
        sys.stdin.read()
        if jwks_file == "-"
        else read_text_file(Path(jwks_file), "a JWKS file from 'ketenpoort partners keygen'")
    )
    try:
        jwks: Any = json.loads(text)
        added = register_keys(
            settings.resolved_jwks_dir,
            partner,
            jwks,
            known_partners=_partner_ids(settings.covenant_dir),
        )
    except json.JSONDecodeError:
        raise _fail("the JWKS is not JSON") from None
    except OnboardingError as exc:
        raise _fail(str(exc)) from None
    if not added:
        typer.echo(f"{partner}: every key in the file was registered already")
    for kid in added:
        typer.echo(f"{partner}: registered key {kid}")


@app.command("list")
def list_keys(
    partner: Annotated[str | None, typer.Option(help="Only this partner.")] = None,
    output_format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    data_dir: DataDir = None,
) -> None:
    """Every covenant partner with its registered keys (a partner without a key cannot call)."""
    from gateway.auth.partners import registered_keys

    settings = load_settings(data_dir)
    partner_ids = _partner_ids(settings.covenant_dir)
    if partner is not None:
        if partner not in partner_ids:
            raise _fail(f"{partner!r} is not a partner in any covenant")
        partner_ids = {partner}
    keys = registered_keys(settings.resolved_jwks_dir, partner_ids)
    if output_format == "json":
        rows = [
            {"partner": k.partner_id, "kid": k.kid, "alg": k.algorithm, "registered": k.registered}
            for found in keys.values()
            for k in found
        ]
        typer.echo(json.dumps(rows, indent=2))
        return
    for partner_id, found in keys.items():
        if not found:
            typer.echo(f"{partner_id}: no key registered")
        for k in found:
            typer.echo(f"{partner_id}: {k.kid} {k.algorithm} registered {k.registered or '?'}")


@app.command("revoke")
def revoke(
    partner: Annotated[str, typer.Option(help="Partner id.")],
    kid: Annotated[str, typer.Option(help="The key id to revoke (see partners list).")],
    allow_none: Annotated[
        bool, typer.Option(help="Allow revoking the partner's last key (it can no longer call).")
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Stop trusting one key; every replica refuses its tokens within seconds."""
    from gateway.auth.partners import OnboardingError, revoke_key

    settings = load_settings(data_dir)
    try:
        left = revoke_key(
            settings.resolved_jwks_dir,
            partner,
            kid,
            known_partners=_partner_ids(settings.covenant_dir),
            allow_none=allow_none,
        )
    except OnboardingError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"{partner}: revoked {kid}; {left} key(s) remain")


@app.command("token")
def token(
    partner: Annotated[str, typer.Option(help="Partner id (the token's issuer).")],
    role: Annotated[str, typer.Option(help="Role granted to the partner, e.g. adapter.")],
    key_file: Annotated[Path, typer.Option("--key-file", help="The partner's private key.")],
    user: Annotated[str | None, typer.Option(help="User id within the partner (sub).")] = None,
    lifetime: Annotated[int, typer.Option(help="Seconds the token lives.")] = 120,
) -> None:
    """Print one single-use token signed with the partner's key (first call, checks by hand)."""
    from gateway.auth.keys import load_private_key
    from gateway.auth.tokens import sign_partner_token

    settings = load_settings(None)
    try:
        private = load_private_key(key_file)
    except (OSError, ValueError) as exc:
        raise _fail(f"cannot use {key_file}: {exc}") from None
    typer.echo(
        sign_partner_token(
            private,
            partner_id=partner,
            role=role,
            user=user,
            audience=settings.audience,
            lifetime_seconds=lifetime,
        )
    )
