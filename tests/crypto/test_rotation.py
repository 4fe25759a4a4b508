"""KEK rotation: data keys are re-wrapped in batches while reads keep working."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from gateway.context import GatewayContext
from gateway.crypto import CryptoServices, KeyRotationIncomplete, case_scope
from gateway.crypto.cli import app
from gateway.crypto.fields import FieldCipher
from gateway.crypto.keystore import DataKeyStore
from gateway.crypto.models import DataKey
from gateway.crypto.providers import LocalKeyFileProvider
from gateway.crypto.runtime import local_key_file
from gateway.crypto.service import key_status, retire_old_keks, rotate_kek
from gateway.db import transaction

CASES = 40


def _store_values(context: GatewayContext, crypto: CryptoServices) -> dict[int, bytes]:
    sealed: dict[int, bytes] = {}
    with transaction(context.session_factory) as session:
        for case_id in range(1, CASES + 1):
            sealed[case_id] = crypto.fields.encrypt(
                session=session,
                scope=case_scope(case_id),
                table="case_person",
                record_id=case_id,
                field="name",
                plaintext=f"person {case_id}",
            )
    return sealed


def _read_all(context: GatewayContext, fields: FieldCipher, sealed: dict[int, bytes]) -> None:
    with transaction(context.session_factory) as session:
        for case_id, ciphertext in sealed.items():
            value = fields.decrypt(
                session=session,
                scope=case_scope(case_id),
                table="case_person",
                record_id=case_id,
                field="name",
                ciphertext=ciphertext,
            )
            assert value == f"person {case_id}"


def test_rotation_under_concurrent_reads_loses_no_read_and_leaves_only_the_new_kek(
    context: GatewayContext, crypto: CryptoServices
) -> None:
    sealed = _store_values(context, crypto)
    failures: list[BaseException] = []
    reads = [0]
    done = threading.Event()

    def reader() -> None:
        # No cache: every read fetches and unwraps its data key, racing the re-wrap batches.
        fields = FieldCipher(DataKeyStore(crypto.provider, max_entries=100, ttl_seconds=0))
        while not done.is_set():
            try:
                _read_all(context, fields, sealed)
                reads[0] += 1
            except BaseException as exc:  # noqa: BLE001 - every failure is reported below
                failures.append(exc)
                return

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        progress: list[tuple[int, int]] = []
        result = rotate_kek(
            session_factory=context.session_factory,
            provider=crypto.provider,
            batch_size=7,
            progress=lambda done_, total: progress.append((done_, total)),
        )
        with transaction(context.session_factory) as session:
            retired = retire_old_keks(session=session, provider=crypto.provider)
        _read_all(
            context,
            FieldCipher(DataKeyStore(crypto.provider, max_entries=100, ttl_seconds=0)),
            sealed,
        )
    finally:
        done.set()
        for thread in threads:
            thread.join()
    assert failures == []
    assert reads[0] > 0
    assert result.kek_version == 2
    assert result.rewrapped == CASES
    assert progress[-1] == (CASES, CASES)
    assert retired == [1]
    # Only the new KEK exists now, and a fresh process (no cache) reads everything with it.
    fresh = LocalKeyFileProvider(local_key_file(context.settings))
    assert fresh.versions() == [2]
    _read_all(context, FieldCipher(DataKeyStore(fresh, max_entries=100, ttl_seconds=0)), sealed)
    with transaction(context.session_factory) as session:
        versions = set(session.execute(select(DataKey.kek_version)).scalars())
    assert versions == {2}


def test_retiring_before_rotation_finished_is_refused(
    context: GatewayContext, crypto: CryptoServices
) -> None:
    _store_values(context, crypto)
    crypto.provider.create_version()  # a rotation that stopped before re-wrapping anything
    with transaction(context.session_factory) as session, pytest.raises(KeyRotationIncomplete):
        retire_old_keks(session=session, provider=crypto.provider)
    result = rotate_kek(
        session_factory=context.session_factory, provider=crypto.provider, new_version=False
    )
    assert result.rewrapped == CASES
    with transaction(context.session_factory) as session:
        assert retire_old_keks(session=session, provider=crypto.provider) == [1]


def test_keys_commands_rotate_retire_and_report_status(
    context: GatewayContext, crypto: CryptoServices, monkeypatch: pytest.MonkeyPatch
) -> None:
    sealed = _store_values(context, crypto)
    monkeypatch.setenv("KETENPOORT_DATABASE_URL", context.settings.resolved_database_url)
    data_dir = str(Path(context.settings.data_dir))
    runner = CliRunner()
    rotated = runner.invoke(app, ["rotate", "--data-dir", data_dir, "--batch-size", "9"])
    assert rotated.exit_code == 0, rotated.output
    assert f"re-wrapped {CASES} data keys" in rotated.output
    status = runner.invoke(app, ["status", "--data-dir", data_dir])
    assert status.exit_code == 0, status.output
    assert "KEK versions:    1, 2" in status.output
    assert "data keys under KEK v2: " in status.output
    retired = runner.invoke(app, ["retire", "--data-dir", data_dir])
    assert retired.exit_code == 0, retired.output
    assert "Retired KEK version(s) 1." in retired.output
    # The running gateway's provider sees the rotated key file and keeps reading.
    crypto.keys.clear()
    _read_all(context, crypto.fields, sealed)
    with transaction(context.session_factory) as session:
        status_now = key_status(session=session, provider=crypto.provider)
    assert status_now.kek_versions == [2]
    assert status_now.data_keys_by_kek_version == {2: CASES}


def test_retire_without_rotation_is_refused_on_the_command_line(
    context: GatewayContext, crypto: CryptoServices, monkeypatch: pytest.MonkeyPatch
) -> None:
    _store_values(context, crypto)
    crypto.provider.create_version()
    monkeypatch.setenv("KETENPOORT_DATABASE_URL", context.settings.resolved_database_url)
    result = CliRunner().invoke(app, ["retire", "--data-dir", str(context.settings.data_dir)])
    assert result.exit_code == 2
    assert "rotate --resume" in result.output
