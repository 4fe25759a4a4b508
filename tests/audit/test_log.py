"""Appending inside the caller's transaction, receipts, checkpoints and fail-closed writes."""

from __future__ import annotations

import base64
import json
import os
import stat
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from audit.entry import Redaction, TraceContext
from audit.keys import public_key_from_text, verify_signature
from audit.merkle import leaf_hash, verify_inclusion
from audit.verify import verify_log
from gateway.audit import AuditLog, AuditUnavailable, receipt_for
from gateway.audit.export import db_checkpoints, db_entries, db_head_size
from gateway.audit.log import seal
from gateway.audit.models import AuditCheckpoint, AuditRecord
from gateway.audit.service import consistency_between
from gateway.audit.testing import failing_audit_writes
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
    with transaction(factory) as session:
        size = seal(session, grace_seconds=0)
    with factory() as session:
        bodies = session.scalars(select(AuditRecord.body).order_by(AuditRecord.index)).all()
        assert db_head_size(session) == size == receipt.index + 1
    # SQLite rolls the reservation back; PostgreSQL voids the index the rollback left unused.
    assert all('"dec-0"' not in body for body in bodies)
    assert [json.loads(body)["activity"] for body in bodies[:-1]] == ["index-void"] * receipt.index
    audit_log.sign_checkpoint(factory)
    with factory() as session:
        checkpoints = db_checkpoints(session)
    result = verify_log(
        db_entries(factory), checkpoints, [audit_log.signer.public_key], expected_size=size
    )
    assert result.ok, result.problems
    assert result.verified_tree_size == size


def test_sealing_waits_for_an_open_append_instead_of_voiding_it(
    database_url: str, factory: sessionmaker[Session], audit_log: AuditLog
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("only PostgreSQL appends without the head lock")
    open_session = factory()
    open_session.begin()
    held = audit_log.append(session=open_session, entry=disclosure(0))
    with transaction(factory) as session:
        later = audit_log.append(session=session, entry=disclosure(1))
    assert held.index < later.index
    sealed: list[int] = []
    sealer = threading.Thread(target=lambda: sealed.append(_seal_now(factory)), daemon=True)
    sealer.start()
    sealer.join(timeout=1.0)
    assert sealer.is_alive()  # blocked on the open transaction's index, not voiding it
    open_session.commit()
    open_session.close()
    sealer.join(timeout=10.0)
    assert sealed == [later.index + 1]
    with factory() as session:
        record = session.get(AuditRecord, held.index)
        assert record is not None
        assert bytes(record.leaf_hash).hex() == held.leaf_hash


def test_an_append_whose_index_was_voided_fails_closed(
    database_url: str, factory: sessionmaker[Session], audit_log: AuditLog
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("only PostgreSQL appends without the head lock")
    with transaction(factory) as session:
        session.execute(text("SELECT nextval('audit_index_seq')"))  # a stalled appender's index
    with transaction(factory) as session:
        audit_log.append(session=session, entry=disclosure(1))
    assert _seal_now(factory) == 2
    with factory() as session:
        session.execute(text("SELECT setval('audit_index_seq', 0, false)"))
        session.commit()
    with pytest.raises(AuditUnavailable), transaction(factory) as session:
        audit_log.append(session=session, entry=disclosure(0))


def _seal_now(factory: sessionmaker[Session]) -> int:
    with transaction(factory) as session:
        return seal(session, grace_seconds=0)


def test_when_the_audit_write_fails_nothing_is_disclosed(
    factory: sessionmaker[Session], audit_log: AuditLog
) -> None:
    # The "disclosure" is a row the caller writes in the same transaction as the entry.
    expires = datetime.now(UTC) + timedelta(minutes=5)

    def disclose() -> None:
        with transaction(factory) as session:
            session.add(UsedToken(issuer="test", jti="disclosed-1", expires_at=expires))
            session.flush()
            audit_log.append(session=session, entry=disclosure(0))

    with failing_audit_writes(audit_log) as attempted, pytest.raises(AuditUnavailable):
        disclose()
    assert len(attempted) == 1
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(UsedToken)) == 0
        assert session.scalar(select(func.count()).select_from(AuditRecord)) == 0
    with transaction(factory) as session:
        receipt = audit_log.append(session=session, entry=disclosure(1))
    assert _seal_now(factory) == receipt.index + 1  # no gap (a void on PostgreSQL)


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


def test_trace_context_keeps_the_callers_operation_as_foreign_in_a_trace_of_its_own() -> None:
    """Logboek Dataverwerkingen: a new trace per processing; the partner's trace context is
    its foreign operation, not our parent."""
    parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    trace = TraceContext.from_traceparent(parent, partner_id="politie")
    assert trace.trace_id != "4bf92f3577b34da6a3ce929d0e0e4736"
    assert trace.parent_span_id is None
    assert trace.foreign_operation is not None
    assert trace.foreign_operation.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert trace.foreign_operation.span_id == "00f067aa0ba902b7"
    assert trace.foreign_operation.partner_id == "politie"
    for header in ("garbage", None, "00-" + "0" * 32 + "-00f067aa0ba902b7-01"):
        assert TraceContext.from_traceparent(header, partner_id="politie").foreign_operation is None


def test_a_single_append_stores_the_body_and_leaf_hash_a_batch_would(
    factory: sessionmaker[Session], audit_log: AuditLog
) -> None:
    """The single-append path (one statement on PostgreSQL, the server hashing the body) and
    the batch path write entries that differ only in their index."""
    reason = Redaction(category="antecedenten", reason="geen toestemming van de OvJ — één keer")
    unicode_entry = disclosure(0, redacted=(reason,))
    with transaction(factory) as session:
        single = audit_log.append(session=session, entry=unicode_entry)
    with transaction(factory) as session:
        pair = audit_log.append_many(session=session, entries=[unicode_entry, disclosure(1)])
    with factory() as session:
        rows = {r.index: r for r in session.scalars(select(AuditRecord)).all()}
    one, batched = rows[single.index], rows[pair[0].index]

    def without_index_time_and_salt(body: str) -> dict[str, object]:
        fields = json.loads(body)
        del fields["index"], fields["recordedAt"], fields["salt"]  # the salt: each its own
        return fields  # type: ignore[no-any-return]

    assert without_index_time_and_salt(one.body) == without_index_time_and_salt(batched.body)
    assert json.loads(one.body)["salt"] != json.loads(batched.body)["salt"]
    assert "één keer" in one.body
    for receipt in (single, *pair):
        record = rows[receipt.index]
        assert bytes(record.leaf_hash).hex() == receipt.leaf_hash
        assert leaf_hash(record.body.encode("utf-8")).hex() == receipt.leaf_hash


def test_a_stored_leaf_hash_that_does_not_match_fails_closed(
    database_url: str,
    factory: sessionmaker[Session],
    audit_log: AuditLog,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("only PostgreSQL hashes the single append in the database")
    monkeypatch.setattr("gateway.audit.log.leaf_hash", lambda body: b"\0" * 32)
    with pytest.raises(AuditUnavailable), transaction(factory) as session:
        audit_log.append(session=session, entry=disclosure(0))
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(AuditRecord)) == 0
