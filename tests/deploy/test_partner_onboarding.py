"""Onboarding a partner outside demo mode: keygen, register, a first call, rotation with
overlap, revocation, and the registrations that are refused."""

from __future__ import annotations

import json
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from gateway.app import create_app
from gateway.cli import app as cli
from gateway.config import Settings
from gateway.context import build_context

PARTNER = "mitros"  # a housing corporation in the Utrecht covenant; its adapter role: adapter


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def gateway(data_dir: Path, sqlite_template: Path) -> Iterator[TestClient]:
    """A production-mode gateway (no development issuer) that looks at its JWKS directory
    on every token, as a replica would after its refresh interval."""
    data_dir.mkdir()
    shutil.copy(sqlite_template, data_dir / "ketenpoort.db")
    settings = Settings(
        data_dir=data_dir,
        demo_mode=False,
        audit_log_origin="ketenpoort.test/audit-log",
        audience=AUDIENCE["KETENPOORT_AUDIENCE"],
        auto_migrate=False,
        jwks_refresh_seconds=0,
        audit_checkpoint_interval_seconds=0,
        retention_sweep_interval_seconds=0,
    )
    context = build_context(settings)
    try:
        with TestClient(create_app(settings, context), raise_server_exceptions=False) as client:
            yield client
    finally:
        context.close()


#: The gateway's audience, as the operator sets it for the commands too (a token for
#: another audience is refused).
AUDIENCE = {"KETENPOORT_AUDIENCE": "ketenpoort.test"}


def _run(*args: str, stdin: str | None = None) -> str:
    result = CliRunner().invoke(cli, list(args), input=stdin, env=AUDIENCE)
    assert result.exit_code == 0, result.output
    return result.output


def _refused(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 2, result.output
    return result.output


def _keygen(tmp_path: Path, name: str, algorithm: str = "EdDSA") -> tuple[Path, Path, str]:
    key = tmp_path / "partner-side" / f"{name}.pem"
    output = _run("partners", "keygen", "--key-file", str(key), "--algorithm", algorithm)
    kid = output.rsplit("Key id (kid): ", 1)[1].strip()
    return key, key.with_name(f"{name}.jwks.json"), kid


def _token(key: Path) -> str:
    return _run(
        "partners", "token", "--partner", PARTNER, "--role", "adapter", "--key-file", str(key)
    ).strip()


def _me(client: TestClient, key: Path) -> int:
    response = client.get("/v1/me", headers={"Authorization": f"Bearer {_token(key)}"})
    return response.status_code


def test_keygen_writes_an_owner_only_private_key_and_a_public_jwks(tmp_path: Path) -> None:
    key, jwks_file, kid = _keygen(tmp_path, "mitros")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    jwks = json.loads(jwks_file.read_text())
    assert [jwk["kid"] for jwk in jwks["keys"]] == [kid]
    assert "d" not in jwks["keys"][0]  # the private part never leaves the key file
    assert "exists" in _refused("partners", "keygen", "--key-file", str(key))


def test_a_registered_partner_makes_its_first_call(
    tmp_path: Path, data_dir: Path, gateway: TestClient
) -> None:
    key, jwks_file, kid = _keygen(tmp_path, "mitros")
    assert _me(gateway, key) == 401  # not registered yet: unknown key

    output = _run(
        "partners", "register", "--partner", PARTNER, str(jwks_file), "--data-dir", str(data_dir)
    )
    assert f"registered key {kid}" in output
    response = gateway.get("/v1/me", headers={"Authorization": f"Bearer {_token(key)}"})
    assert response.status_code == 200, response.text
    assert response.json()["partnerId"] == PARTNER
    listing = json.loads(
        _run(
            "partners",
            "list",
            "--partner",
            PARTNER,
            "--format",
            "json",
            "--data-dir",
            str(data_dir),
        )
    )
    assert [(row["partner"], row["kid"], row["alg"]) for row in listing] == [
        (PARTNER, kid, "EdDSA")
    ]


def test_rotation_overlaps_and_revocation_takes_effect_without_a_restart(
    tmp_path: Path, data_dir: Path, gateway: TestClient
) -> None:
    old_key, old_jwks, old_kid = _keygen(tmp_path, "mitros-2026")
    new_key, new_jwks, new_kid = _keygen(tmp_path, "mitros-2027", algorithm="ES256")
    _run("partners", "register", "--partner", PARTNER, str(old_jwks), "--data-dir", str(data_dir))
    _run(
        "partners",
        "register",
        "--partner",
        PARTNER,
        "-",
        "--data-dir",
        str(data_dir),
        stdin=new_jwks.read_text(),
    )
    # The overlap: both keys are valid while the adapter moves to the new one.
    assert (_me(gateway, old_key), _me(gateway, new_key)) == (200, 200)

    output = _run(
        "partners", "revoke", "--partner", PARTNER, "--kid", old_kid, "--data-dir", str(data_dir)
    )
    assert "1 key(s) remain" in output
    assert (_me(gateway, old_key), _me(gateway, new_key)) == (401, 200)
    listing = _run("partners", "list", "--partner", PARTNER, "--data-dir", str(data_dir))
    assert new_kid in listing
    assert old_kid not in listing


def test_revoking_a_partners_last_key_needs_to_be_meant(
    tmp_path: Path, data_dir: Path, gateway: TestClient
) -> None:
    key, jwks_file, kid = _keygen(tmp_path, "mitros")
    _run("partners", "register", "--partner", PARTNER, str(jwks_file), "--data-dir", str(data_dir))
    revoke = ("partners", "revoke", "--partner", PARTNER, "--kid", kid, "--data-dir", str(data_dir))
    assert "last key" in _refused(*revoke)
    assert _me(gateway, key) == 200  # the refused revocation changed nothing
    _run(*revoke, "--allow-none")
    assert _me(gateway, key) == 401
    assert "no key registered" in _run(
        "partners", "list", "--partner", PARTNER, "--data-dir", str(data_dir)
    )


def test_a_jwks_holding_a_private_key_is_refused_and_nothing_is_stored(
    tmp_path: Path, data_dir: Path
) -> None:
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from gateway.auth.keys import key_id, public_jwk

    private = ed25519.Ed25519PrivateKey.generate()
    jwk = public_jwk(private, key_id(private))
    jwk["d"] = "c2VjcmV0"  # what a private JWK would add
    leaked = tmp_path / "leaked.json"
    leaked.write_text(json.dumps({"keys": [jwk]}))
    output = _refused(
        "partners", "register", "--partner", PARTNER, str(leaked), "--data-dir", str(data_dir)
    )
    assert "private key" in output
    assert not (data_dir / "jwks" / f"{PARTNER}.json").exists()


def test_a_key_for_someone_outside_the_covenants_is_refused(tmp_path: Path, data_dir: Path) -> None:
    _key, jwks_file, _kid = _keygen(tmp_path, "stranger")
    output = _refused(
        "partners", "register", "--partner", "stranger", str(jwks_file), "--data-dir", str(data_dir)
    )
    assert "not a partner in any covenant" in output
    # Positive control: the same file registers for a partner the covenants name.
    _run("partners", "register", "--partner", PARTNER, str(jwks_file), "--data-dir", str(data_dir))


def test_a_key_id_already_used_by_another_key_is_refused(tmp_path: Path, data_dir: Path) -> None:
    _k1, first, kid = _keygen(tmp_path, "one")
    _k2, second, _ = _keygen(tmp_path, "two")
    _run("partners", "register", "--partner", PARTNER, str(first), "--data-dir", str(data_dir))
    impostor = json.loads(second.read_text())
    impostor["keys"][0]["kid"] = kid
    second.write_text(json.dumps(impostor))
    output = _refused(
        "partners", "register", "--partner", PARTNER, str(second), "--data-dir", str(data_dir)
    )
    assert "already registered for another key" in output
