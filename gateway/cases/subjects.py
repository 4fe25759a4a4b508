"""Who an audit entry about a case is about: its persons and its dwelling, as pseudonyms.

The case stores a blind index for each person's BSN (``case_person.identifier_index``) and for
its address (``case_file.address_index``). The audit pseudonym is derived from those
(:meth:`audit.AuditLog.subject_from_index`), so every writer (intake, transitions, the
exchange's disclosures and denials) names the data subjects without decrypting anything, and
the privacy officer's access report, given a BSN or address, finds the same pseudonym.
Persons registered without a BSN have no index and so cannot be named (they are not in the
access report; see docs/audit.md).
"""

from __future__ import annotations

from sqlalchemy import bindparam, literal, select

from gateway.audit import AuditLog, DataSubject
from gateway.cases.models import CaseFile, CasePerson
from gateway.db import Unit

#: Built once (a statement's construction and cache key cost more than its execution).
_SUBJECT_INDEXES = (
    select(literal("bsn"), CasePerson.identifier_index)
    .where(CasePerson.case_id == bindparam("case_id"), CasePerson.identifier_index.is_not(None))
    .union_all(
        select(literal("address"), CaseFile.address_index).where(
            CaseFile.id == bindparam("case_id")
        )
    )
)


def case_subject_indexes(session: Unit, case_id: str) -> list[tuple[str, str]]:
    """``(identifier type, blind index)`` of every person with a BSN and of the dwelling."""
    # The persons' and the dwelling's indexes in one round trip (the exchange's hot path).
    rows = session.execute(_SUBJECT_INDEXES, {"case_id": case_id}).all()
    indexes = [("bsn", index) for kind, index in rows if kind == "bsn" and index]
    indexes += [("address", index) for kind, index in rows if kind == "address" and index]
    return indexes


def case_data_subjects(session: Unit, log: AuditLog, case_id: str) -> tuple[DataSubject, ...]:
    """The data subjects an audit entry about ``case_id`` names (empty for an unknown case)."""
    return log.subjects_from_indexes(case_subject_indexes(session, case_id))
