"""The bulk path: set-based append_many, and the fast serialisation it relies on."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from audit.entry import (
    SALT_FIELD,
    AuditEntry,
    DataSubject,
    ProcessingActivity,
    canonical_json,
    entry_body,
    new_salts,
)
from gateway.audit import AuditLog, AuditUnavailable, EntryCopy
from gateway.audit.log import fast_canonical_json
from gateway.audit.models import AuditRecord, AuditSubject
from gateway.db import transaction

from .builders import checkpointed_and_verified, disclosure

AWKWARD = ["é ø ß 中文", "tab\tnew\nline\rcr", "\x00\x01\x1f\x7f", 'quote" back\\slash', "\u2028"]


@pytest.mark.parametrize("text", AWKWARD)
def test_fast_serialisation_is_byte_identical_to_canonical_json(text: str) -> None:
    entry = disclosure(3, attributes={"note": text, "count": 12, "flag": True})
    body = entry_body(
        entry, index=2**40, recorded_at=datetime(2026, 1, 2, tzinfo=UTC), salt=new_salts(1)[0]
    )
    assert fast_canonical_json(body) == canonical_json(body)


def test_a_bulk_append_writes_every_entry_once_in_order_and_verifies(
    factory: sessionmaker[Session], audit_log: AuditLog
) -> None:
    template = disclosure(0)
    # The cheap constructor for trusted callers: copy a validated template.
    entries = [template.model_copy(update={"case_id": f"case-{n}"}) for n in range(2500)]
    with transaction(factory) as session:
        first = audit_log.append_many(session=session, entries=entries[:1])
        rest = audit_log.append_many(session=session, entries=entries[1:])
    receipts = first + rest
    assert [r.index for r in receipts] == list(range(2500))
    with factory() as session:
        rows = session.execute(
            select(AuditRecord.index, AuditRecord.case_id, AuditRecord.leaf_hash).order_by(
                AuditRecord.index
            )
        ).all()
    assert [(i, c) for i, c, _ in rows] == [(n, f"case-{n}") for n in range(2500)]
    assert [bytes(h).hex() for _, _, h in rows] == [r.leaf_hash for r in receipts]
    result = checkpointed_and_verified(factory, audit_log)
    assert result.ok, result.problems
    assert result.verified_tree_size == 2500


def test_a_template_copy_is_the_entry_validation_would_have_built() -> None:
    template = disclosure(0)
    copied = template.model_copy(update={"case_id": "case-7"})
    assert copied == AuditEntry.model_validate({**dict(template), "case_id": "case-7"})


def test_a_rolled_back_bulk_append_leaves_no_entry(
    factory: sessionmaker[Session], audit_log: AuditLog
) -> None:
    # 300 entries take the COPY path on PostgreSQL: it must run in the caller's transaction.
    template = disclosure(0)
    entries = [template.model_copy(update={"case_id": f"case-{n}"}) for n in range(300)]

    def sweep_then_fail() -> None:
        with transaction(factory) as session:
            audit_log.append_many(session=session, entries=entries)
            raise RuntimeError("the sweep failed after the audit write")

    with pytest.raises(RuntimeError):
        sweep_then_fail()
    with factory() as session:
        assert session.scalars(select(AuditRecord.index)).all() == []


def test_a_naive_time_in_a_trusted_copy_is_refused(
    factory: sessionmaker[Session], audit_log: AuditLog
) -> None:
    naive = disclosure(0).model_copy(update={"started_at": datetime(2026, 1, 2)})  # noqa: DTZ001
    with pytest.raises((ValueError, AuditUnavailable)), transaction(factory) as session:
        audit_log.append_many(session=session, entries=[naive] * 300)


def _stored(factory: sessionmaker[Session]) -> list[dict[str, object]]:
    with factory() as session:
        rows = session.execute(select(AuditRecord).order_by(AuditRecord.index)).scalars().all()
        return [
            {
                column: getattr(row, column)
                for column in (
                    "index", "body", "recorded_at", "covenant_id", "activity", "outcome",
                    "case_id", "subject_pseudonym", "requester_partner", "recipient_partner",
                    "purpose", "clause_ids", "data_owners", "started_at",
                )
            }
            | {"leaf_hash": bytes(row.leaf_hash)}
            for row in rows
        ]  # fmt: skip


def test_the_copy_path_stores_what_the_insert_path_stores(
    factory: sessionmaker[Session], audit_log: AuditLog
) -> None:
    # 300 entries at once take the COPY path on PostgreSQL, 10 at a time the INSERT path
    # (SQLite: both INSERT). Values with every character COPY's text format escapes, in the
    # body (attributes) and in the search columns (case id, purpose, clause ids).
    def entry(number: int) -> AuditEntry:
        awkward = AWKWARD[number % len(AWKWARD)]
        return disclosure(
            number,
            case_id=f"case § {number}",
            attributes={"note": awkward, "n": number},
            processing=ProcessingActivity(
                covenant_id="utrecht-extreme-woonoverlast",
                clause_ids=("U-5.3-geweld", f"U:{number}"),
                purpose="gezamenlijke aanpak",
            ),
            data_subject=DataSubject(pseudonym=f"{number:064x}", identifier_type="bsn"),
        )

    entries = [entry(n) for n in range(300)]
    with transaction(factory) as session:
        copied = audit_log.append_many(session=session, entries=entries)
    with transaction(factory) as session:
        inserted = [
            receipt
            for start in range(0, 300, 10)
            for receipt in audit_log.append_many(
                session=session, entries=entries[start : start + 10]
            )
        ]
    stored = _stored(factory)
    assert len(stored) == 600
    for receipts, rows in ((copied, stored[:300]), (inserted, stored[300:])):
        for made, receipt, row in zip(entries, receipts, rows, strict=True):
            assert row["index"] == receipt.index
            assert row["leaf_hash"].hex() == receipt.leaf_hash
            salt = json.loads(row["body"])[SALT_FIELD]  # drawn at random when written
            body = entry_body(made, index=receipt.index, recorded_at=receipt.recorded_at, salt=salt)
            assert row["body"] == canonical_json(body).decode("utf-8")
    for by_copy, by_insert in zip(stored[:300], stored[300:], strict=True):
        differ = {"index", "body", "leaf_hash", "recorded_at"}
        assert {k: v for k, v in by_copy.items() if k not in differ} == {
            k: v for k, v in by_insert.items() if k not in differ
        }
    result = checkpointed_and_verified(factory, audit_log)
    assert result.ok, result.problems


def _copies(audit_log: AuditLog, count: int) -> list[EntryCopy]:
    """Copies of two templates, interleaved (as the sweep's rules alternate), with awkward
    attribute values, no subjects, and a template that names a single subject too."""
    plain = disclosure(0, data_subjects=())
    named = disclosure(
        1,
        data_subject=DataSubject(pseudonym="f" * 64, identifier_type="case-person"),
        data_subjects=(DataSubject(pseudonym="e" * 64, identifier_type="bsn"),),
    )
    copies = []
    for n in range(count):
        subjects = tuple(
            sorted(
                {
                    (
                        kind,
                        audit_log.pseudonym_from_index(
                            identifier_type=kind, blind_index=f"{n % k}"
                        ),
                    )
                    for kind, k in (("bsn", 7), ("address", 3))
                    if n % (k + 1)
                }
            )
        )
        attributes: dict[str, str | int | bool] = {
            "rule": "R-3.4-licht-bemiddeld",
            "due-on": "2025-11-01",
            "values": n,
            "flag": n % 2 == 0,
            "note": AWKWARD[n % len(AWKWARD)],
        }
        template = named if n % 3 == 0 else plain
        copies.append(EntryCopy(template, f"case-{n}", attributes, subjects))
    return copies


def _stored_from(factory: sessionmaker[Session], since: int) -> list[tuple[Any, ...]]:
    """Each stored entry from ``since`` on with its body's own index taken out, and the
    pseudonyms it is found by."""
    with factory() as session:
        entries = session.execute(
            select(AuditRecord).where(AuditRecord.index >= since).order_by(AuditRecord.index)
        ).scalars()
        rows = []
        for row in entries:
            named = session.scalars(
                select(AuditSubject.pseudonym)
                .where(AuditSubject.index == row.index)
                .order_by(AuditSubject.pseudonym)
            ).all()
            # Each entry's salt is its own (drawn at random): compared apart, below.
            salted = _SALTED.search(row.body)
            assert salted is not None, row.body
            rows.append(
                (
                    _SALTED.sub("", row.body.replace(f'"index":{row.index},', ""), count=1),
                    row.case_id,
                    row.covenant_id,
                    row.activity,
                    row.subject_pseudonym,
                    row.clause_ids,
                    row.data_owners,
                    row.started_at,
                    row.recorded_at,
                    tuple(named),
                    salted.group(1),
                )
            )
    return rows


_SALTED = re.compile(r'"salt":"([0-9a-f]{32})",')


@pytest.mark.parametrize("count", [3, 450])  # below and above the COPY threshold
def test_copies_store_what_their_entries_would(
    factory: sessionmaker[Session],
    audit_log: AuditLog,
    monkeypatch: pytest.MonkeyPatch,
    count: int,
) -> None:
    # The oracle: the same entries as models, copied and appended by append_entries.
    moment = datetime(2026, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    monkeypatch.setattr("gateway.audit.log.utcnow", lambda: moment)
    copies = _copies(audit_log, count)
    with transaction(factory) as session:
        assert audit_log.record_many(session=session, entries=[c.entry() for c in copies])
    with transaction(factory) as session:
        assert audit_log.record_copies(session=session, copies=copies) == count
    expected, written = _stored_from(factory, 0)[:count], _stored_from(factory, count)
    assert [row[:-1] for row in written] == [row[:-1] for row in expected]
    salts = [row[-1] for row in expected + written]
    assert len(set(salts)) == len(salts) == 2 * count  # no two copies share a salt
    assert any('"dataSubjects"' not in row[0] for row in written)  # no subjects: no list
    result = checkpointed_and_verified(factory, audit_log)
    assert result.ok, result.problems
    assert result.verified_tree_size == 2 * count


@pytest.mark.parametrize(
    "change",
    [
        {"case_id": "case\n7"},
        {"case_id": "case-7\n"},  # a trailing newline: what `$` let through
        {"attributes": {"note\n": 1}},
        {"attributes": {"Bad Key": 1}},
        {"attributes": {"note": "x" * 201}},
        {"attributes": {"note": 1.5}},  # a value's type: strings, integers and booleans
        {"attributes": {"note": None}},
        {"subjects": (("bsn", "F" * 64),)},
        {"subjects": (("bsn", "b" * 64), ("address", "a" * 64))},  # not sorted
    ],
)
def test_a_copy_with_a_value_its_entry_would_refuse_is_not_written(
    factory: sessionmaker[Session], audit_log: AuditLog, change: dict[str, Any]
) -> None:
    good = _copies(audit_log, 1)[0]
    with transaction(factory) as session:  # the positive control: the copy as it was
        assert audit_log.record_copies(session=session, copies=[good]) == 1
    bad = dataclasses.replace(good, **change)
    with (
        pytest.raises(ValueError, match="case id|attribute|subject"),
        transaction(factory) as session,
    ):
        audit_log.record_copies(session=session, copies=[good, bad])
    with factory() as session:
        assert session.scalars(select(AuditRecord.index)).all() == [0]


@pytest.mark.parametrize("change", [{"case_id": "case-7\n"}, {"attributes": {"note\n": 1}}])
def test_an_entry_refuses_a_trailing_newline_as_its_copy_does(
    audit_log: AuditLog, change: dict[str, Any]
) -> None:
    """One definition of the fields' patterns (audit.entry), matched whole: the entry and its
    copy refuse the same values. The control: the same entry without the newline."""
    good = _copies(audit_log, 1)[0].entry()
    fields = good.model_dump()
    ok = {key: "case-7" if key == "case_id" else {"note": 1} for key in change}
    assert type(good).model_validate({**fields, **ok}).model_dump() == {**fields, **ok}
    with pytest.raises(ValueError, match="identifier|slug"):
        type(good).model_validate({**fields, **change})
