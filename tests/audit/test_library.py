"""``audit/`` is a library an external auditor installs and runs alone: nothing in it imports
the gateway (checked on the import graph of its source, function-local imports included), it
builds as its own distribution (``pip install ./audit``) with only the dependencies it
declares, and its ``ketenpoort-verify`` verifies an export with the gateway's packages made
unimportable."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from gateway.audit import AuditLog
from gateway.audit.export import write_export
from gateway.db import transaction

from .builders import disclosure
from .witnesses import ORIGIN, RunningWitness, log_verifier, start_witness, witnessed

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "audit"
#: Imports the library may make besides itself and the standard library: its declared
#: dependencies (audit/pyproject.toml), by import name.
DECLARED = {"cryptography", "pydantic", "httpx"}


def imported_modules(source: str) -> set[str]:
    """Every module an ``import`` or ``from ... import`` names anywhere in ``source`` (at the
    top, in functions, under ``TYPE_CHECKING``): the module's import graph edges."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def _library_imports() -> dict[str, set[str]]:
    return {
        str(path.relative_to(ROOT)): imported_modules(path.read_text(encoding="utf-8"))
        for path in sorted(LIBRARY.rglob("*.py"))
    }


def test_the_import_check_sees_function_local_and_type_checking_imports() -> None:
    """Negative control: the walk finds what a top-level-only check would miss."""
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from gateway.config import Settings\n"
        "def f():\n    import gateway.db\n    from gateway.audit import models\n"
    )
    assert {"gateway.config", "gateway.db", "gateway.audit"} <= imported_modules(source)


def test_nothing_in_audit_imports_the_gateway() -> None:
    graph = _library_imports()
    assert len(graph) >= 10, graph  # the library is there
    offending = {
        module: sorted(m for m in names if m == "gateway" or m.startswith("gateway."))
        for module, names in graph.items()
    }
    assert not {k: v for k, v in offending.items() if v}, offending


def test_audit_imports_only_the_standard_library_and_its_declared_dependencies() -> None:
    declared = tomllib.loads((LIBRARY / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {spec.split(">")[0].split("=")[0].split("[")[0] for spec in declared}
    assert names == DECLARED
    third_party = {
        name.split(".")[0]
        for imports in _library_imports().values()
        for name in imports
        if name.split(".")[0] not in sys.stdlib_module_names and name.split(".")[0] != "audit"
    }
    assert third_party <= DECLARED, third_party - DECLARED


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``pip wheel ./audit`` from a copy of the directory (an in-tree build would write its
    metadata into the checkout), without build isolation or an index, as the image builds."""
    work = tmp_path_factory.mktemp("library")
    source = work / "ketenpoort-audit"
    shutil.copytree(LIBRARY, source, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--no-index", "-q", "-w", str(work / "dist"), str(source)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    (built,) = (work / "dist").glob("ketenpoort_audit-*.whl")
    return built


def test_the_library_builds_as_its_own_distribution(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
        requires = [
            line.split(":", 1)[1].strip()
            for line in archive.read(metadata).decode().splitlines()
            if line.startswith("Requires-Dist:")
        ]
        entry_points = archive.read(
            next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        ).decode()
    packages = {name.split("/")[0] for name in names if not name.split("/")[0].endswith("-info")}
    assert packages == {"audit"}, packages
    assert "audit/verifier_cli.py" in names
    assert "audit/py.typed" in names
    assert not any(name.endswith("pyproject.toml") for name in names)
    assert {r.split(">")[0] for r in requires} == DECLARED
    assert "ketenpoort-verify = audit.verifier_cli:main" in entry_points


# -- the standalone verifier on an export -----------------------------------------------------


@pytest.fixture
def exported(
    factory: sessionmaker[Session], audit_log: AuditLog, tmp_path: Path
) -> Iterator[tuple[Path, AuditLog, RunningWitness]]:
    """A log of 6 entries under a checkpoint the witness cosigned, exported."""
    audit_log.origin = ORIGIN
    witness = start_witness(tmp_path / "witness", "witness.partner-1.test/kp", audit_log)
    http = witnessed(audit_log, [witness], quorum=1)
    for number in range(6):
        with transaction(factory) as session:
            audit_log.append(session=session, entry=disclosure(number))
    audit_log.sign_checkpoint(factory)
    path = tmp_path / "export.jsonl"
    with path.open("w", encoding="utf-8") as out:
        write_export(factory, out, [audit_log.signer.public_key])
    yield path, audit_log, witness
    http.close()


#: Runs the installed library's verifier with the gateway and its frameworks unimportable.
_RUNNER = """
import importlib.abc, sys
class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"gateway", "sqlalchemy", "fastapi", "typer", "adapters"}:
            raise ImportError(f"{name} is not installed here")
        return None
sys.meta_path.insert(0, Refuse())
sys.path.insert(0, sys.argv[1])
import audit
assert audit.__file__.startswith(sys.argv[1]), audit.__file__
from audit.verifier_cli import main
sys.exit(main(sys.argv[2:]))
"""


def _verify_alone(wheel: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    site = tmp_path / "site"
    if not site.exists():
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(site)
    return subprocess.run(
        [sys.executable, "-c", _RUNNER, str(site), *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin"},
        timeout=120,
    )


def test_ketenpoort_verify_checks_an_export_without_the_gateway(
    wheel: Path, exported: tuple[Path, AuditLog, RunningWitness], tmp_path: Path
) -> None:
    path, log, witness = exported
    keys = ["--log-key", log_verifier(log).vkey(), "--witness-key", witness.verifier.vkey()]
    # No witness to ask here (no network): the auditor must say --offline (review8b F1), and
    # the output says what that leaves unchecked.
    unasked = _verify_alone(wheel, tmp_path, str(path), *keys)
    assert unasked.returncode == 2, unasked.stdout
    assert "no witness is asked what it holds" in unasked.stderr
    keys.append("--offline")
    run = _verify_alone(wheel, tmp_path, str(path), *keys)
    assert run.returncode == 0, run.stderr
    assert "6 entries, 1 checkpoints" in run.stdout
    assert "NOT CHECKED: no witness was asked what it holds (--offline)" in run.stdout
    assert "OK (offline): the log verifies, except its end" in run.stdout

    # A changed byte in an entry: named, exit 1.
    lines = path.read_text(encoding="utf-8").splitlines()
    entry = json.loads(lines[-2])
    entry["body"] = entry["body"].replace('"dec-4"', '"dec-X"')
    lines[-2] = json.dumps(entry)
    tampered = tmp_path / "tampered.jsonl"
    tampered.write_text("\n".join(lines) + "\n", encoding="utf-8")
    bad = _verify_alone(wheel, tmp_path, str(tampered), *keys)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "FAILED: first bad entry 4: changed" in bad.stderr

    # Another log key (not the one the log was published with): refused, exit 1.
    other = AuditLog.from_key_dir(tmp_path / "other-keys").signer.vkey(ORIGIN)
    wrong = _verify_alone(wheel, tmp_path, str(path), "--log-key", other, *keys[2:])
    assert wrong.returncode == 1
    assert "signed by an untrusted key" in wrong.stderr


def test_ketenpoort_verify_without_a_witness_runs_only_when_asked(
    wheel: Path, exported: tuple[Path, AuditLog, RunningWitness], tmp_path: Path
) -> None:
    """No witness given: refused (exit 2), not "OK" on the log's own word; with --quorum 0
    the auditor asks for exactly that check (positive control)."""
    path, log, _ = exported
    log_key = ["--log-key", log_verifier(log).vkey()]
    unwitnessed = _verify_alone(wheel, tmp_path, str(path), *log_key)
    assert unwitnessed.returncode == 2, unwitnessed.stdout
    assert "no witness to trust" in unwitnessed.stderr
    asked = _verify_alone(wheel, tmp_path, str(path), *log_key, "--quorum", "0", "--offline")
    assert asked.returncode == 0, asked.stderr
    assert "no witnesses required" in asked.stdout


def test_ketenpoort_verify_refuses_to_run_without_what_it_must_trust(
    wheel: Path, exported: tuple[Path, AuditLog, RunningWitness], tmp_path: Path
) -> None:
    path, log, _ = exported
    run = _verify_alone(wheel, tmp_path, str(path), "--log-key", "not-a-key")
    assert run.returncode == 2
    assert run.stderr.startswith("error: --log-key")
    missing = _verify_alone(wheel, tmp_path, str(path))
    assert missing.returncode == 2  # argparse: --log-key is required
