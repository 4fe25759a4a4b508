"""Several gateway processes appending to one PostgreSQL log: no fork, no gap."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from audit.verify import verify_log
from gateway.audit import AuditLog
from gateway.audit.export import db_checkpoints, db_entries, db_head_size
from gateway.audit.log import seal
from gateway.audit.models import AuditRecord
from gateway.db import transaction

ROOT = Path(__file__).resolve().parents[2]
PROCESSES, THREADS, APPENDS = 2, 20, 10


@pytest.mark.slow
def test_two_processes_with_twenty_writers_each_leave_a_log_without_gaps(
    database_url: str, factory: sessionmaker[Session], audit_log: AuditLog, key_dir: Path
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("several writer processes need PostgreSQL")
    command = [
        sys.executable, "-m", "tests.audit.concurrent_writer",
        database_url, str(key_dir), str(THREADS), str(APPENDS),
    ]  # fmt: skip
    _run_writers(command, factory, audit_log)
    audit_log.sign_checkpoint(factory)
    total = PROCESSES * THREADS * APPENDS
    with factory() as session:
        indexes = session.scalars(select(AuditRecord.index).order_by(AuditRecord.index)).all()
        assert session.scalar(select(func.count()).select_from(AuditRecord)) == total
        checkpoints = db_checkpoints(session)
        assert db_head_size(session) == total
    assert list(indexes) == list(range(total))
    result = verify_log(
        db_entries(factory), checkpoints, [audit_log.signer.public_key], expected_size=total
    )
    assert result.ok, result.problems
    assert result.verified_tree_size == total
    assert result.checkpoints >= 2


@pytest.mark.slow
def test_rolled_back_appends_from_two_processes_leave_no_gap_once_sealed(
    database_url: str, factory: sessionmaker[Session], audit_log: AuditLog, key_dir: Path
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("several writer processes need PostgreSQL")
    rollback_every = 3
    command = [
        sys.executable, "-m", "tests.audit.concurrent_writer",
        database_url, str(key_dir), str(THREADS), str(APPENDS), str(rollback_every),
    ]  # fmt: skip
    _run_writers(command, factory, audit_log)
    with transaction(factory) as session:
        size = seal(session, grace_seconds=0)
    audit_log.sign_checkpoint(factory)
    committed = PROCESSES * THREADS * (APPENDS - APPENDS // rollback_every)
    with factory() as session:
        activities = session.scalars(select(AuditRecord.activity).order_by(AuditRecord.index)).all()
        indexes = session.scalars(select(AuditRecord.index).order_by(AuditRecord.index)).all()
        checkpoints = db_checkpoints(session)
        assert db_head_size(session) == size
    assert list(indexes) == list(range(size))
    assert activities.count("disclosure") == committed
    assert activities.count("index-void") == size - committed
    result = verify_log(
        db_entries(factory), checkpoints, [audit_log.signer.public_key], expected_size=size
    )
    assert result.ok, result.problems
    assert result.verified_tree_size == size


def _run_writers(command: list[str], factory: sessionmaker[Session], audit_log: AuditLog) -> None:
    """Run PROCESSES writer processes to the end, signing checkpoints while they run: the
    checkpoints must stay consistent with the final log."""
    writers = [
        subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True)
        for _ in range(PROCESSES)
    ]
    while any(writer.poll() is None for writer in writers):
        audit_log.sign_checkpoint(factory)
    for writer in writers:
        assert writer.wait(timeout=120) == 0, writer.stderr.read() if writer.stderr else ""
        if writer.stderr:
            writer.stderr.close()
