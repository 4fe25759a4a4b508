"""The shipped witness needs no manual step (review9c F3): ``witness serve --name`` (what
docker-compose.yml and deploy/kubernetes/witness.yaml run) creates the witness's key and state
on its first start, on an empty directory only; without the gateway's log key it says so in
one line. Run in-process with uvicorn replaced: what is checked is what happens before it
listens."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from audit.note import NoteSigner
from gateway.audit.witness import KEY_FILE, STATE_DIR, load_cosigner
from gateway.cli import app as cli

NAME = "witness.partner.example/ketenpoort"


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []

    def run(app: Any, **options: Any) -> None:
        calls.append(options)

    monkeypatch.setattr("uvicorn.run", run)
    return calls


def _log_key() -> str:
    return NoteSigner("gateway.example/audit-log", Ed25519PrivateKey.generate()).verifier.vkey()


def _serve(directory: Path, **env: str) -> Any:
    return CliRunner().invoke(
        cli,
        ["witness", "serve", "--host", "0.0.0.0", "--port", "8009"],
        env={"KETENPOORT_WITNESS_DIR": str(directory), **env},
    )


def test_the_first_start_creates_the_witness_and_serves(
    tmp_path: Path, served: list[dict[str, Any]]
) -> None:
    directory = tmp_path / "witness"
    result = _serve(directory, KETENPOORT_WITNESS_NAME=NAME, KETENPOORT_WITNESS_LOGS=_log_key())
    assert result.exit_code == 0, result.output
    assert served == [{"host": "0.0.0.0", "port": 8009, "log_level": "info"}]
    vkey = load_cosigner(directory).verifier.vkey()
    assert vkey.startswith(NAME + "+")
    assert f"Witness {vkey}" in result.output
    assert (directory / KEY_FILE).stat().st_mode & 0o777 == 0o600
    # The second start keeps the key: the same witness the gateways pin.
    again = _serve(directory, KETENPOORT_WITNESS_NAME=NAME, KETENPOORT_WITNESS_LOGS=_log_key())
    assert again.exit_code == 0, again.output
    assert load_cosigner(directory).verifier.vkey() == vkey
    assert "initialised" not in again.output


def test_without_a_name_an_empty_directory_is_refused_as_before(
    tmp_path: Path, served: list[dict[str, Any]]
) -> None:
    result = _serve(tmp_path / "witness", KETENPOORT_WITNESS_LOGS=_log_key())
    assert result.exit_code == 2
    assert "not a witness directory" in result.output
    assert served == []


def test_a_directory_that_lost_its_state_is_never_initialised_again(
    tmp_path: Path, served: list[dict[str, Any]]
) -> None:
    """A witness that forgot what it cosigned must not cosign the log afresh under the key
    the gateways pin; only an empty directory (a new key, pinned by nobody) is created."""
    directory = tmp_path / "witness"
    first = _serve(directory, KETENPOORT_WITNESS_NAME=NAME, KETENPOORT_WITNESS_LOGS=_log_key())
    assert first.exit_code == 0, first.output
    (directory / STATE_DIR).rmdir()
    result = _serve(directory, KETENPOORT_WITNESS_NAME=NAME, KETENPOORT_WITNESS_LOGS=_log_key())
    assert result.exit_code == 2
    assert "not a witness directory" in result.output
    assert not (directory / STATE_DIR).exists()
    assert len(served) == 1


@pytest.mark.parametrize("logs", ["", "replace-with-the-gateway-log-vkey"])
def test_without_the_log_key_it_says_so_in_one_line_after_printing_its_vkey(
    tmp_path: Path, served: list[dict[str, Any]], logs: str
) -> None:
    directory = tmp_path / "witness"
    result = _serve(directory, KETENPOORT_WITNESS_NAME=NAME, KETENPOORT_WITNESS_LOGS=logs)
    assert result.exit_code == 2
    assert "KETENPOORT_WITNESS_LOGS" in result.output
    assert "ketenpoort audit public-key" in result.output
    assert "Traceback" not in result.output
    assert f"Witness {load_cosigner(directory).verifier.vkey()}" in result.output
    assert served == []


def test_the_first_start_on_a_fresh_ext4_volume_ignores_its_lost_and_found(
    tmp_path: Path, served: list[dict[str, Any]]
) -> None:
    """A Kubernetes volume is mounted at its root, where ext4 keeps ``lost+found``
    (review10 F5: the directory was not empty, so the witness never started)."""
    directory = tmp_path / "witness"
    (directory / "lost+found").mkdir(parents=True, mode=0o700)
    result = _serve(directory, KETENPOORT_WITNESS_NAME=NAME, KETENPOORT_WITNESS_LOGS=_log_key())
    assert result.exit_code == 0, result.output
    assert load_cosigner(directory).verifier.vkey().startswith(NAME + "+")
    assert (directory / "lost+found").is_dir()
    assert len(served) == 1


@pytest.mark.parametrize("beside", [(), ("lost+found",)])
def test_a_directory_holding_only_a_witness_key_is_refused(
    tmp_path: Path, served: list[dict[str, Any]], beside: tuple[str, ...]
) -> None:
    """The positive control of the above: only lost+found is ignored; a key left behind
    (its name and state lost) is never joined by a new name and state."""
    directory = tmp_path / "witness"
    directory.mkdir()
    for name in beside:
        (directory / name).mkdir()
    key = directory / KEY_FILE
    key.write_bytes(b"the key the gateways pin")
    result = _serve(directory, KETENPOORT_WITNESS_NAME=NAME, KETENPOORT_WITNESS_LOGS=_log_key())
    assert result.exit_code == 2
    assert "not a witness directory" in result.output
    assert key.read_bytes() == b"the key the gateways pin"
    assert sorted(p.name for p in directory.iterdir()) == sorted([KEY_FILE, *beside])
    assert served == []
