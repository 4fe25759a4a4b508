"""The local KEK file: created at first start with 0600; when it is gone nothing is
disclosed or written, requests get a 503 problem and the gateway reports not-ready."""

from __future__ import annotations

import errno
import os
import stat
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.auth.deps import DbSession
from gateway.context import GatewayContext
from gateway.core.readiness import ReadinessChecks
from gateway.crypto import CryptoServices, KeyProviderUnavailable, case_scope
from gateway.crypto.deps import FieldCipherDep
from gateway.crypto.providers import LocalKeyFileProvider
from gateway.crypto.runtime import build_crypto_services, local_key_file
from gateway.crypto.wiring import build
from gateway.db import transaction
from tests.conftest import TokenFactory
from tests.crypto.kek_race import (
    create_local_key_file,
    create_local_key_file_without_links,
    race,
)
from tests.web.scenario import seed_utrecht_case


@pytest.fixture
def client(context: GatewayContext) -> Iterator[TestClient]:
    with TestClient(create_app(context.settings, context), raise_server_exceptions=False) as c:
        yield c


def _seal(crypto: CryptoServices, context: GatewayContext, case_id: int = 1) -> bytes:
    with transaction(context.session_factory) as session:
        return crypto.fields.encrypt(
            session=session,
            scope=case_scope(case_id),
            table="t",
            record_id=1,
            field="f",
            plaintext="secret",
        )


def test_first_start_creates_a_kek_file_readable_by_the_owner_only(
    context: GatewayContext,
) -> None:
    path = local_key_file(context.settings)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_lost_kek_file_is_not_recreated_once_data_keys_exist(
    context: GatewayContext, crypto: CryptoServices
) -> None:
    _seal(crypto, context)
    path = local_key_file(context.settings)
    path.unlink()
    readiness: ReadinessChecks = {}
    restarted = build(context.settings, context.session_factory, readiness)
    assert restarted is not None
    assert not path.exists()
    problem = readiness["keys"]()
    assert problem is not None
    assert "missing" in problem


def test_missing_kek_stops_reads_and_writes(
    context: GatewayContext, crypto: CryptoServices
) -> None:
    sealed = _seal(crypto, context)
    local_key_file(context.settings).unlink()
    cold = build_crypto_services(context.settings)
    with transaction(context.session_factory) as session:
        with pytest.raises(KeyProviderUnavailable):
            cold.fields.decrypt(
                session=session,
                scope=case_scope(1),
                table="t",
                record_id=1,
                field="f",
                ciphertext=sealed,
            )
        with pytest.raises(KeyProviderUnavailable):
            cold.fields.encrypt(
                session=session,
                scope=case_scope(2),
                table="t",
                record_id=1,
                field="f",
                plaintext="new",
            )


def test_failed_readiness_probe_drops_cached_data_keys(
    context: GatewayContext, crypto: CryptoServices
) -> None:
    sealed = _seal(crypto, context)
    local_key_file(context.settings).unlink()
    assert context.readiness_checks["keys"]() is not None
    with transaction(context.session_factory) as session, pytest.raises(KeyProviderUnavailable):
        crypto.fields.decrypt(
            session=session,
            scope=case_scope(1),
            table="t",
            record_id=1,
            field="f",
            ciphertext=sealed,
        )


def test_gateway_reports_not_ready_without_its_kek(
    context: GatewayContext, client: TestClient
) -> None:
    assert client.get("/v1/health/ready").status_code == 200
    local_key_file(context.settings).unlink()
    response = client.get("/v1/health/ready")
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["checks"]["keys"] != "ok"


def test_request_needing_a_lost_kek_gets_a_503_problem_and_no_value(
    context: GatewayContext, crypto: CryptoServices
) -> None:
    sealed = _seal(crypto, context)
    router = APIRouter()

    @router.get("/v1/test-decrypt")
    def read_value(session: DbSession, fields: FieldCipherDep) -> dict[str, str]:
        value = fields.decrypt(
            session=session,
            scope=case_scope(1),
            table="t",
            record_id=1,
            field="f",
            ciphertext=sealed,
        )
        return {"value": str(value)}

    app = create_app(context.settings, context)
    app.include_router(router)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/v1/test-decrypt").json() == {"value": "secret"}
        local_key_file(context.settings).unlink()
        crypto.keys.clear()  # as after a failed readiness probe or the cache TTL
        response = client.get("/v1/test-decrypt")
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"].endswith("key-provider-unavailable")
    assert problem["title"] == "Key provider unavailable"
    assert "secret" not in response.text


def test_key_status_reports_a_lost_kek_without_failing(
    context: GatewayContext, client: TestClient, token: TokenFactory
) -> None:
    local_key_file(context.settings).unlink()
    response = client.get(
        "/v1/key-status",
        headers={"Authorization": f"Bearer {token('u-centraal', 'privacy-officer')}"},
    )
    assert response.status_code == 200
    assert response.json()["providerProblem"] == "The local KEK file is missing or unreadable."


def test_key_status_shows_versions_to_privacy_officers_only(
    context: GatewayContext,
    crypto: CryptoServices,
    client: TestClient,
    auth: Callable[..., dict[str, str]],
) -> None:
    _seal(crypto, context)  # a key of no case of u-centraal's: not counted (review9d F1)
    seed_utrecht_case(client, auth)  # a case u-centraal leads: its dossier's key is
    response = client.get("/v1/key-status", headers=auth("u-centraal", "privacy-officer"))
    assert response.status_code == 200
    assert response.json() == {
        "provider": "local",
        "kekVersions": [1],
        "activeVersion": 1,
        "providerProblem": None,
        "dataKeysByKekVersion": {"1": 1},
        "shreddedScopes": 0,
    }
    denied = client.get("/v1/key-status", headers=auth("u-centraal", "casemanager"))
    assert denied.status_code == 403


def test_malformed_kek_file_makes_the_provider_unavailable(
    context: GatewayContext, crypto: CryptoServices
) -> None:
    local_key_file(context.settings).write_text('{"format": "something-else"}')
    problem = crypto.provider.check()
    assert problem == "The local KEK file is malformed."


def test_the_first_key_file_is_created_once_when_processes_race(tmp_path: Path) -> None:
    """Every worker of every replica creates the key file at its first start: one creates it
    and all read that one key (review9c F4: each wrote its own, the last one stayed, and a
    worker could wrap a data key under a KEK that was then gone)."""
    path = tmp_path / "keys" / "kek.json"
    results = race(create_local_key_file, str(path))
    assert sorted(created for created, _ in results) == [False, False, False, True]
    assert len({key for _, key in results}) == 1
    (only,) = {key for _, key in results}
    assert LocalKeyFileProvider(path)._read_raw()[0] == {1: bytes.fromhex(only)}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["kek.json"]  # no temporary left
    # Positive control: alone, it creates the file; again, it does not.
    alone = LocalKeyFileProvider(tmp_path / "alone.json")
    assert alone.create_if_missing()
    assert not alone.create_if_missing()
    assert alone.check() is None


def _without_hard_links(monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    def no_links(*args: object, **kwargs: object) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "link", no_links)


@pytest.mark.parametrize("code", [errno.EPERM, errno.ENOTSUP, errno.EXDEV])
def test_without_hard_links_the_first_key_file_is_created_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    """SMB and Azure Files, some FUSE mounts: no hard links (review10 F6: the first start
    died with an OSError traceback). The file is created exclusively in place, 0600."""
    _without_hard_links(monkeypatch, code)
    path = tmp_path / "keys" / "kek.json"
    provider = LocalKeyFileProvider(path)
    assert provider.create_if_missing()
    assert not provider.create_if_missing()
    assert provider.check() is None
    assert provider.versions() == [1]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["kek.json"]  # no temporary left


def test_without_hard_links_racing_processes_still_create_one_key_file(tmp_path: Path) -> None:
    """The exclusive create in place is exclusive too: one version 1, read by all, even by
    those that find the file before its one write has landed."""
    path = tmp_path / "keys" / "kek.json"
    results = race(create_local_key_file_without_links, str(path))
    assert sorted(created for created, _ in results) == [False, False, False, True]
    assert len({key for _, key in results}) == 1
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["kek.json"]


def test_a_key_file_created_in_place_is_read_once_its_write_lands(tmp_path: Path) -> None:
    """Another worker created the file in place and has not written it yet: this one waits
    for it rather than report a malformed file (or make a key of its own)."""
    writer = LocalKeyFileProvider(tmp_path / "theirs.json")
    assert writer.create_if_missing()
    written = writer.path.read_bytes()
    path = tmp_path / "kek.json"
    path.touch(mode=0o600)

    def land() -> None:
        time.sleep(0.3)
        (tmp_path / "landing").write_bytes(written)
        os.replace(tmp_path / "landing", path)  # all at once, so this test cannot flake

    landing = threading.Thread(target=land)
    landing.start()
    try:
        reader = LocalKeyFileProvider(path)
        assert not reader.create_if_missing()
        assert reader._read_raw() == writer._read_raw()
    finally:
        landing.join()


def test_a_key_file_that_cannot_be_created_is_one_line_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _without_hard_links(monkeypatch, errno.EPERM)
    real_open = os.open

    def refused(path: str, flags: int, mode: int = 0o777) -> int:
        if flags & os.O_EXCL and str(path).endswith("kek.json"):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
        return real_open(path, flags, mode)

    monkeypatch.setattr(os, "open", refused)
    provider = LocalKeyFileProvider(tmp_path / "kek.json")
    with pytest.raises(KeyProviderUnavailable) as caught:
        provider.create_if_missing()
    assert caught.value.detail == "The local KEK file could not be created: Permission denied."
    assert not provider.path.exists()
