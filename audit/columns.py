"""The search columns of an entry, derived from its hashed body, and the check that the stored
columns still say what the body says.

``audit_entry`` keeps copies of a few body fields (covenant, activity, outcome, case, partners,
purpose, clauses, data owners, start time) and ``audit_entry_subject`` one row per data subject,
so that searches, the art. 15 access report and the pages can use indexes. Those copies are not
covered by the leaf hash: someone who can write the database could change ``outcome`` from
``denied`` to ``recorded`` or move an entry to another covenant, and it would drop out of a
privacy officer's search while the body still verifies. :func:`column_mismatches` is how
``ketenpoort audit verify`` catches that: every column a report filters on is compared with the
value derived from the body here, and a mismatch names the column.

Pure and dependency-free (only the standard library), like :mod:`audit.verify`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

#: The activity of a void entry (see :mod:`gateway.audit.log`); its columns are fixed.
VOID_ACTIVITY = "index-void"

#: The search columns of ``audit_entry`` that verification checks, in table order.
CHECKED_COLUMNS = (
    "covenant_id", "activity", "outcome", "case_id", "subject_pseudonym", "requester_partner",
    "recipient_partner", "purpose", "clause_ids", "data_owners", "started_at",
)  # fmt: skip


class MalformedBody(ValueError):
    """A body field the search columns copy has the wrong type (no gateway writes that): the
    body is not a log entry (review8b F3: it raised TypeError out of verification)."""


def _spaced(values: Any, field: str) -> str:
    if values is None:
        return ""
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise MalformedBody(f"{field} is not a list of strings")
    return f" {' '.join(values)} " if values else ""


def _partner(actor: Any) -> str | None:
    return actor.get("partnerId") if isinstance(actor, Mapping) else None


def columns_from_body(body: Mapping[str, Any]) -> dict[str, str | None]:
    """What each search column must hold for an entry with this stored body (``started_at``
    as the body spells it, RFC 3339 UTC with microseconds)."""
    if body.get("activity") == VOID_ACTIVITY:
        # Voids name no covenant, so privacy-officer searches (always per covenant) skip them.
        recorded = body.get("recordedAt")
        return {
            "covenant_id": "",
            "activity": VOID_ACTIVITY,
            "outcome": "recorded",
            "case_id": None,
            "subject_pseudonym": None,
            "requester_partner": None,
            "recipient_partner": None,
            "purpose": None,
            "clause_ids": "",
            "data_owners": "",
            "started_at": recorded if isinstance(recorded, str) else None,
        }
    processing = body.get("processing")
    processing = processing if isinstance(processing, Mapping) else {}
    subject = body.get("dataSubject")
    return {
        "covenant_id": processing.get("covenantId"),
        "activity": body.get("activity"),
        "outcome": body.get("outcome"),
        "case_id": body.get("caseId"),
        "subject_pseudonym": subject.get("pseudonym") if isinstance(subject, Mapping) else None,
        "requester_partner": _partner(body.get("requester")),
        "recipient_partner": _partner(body.get("recipient")),
        "purpose": processing.get("purpose"),
        "clause_ids": _spaced(processing.get("clauseIds"), "processing.clauseIds"),
        "data_owners": _spaced(body.get("dataOwners"), "dataOwners"),
        "started_at": body.get("startedAt"),
    }


def subjects_from_body(body: Mapping[str, Any]) -> list[str]:
    """The pseudonyms ``audit_entry_subject`` must hold for this entry, sorted, once each."""
    named: set[str] = set()
    subject = body.get("dataSubject")
    if isinstance(subject, Mapping) and isinstance(subject.get("pseudonym"), str):
        named.add(subject["pseudonym"])
    listed = body.get("dataSubjects")
    if listed is not None and not isinstance(listed, list):
        raise MalformedBody("dataSubjects is not a list")
    for item in listed or ():
        if isinstance(item, Mapping) and isinstance(item.get("pseudonym"), str):
            named.add(item["pseudonym"])
    return sorted(named)


def stored_time(value: datetime | str | None) -> str | None:
    """A stored timestamp in the body's spelling (naive values are UTC, as SQLite returns)."""
    if value is None or isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True)
class StoredColumns:
    """The search copies read back from the database for one entry."""

    values: Mapping[str, Any]
    subjects: Sequence[str]


def column_mismatches(body: Mapping[str, Any], stored: StoredColumns) -> list[str]:
    """The names of the stored search columns (and ``audit_entry_subject``) that differ from
    what the body says; empty when they agree."""
    expected = columns_from_body(body)
    wrong = []
    for name in CHECKED_COLUMNS:
        actual = stored.values.get(name)
        if name == "started_at":
            actual = stored_time(actual)
        if actual != expected[name]:
            wrong.append(name)
    if sorted(set(stored.subjects)) != subjects_from_body(body) or len(stored.subjects) != len(
        set(stored.subjects)
    ):
        wrong.append("audit_entry_subject")
    return wrong
