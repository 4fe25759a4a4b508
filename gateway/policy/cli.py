"""``ketenpoort policy``: build signed bundles, run the Rego tests, explain a decision."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gateway.core.cli import read_json_model
from gateway.policy.bundle import (
    build_bundle,
    default_key_path,
    gateway_bundle,
    load_or_create_signing_key,
    public_key_pem,
    read_bundle_file,
    write_bundle,
    write_verification_key,
)
from gateway.policy.covenant import load_covenant, load_covenants
from gateway.policy.engine import PolicyEngine, RegorusEngine
from gateway.policy.errors import BundleError, CovenantError
from gateway.policy.reasons import reason_in_words, reasons_in_words
from gateway.policy.schemas import PolicyInput

app = typer.Typer(help="Covenant policies: build, test, explain.", no_args_is_help=True)


def _settings_dirs() -> tuple[Path | None, Path]:
    """The gateway's covenant directory and data directory (KETENPOORT_* settings)."""
    from gateway.config import Settings

    settings = Settings()
    return settings.covenant_dir, settings.data_dir


def _explaining_engine(bundle_given: bool) -> PolicyEngine:
    """The engine the gateway decides with (KETENPOORT_OPA_URL set: the OPA server, as a
    replica asks it), or embedded regorus for a --bundle file, which no server serves."""
    from gateway.config import Settings
    from gateway.policy.wiring import make_engine

    return RegorusEngine() if bundle_given else make_engine(Settings())


@app.command()
def build(
    covenant: Annotated[
        Path | None, typer.Option(help="One covenant file (policies/<covenant-id>/covenant.yaml).")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Output directory.")] = None,
) -> None:
    """Compile the covenant(s) into a signed bundle.tar.gz in the output directory.

    Only the bundle: the public key an OPA server verifies it with (key id "ketenpoort")
    comes from `ketenpoort policy public-key`, written once at install where the bundle
    writer cannot change it (docs/policy.md).
    """
    covenant_dir, data_dir = _settings_dirs()
    try:
        if covenant is not None:
            loaded = load_covenant(covenant)
            covenants = {loaded.id: loaded}
        else:
            covenants = load_covenants(covenant_dir)
        key = load_or_create_signing_key(default_key_path(data_dir))
        bundle = build_bundle(covenants, key)
    except (CovenantError, BundleError) as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(1) from None
    out_dir = out if out is not None else data_dir / "bundles"
    target = write_bundle(bundle, out_dir)
    typer.echo(f"built {target} revision {bundle.revision} ({', '.join(sorted(covenants))})")


@app.command("public-key")
def public_key(
    out: Annotated[
        Path | None, typer.Option(help="Write the PEM to this file instead of printing it.")
    ] = None,
) -> None:
    """Print the public key (PEM, ES256, key id "ketenpoort") that verifies the bundles.

    Run once at install, and again only when the signing key changes; give it to OPA
    read-only from a place the bundle writer (`policy build`) cannot write: compose's
    config `policy-bundle-verification-key`, Kubernetes's ConfigMap of that name
    (docs/operations.md). Creates the signing key if the data directory has none.
    """
    _, data_dir = _settings_dirs()
    try:
        key = load_or_create_signing_key(default_key_path(data_dir))
    except BundleError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(1) from None
    if out is None:
        typer.echo(public_key_pem(key), nl=False)
    else:
        typer.echo(f"verification key {write_verification_key(key, out)}")


@app.command("test")
def run_tests(
    engine: Annotated[
        list[str] | None, typer.Option(help="Engine(s) to run on; default: all available.")
    ] = None,
) -> None:
    """Run every Rego test_ rule under policies/ on every engine available, like opa test.

    Engines that cannot evaluate `with input as` (rego-cpp, regorus's RVM) run each test
    staged: the runner performs the test's `with` on that engine (see
    gateway/policy/regotest.py). Any failure, or any disagreement between the runs, exits 1.
    """
    from gateway.policy import opa_go
    from gateway.policy.regotest import ENGINES, available_engines, run_rego_tests

    engines = engine or available_engines()
    for name, spec in ENGINES.items():
        what = opa_go.describe() if name == "opa-go" else spec.describes
        status = (
            ""
            if name in engines
            else "  (not run: "
            + ("not installed)" if name not in available_engines() else "not selected)")
        )
        typer.echo(f"engine {name}: {what}{status}")
    report = run_rego_tests(engines)
    for result in report.results:
        status = "PASS" if result.passed else "FAIL"
        line = f"{result.run}: {result.rule}: {status} ({result.microseconds:.0f}µs)"
        typer.echo(line if result.error is None else f"{line}: {result.error}")
    typer.echo("-" * 60)
    runs = list(dict.fromkeys(r.run for r in report.results))
    for run in runs:
        mine = [r for r in report.results if r.run == run]
        typer.echo(f"{run}: PASS: {sum(r.passed for r in mine)}/{len(mine)}")
    for disagreement in report.disagreements:
        typer.echo(f"DISAGREE: {disagreement}")
    if report.disagreements:
        typer.echo(f"engines disagree on {len(report.disagreements)} test(s)")
    elif report.results:
        typer.echo(f"all engines agree ({', '.join(runs)})")
    if not report.ok:
        raise typer.Exit(1)


def example_input() -> Path:
    """The shipped example of a policy input (policies/examples/), a valid one to start from."""
    import policies

    return Path(policies.__file__).parent / "examples" / "explain-om-consent-missing.json"


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


EXPLAIN_HINT = "A valid example: ketenpoort policy explain --input {} (docs/policy.md)."


@app.command()
def explain(
    input_file: Annotated[Path, typer.Option("--input", help="A PolicyInput as JSON.")],
    bundle_file: Annotated[
        Path | None,
        typer.Option(
            "--bundle", help="A bundle.tar.gz to explain with, verified with the gateway's key."
        ),
    ] = None,
) -> None:
    """Print the decision for one request with the clauses and reasons per category.

    Uses the bundle the gateway loads at start (same covenant directory, modules and
    compiler, hence the same content and revision) on the gateway's engine (with
    KETENPOORT_OPA_URL set, the OPA server: an OPA serving another revision is refused, as
    in the gateway), or --bundle on embedded regorus; the engine is printed. Example input
    (the police asked while an investigation runs without OM consent):
    policies/examples/explain-om-consent-missing.json.
    A file that is not a policy input is refused with every problem listed.
    """
    request = read_json_model(
        input_file, PolicyInput, "a policy input", EXPLAIN_HINT.format(_shown(example_input()))
    )
    covenant_dir, data_dir = _settings_dirs()
    try:
        if bundle_file is not None:
            bundle = read_bundle_file(bundle_file, data_dir)
        else:
            bundle = gateway_bundle(covenant_dir, data_dir)
        engine = _explaining_engine(bundle_file is not None)
        engine.load(bundle)
    except (CovenantError, BundleError) as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(1) from None
    decision = engine.decide(request)
    typer.echo(
        f"allow: {decision.allow}   revision: {decision.bundle_revision}   "
        f"engine: {decision.engine}"
    )
    for error in decision.errors:
        typer.echo(f"request error: {reason_in_words(error)}")
    for category, d in decision.categories.items():
        why = (
            "under " + ", ".join(d.clauses)
            if d.outcome == "disclose"
            else reasons_in_words(d.reasons)
        )
        typer.echo(f"  {category}: {d.outcome} ({d.answer}) - {why}")
