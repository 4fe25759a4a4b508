"""Data subjects of entries: the blind-index path, lists of subjects, failing closed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from audit import AuditLog, AuditUnavailable
from audit.entry import canonical_json, entry_body
from audit.models import AuditRecord
from gateway.db import transaction

from .builders import disclosure
from .conftest import fake_blind_index

T = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def test_a_bsn_and_its_stored_blind_index_give_the_same_pseudonym(audit_log: AuditLog) -> None:
    index = fake_blind_index(session=None, identifier_type="bsn", identifier="123456782")
    from_bsn = audit_log.data_subject(identifier_type="bsn", identifier="123456782")
    from_index = audit_log.subject_from_index(identifier_type="bsn", blind_index=index)
    assert from_bsn == from_index
    assert from_index.pseudonym != index


def test_an_entry_names_several_subjects_sorted_and_old_entries_keep_their_form(
    factory: sessionmaker[Session], audit_log: AuditLog
) -> None:
    first = audit_log.data_subject(identifier_type="bsn", identifier="123456782")
    second = audit_log.data_subject(identifier_type="bsn", identifier="111222333")
    one = disclosure(0, data_subjects=(first, second, first))
    other = disclosure(0, data_subjects=(second, first))
    assert one.data_subjects == other.data_subjects
    assert len(one.data_subjects) == 2
    trace = one.trace
    same = [
        canonical_json(entry_body(e.model_copy(update={"trace": trace}), index=0, recorded_at=T))
        for e in (one, other)
    ]
    assert same[0] == same[1]
    # Without subjects the body has no dataSubjects key at all: the format-1 form.
    assert "dataSubjects" not in entry_body(disclosure(0), index=0, recorded_at=T)
    with transaction(factory) as session:
        audit_log.append(session=session, entry=one)
    with factory() as session:
        body = json.loads(session.scalars(select(AuditRecord.body)).one())
    assert {s["pseudonym"] for s in body["dataSubjects"]} == {first.pseudonym, second.pseudonym}


def test_without_blind_indexes_a_bsn_subject_fails_closed(key_dir: Path) -> None:
    log = AuditLog.from_key_dir(key_dir)
    with pytest.raises(AuditUnavailable):
        log.data_subject(identifier_type="bsn", identifier="123456782")
