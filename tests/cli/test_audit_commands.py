"""`ketenpoort audit verify / export`, as an operator and an external auditor run them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from gateway.config import Settings
from gateway.context import GatewayContext
from gateway.db import transaction
from tests.audit.builders import disclosure


def _ketenpoort(
    settings: Settings, *args: str, **extra_env: str
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KETENPOORT_")}
    env["KETENPOORT_DATABASE_URL"] = settings.resolved_database_url
    env.update(extra_env)
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args, "--data-dir", str(settings.data_dir)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def _fill(context: GatewayContext, count: int) -> None:
    log = context.audit
    for number in range(count):
        with transaction(context.session_factory) as session:
            log.append(session=session, entry=disclosure(number))
    log.sign_checkpoint(context.session_factory)


def _log_key(settings: Settings) -> str:
    printed = _ketenpoort(settings, "audit", "public-key")
    assert printed.returncode == 0, printed.stderr
    return printed.stdout.strip()


def test_verify_refuses_to_run_without_a_pinned_log_key(
    context: GatewayContext, settings: Settings
) -> None:
    """The key directory is no pin: whoever rewrites the log can replace the key there too."""
    _fill(context, 3)
    refused = _ketenpoort(settings, "audit", "verify")
    assert refused.returncode == 2
    assert "no pinned log key" in refused.stderr
    unpinned = _ketenpoort(settings, "audit", "verify", "--trust-key-dir")
    assert unpinned.returncode == 0, unpinned.stderr
    assert "not pinned" in unpinned.stderr


def test_verify_passes_on_an_untouched_log_and_names_a_changed_entry(
    context: GatewayContext, settings: Settings
) -> None:
    _fill(context, 12)
    log_key = _log_key(settings)
    assert log_key.startswith(settings.audit_log_origin + "+")
    ok = _ketenpoort(settings, "audit", "verify", "--log-key", log_key)
    assert ok.returncode == 0, ok.stderr
    assert "OK: the log verifies." in ok.stdout
    # No witness configured: said so, unmistakably (the exit code stays 0).
    assert "NOT WITNESSED (no witness configured, quorum 0)" in ok.stdout
    assert "WARNING: no witness was asked" in ok.stderr
    # One checkpoint is "1 checkpoint", several entries are "entries".
    assert "12 entries, 1 checkpoint; " in ok.stdout
    assert "0 checkpoints held outside the log compared" in ok.stdout

    with transaction(context.session_factory) as session:
        session.execute(
            text("UPDATE audit_entry SET body = replace(body, 'dec-5', 'dec-4') WHERE idx = 5")
        )
    bad = _ketenpoort(settings, "audit", "verify", "--log-key", log_key)
    assert bad.returncode == 1
    assert "FAILED: first bad" in bad.stderr
    assert "5" in bad.stderr.split("FAILED: first bad", 1)[1].splitlines()[0]


def test_an_export_verifies_offline_and_a_tampered_export_does_not(
    context: GatewayContext, settings: Settings, tmp_path: Path
) -> None:
    _fill(context, 8)
    key_file = tmp_path / "published-log-key.txt"
    key_file.write_text(_log_key(settings) + "\n")
    export = tmp_path / "audit-export.jsonl"
    written = _ketenpoort(settings, "audit", "export", str(export))
    assert written.returncode == 0, written.stderr
    offline = subprocess.run(
        [
            sys.executable,
            "-m",
            "gateway",
            "audit",
            "verify",
            "--export",
            str(export),
            "--log-key",
            str(key_file),
        ],  # fmt: skip
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if not k.startswith("KETENPOORT_")},
    )
    assert offline.returncode == 0, offline.stderr
    assert "OK: the log verifies." in offline.stdout

    export.write_text(export.read_text().replace("dec-3", "dec-2", 1))
    tampered = subprocess.run(
        [
            sys.executable,
            "-m",
            "gateway",
            "audit",
            "verify",
            "--export",
            str(export),
            "--log-key",
            str(key_file),
        ],  # fmt: skip
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert tampered.returncode == 1
    assert "FAILED" in tampered.stderr


def test_verify_asks_a_real_witness_and_names_a_deleted_tail(
    context: GatewayContext, settings: Settings
) -> None:
    """The whole path an auditor runs: a witness process (`ketenpoort witness serve`) cosigns,
    `audit verify --log-key ... --witness '<vkey> <URL>'` fetches what it holds over HTTP; after
    the tail, the head and the last checkpoint are deleted, it names the deleted entries."""
    import json

    from gateway.audit.wiring import start_demo_witness, witnessing

    witness, configured = start_demo_witness(settings)
    (line,) = json.loads(configured)
    log = context.audit
    log.witnessing = witnessing(settings.model_copy(update={"audit_witnesses": [line]}))
    try:
        _fill(context, 6)
        log_key = _log_key(settings)
        ok = _ketenpoort(settings, "audit", "verify", "--log-key", log_key, "--witness", line)
        assert ok.returncode == 0, ok.stdout + ok.stderr
        assert "holds tree size 6" in ok.stdout
        # The positive control of the warning without witnesses: none with one.
        assert "NOT WITNESSED" not in ok.stdout
        assert "WARNING: no witness" not in ok.stderr
        with transaction(context.session_factory) as session:
            session.execute(text("DELETE FROM audit_entry WHERE idx = 5"))
            session.execute(text("DELETE FROM audit_note_signature"))
            session.execute(text("DELETE FROM audit_checkpoint"))
            session.execute(text("UPDATE audit_head SET next_index = 5"))
        bad = _ketenpoort(settings, "audit", "verify", "--log-key", log_key, "--witness", line)
        assert bad.returncode == 1, bad.stdout + bad.stderr
        assert "holds a checkpoint of size 6 but the log has only 5 entries" in bad.stderr
    finally:
        if log.witnessing is not None:
            log.witnessing.close()
        witness.terminate()
        witness.wait(10)


def test_the_checkpoint_job_refuses_the_example_origin_outside_demo_mode(
    context: GatewayContext, settings: Settings
) -> None:
    """The scheduled `audit checkpoint` signs under the configured origin: left at the
    example outside demo mode it would sign a new log under a name that is not this log's
    (review6a F2; the gateway already refused to start). One line, exit 2, nothing signed.
    Control: the same command in the demo mode the log was made in signs. Once the log has
    a checkpoint under the example, that is its name, kept outside demo mode too (review9c
    F2: renaming it fails its verification; docs/operations.md's upgrade note)."""
    while context.jobs:  # no checkpoint but the commands' (the fixture's job signs too)
        context.jobs.pop().stop()
    for number in range(3):  # entries, no checkpoint yet: a new log
        with transaction(context.session_factory) as session:
            context.audit.append(session=session, entry=disclosure(number))

    def checkpoints() -> int:
        with context.session_factory() as session:
            return int(session.execute(text("SELECT count(*) FROM audit_checkpoint")).scalar_one())

    before = checkpoints()
    refused = _ketenpoort(settings, "audit", "checkpoint")
    assert refused.returncode == 2, refused.stderr
    assert "KETENPOORT_AUDIT_LOG_ORIGIN is 'ketenpoort.example/audit-log'" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert checkpoints() == before
    signed = _ketenpoort(settings, "audit", "checkpoint", KETENPOORT_DEMO_MODE="true")
    assert signed.returncode == 0, signed.stderr
    assert "Signed checkpoint: tree size 3" in signed.stdout
    assert checkpoints() == before + 1
    with transaction(context.session_factory) as session:
        context.audit.append(session=session, entry=disclosure(3))
    kept = _ketenpoort(settings, "audit", "checkpoint")
    assert kept.returncode == 0, kept.stderr
    assert "Signed checkpoint: tree size 4" in kept.stdout
