"""Data subjects of entries: the blind-index path, lists of subjects, failing closed."""

from __future__ import annotations

import importlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session, sessionmaker

from audit.entry import canonical_json, entry_body
from gateway.audit import AuditLog, AuditUnavailable, ProcessingActivity
from gateway.audit.log import COPY_THRESHOLD
from gateway.audit.models import AuditRecord, AuditSubject
from gateway.audit.readers import LogReader
from gateway.audit.reports import access_report
from gateway.db import transaction
from gateway.policy.covenant import load_covenants

from .builders import disclosure
from .conftest import fake_blind_index

#: The whole covenant's log as stored (the operator's view).
COVENANT = load_covenants()["utrecht-extreme-woonoverlast"]
WHOLE_LOG = LogReader("utrecht-extreme-woonoverlast", None, covenant_wide=True, police=frozenset())

T = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
_MIGRATION = importlib.import_module("gateway.migrations.versions.0013_audit_entry_subject")
BACKFILL_POSTGRESQL: str = _MIGRATION._BACKFILL_POSTGRESQL
BACKFILL_SQLITE: str = _MIGRATION._BACKFILL_SQLITE


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
        canonical_json(
            entry_body(e.model_copy(update={"trace": trace}), index=0, recorded_at=T, salt=None)
        )
        for e in (one, other)
    ]
    assert same[0] == same[1]
    # Without subjects the body has no dataSubjects key at all: the format-1 form.
    assert "dataSubjects" not in entry_body(disclosure(0), index=0, recorded_at=T, salt=None)
    with transaction(factory) as session:
        audit_log.append(session=session, entry=one)
    with factory() as session:
        body = json.loads(session.scalars(select(AuditRecord.body)).one())
    assert {s["pseudonym"] for s in body["dataSubjects"]} == {first.pseudonym, second.pseudonym}


def test_without_blind_indexes_a_bsn_subject_fails_closed(key_dir: Path) -> None:
    log = AuditLog.from_key_dir(key_dir)
    with pytest.raises(AuditUnavailable):
        log.data_subject(identifier_type="bsn", identifier="123456782")


@pytest.mark.parametrize("batch", [1, 3, COPY_THRESHOLD])
def test_every_named_subject_is_found_by_the_access_report_whichever_way_it_was_appended(
    factory: sessionmaker[Session], audit_log: AuditLog, batch: int
) -> None:
    # 1: the single-statement append; 3: one multi-row insert; COPY_THRESHOLD: COPY on
    # PostgreSQL. The report reads the subject table, so a path that forgot it finds nothing.
    alone = audit_log.data_subject(identifier_type="bsn", identifier="123456782")
    listed = audit_log.data_subject(identifier_type="bsn", identifier="111222333")
    other = audit_log.data_subject(identifier_type="bsn", identifier="999999990")
    # Without categories or clauses: of those the report names only what concerns the
    # subject's role in the entry's case (tests/audit/test_access_report_concerns.py).
    bare = ProcessingActivity(covenant_id=COVENANT.id)
    entries = [
        disclosure(
            n,
            data_subject=alone,
            data_subjects=(listed,) if n % 2 else (),
            disclosed=(),
            redacted=(),
            processing=bare,
        )
        for n in range(batch)
    ]
    with transaction(factory) as session:
        if batch == 1:
            audit_log.append(session=session, entry=entries[0])
        else:
            audit_log.append_many(session=session, entries=entries)
    with factory() as session:
        found = {
            subject.pseudonym: [
                line.index
                for line in access_report(
                    session,
                    reader=WHOLE_LOG,
                    covenant=COVENANT,
                    subject_pseudonym=subject.pseudonym,
                    identifier_type="bsn",
                    subject_roles=lambda case_ids: {},
                    retention_rule_ids=(),
                ).lines
            ]
            for subject in (alone, listed, other)
        }
    assert len(found[alone.pseudonym]) == batch
    assert len(found[listed.pseudonym]) == batch // 2
    assert found[other.pseudonym] == []


def test_the_migration_rebuilds_the_subject_rows_from_the_entries(
    factory: sessionmaker[Session], audit_log: AuditLog
) -> None:
    first = audit_log.data_subject(identifier_type="bsn", identifier="123456782")
    second = audit_log.data_subject(identifier_type="bsn", identifier="111222333")
    with transaction(factory) as session:
        audit_log.append_many(
            session=session,
            entries=[
                disclosure(0, data_subject=first),
                disclosure(1, data_subjects=(first, second)),
                disclosure(2),
            ],
        )
    with factory() as session:
        written = set(session.execute(select(AuditSubject.pseudonym, AuditSubject.index)).all())
    assert len(written) == 3
    with transaction(factory) as session:
        session.execute(delete(AuditSubject))
        postgresql = session.get_bind().dialect.name == "postgresql"
        session.execute(text(BACKFILL_POSTGRESQL if postgresql else BACKFILL_SQLITE))
    with factory() as session:
        rebuilt = set(session.execute(select(AuditSubject.pseudonym, AuditSubject.index)).all())
    assert rebuilt == written
