"""The search columns are bound to the hashed entry body: a database administrator who changes
the column a privacy officer's search, the access report or the pages filter on, while leaving
the body (and so every hash) alone, is named by ``audit verify`` (the column, the entry).

Before this check the changed columns verified as "OK" while the entry dropped out of searches.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from audit.columns import CHECKED_COLUMNS
from audit.entry import DataSubject
from audit.verify import VerificationResult
from gateway.audit import AuditLog
from gateway.audit.export import verify_database
from gateway.audit.readers import LogReader
from gateway.audit.reports import iter_entries
from gateway.audit.schemas import EntrySearch
from gateway.db import transaction

from .builders import disclosure

#: The whole covenant's log as stored (the operator's view).
WHOLE_LOG = LogReader("utrecht-extreme-woonoverlast", None, covenant_wide=True, police=frozenset())

SIZE = 6
SUBJECT = "ab" * 32
TAMPERED = 3

#: A value for each checked column that differs from what entry 3's body says.
FORGED: dict[str, object] = {
    "covenant_id": "rijswijk-woonoverlast",
    "activity": "case-intake",
    "outcome": "recorded",
    "case_id": "case-other",
    "subject_pseudonym": "cd" * 32,
    "requester_partner": "mitros",
    "recipient_partner": "mitros",
    "purpose": "nazorg",
    "clause_ids": " U-5.6-buurtteam ",
    "data_owners": " mitros ",
    "started_at": datetime(2025, 1, 1, tzinfo=UTC),
}


@pytest.fixture
def filled(factory: sessionmaker[Session], audit_log: AuditLog) -> sessionmaker[Session]:
    subject = DataSubject(pseudonym=SUBJECT, identifier_type="bsn")
    for number in range(SIZE):
        with transaction(factory) as session:
            audit_log.append(
                session=session,
                entry=disclosure(number, data_subject=subject, data_subjects=(subject,)),
            )
    audit_log.sign_checkpoint(factory)
    return factory


def verify(factory: sessionmaker[Session], log: AuditLog) -> VerificationResult:
    return verify_database(factory, [log.signer.public_key])


def test_every_checked_column_has_a_forged_value() -> None:
    assert set(FORGED) == set(CHECKED_COLUMNS)


def test_an_untouched_log_has_its_columns_in_agreement(
    filled: sessionmaker[Session], audit_log: AuditLog
) -> None:
    result = verify(filled, audit_log)
    assert result.ok, result.problems
    assert result.entries == SIZE


@pytest.mark.parametrize("column", CHECKED_COLUMNS)
def test_a_changed_search_column_is_named(
    filled: sessionmaker[Session], audit_log: AuditLog, column: str
) -> None:
    with transaction(filled) as session:
        session.execute(
            text(f"UPDATE audit_entry SET {column} = :value WHERE idx = :idx"),
            {"value": FORGED[column], "idx": TAMPERED},
        )
    problem = verify(filled, audit_log).first_problem
    assert problem is not None
    assert (problem.kind, problem.index) == ("search-column", TAMPERED)
    assert column in problem.detail
    assert str(problem).startswith(f"entry {TAMPERED}: search-column:")


def test_a_denial_turned_into_nothing_leaves_a_search_and_is_caught(
    filled: sessionmaker[Session], audit_log: AuditLog
) -> None:
    """The attack from the issue: the outcome column no longer says what the body says, so a
    search for this partner's entries misses one; verify names it."""
    search = EntrySearch(outcome="partially-disclosed")
    with filled() as session:
        before = list(
            iter_entries(
                session,
                reader=WHOLE_LOG,
                search=search,
                subject_pseudonym=None,
            )
        )
    with transaction(filled) as session:
        session.execute(text("UPDATE audit_entry SET outcome = 'failed' WHERE idx = 2"))
    with filled() as session:
        after = list(
            iter_entries(
                session,
                reader=WHOLE_LOG,
                search=search,
                subject_pseudonym=None,
            )
        )
    assert len(after) == len(before) - 1
    problem = verify(filled, audit_log).first_problem
    assert problem is not None
    assert (problem.kind, problem.index) == ("search-column", 2)
    assert "outcome" in problem.detail


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM audit_entry_subject WHERE idx = 3",
        f"UPDATE audit_entry_subject SET pseudonym = '{'cd' * 32}' WHERE idx = 3",
        f"INSERT INTO audit_entry_subject (pseudonym, idx) VALUES ('{'ef' * 32}', 3)",
    ],
    ids=["deleted", "changed", "added"],
)
def test_a_changed_subject_row_is_named(
    filled: sessionmaker[Session], audit_log: AuditLog, statement: str
) -> None:
    """The access report finds a person through ``audit_entry_subject``: a removed row hides an
    entry from the person's art. 15 report; an added one puts a stranger's entry in it."""
    with transaction(filled) as session:
        session.execute(text(statement))
    problem = verify(filled, audit_log).first_problem
    assert problem is not None
    assert (problem.kind, problem.index) == ("search-column", 3)
    assert "audit_entry_subject" in problem.detail
