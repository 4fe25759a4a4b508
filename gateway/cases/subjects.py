"""Who an audit entry about a case is about: its persons and its dwelling, as pseudonyms.

The case stores a blind index for each person's BSN (``case_person.identifier_index``) and for
its address (``case_file.address_index``). The audit pseudonym is derived from those
(:meth:`audit.AuditLog.subject_from_index`), so every writer (intake, transitions, the
exchange's disclosures and denials) names the data subjects without decrypting anything, and
the privacy officer's access report, given a BSN or address, finds the same pseudonym.
Persons registered without a BSN have no index and so cannot be named (they are not in the
access report; see docs/audit.md).

The access report also asks what a subject is in each case (:func:`subject_roles`): a person
by its roles (``case_person.role``), the address as the case's dwelling. It names a category
only to a subject the category concerns (``categories[].concerns`` in the covenant file).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Collection, Iterable

from sqlalchemy import bindparam, literal, select
from sqlalchemy.orm import Session

from gateway.audit import AuditLog, DataSubject
from gateway.cases.models import CaseFile, CasePerson
from gateway.db import Unit
from gateway.policy.covenant import DWELLING

#: Cases per query of :func:`subject_roles` (an IN list well within every driver's limits).
_ROLE_BATCH = 500

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


def subject_roles(
    session: Session, log: AuditLog, subject: DataSubject
) -> Callable[[Collection[str]], dict[str, frozenset[str]]]:
    """For the access report (gateway/audit/reports.py): given case ids, what ``subject`` is
    in each, found as the writers name subjects (:meth:`AuditLog.pseudonym_from_index` of the
    stored blind indexes): for a ``bsn`` the roles of the case's persons with that BSN (a
    complainant who is also a neighbour is both), for an ``address`` ``dwelling`` where it is
    the case's address. A case in which it is none of these (a person erased, registered
    without a BSN, another identifier type) is left out: the report then names no category
    of that case to the subject (unknown is not no)."""

    def roles(case_ids: Collection[str]) -> dict[str, frozenset[str]]:
        found: dict[str, set[str]] = {}
        ids = sorted(set(case_ids))
        for start in range(0, len(ids), _ROLE_BATCH):
            batch = ids[start : start + _ROLE_BATCH]
            for case_id, role in _matching(session, log, subject, batch):
                found.setdefault(case_id, set()).add(role)
        return {case_id: frozenset(found_roles) for case_id, found_roles in found.items()}

    return roles


def _matching(
    session: Session, log: AuditLog, subject: DataSubject, case_ids: Collection[str]
) -> Iterable[tuple[str, str]]:
    if subject.identifier_type == "bsn":
        query = select(CasePerson.case_id, CasePerson.role, CasePerson.identifier_index).where(
            CasePerson.case_id.in_(case_ids), CasePerson.identifier_index.is_not(None)
        )
    elif subject.identifier_type == "address":
        query = select(CaseFile.id, literal(DWELLING), CaseFile.address_index).where(
            CaseFile.id.in_(case_ids), CaseFile.address_index.is_not(None)
        )
    else:
        return
    for case_id, role, index in session.execute(query).all():
        if index and hmac.compare_digest(
            log.pseudonym_from_index(identifier_type=subject.identifier_type, blind_index=index),
            subject.pseudonym,
        ):
            yield case_id, role
