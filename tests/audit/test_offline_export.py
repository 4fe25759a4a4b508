"""``ketenpoort-verify`` on an export whose witnessed tail was cut off (review8b F1).

Entries 14..19 and checkpoint 20 removed from a real export and the header's ``treeSize``
set to 14: a consistent, signed, witnessed log of 14 entries. Only the witnesses know the log
had 20. With the witness keys alone it said "OK: the log verifies"; now it refuses to run
without asking them unless told ``--offline``, and then says NOT CHECKED about the end.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from audit.verifier_cli import main as ketenpoort_verify
from gateway.audit.export import write_export
from gateway.cli import app

from .test_tamper_matrix import Deployment, deployment  # noqa: F401
from .witnesses import log_verifier, router


def _export(deployment: Deployment, tmp_path: Path) -> Path:  # noqa: F811
    path = tmp_path / "export.jsonl"
    with path.open("w", encoding="utf-8") as out:
        write_export(deployment.factory, out, [deployment.log.signer.public_key])
    return path


def _truncated(path: Path, size: int) -> Path:
    kept = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        record = json.loads(line)
        if number == 0:
            record["treeSize"] = size
        elif record.get("treeSize", record.get("index", -1)) >= size + (
            record["type"] == "checkpoint"
        ):
            continue  # a checkpoint over more than ``size``, an entry at or past it
        kept.append(json.dumps(record, ensure_ascii=False))
    cut = path.with_name("truncated.jsonl")
    cut.write_text("\n".join(kept) + "\n", encoding="utf-8")
    return cut


def _log_key(deployment: Deployment) -> list[str]:  # noqa: F811
    return ["--log-key", log_verifier(deployment.log).vkey(), "--quorum", "2"]


def _witness_keys(deployment: Deployment) -> list[str]:  # noqa: F811
    return [a for w in deployment.witnesses for a in ("--witness-key", w.verifier.vkey())]


def _witnesses_asked(deployment: Deployment) -> list[str]:  # noqa: F811
    return [a for w in deployment.witnesses for a in ("--witness", f"{w.verifier.vkey()} {w.url}")]


@pytest.fixture
def reachable(deployment: Deployment, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """``ketenpoort-verify``'s own HTTP client reaches the in-process witnesses."""
    client = router(deployment.witnesses)
    monkeypatch.setattr(httpx, "Client", lambda **_: client)


def test_keys_only_refuses_to_run_without_offline(
    deployment: Deployment,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cut = _truncated(_export(deployment, tmp_path), 14)
    assert ketenpoort_verify([str(cut), *_log_key(deployment), *_witness_keys(deployment)]) == 2
    captured = capsys.readouterr()
    assert "OK" not in captured.out
    assert captured.err.startswith("error: no witness is asked what it holds"), captured.err
    assert "--offline" in captured.err


def test_offline_says_not_checked_instead_of_ok(
    deployment: Deployment,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cut = _truncated(_export(deployment, tmp_path), 14)
    args = [str(cut), *_log_key(deployment), *_witness_keys(deployment), "--offline"]
    assert ketenpoort_verify(args) == 0  # documented: the auditor asked for this check
    out = capsys.readouterr().out
    assert "NOT CHECKED: no witness was asked what it holds (--offline)" in out
    assert "more than these 14 entries" in out
    assert "OK: the log verifies." not in out
    assert "OK (offline): the log verifies, except its end: NOT CHECKED" in out


def test_the_witnesses_asked_catch_the_cut_tail(
    deployment: Deployment,  # noqa: F811
    tmp_path: Path,
    reachable: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Positive control: the same export, the witnesses asked (what the docs now show)."""
    cut = _truncated(_export(deployment, tmp_path), 14)
    assert ketenpoort_verify([str(cut), *_log_key(deployment), *_witnesses_asked(deployment)]) == 1
    err = capsys.readouterr().err
    assert "FAILED: first bad entry 14: missing" in err
    assert "holds a checkpoint of size 20 but the log has only 14 entries" in err
    assert "checkpoint 20: missing-checkpoint" in err


def test_the_full_export_with_the_witnesses_asked_verifies(
    deployment: Deployment,  # noqa: F811
    tmp_path: Path,
    reachable: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = _export(deployment, tmp_path)
    assert ketenpoort_verify([str(path), *_log_key(deployment), *_witnesses_asked(deployment)]) == 0
    out = capsys.readouterr().out
    assert "OK: the log verifies." in out
    assert "NOT CHECKED" not in out
    for witness in deployment.witnesses:
        assert f"Witness {witness.name} holds tree size 20." in out


def test_a_held_checkpoint_is_enough_to_run(
    deployment: Deployment,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``--checkpoint`` (a receipt's signed checkpoint kept by a partner) compares the end as
    far as it reaches: the cut tail under it is caught without any witness asked."""
    from sqlalchemy import text

    with deployment.factory() as session:
        note = session.execute(
            text("SELECT note FROM audit_checkpoint WHERE tree_size = 20")
        ).scalar_one()
        lines = session.execute(
            text("SELECT line FROM audit_note_signature WHERE tree_size = 20 ORDER BY signed_at")
        ).scalars()
        held = tmp_path / "receipt-checkpoint.txt"
        held.write_text(note + "\n" + "".join(lines), encoding="utf-8")
    cut = _truncated(_export(deployment, tmp_path), 14)
    args = [str(cut), *_log_key(deployment), *_witness_keys(deployment), "--checkpoint", str(held)]
    assert ketenpoort_verify(args) == 1
    assert "entries 14..19 were deleted" in capsys.readouterr().err


def test_audit_verify_offline_says_not_checked(
    deployment: Deployment,  # noqa: F811
    tmp_path: Path,
) -> None:
    """The gateway's command (``--export`` here, the database alike) with ``--offline``."""
    cut = _truncated(_export(deployment, tmp_path), 14)
    witnesses = [a for w in deployment.witnesses for a in ("--witness", w.verifier.vkey())]
    result = CliRunner().invoke(
        app,
        ["audit", "verify", "--export", str(cut), *_log_key(deployment), *witnesses, "--offline"],
    )
    assert result.exit_code == 0, result.output
    assert "NOT CHECKED: the witnesses were not asked what they hold (--offline)" in result.stderr
    assert "OK (offline): the log verifies, except its end: NOT CHECKED." in result.stdout


def test_a_wiped_witness_asked_is_named(
    deployment: Deployment,  # noqa: F811
    tmp_path: Path,
    reachable: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """review8b F2 through the auditor's command: it printed "holds tree size nothing" and
    OK."""
    path = _export(deployment, tmp_path)
    deployment.witnesses[0].state_file().unlink()
    assert ketenpoort_verify([str(path), *_log_key(deployment), *_witnesses_asked(deployment)]) == 1
    captured = capsys.readouterr()
    assert (
        f"Witness {deployment.witnesses[0].name} holds no checkpoint of this log." in captured.out
    )
    assert "FAILED: first bad checkpoint 20: witness:" in captured.err
    assert "its state was lost or rolled back" in captured.err
