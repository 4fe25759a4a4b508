"""Appending inside the caller's transaction, receipts, checkpoints and fail-closed writes."""

from __future__ import annotations

import base64
import json
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from audit import AuditLog, AuditUnavailable, receipt_for
from audit.entry import TraceContext
from audit.keys import public_key_from_text, verify_signature
from audit.merkle import verify_inclusion
from audit.models import AuditCheckpoint, AuditRecord
from audit.service import consistency_between
from audit.testing import failing_audit_writes
from gateway.auth.models import UsedToken
from gateway.db import transaction

from .builders import disclosure


def append(factory: sessionmaker[Session], log: AuditLog, count: int) -> None:
    for number in range(count):
        with transaction(factory) as session:
            log.append(session=session, entry=disclosure(number))


def test_appends_get_consecutive_indexes_and_a_receipt(
    factory: sessionmaker[Session], audit_log: AuditLog
) -> None:
    with transaction(factory) as session:
        first = audit_log.append(session=session, entry=disclosure(0))
        batch = audit_log.append_many(session=session, entries=[disclosure(1), disclosure(2)])
    assert [first.index, *(r.index for r in batch)] == [0, 1, 2]
    assert first.checkpoint is None
    assert len(first.leaf_hash) == 64


def test_a_rolled_back_disclosure_leaves_no_entry_and_no_gap(
    factory: sessionmaker[Session], audit_log: AuditLog
) -> None:
    def disclose_then_fail() -> None:
        with transaction(factory) as session:
            audit_log.append(session=session, entry=disclosure(0))
            raise RuntimeError("the disclosure failed after the audit write")

    with pytest.raises(RuntimeError):
        disclose_then_fail()
    with transaction(factory) as session:
        receipt = audit_log.append(session=session, entry=disclosure(1))
    assert receipt.index == 0


def test_when_the_audit_write_fails_nothing_is_disclosed(
    factory: sessionmaker[Session], audit_log: AuditLog
) -> None:
    # The "disclosure" is a row the caller writes in the same transaction as the entry.
    class Context:
        services = {"audit": audit_log}

    expires = datetime.now(UTC) + timedelta(minutes=5)

    def disclose() -> None:
        with transaction(factory) as session:
            session.add(UsedToken(issuer="test", jti="disclosed-1", expires_at=expires))
            session.flush()
            audit_log.append(session=session, entry=disclosure(0))

    context = Context()
    with failing_audit_writes(context) as attempted, pytest.raises(AuditUnavailable):  # type: ignore[arg-type]
        disclose()
    assert len(attempted) == 1
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(UsedToken)) == 0
        assert session.scalar(select(func.count()).select_from(AuditRecord)) == 0
    with transaction(factory) as session:
        assert audit_log.append(session=session, entry=disclosure(1)).index == 0


def test_entries_hold_pseudonyms_never_the_identifier(
    factory: sessionmaker[Session], audit_log: AuditLog
) -> None:
    subject = audit_log.data_subject(identifier_type="bsn", identifier="123456782")
    with transaction(factory) as session:
        audit_log.append(session=session, entry=disclosure(0, data_subject=subject))
    with factory() as session:
        body = session.scalars(select(AuditRecord.body)).one()
    assert "123456782" not in body
    assert json.loads(body)["dataSubject"]["pseudonym"] == subject.pseudonym
    # Same identifier, same pseudonym; the type is part of it.
    again = audit_log.data_subject(identifier_type="bsn", identifier=" 1234 56782 ")
    other = audit_log.data_subject(identifier_type="case-person", identifier="123456782")
    assert again.pseudonym == subject.pseudonym != other.pseudonym


def test_keys_are_created_once_with_owner_only_permissions(key_dir: Path) -> None:
    first = AuditLog.from_key_dir(key_dir)
    second = AuditLog.from_key_dir(key_dir)
    assert first.signer.key_id == second.signer.key_id
    for path in key_dir.iterdir():
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_receipt_carries_an_inclusion_proof_once_a_checkpoint_covers_it(
    factory: sessionmaker[Session], audit_log: AuditLog
) -> None:
    append(factory, audit_log, 300)
    checkpoint = audit_log.sign_checkpoint(factory)
    assert checkpoint is not None
    assert checkpoint.tree_size == 300
    assert audit_log.sign_checkpoint(factory) is None  # nothing new
    public = public_key_from_text(audit_log.public_key().public_key)
    assert verify_signature(
        public, base64.b64decode(checkpoint.signature), checkpoint.note.encode()
    )
    with factory() as session:
        for index in (0, 5, 255, 256, 299):
            receipt = receipt_for(session, index=index)
            assert receipt.checkpoint is not None
            assert receipt.inclusion_proof is not None
            verify_inclusion(
                index,
                receipt.checkpoint.tree_size,
                bytes.fromhex(receipt.leaf_hash),
                [bytes.fromhex(node) for node in receipt.inclusion_proof],
                bytes.fromhex(receipt.checkpoint.root_hash),
            )
    append(factory, audit_log, 1)
    with factory() as session:
        assert receipt_for(session, index=300).inclusion_proof is None


def test_checkpoints_are_consistent_with_each_other(
    factory: sessionmaker[Session], audit_log: AuditLog
) -> None:
    from audit.merkle import verify_consistency

    append(factory, audit_log, 7)
    audit_log.sign_checkpoint(factory)
    append(factory, audit_log, 13)
    audit_log.sign_checkpoint(factory)
    with factory() as session:
        view = consistency_between(session, first=7, second=20)
        assert session.scalar(select(func.count()).select_from(AuditCheckpoint)) == 2
    verify_consistency(
        7,
        20,
        bytes.fromhex(view.first.root_hash),
        bytes.fromhex(view.second.root_hash),
        [bytes.fromhex(node) for node in view.proof],
    )


def test_trace_context_continues_the_callers_trace() -> None:
    parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    trace = TraceContext.from_traceparent(parent)
    assert trace.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert trace.parent_span_id == "00f067aa0ba902b7"
    assert trace.span_id != trace.parent_span_id
    assert TraceContext.from_traceparent("garbage").parent_span_id is None
    assert TraceContext.from_traceparent(None).trace_id != trace.trace_id
