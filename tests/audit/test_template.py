"""Entries from a validated template (audit.entry.EntryTemplate): the same entry, the same
bytes and leaf hash as full validation gives, and every value the caller sets still checked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from audit.entry import (
    AuditEntry,
    DataSubject,
    EntryTemplate,
    canonical_json,
    entry_body,
    format_time,
)
from audit.merkle import leaf_hash
from gateway.audit import AuditLog
from gateway.db import transaction

from .builders import T0, checkpointed_and_verified, disclosure

RECORDED = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
SUBJECT_A = DataSubject(pseudonym="a" * 64, identifier_type="bsn")
SUBJECT_B = DataSubject(pseudonym="b" * 64, identifier_type="address")


def _leaf(entry: AuditEntry) -> bytes:
    return leaf_hash(canonical_json(entry_body(entry, index=17, recorded_at=RECORDED, salt=None)))


def _per_entry(number: int) -> dict[str, Any]:
    """What varies per request in this test: the case, the times, the subjects (given in
    an unsorted order with a duplicate, which the field's validator sorts and removes)."""
    return {
        "case_id": f"case-{number}",
        "started_at": T0 + timedelta(minutes=number),
        "ended_at": T0 + timedelta(minutes=number, milliseconds=40),
        "data_subjects": (SUBJECT_B, SUBJECT_A, SUBJECT_B),
    }


def test_an_entry_from_a_template_is_the_validated_entry_byte_for_byte() -> None:
    template = EntryTemplate(disclosure(0))
    for number in range(5):
        validated = disclosure(number, **_per_entry(number))
        # The builder's decision id differs per number: it is set per entry too.
        made = template.entry(
            trace=validated.trace, decision=validated.decision, **_per_entry(number)
        )
        assert made == validated
        assert made.data_subjects == (SUBJECT_B, SUBJECT_A)  # sorted by type, unique
        assert _leaf(made) == _leaf(validated)


def test_a_template_converts_a_value_as_validation_does() -> None:
    # A time in another zone is stored in UTC, by the field's own validator.
    template = EntryTemplate(disclosure(0))
    local = datetime(2026, 3, 2, 11, 30, tzinfo=timezone(timedelta(hours=2)))
    made = template.entry(started_at=local)
    assert made.started_at == datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    assert made.started_at.tzinfo is UTC
    assert _leaf(made) == _leaf(disclosure(0, started_at=local, trace=made.trace))


@pytest.mark.parametrize(
    ("field", "bad", "good"),
    [
        ("case_id", "case 7; DROP", "case-7"),
        ("case_id", "1234\n5678", "case-8"),
        ("started_at", datetime(2026, 3, 2, 9, 30), datetime(2026, 3, 2, 9, 30, tzinfo=UTC)),  # noqa: DTZ001
        ("activity", "Disclosure!", "disclosure"),
        ("outcome", "maybe", "denied"),
        ("data_owners", ("politie midden\x00",), ("politie-midden-nederland",)),
        ("attributes", {"x": "y" * 201}, {"x": "y"}),
        ("data_subjects", ({"pseudonym": "Z" * 64, "identifierType": "bsn"},), (SUBJECT_A,)),
    ],
)
def test_every_value_set_on_a_template_is_validated(field: str, bad: object, good: object) -> None:
    template = EntryTemplate(disclosure(0))
    with pytest.raises(ValidationError):
        template.entry(**{field: bad})
    with pytest.raises(ValidationError):
        disclosure(0, **{field: bad})  # full validation refuses it the same way
    # Positive control: the same field with a valid value is accepted, and matches.
    made = template.entry(**{field: good})
    assert made == disclosure(0, trace=made.trace, **{field: good})


def test_a_template_refuses_an_unknown_field_and_a_non_entry() -> None:
    template = EntryTemplate(disclosure(0))
    with pytest.raises(TypeError, match="no field"):
        template.entry(case="case-1")
    with pytest.raises(TypeError, match="validated AuditEntry"):
        EntryTemplate({"activity": "disclosure"})  # type: ignore[arg-type]
    assert template.entry(case_id="case-1").case_id == "case-1"  # positive control


def test_entries_from_a_template_share_neither_trace_nor_attributes_nor_the_template() -> None:
    base = disclosure(0, attributes={"phase": "intake"})
    template = EntryTemplate(base)
    first, second = template.entry(case_id="case-1"), template.entry(case_id="case-2")
    assert first.trace.span_id != second.trace.span_id
    assert first.trace.span_id != base.trace.span_id
    assert first.attributes == {"phase": "intake"}
    assert first.attributes is not base.attributes
    assert first.attributes is not second.attributes
    assert base.case_id == "case-0"  # the template is untouched


def test_entries_from_a_template_append_and_verify(
    factory: sessionmaker[Session], audit_log: AuditLog
) -> None:
    template = EntryTemplate(disclosure(0))
    with transaction(factory) as session:
        receipts = [
            audit_log.append(session=session, entry=template.entry(**_per_entry(n)))
            for n in range(3)
        ]
    assert [r.index for r in receipts] == [0, 1, 2]
    result = checkpointed_and_verified(factory, audit_log)
    assert result.ok, result.problems
    assert result.verified_tree_size == 3


@settings(max_examples=500, deadline=None)
@given(
    moment=st.datetimes(
        min_value=datetime(1, 1, 2),  # noqa: DTZ001
        max_value=datetime(9999, 12, 30),  # noqa: DTZ001
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=2)), timezone(-timedelta(hours=11, minutes=30))]
        ),
    )
)
def test_format_time_spells_every_instant_as_strftime_did(moment: datetime) -> None:
    # The leaf hash covers this spelling: the faster isoformat path must not change a byte.
    expected = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert format_time.__wrapped__(moment) == expected
