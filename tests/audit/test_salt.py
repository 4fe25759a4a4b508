"""Every entry written holds a salt of its own; a log with entries from before the salt and
after it verifies, from the database and as an export with the standalone verifier.

The salt (16 random bytes, hex, the stored body's ``salt``) keeps a reader who reads an
entry with parts hidden from confirming guesses of them against its leaf hash
(tests/exchange/test_leaf_hash_of_an_entry_read_hidden.py). It is hashed with the rest of
the body, so nothing about the tree, checkpoints or verification changes; entries written
before it have none and must keep verifying."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from audit.entry import SALT_FIELD
from audit.merkle import leaf_hash
from audit.verifier_cli import main as ketenpoort_verify
from gateway.audit import AuditLog, EntryCopy
from gateway.audit.export import write_export
from gateway.audit.log import COPY_THRESHOLD
from gateway.audit.models import AuditRecord
from gateway.db import transaction

from .builders import checkpointed_and_verified, disclosure
from .witnesses import log_verifier

SALT = re.compile(r"[0-9a-f]{32}")


def _bodies(factory: sessionmaker[Session]) -> list[dict[str, object]]:
    with factory() as session:
        rows = session.execute(
            select(AuditRecord.body, AuditRecord.leaf_hash).order_by(AuditRecord.index)
        ).all()
    for body, leaf in rows:
        assert leaf_hash(body.encode("utf-8")) == bytes(leaf)
    return [json.loads(body) for body, _ in rows]


def test_every_write_path_gives_each_entry_a_salt_of_its_own(
    factory: sessionmaker[Session], audit_log: AuditLog
) -> None:
    template = disclosure(0)
    copies = [EntryCopy(template, f"case-{n}", {"n": n}, ()) for n in range(COPY_THRESHOLD)]
    with transaction(factory) as session:
        audit_log.append(session=session, entry=disclosure(1))  # the single append
    with transaction(factory) as session:
        audit_log.append_many(session=session, entries=[template, template, template])
        audit_log.record_copies(session=session, copies=copies[:3])
    with transaction(factory) as session:  # COPY on PostgreSQL
        audit_log.record_copies(session=session, copies=copies)
    with transaction(factory) as session:
        audit_log.record_many(session=session, entries=[template] * COPY_THRESHOLD)
    salts = [body[SALT_FIELD] for body in _bodies(factory)]
    assert len(salts) == 1 + 3 + 3 + 2 * COPY_THRESHOLD
    assert all(isinstance(salt, str) and SALT.fullmatch(salt) for salt in salts)
    assert len(set(salts)) == len(salts)  # the same entry appended again: another salt


def test_a_log_with_entries_before_and_after_the_salt_verifies_and_exports(
    factory: sessionmaker[Session],
    audit_log: AuditLog,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with monkeypatch.context() as before:
        # Written as before the salt: entry_body without one (the format-1 form as it was).
        before.setattr("gateway.audit.log.new_salts", lambda count: [None] * count)
        for number in range(3):
            with transaction(factory) as session:
                audit_log.append(session=session, entry=disclosure(number))
    audit_log.sign_checkpoint(factory)
    for number in range(3, 6):
        with transaction(factory) as session:
            audit_log.append(session=session, entry=disclosure(number))
    bodies = _bodies(factory)
    assert [SALT_FIELD in body for body in bodies] == [False] * 3 + [True] * 3

    result = checkpointed_and_verified(factory, audit_log)
    assert result.ok, result.problems
    assert result.verified_tree_size == 6

    path = tmp_path / "export.jsonl"
    with path.open("w", encoding="utf-8") as out:
        write_export(factory, out, [audit_log.signer.public_key])
    log_key = log_verifier(audit_log).vkey()
    assert ketenpoort_verify([str(path), "--log-key", log_key, "--quorum", "0", "--offline"]) == 0
    assert "OK (offline): the log verifies" in capsys.readouterr().out

    # Control: the salt is covered like any field; a changed one is named.
    lines = path.read_text(encoding="utf-8").splitlines()
    changed = []
    for line in lines:
        record = json.loads(line)
        body = record.get("body")
        if isinstance(body, str) and '"index":4,' in body:
            salt = json.loads(body)[SALT_FIELD]
            record["body"] = body.replace(salt, "0" * 32)
            line = json.dumps(record)
        changed.append(line)
    tampered = tmp_path / "tampered.jsonl"
    tampered.write_text("\n".join(changed) + "\n", encoding="utf-8")
    assert (
        ketenpoort_verify([str(tampered), "--log-key", log_key, "--quorum", "0", "--offline"]) == 1
    )
    assert "first bad entry 4: changed" in capsys.readouterr().err
