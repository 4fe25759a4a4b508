"""Appending to the log inside the caller's transaction.

An append locks the single ``audit_head`` row (``UPDATE ... RETURNING``: a row lock on
PostgreSQL, the write lock on SQLite) and inserts the entries with the indexes it reserved.
Both happen in the caller's session, so:

* the entry commits with the disclosure it records, or neither does (no audit, no disclosure);
* a rolled-back transaction also rolls back its reservation, so indexes never have gaps;
* concurrent appenders from several processes queue on the row lock, so the log never forks.

The lock is held until the caller commits: append as the last step before committing.
Nothing about the Merkle tree is computed here; only the leaf hash, once, stored with the
entry. Trees are built by the checkpoint job (:mod:`audit.checkpoints`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from audit.entry import AuditEntry, canonical_json, entry_body, format_time
from audit.errors import AuditUnavailable
from audit.merkle import leaf_hash
from audit.models import AuditHead, AuditRecord
from gateway.db import utcnow

HEAD_ID = 1


@dataclass(frozen=True, slots=True)
class AppendedEntry:
    """Where an entry landed: its index (leaf number) and leaf hash."""

    index: int
    leaf_hash: bytes
    recorded_at: datetime


def _spaced(values: Sequence[str]) -> str:
    return f" {' '.join(values)} " if values else ""


def _search_columns(entry: AuditEntry) -> dict[str, object]:
    return {
        "covenant_id": entry.processing.covenant_id,
        "activity": entry.activity,
        "outcome": entry.outcome,
        "case_id": entry.case_id,
        "subject_pseudonym": entry.data_subject.pseudonym if entry.data_subject else None,
        "requester_partner": entry.requester.partner_id if entry.requester else None,
        "recipient_partner": entry.recipient.partner_id if entry.recipient else None,
        "purpose": entry.processing.purpose,
        "clause_ids": _spaced(entry.processing.clause_ids),
        "data_owners": _spaced(entry.data_owners),
        "started_at": entry.started_at,
    }


def reserve_indexes(session: Session, count: int) -> int:
    """Lock the head row and reserve ``count`` indexes; returns the first one."""
    statement = (
        update(AuditHead)
        .where(AuditHead.id == HEAD_ID)
        .values(next_index=AuditHead.next_index + count)
        .returning(AuditHead.next_index)
        .execution_options(synchronize_session=False)
    )
    end = session.execute(statement).scalar_one_or_none()
    if end is None:
        raise AuditUnavailable("The audit log is not initialised (no head row); run migrations.")
    return int(end) - count


def append_entries(session: Session, entries: Sequence[AuditEntry]) -> list[AppendedEntry]:
    """Append ``entries`` in order, in ``session``'s transaction; see the module docstring.

    Raises :class:`AuditUnavailable` when the database refuses; the caller's transaction is
    then unusable and must roll back (letting the error propagate does that).
    """
    if not entries:
        return []
    # Serialise before taking the lock: the lock is held until the caller commits, so the
    # work done under it bounds the log's throughput.
    prepared = [(entry, entry_body(entry, index=0, recorded_at=utcnow())) for entry in entries]
    try:
        first = reserve_indexes(session, len(entries))
        recorded_at = utcnow()
        stamp = format_time(recorded_at)
        rows: list[dict[str, object]] = []
        appended: list[AppendedEntry] = []
        for offset, (entry, body_fields) in enumerate(prepared):
            index = first + offset
            body_fields["index"] = index
            body_fields["recordedAt"] = stamp
            body = canonical_json(body_fields)
            leaf = leaf_hash(body)
            rows.append(
                {
                    "index": index,
                    "leaf_hash": leaf,
                    "body": body.decode("utf-8"),
                    "recorded_at": recorded_at,
                    **_search_columns(entry),
                }
            )
            appended.append(AppendedEntry(index, leaf, recorded_at))
        session.execute(insert(AuditRecord), rows)
    except SQLAlchemyError as exc:
        raise AuditUnavailable(
            "The audit entry could not be written; nothing was disclosed."
        ) from exc
    return appended
