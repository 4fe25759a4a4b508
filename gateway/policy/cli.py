"""``ketenpoort policy``: build signed bundles, run the Rego tests, explain a decision."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Annotated

import typer

from gateway.policy.bundle import (
    build_bundle,
    default_key_path,
    load_or_create_signing_key,
    write_bundle,
)
from gateway.policy.covenant import default_covenant_dir, load_covenant, load_covenants
from gateway.policy.engine import RegorusEngine
from gateway.policy.errors import BundleError, CovenantError
from gateway.policy.schemas import PolicyInput

app = typer.Typer(help="Covenant policies: build, test, explain.", no_args_is_help=True)

_TEST_RULE = re.compile(r"^(test_[A-Za-z0-9_]+)\b", re.MULTILINE)
_PACKAGE = re.compile(r"^package\s+([A-Za-z0-9_.]+)", re.MULTILINE)


def _data_dir() -> Path:
    from gateway.config import Settings

    return Settings().data_dir


@app.command()
def build(
    covenant: Annotated[Path | None, typer.Option(help="One covenant file.")] = None,
    out: Annotated[Path | None, typer.Option(help="Output directory.")] = None,
) -> None:
    """Compile the covenant(s) into a signed bundle.tar.gz."""
    try:
        if covenant is not None:
            loaded = load_covenant(covenant)
            covenants = {loaded.id: loaded}
        else:
            covenants = load_covenants()
        key = load_or_create_signing_key(default_key_path(_data_dir()))
        bundle = build_bundle(covenants, key)
    except (CovenantError, BundleError) as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(1) from None
    target = write_bundle(bundle, out if out is not None else _data_dir() / "bundles")
    typer.echo(f"built {target} revision {bundle.revision} ({', '.join(sorted(covenants))})")


@app.command("test")
def run_tests() -> None:
    """Run every Rego test_ rule under policies/ on the compiled covenants, like opa test."""
    import regorus

    from gateway.policy.compiler import compile_data, rego_modules, revision_of

    root = default_covenant_dir().parent
    covenants = load_covenants()
    modules = rego_modules()
    engine = regorus.Engine()
    for name, text in modules.items():
        engine.add_policy(name, text)
    tests: list[str] = []
    for path in sorted(root.rglob("*_test.rego")):
        text = path.read_text()
        engine.add_policy(str(path.relative_to(root)), text)
        package = _PACKAGE.search(text)
        if package:
            tests += [f"data.{package.group(1)}.{rule}" for rule in _TEST_RULE.findall(text)]
    engine.add_data_json(json.dumps(compile_data(covenants, revision_of(covenants, modules))))
    failed = 0
    for rule in dict.fromkeys(tests):
        started = time.perf_counter()
        try:
            ok = engine.eval_rule(rule) is True
        except RuntimeError:
            ok = False
        elapsed = (time.perf_counter() - started) * 1e6
        failed += not ok
        typer.echo(f"{rule}: {'PASS' if ok else 'FAIL'} ({elapsed:.0f}µs)")
    typer.echo("-" * 60)
    typer.echo(f"PASS: {len(tests) - failed}/{len(tests)}")
    if failed:
        raise typer.Exit(1)


@app.command()
def explain(
    input_file: Annotated[Path, typer.Option("--input", help="A PolicyInput as JSON.")],
) -> None:
    """Print the decision for one request with the clauses and reasons per category."""

    key = load_or_create_signing_key(default_key_path(_data_dir()))
    engine = RegorusEngine()
    engine.load(build_bundle(load_covenants(), key))
    request = PolicyInput.model_validate_json(input_file.read_text())
    decision = engine.decide(request)
    typer.echo(f"allow: {decision.allow}   revision: {decision.bundle_revision}")
    for error in decision.errors:
        typer.echo(f"request error: {error}")
    for category, d in decision.categories.items():
        why = ", ".join(d.clauses) if d.outcome == "disclose" else ", ".join(d.reasons)
        typer.echo(f"  {category}: {d.outcome} ({d.answer}) - {why}")
