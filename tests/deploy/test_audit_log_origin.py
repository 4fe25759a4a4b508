"""Every deployment names its own audit log (review6a, finding 2).

C2SP tlog-checkpoint: the origin identifies one log. Two deployments built from
docker-compose.yml or deploy/kubernetes kept the example origin, and a partner witnessing
both (the police are in both covenants) could cosign only the first log, ever, and handed
the second's auditors the first's checkpoint. Outside demo mode the gateway now refuses to
start with the example origin or a ``replace-with-...`` placeholder, which is what the
deployment files carry until the operator sets it (docs/operations.md). Demo mode keeps the
example. The positive controls: a real origin starts, and a witness cosigns two logs of
distinct origins.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.merkle import leaf_hash, root_of
from audit.note import NoteSigner, checkpoint_text, join_note
from gateway.audit.witness import Witness, WitnessState, init_witness
from gateway.config import EXAMPLE_AUDIT_LOG_ORIGIN, Settings, audit_log_origin_problem
from gateway.context import build_context
from tests.cli.test_commands import _serve

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = "replace-with-this-deployments-name/audit-log"


def _settings(tmp_path: Path, database_url: str, **changes: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "database_url": database_url,
        "auto_migrate": False,
        "retention_sweep_interval_seconds": 0,
        "audit_checkpoint_interval_seconds": 0,
        **changes,
    }
    return Settings(**values)


@pytest.mark.parametrize("origin", [EXAMPLE_AUDIT_LOG_ORIGIN, PLACEHOLDER])
def test_the_gateway_refuses_to_start_outside_demo_mode_on_the_example_origin(
    tmp_path: Path, database_url: str, origin: str
) -> None:
    settings = _settings(tmp_path, database_url, demo_mode=False, audit_log_origin=origin)
    with pytest.raises(ValueError, match="KETENPOORT_AUDIT_LOG_ORIGIN") as refused:
        build_context(settings)
    assert "docs/operations.md" in str(refused.value)
    # The positive control: this deployment's own name starts.
    named = _settings(
        tmp_path,
        database_url,
        demo_mode=False,
        audit_log_origin="ketenpoort.utrecht.nl/audit-log",
        audience="ketenpoort.utrecht.nl",
    )
    build_context(named).close()


def test_demo_mode_keeps_the_example_origin(tmp_path: Path, database_url: str) -> None:
    settings = _settings(tmp_path, database_url, demo_mode=True)
    assert settings.audit_log_origin == EXAMPLE_AUDIT_LOG_ORIGIN
    context = build_context(settings)
    try:
        assert context.audit.origin == EXAMPLE_AUDIT_LOG_ORIGIN
    finally:
        context.close()


@pytest.mark.parametrize("origin", [EXAMPLE_AUDIT_LOG_ORIGIN, PLACEHOLDER])
def test_serve_refuses_the_example_origin_outside_demo_mode_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, origin: str
) -> None:
    refused = _serve(monkeypatch, tmp_path, "--no-demo", KETENPOORT_AUDIT_LOG_ORIGIN=origin)
    assert refused.exit_code == 1, refused.output
    assert "KETENPOORT_AUDIT_LOG_ORIGIN" in refused.output
    assert "ketenpoort.utrecht.nl/audit-log" in refused.output  # says what to set
    assert not (tmp_path / "data").exists()  # before anything was made
    # The positive controls: a named origin serves; a demo serves on the example.
    named = _serve(
        monkeypatch, tmp_path, "--no-demo", KETENPOORT_AUDIT_LOG_ORIGIN="kp.rijswijk.nl/audit"
    )
    assert named.exit_code == 0, named.output


def test_the_deployment_files_carry_a_placeholder_the_gateway_refuses() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    value = compose["x-gateway-env"]["KETENPOORT_AUDIT_LOG_ORIGIN"]
    found = re.fullmatch(r"\$\{KETENPOORT_AUDIT_LOG_ORIGIN:-([^}]+)\}", value)
    assert found, value  # the operator's setting (.env), else the placeholder
    config = yaml.safe_load((ROOT / "deploy/kubernetes/configmap.yaml").read_text())["data"]
    for placeholder in (found.group(1), config["KETENPOORT_AUDIT_LOG_ORIGIN"]):
        assert placeholder == PLACEHOLDER
        assert (
            audit_log_origin_problem(Settings(demo_mode=False, audit_log_origin=placeholder))
            is not None
        )
    operations = (ROOT / "docs/operations.md").read_text()
    assert operations.count("KETENPOORT_AUDIT_LOG_ORIGIN") >= 2  # compose and Kubernetes


def _checkpoint(signer: NoteSigner, leaves: list[bytes]) -> str:
    text = checkpoint_text(signer.name, len(leaves), root_of([leaf_hash(x) for x in leaves]))
    return join_note(text, [signer.sign(text)])


def test_one_witness_cosigns_two_deployments_of_distinct_origins(tmp_path: Path) -> None:
    """Why the origins must differ; the review's probe showed the second log refused (403)
    under one shared origin."""
    utrecht = NoteSigner("ketenpoort.utrecht.nl/audit-log", Ed25519PrivateKey.generate())
    rijswijk = NoteSigner("ketenpoort.rijswijk.nl/audit-log", Ed25519PrivateKey.generate())
    cosigner = init_witness(tmp_path / "w", "witness.politie.example/kp")
    witness = Witness(
        cosigner, WitnessState(tmp_path / "w" / "state"), [utrecht.verifier, rijswijk.verifier]
    )
    first = witness.add_checkpoint(b"old 0\n\n" + _checkpoint(utrecht, [b"u1", b"u2"]).encode())
    second = witness.add_checkpoint(b"old 0\n\n" + _checkpoint(rijswijk, [b"r1"]).encode())
    assert (first.status, second.status) == (200, 200)
    assert witness.latest(utrecht.name).body.startswith(f"{utrecht.name}\n2\n")
    assert witness.latest(rijswijk.name).body.startswith(f"{rijswijk.name}\n1\n")


# -- the origin of a log that has checkpoints never changes (review9c, finding 2) ------------
#
# KETENPOORT_AUDIT_LOG_ORIGIN could change on an existing log: the gateway started and said
# ready, and `audit checkpoint` signed the next checkpoint under the new name, which `audit
# verify` against the pinned key then reported FAILED (bad-signature). The start, the
# checkpoint command and the key rotation now compare the setting with the names the log's
# checkpoints are signed under and refuse another in one line naming both.

UTRECHT = "ketenpoort.utrecht.nl/audit-log"
RENAMED = "renamed.utrecht.nl/audit-log"


def _signed_log(tmp_path: Path, database_url: str, origin: str, *, demo: bool = False) -> None:
    """One entry and a signed checkpoint under ``origin``."""
    from gateway.db import transaction
    from tests.audit.builders import disclosure

    context = build_context(
        _settings(
            tmp_path, database_url, demo_mode=demo, audit_log_origin=origin, audience="kp.test"
        )
    )
    try:
        with transaction(context.session_factory) as session:
            context.audit.append(session=session, entry=disclosure(1))
        assert context.audit.sign_checkpoint(context.session_factory) is not None
    finally:
        context.close()


def _checkpoint_origins(database_url: str) -> list[str]:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            notes = connection.execute(
                text("SELECT note FROM audit_checkpoint ORDER BY tree_size")
            ).scalars()
            return [note.split("\n", 1)[0] for note in notes]
    finally:
        engine.dispose()


def test_the_gateway_refuses_another_origin_than_its_logs_checkpoints(
    tmp_path: Path, database_url: str
) -> None:
    from gateway.config import StartRefused

    _signed_log(tmp_path, database_url, UTRECHT)
    renamed = _settings(
        tmp_path, database_url, demo_mode=False, audit_log_origin=RENAMED, audience="kp.test"
    )
    with pytest.raises(StartRefused) as refused:
        build_context(renamed)
    message = str(refused.value)
    assert "\n" not in message
    assert UTRECHT in message
    assert RENAMED in message
    # The positive control: the log's own name starts.
    same = _settings(
        tmp_path, database_url, demo_mode=False, audit_log_origin=UTRECHT, audience="kp.test"
    )
    build_context(same).close()


def test_the_checkpoint_command_signs_nothing_under_another_origin(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str
) -> None:
    """The review's probe: the scheduled job's command with another origin signed
    checkpoint 3 under it (exit 0)."""
    from typer.testing import CliRunner

    from gateway.cli import app
    from gateway.db import transaction
    from tests.audit.builders import disclosure

    _signed_log(tmp_path, database_url, UTRECHT)
    context = build_context(
        _settings(
            tmp_path, database_url, demo_mode=False, audit_log_origin=UTRECHT, audience="kp.test"
        )
    )
    with transaction(context.session_factory) as session:  # one more entry to sign
        context.audit.append(session=session, entry=disclosure(2))
    context.close()
    env = {
        "KETENPOORT_DATA_DIR": str(tmp_path / "data"),
        "KETENPOORT_DATABASE_URL": database_url,
        "KETENPOORT_AUTO_MIGRATE": "false",
        "KETENPOORT_DEMO_MODE": "false",
        "KETENPOORT_AUDIENCE": "kp.test",
    }
    refused = CliRunner().invoke(
        app, ["audit", "checkpoint"], env={**env, "KETENPOORT_AUDIT_LOG_ORIGIN": RENAMED}
    )
    assert refused.exit_code == 2, refused.output
    (line,) = [line for line in refused.output.splitlines() if line.strip()]
    assert line.startswith("error: ")
    assert UTRECHT in line
    assert RENAMED in line
    assert _checkpoint_origins(database_url) == [UTRECHT]
    rotated = CliRunner().invoke(
        app, ["audit", "rotate-key"], env={**env, "KETENPOORT_AUDIT_LOG_ORIGIN": RENAMED}
    )
    assert rotated.exit_code == 2, rotated.output
    assert UTRECHT in rotated.output
    assert RENAMED in rotated.output
    assert _checkpoint_origins(database_url) == [UTRECHT]
    # The positive control: under the log's own name the next checkpoint is signed.
    signed = CliRunner().invoke(
        app, ["audit", "checkpoint"], env={**env, "KETENPOORT_AUDIT_LOG_ORIGIN": UTRECHT}
    )
    assert signed.exit_code == 0, signed.output
    assert _checkpoint_origins(database_url) == [UTRECHT, UTRECHT]


def test_serve_refuses_another_origin_in_one_line_naming_both(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str
) -> None:
    _signed_log(tmp_path, database_url, UTRECHT)
    env = {"KETENPOORT_DATABASE_URL": database_url, "KETENPOORT_AUTO_MIGRATE": "false"}
    refused = _serve(
        monkeypatch,
        tmp_path,
        "--no-demo",
        real_database=True,
        KETENPOORT_AUDIT_LOG_ORIGIN=RENAMED,
        **env,
    )
    assert refused.exit_code == 1, refused.output
    (line,) = [line for line in refused.output.splitlines() if line.strip()]
    assert UTRECHT in line
    assert RENAMED in line
    served = _serve(
        monkeypatch,
        tmp_path,
        "--no-demo",
        real_database=True,
        KETENPOORT_AUDIT_LOG_ORIGIN=UTRECHT,
        **env,
    )
    assert served.exit_code == 0, served.output


def test_a_log_signed_under_the_example_origin_keeps_it_outside_demo_mode(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str
) -> None:
    """A deployment that ran at the default before review6a F2: renaming its log would fail
    its verification, so the name its checkpoints carry is accepted (the upgrade note in
    docs/operations.md), and a new name is refused."""
    _signed_log(tmp_path, database_url, EXAMPLE_AUDIT_LOG_ORIGIN, demo=True)
    kept = _settings(
        tmp_path,
        database_url,
        demo_mode=False,
        audit_log_origin=EXAMPLE_AUDIT_LOG_ORIGIN,
        audience="kp.test",
    )
    build_context(kept).close()
    env = {"KETENPOORT_DATABASE_URL": database_url, "KETENPOORT_AUTO_MIGRATE": "false"}
    served = _serve(
        monkeypatch,
        tmp_path,
        "--no-demo",
        real_database=True,
        KETENPOORT_AUDIT_LOG_ORIGIN=EXAMPLE_AUDIT_LOG_ORIGIN,
        **env,
    )
    assert served.exit_code == 0, served.output
    renamed = _serve(
        monkeypatch,
        tmp_path,
        "--no-demo",
        real_database=True,
        KETENPOORT_AUDIT_LOG_ORIGIN=UTRECHT,
        **env,
    )
    assert renamed.exit_code == 1, renamed.output
    assert EXAMPLE_AUDIT_LOG_ORIGIN in renamed.output
    assert UTRECHT in renamed.output
