"""The bundle file in a shared data directory: several writers at once (replicas starting
together, a replica and ``ketenpoort policy build``), and a replica whose first load fails."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from gateway.config import Settings
from gateway.context import build_context
from gateway.policy import wiring
from gateway.policy.bundle import BUNDLE_FILE, build_bundle, read_bundle, write_bundle
from tests.policy.conftest import COVENANTS


def test_writers_racing_on_one_bundle_file_all_succeed_and_leave_a_whole_bundle(
    tmp_path: Path,
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    bundle = build_bundle(COVENANTS, key)
    failures: list[BaseException] = []
    start = threading.Barrier(6)

    def writer() -> None:
        start.wait()
        try:
            for _ in range(30):
                write_bundle(bundle, tmp_path)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            failures.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    written = read_bundle((tmp_path / BUNDLE_FILE).read_bytes(), key.public_key())
    assert written.revision == bundle.revision
    assert sorted(p.name for p in tmp_path.iterdir()) == [BUNDLE_FILE]  # no temporary left


def test_a_replica_whose_bundle_did_not_load_at_start_retries_and_becomes_ready(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = wiring.write_bundle
    attempts: list[int] = []

    def flaky_write(bundle: object, out_dir: Path) -> Path:
        attempts.append(1)
        if len(attempts) <= wiring.LOAD_ATTEMPTS_AT_START:  # every attempt at start fails
            raise FileNotFoundError("bundle.tar.gz.tmp")
        return real_write(bundle, out_dir)  # type: ignore[arg-type]

    monkeypatch.setattr(wiring, "write_bundle", flaky_write)
    monkeypatch.setattr(wiring, "RETRY_SECONDS", 0.0)
    settings = Settings(
        data_dir=tmp_path / "data",
        demo_mode=True,
        retention_sweep_interval_seconds=0,
        audit_checkpoint_interval_seconds=0,
    )
    context = build_context(settings)
    try:
        check = context.readiness_checks["policy"]
        assert context.policy.revision is None  # not loaded at start...
        assert check() is None  # ...loaded by the readiness check's retry
        assert context.policy.revision is not None
    finally:
        context.close()
