"""Any change to a single entry or a single checkpoint byte is detected and named."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from audit.entry import canonical_json
from audit.exportfile import read_export
from audit.merkle import leaf_hash
from audit.verify import StoredCheckpoint, StoredEntry, VerificationResult, verify_log
from gateway.audit import AuditLog
from gateway.audit.export import db_checkpoints, db_entries, db_head_size, write_export
from gateway.db import transaction

from .builders import disclosure

SIZE = 20


@pytest.fixture
def filled(factory: sessionmaker[Session], audit_log: AuditLog) -> sessionmaker[Session]:
    """20 entries, checkpoints at 7 and 20."""
    for number in range(SIZE):
        with transaction(factory) as session:
            audit_log.append(session=session, entry=disclosure(number))
        if number + 1 in (7, SIZE):
            audit_log.sign_checkpoint(factory)
    return factory


def verify_db(factory: sessionmaker[Session], log: AuditLog) -> VerificationResult:
    with factory() as session:
        checkpoints = db_checkpoints(session)
        size = db_head_size(session)
    return verify_log(db_entries(factory), checkpoints, [log.signer.public_key], expected_size=size)


def test_an_untouched_log_verifies(filled: sessionmaker[Session], audit_log: AuditLog) -> None:
    result = verify_db(filled, audit_log)
    assert result.ok, result.problems
    assert (result.entries, result.checkpoints, result.verified_tree_size) == (SIZE, 2, SIZE)


def test_a_changed_entry_is_named(filled: sessionmaker[Session], audit_log: AuditLog) -> None:
    with transaction(filled) as session:
        session.execute(
            text("UPDATE audit_entry SET body = replace(body, 'dec-9', 'dec-0') WHERE idx = 9")
        )
    problem = verify_db(filled, audit_log).first_problem
    assert problem is not None
    assert (problem.kind, problem.index) == ("changed", 9)


def test_a_change_with_a_recomputed_leaf_hash_is_caught_by_the_signed_root(
    filled: sessionmaker[Session], audit_log: AuditLog
) -> None:
    with filled() as session:
        body = session.execute(text("SELECT body FROM audit_entry WHERE idx = 3")).scalar_one()
    forged = body.replace("u-centraal", "mitros")
    with transaction(filled) as session:
        session.execute(
            text("UPDATE audit_entry SET body = :b, leaf_hash = :h WHERE idx = 3"),
            {"b": forged, "h": leaf_hash(forged.encode())},
        )
    problem = verify_db(filled, audit_log).first_problem
    assert problem is not None
    assert (problem.kind, problem.checkpoint) == ("changed", 7)
    assert "0..6" in problem.detail


def test_a_deleted_entry_is_named_missing(
    filled: sessionmaker[Session], audit_log: AuditLog
) -> None:
    with transaction(filled) as session:
        session.execute(text("DELETE FROM audit_entry WHERE idx = 12"))
    problem = verify_db(filled, audit_log).first_problem
    assert problem is not None
    assert (problem.kind, problem.index) == ("missing", 12)


def test_deleting_the_newest_entry_is_named_missing(
    filled: sessionmaker[Session], audit_log: AuditLog
) -> None:
    with transaction(filled) as session:
        session.execute(text(f"DELETE FROM audit_entry WHERE idx = {SIZE - 1}"))
    problem = verify_db(filled, audit_log).first_problem
    assert problem is not None
    assert (problem.kind, problem.index) == ("missing", SIZE - 1)


def test_swapped_entries_are_named_reordered(
    filled: sessionmaker[Session], audit_log: AuditLog
) -> None:
    with transaction(filled) as session:
        session.execute(text("UPDATE audit_entry SET idx = -1 WHERE idx = 4"))
        session.execute(text("UPDATE audit_entry SET idx = 4 WHERE idx = 5"))
        session.execute(text("UPDATE audit_entry SET idx = 5 WHERE idx = -1"))
    problem = verify_db(filled, audit_log).first_problem
    assert problem is not None
    assert (problem.kind, problem.index) == ("reordered", 4)


def test_a_tampered_checkpoint_column_is_a_bad_signature(
    filled: sessionmaker[Session], audit_log: AuditLog
) -> None:
    with transaction(filled) as session:
        session.execute(text("UPDATE audit_checkpoint SET tree_size = 6 WHERE tree_size = 7"))
    problem = verify_db(filled, audit_log).first_problem
    assert problem is not None
    assert problem.kind == "bad-signature"


def test_a_checkpoint_by_another_key_is_not_trusted(
    filled: sessionmaker[Session], tmp_path: Path
) -> None:
    stranger = AuditLog.from_key_dir(tmp_path / "stranger")
    result = verify_db(filled, stranger)
    assert not result.ok
    assert {p.kind for p in result.problems} == {"bad-signature"}


# -- exhaustive, in memory: every entry, every checkpoint byte ---------------------------------


@pytest.fixture
def snapshot(
    filled: sessionmaker[Session],
) -> tuple[list[StoredEntry], list[StoredCheckpoint]]:
    with filled() as session:
        checkpoints = db_checkpoints(session)
    return list(db_entries(filled)), checkpoints


def check(
    entries: list[StoredEntry], checkpoints: list[StoredCheckpoint], log: AuditLog
) -> VerificationResult:
    return verify_log(entries, checkpoints, [log.signer.public_key], expected_size=SIZE)


def test_changing_deleting_or_reordering_any_entry_is_detected(
    snapshot: tuple[list[StoredEntry], list[StoredCheckpoint]], audit_log: AuditLog
) -> None:
    entries, checkpoints = snapshot
    assert check(entries, checkpoints, audit_log).ok
    for i in range(SIZE):
        changed = list(entries)
        changed[i] = dataclasses.replace(entries[i], body=entries[i].body.replace("dec-", "dex-"))
        assert check(changed, checkpoints, audit_log).first_problem.index == i  # type: ignore[union-attr]
        deleted = entries[:i] + entries[i + 1 :]
        assert not check(deleted, checkpoints, audit_log).ok
        if i + 1 < SIZE:
            swapped = list(entries)
            swapped[i], swapped[i + 1] = (
                dataclasses.replace(entries[i + 1], index=i),
                dataclasses.replace(entries[i], index=i + 1),
            )
            problem = check(swapped, checkpoints, audit_log).first_problem
            assert problem is not None
            assert (problem.kind, problem.index) == ("reordered", i)


def test_flipping_any_byte_of_a_checkpoint_is_detected(
    snapshot: tuple[list[StoredEntry], list[StoredCheckpoint]], audit_log: AuditLog
) -> None:
    """Every signed byte. ``signed_at`` is the row's own bookkeeping, not signed since
    checkpoints are C2SP notes (the time a witness vouches for is in its cosignature)."""
    entries, checkpoints = snapshot
    for position, checkpoint in enumerate(checkpoints):
        variants: list[StoredCheckpoint] = []
        for field, value in (
            ("root_hash", checkpoint.root_hash),
            ("signature", checkpoint.signature),
            ("note", checkpoint.note.encode()),
            ("key_id", checkpoint.key_id.encode()),
        ):
            for byte in range(len(value)):
                flipped = bytearray(value)
                flipped[byte] ^= 0x01
                new: object = bytes(flipped)
                if isinstance(getattr(checkpoint, field), str):
                    new = bytes(flipped).decode("latin-1")
                variants.append(dataclasses.replace(checkpoint, **{field: new}))
        variants.append(dataclasses.replace(checkpoint, tree_size=checkpoint.tree_size ^ 1))
        for variant in variants:
            tampered = list(checkpoints)
            tampered[position] = variant
            assert not check(entries, tampered, audit_log).ok


def test_an_export_verifies_offline_and_detects_tampering(
    filled: sessionmaker[Session], audit_log: AuditLog, tmp_path: Path
) -> None:
    path = tmp_path / "audit-export.jsonl"
    with path.open("w", encoding="utf-8") as out:
        assert write_export(filled, out, [audit_log.signer.public_key]) == SIZE
    exported = read_export(path)
    result = verify_log(
        exported.entries(), exported.checkpoints, exported.public_keys, expected_size=SIZE
    )
    assert result.ok, result.problems
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[3 + 5] = lines[3 + 5].replace("dec-5", "dec-6")  # header + 2 checkpoints, entry 5
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    exported = read_export(path)
    problem = verify_log(
        exported.entries(), exported.checkpoints, exported.public_keys, expected_size=SIZE
    ).first_problem
    assert problem is not None
    assert (problem.kind, problem.index) == ("changed", 5)
    assert canonical_json({"b": 1, "a": "é"}) == '{"a":"é","b":1}'.encode()
