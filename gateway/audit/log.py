"""Appending to the log inside the caller's transaction.

The entry is inserted in the caller's session, so it commits with the disclosure it records,
or neither does (no audit, no disclosure). How it gets its index depends on the database:

PostgreSQL: ``nextval('audit_index_seq')``, no lock. A lock held through the caller's commit
(the fsync) would serialise every disclosure; a sequence lets commits run, and be flushed,
together. Indexes are unique (the log never forks: the primary key is the backstop) but a
rolled-back transaction leaves its index unused. :func:`seal` (run by the checkpoint job under
its lock) closes such holes: it inserts a *void* entry at every index that is still missing
once a later entry has been committed for :data:`VOID_GRACE_SECONDS`. The void insert uses
``ON CONFLICT DO NOTHING``, so it waits for a transaction still holding that index and yields
to it if it commits; should a stalled appender come after the void, its insert fails on the
primary key and its transaction (and disclosure) rolls back: fail closed. :func:`sealed_size`
is the committed prefix without holes; checkpoints and verification cover exactly that prefix.

SQLite: the single ``audit_head`` row is locked (``UPDATE ... RETURNING`` takes the database
write lock, which SQLite holds until the commit anyway), so indexes never have holes.

Nothing about the Merkle tree is computed here; only the leaf hash, once, stored with the
entry. Trees are built by the checkpoint job (:mod:`audit.checkpoints`).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import orjson
import psycopg
from psycopg import sql
from sqlalchemy import Table, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session

from audit.entry import (
    ENTRY_FORMAT,
    IDENTIFIER,
    MAX_SUBJECTS,
    SALT_FIELD,
    AuditEntry,
    DataSubject,
    canonical_json,
    check_attributes,
    entry_body,
    format_time,
    is_slug,
    new_salts,
)
from audit.merkle import leaf_hash
from gateway.audit.errors import AuditUnavailable
from gateway.audit.models import AuditHead, AuditRecord, AuditSubject
from gateway.db import (
    HotStatement,
    Unit,
    hot_cursor,
    invalidate_if_disconnected,
    is_outage,
    unit_connection,
    utcnow,
)

HEAD_ID = 1
#: A missing index is voided only once an entry with a higher index has been committed for this
#: long: its appender took the index before that entry's did, so it has had at least this long
#: to insert its row. (An appender stalled longer fails closed, see the module docstring.)
VOID_GRACE_SECONDS = 10.0
VOID_ACTIVITY = "index-void"
#: Appends of at least this many entries use COPY on PostgreSQL (the retention sweep).
COPY_THRESHOLD = 200
#: The table itself: Core inserts skip the ORM's per-row bookkeeping.
_ENTRIES = cast(Table, AuditRecord.__table__)
_SUBJECTS = cast(Table, AuditSubject.__table__)
_HEX64 = re.compile(r"[0-9a-f]{64}")
_NEXTVAL = text("SELECT nextval('audit_index_seq') FROM generate_series(1, :count)")


@dataclass(frozen=True, slots=True)
class AppendedEntry:
    """Where an entry landed: its index (leaf number) and leaf hash."""

    index: int
    leaf_hash: bytes
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class Companion:
    """A row that the entry records (the disclosure row), written with the entry: on
    PostgreSQL in the single append's own statement, so one round trip writes both and
    neither can be written without the other; elsewhere right after the entry, in the same
    transaction. ``statement`` inserts one row; its ``index_param`` parameter is given the
    entry's index, ``values`` are the others. If it fails, the entry is not written either
    and the caller's transaction must roll back: a row the database refused raises the
    database's error (a 500, the log is not failing), an outage :class:`AuditUnavailable`."""

    statement: HotStatement
    values: dict[str, Any]
    index_param: str = "audit_index"

    @property
    def table_name(self) -> str:
        """The table the row goes into (``disclosure``)."""
        return str(self.statement.statement.table.name)


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


def subject_pseudonyms(entry: AuditEntry) -> list[str]:
    """Every pseudonym the entry names, once each: the rows of ``audit_entry_subject``."""
    named = {subject.pseudonym for subject in entry.data_subjects}
    if entry.data_subject is not None:
        named.add(entry.data_subject.pseudonym)
    return sorted(named)


def uses_sequence(session: Unit) -> bool:
    """Whether indexes come from ``audit_index_seq`` (PostgreSQL) or the head row."""
    bind = session.get_bind() if isinstance(session, Session) else session
    return bind.dialect.name == "postgresql"


def reserve_indexes(session: Unit, count: int) -> list[int]:
    """``count`` fresh indexes, ascending: from the sequence (PostgreSQL, no lock) or by
    locking the head row until the transaction ends (SQLite)."""
    if uses_sequence(session):
        return sorted(int(v) for v in session.execute(_NEXTVAL, {"count": count}).scalars())
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
    return list(range(int(end) - count, int(end)))


def fast_canonical_json(value: dict[str, Any]) -> bytes:
    """:func:`audit.entry.canonical_json`, byte for byte (tests/audit/test_bulk.py checks),
    in a quarter of the time: sorted keys, no whitespace, UTF-8 not escaped."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def _with_index(prefix: bytes, index: int, suffix: bytes) -> bytes:
    return b"%s%d%s" % (prefix, index, suffix)


_PLACEHOLDER = -7_391_604_285
_MARK = b'"format":%d,"index":%d,' % (ENTRY_FORMAT, _PLACEHOLDER)


def _split_body(body: bytes) -> tuple[bytes, bytes]:
    """Split canonical JSON made with the placeholder index around that index, so each entry is
    serialised once, before its index is known. In canonical JSON the top-level ``index``
    follows ``format`` and no later top-level field is free-form (see audit.verify), so the
    last occurrence of the mark is the entry's own."""
    at = body.rfind(_MARK)
    if at < 0:
        raise AssertionError("canonical entry body without its index")
    cut = at + len(_MARK) - len(b"%d," % _PLACEHOLDER)
    return body[:cut], body[cut + len(b"%d" % _PLACEHOLDER) :]


def append_entries(
    session: Unit, entries: Sequence[AuditEntry], companion: Companion | None = None
) -> list[AppendedEntry]:
    """Append ``entries`` in order, in ``session``'s transaction (a Session's, or a Core
    connection's inside its transaction); see the module docstring.

    One statement reserves the indexes and one multi-row insert writes the entries, however
    many there are. ``companion`` (one entry only): the row the entry records, written with
    it (:class:`Companion`). Raises :class:`AuditUnavailable` when the database refuses the
    entry or is unreachable, the database's own error when it refuses the companion row; the
    caller's transaction is then unusable and must roll back (letting the error propagate
    does that).
    """
    if not entries:
        return []
    if companion is not None and len(entries) != 1:
        raise ValueError("a companion row goes with a single entry")
    # Serialise everything but the index before reserving it: on SQLite the reservation is a
    # lock held until the caller commits, so the work done under it bounds the throughput.
    recorded_at = utcnow()
    stamp = format_time(recorded_at)
    prepared: list[tuple[AuditEntry, bytes, bytes]] = []
    for entry, salt in zip(entries, new_salts(len(entries)), strict=True):
        fields = entry_body(entry, index=_PLACEHOLDER, recorded_at=recorded_at, salt=salt)
        fields["recordedAt"] = stamp
        prefix, suffix = _split_body(fast_canonical_json(fields))
        prepared.append((entry, prefix, suffix))
    alone = False  # whether the failing statement wrote the companion row alone
    try:
        if len(prepared) == 1 and uses_sequence(session):
            entry, prefix, suffix = prepared[0]
            return [_append_one(session, entry, prefix, suffix, recorded_at, companion)]
        appended = _write_rows(
            session,
            [
                _Row(prefix, suffix, _search_columns(entry), subject_pseudonyms(entry))
                for entry, prefix, suffix in prepared
            ],
            recorded_at,
        )
        if companion is not None:
            alone = True
            values = {**companion.values, companion.index_param: appended[0].index}
            companion.statement.execute(unit_connection(session), values)
    except (SQLAlchemyError, psycopg.Error) as exc:
        # A raw driver call (the single append, COPY) bypasses SQLAlchemy's disconnect
        # handling: without this the caller's rollback would hit the dead connection.
        invalidate_if_disconnected(unit_connection(session), exc)
        if companion is not None and _refused_companion(exc, companion, alone=alone):
            raise  # the database's error: a 500, and the log is not failing
        raise AuditUnavailable(
            "The audit entry could not be written; nothing was disclosed."
        ) from exc
    return appended


def _refused_companion(error: BaseException, companion: Companion, *, alone: bool) -> bool:
    """Whether the database refused the companion row, rather than the entry: a statement it
    refused (a constraint, a trigger), not an outage (:func:`gateway.db.is_outage`), and
    provably the row's. That is a fault of the row the caller built (500): it must not answer
    503 nor mark the log as failing for readiness. Anything not provably the row's is the
    log's (503, readiness marked): a refusal of the log's own tables (a revoked grant, a
    voided index, a trigger) must never look healthy. On SQLite the row is its own statement
    (``alone``); on PostgreSQL it is written by the entry's statement, so only the error's
    table can tell, and an error naming no table (a trigger's RAISE, a missing privilege) is
    the log's."""
    if is_outage(error):
        return False
    if alone:
        return True
    driver_error = error.orig if isinstance(error, DBAPIError) else error
    table = getattr(getattr(driver_error, "diag", None), "table_name", None)
    return table is not None and table == companion.table_name


@dataclass(frozen=True, slots=True)
class _Row:
    """An entry ready to be written but for its index: its canonical body split around the
    index, its search columns and the pseudonyms of ``audit_entry_subject``."""

    prefix: bytes
    suffix: bytes
    columns: dict[str, object]
    pseudonyms: list[str]


def _write_rows(session: Unit, prepared: list[_Row], recorded_at: datetime) -> list[AppendedEntry]:
    """Reserve the indexes of ``prepared`` and write them: one multi-row insert, or COPY on
    PostgreSQL from :data:`COPY_THRESHOLD` entries on."""
    indexes = reserve_indexes(session, len(prepared))
    rows: list[dict[str, object]] = []
    subjects: list[tuple[str, int]] = []
    appended: list[AppendedEntry] = []
    for index, row in zip(indexes, prepared, strict=True):
        subjects.extend((pseudonym, index) for pseudonym in row.pseudonyms)
        body = _with_index(row.prefix, index, row.suffix)
        leaf = leaf_hash(body)
        rows.append(
            {
                "idx": index,
                "leaf_hash": leaf,
                "body": body.decode("utf-8"),
                "recorded_at": recorded_at,
                **row.columns,
            }
        )
        appended.append(AppendedEntry(index, leaf, recorded_at))
    if len(rows) >= COPY_THRESHOLD and uses_sequence(session):
        _copy_rows(session, rows)
        _copy_subjects(session, subjects)
    else:
        # One executemany each (insertmanyvalues batches on PostgreSQL).
        unit_connection(session).execute(insert(_ENTRIES), rows)
        if subjects:
            unit_connection(session).execute(
                insert(_SUBJECTS), [{"pseudonym": p, "idx": i} for p, i in subjects]
            )
    return appended


# -- many copies of a few validated entries (the retention sweep) ---------------------------

_CASE_KEY = AuditEntry.model_fields["case_id"].alias or "case_id"
_ATTRIBUTES_KEY = AuditEntry.model_fields["attributes"].alias or "attributes"
_SUBJECTS_KEY = AuditEntry.model_fields["data_subjects"].alias or "data_subjects"
_TYPE_KEY = DataSubject.model_fields["identifier_type"].alias or "identifier_type"
_PSEUDONYM_KEY = DataSubject.model_fields["pseudonym"].alias or "pseudonym"


@dataclass(frozen=True, slots=True)
class EntryCopy:
    """The entry ``template.model_copy(update={"case_id": ..., "attributes": ...,
    "data_subjects": ...})`` would be, for a writer that appends many entries differing only
    in these three fields (the retention sweep: one per erased case). ``template`` is a
    validated entry; ``subjects`` are (identifier type, pseudonym) pairs, sorted and unique
    as AuditEntry keeps its data subjects. :func:`append_copies` checks the three fields
    as AuditEntry's validators would and writes the same bytes as :func:`append_entries`
    writes for :meth:`entry` (tests/audit/test_bulk.py)."""

    template: AuditEntry
    case_id: str
    attributes: dict[str, str | int | bool]
    subjects: tuple[tuple[str, str], ...]

    def entry(self) -> AuditEntry:
        """The entry this copy stands for."""
        return self.template.model_copy(
            update={
                "case_id": self.case_id,
                "attributes": dict(self.attributes),
                "data_subjects": tuple(
                    DataSubject(identifier_type=kind, pseudonym=pseudonym)
                    for kind, pseudonym in self.subjects
                ),
            }
        )


#: Attribute keys and subject types found to be slugs: a bulk writer repeats a handful of
#: them in every copy, so each is matched once (bounded, in case a caller does not).
_SLUG_KEYS: set[str] = set()
_SLUG_TYPES: set[str] = set()
_SLUGS_KEPT = 1000


def _is_slug(value: str, seen: set[str]) -> bool:
    if value in seen:
        return True
    if not is_slug(value):
        return False
    if len(seen) < _SLUGS_KEPT:
        seen.add(value)
    return True


def _slug_key(key: str) -> bool:
    return _is_slug(key, _SLUG_KEYS)


def _check_copy(copy: EntryCopy) -> None:
    """AuditEntry's checks of the three fields a copy sets (fail closed: a bad value raises
    before anything is written)."""
    if not IDENTIFIER.fullmatch(copy.case_id):
        raise ValueError("a copy's case id must be a short identifier")
    check_attributes(copy.attributes, slug=_slug_key)
    subjects = copy.subjects
    if len(subjects) > MAX_SUBJECTS or list(subjects) != sorted(set(subjects)):
        raise ValueError("a copy's subjects are sorted, unique and at most MAX_SUBJECTS")
    for kind, pseudonym in subjects:
        if not _is_slug(kind, _SLUG_TYPES) or not _HEX64.fullmatch(pseudonym):
            raise ValueError("a subject is a slug type and a 64-digit lowercase hex pseudonym")


def append_copies(session: Session, copies: Sequence[EntryCopy]) -> list[AppendedEntry]:
    """Append ``copies`` in order, as :func:`append_entries` appends their entries, without
    building and serialising a pydantic model per entry: each template is serialised once
    and each copy's body is that with its own case id, attributes and subjects (at 100k
    entries, copying and dumping the models was a fifth of the retention sweep's Python)."""
    if not copies:
        return []
    recorded_at = utcnow()
    stamp = format_time(recorded_at)
    bases: dict[int, tuple[dict[str, Any], dict[str, object], str | None]] = {}
    prepared: list[_Row] = []
    # A salt of each copy's own: copies of one template never share one (a reader given one
    # copy whole could otherwise test guesses of another's hidden parts against its leaf).
    for copy, salt in zip(copies, new_salts(len(copies)), strict=True):
        _check_copy(copy)
        base = bases.get(id(copy.template))
        if base is None:
            template = copy.template
            fields = entry_body(template, index=_PLACEHOLDER, recorded_at=recorded_at, salt=None)
            fields["recordedAt"] = stamp
            for key in (_CASE_KEY, _ATTRIBUTES_KEY, _SUBJECTS_KEY):
                fields.pop(key, None)
            single = template.data_subject.pseudonym if template.data_subject else None
            base = bases[id(template)] = (fields, _search_columns(template), single)
        fields, columns, single = base
        body = {
            **fields,
            _CASE_KEY: copy.case_id,
            _ATTRIBUTES_KEY: copy.attributes,
            SALT_FIELD: salt,
        }
        if copy.subjects:
            body[_SUBJECTS_KEY] = [
                {_TYPE_KEY: kind, _PSEUDONYM_KEY: pseudonym} for kind, pseudonym in copy.subjects
            ]
        named = {pseudonym for _, pseudonym in copy.subjects}
        if single is not None:
            named.add(single)
        prefix, suffix = _split_body(fast_canonical_json(body))
        prepared.append(_Row(prefix, suffix, {**columns, "case_id": copy.case_id}, sorted(named)))
    try:
        return _write_rows(session, prepared, recorded_at)
    except (SQLAlchemyError, psycopg.Error) as exc:
        invalidate_if_disconnected(unit_connection(session), exc)
        raise AuditUnavailable(
            "The audit entry could not be written; nothing was disclosed."
        ) from exc


_ONE_COLUMNS = (
    "covenant_id", "activity", "outcome", "case_id", "subject_pseudonym", "requester_partner",
    "recipient_partner", "purpose", "clause_ids", "data_owners", "started_at",
)  # fmt: skip
#: One round trip for the single append (the hot path of every disclosure on PostgreSQL):
#: the index from the sequence, the body with that index spliced in, and its leaf hash
#: (RFC 6962: SHA-256 of 0x00 || body) computed by the server, returned for checking.
#: The entry's data subjects go into ``audit_entry_subject`` in the same statement.
#: Every parameter is text, in order (``%s``): psycopg converts a tuple of strings in about
#: half the time of a dict of strings, datetimes and a list. The times are the entry's own
#: RFC 3339 spellings, read back by ``::timestamptz`` as the same instant; the pseudonyms
#: (64 hex digits each) are joined by spaces and split by the server.
_ONE_INSERT = (
    "WITH e AS (INSERT INTO audit_entry (idx, leaf_hash, body, recorded_at, "
    + ", ".join(_ONE_COLUMNS)
    + ") SELECT r.n, sha256(decode('00', 'hex') || convert_to(r.body, 'UTF8')), r.body, "
    "%s::timestamptz, "
    + ", ".join("%s::timestamptz" if name == "started_at" else "%s" for name in _ONE_COLUMNS)
    + " FROM (SELECT s.n, %s::text || s.n::text || %s::text AS body"
    " FROM (SELECT nextval('audit_index_seq') AS n) AS s) AS r RETURNING idx, leaf_hash),"
    " named AS (INSERT INTO audit_entry_subject (pseudonym, idx)"
    " SELECT p, e.idx FROM e, unnest(string_to_array(%s::text, ' ')) AS p)"
)
_ONE_RESULT = " SELECT idx, leaf_hash FROM e"
_ONE_STATEMENT = _ONE_INSERT + _ONE_RESULT


class _WithCompanion:
    """The single append's statement with a companion's ``INSERT`` as one more
    data-modifying CTE, its index parameter replaced by the entry's index (``(SELECT idx
    FROM e)``); SQLAlchemy's compiled named parameters made positional, after the entry's."""

    def __init__(self, companion: Companion, dialect: Any) -> None:
        compiled = companion.statement.compiled(dialect)
        if compiled.positional is not None:
            raise AssertionError("psycopg's dialect compiles named parameters")
        names: list[str] = []

        def positional(match: re.Match[str]) -> str:
            if match.group(1) == companion.index_param:
                return "(SELECT idx FROM e)"
            names.append(match.group(1))
            return "%s"

        companion_sql, replaced = _NAMED.subn(positional, compiled.sql)
        if replaced != len(names) + 1 or "%(" in companion_sql:
            raise AssertionError("the companion must take the entry's index exactly once")
        self.sql = f"{_ONE_INSERT}, companion AS ({companion_sql}){_ONE_RESULT}"
        self.names = tuple(names)
        self.compiled = compiled

    def parameters(self, companion: Companion) -> tuple[Any, ...]:
        values = self.compiled.parameters(companion.values)
        return tuple(values[name] for name in self.names)


_NAMED = re.compile(r"%\((\w+)\)s")
_JOINED: dict[tuple[int, str, str], _WithCompanion] = {}


def _joined(companion: Companion, dialect: Any) -> _WithCompanion:
    key = (id(companion.statement), companion.index_param, dialect.name)
    found = _JOINED.get(key)
    if found is None or found.compiled is not companion.statement.compiled(dialect):
        found = _JOINED[key] = _WithCompanion(companion, dialect)
    return found


def _append_one(
    session: Unit,
    entry: AuditEntry,
    prefix: bytes,
    suffix: bytes,
    recorded_at: datetime,
    companion: Companion | None = None,
) -> AppendedEntry:
    """Reserve, build and insert one entry (and its companion row) in a single prepared
    statement on the session's own connection (inside the caller's transaction; no ORM or SQL
    compilation on the hot path). The server's leaf hash is checked against the one computed
    here over the same bytes: a mismatch (say, a database not in UTF-8) fails closed."""
    if not isinstance(recorded_at, datetime) or recorded_at.tzinfo is None:
        raise ValueError("recorded_at must be a timezone-aware datetime")
    started_at = entry.started_at
    if not isinstance(started_at, datetime) or started_at.tzinfo is None:
        raise ValueError("started_at must be a timezone-aware datetime")  # as UTCDateTime
    subjects = subject_pseudonyms(entry)
    if not all(_HEX64.fullmatch(pseudonym) for pseudonym in subjects):
        raise AuditUnavailable("A data subject pseudonym is not 64 hex digits.")
    requester, recipient = entry.requester, entry.recipient
    params = (
        format_time(recorded_at),
        entry.processing.covenant_id,
        entry.activity,
        entry.outcome,
        entry.case_id,
        entry.data_subject.pseudonym if entry.data_subject else None,
        requester.partner_id if requester else None,
        recipient.partner_id if recipient else None,
        entry.processing.purpose,
        _spaced(entry.processing.clause_ids),
        _spaced(entry.data_owners),
        format_time(started_at),
        prefix.decode("utf-8"),
        suffix.decode("utf-8"),
        " ".join(subjects),
    )
    connection = unit_connection(session)
    raw = connection.connection.driver_connection
    if not isinstance(raw, psycopg.Connection):
        raise AuditUnavailable("The single-append path needs a psycopg connection.")
    cursor = hot_cursor(connection)  # the connection's one cursor for hot statements
    if companion is None:
        row = cursor.execute(_ONE_STATEMENT, params, prepare=True).fetchone()
    else:
        joined = _joined(companion, connection.dialect)
        row = cursor.execute(
            joined.sql, params + joined.parameters(companion), prepare=True
        ).fetchone()
    if row is None:
        raise AuditUnavailable("The audit entry could not be written; nothing was disclosed.")
    index, stored_leaf = int(row[0]), bytes(row[1])
    leaf = leaf_hash(_with_index(prefix, index, suffix))
    if stored_leaf != leaf:
        raise AuditUnavailable(
            "The stored audit entry does not hash as written; nothing was disclosed."
        )
    return AppendedEntry(index, leaf, recorded_at)


def _driver_connection(session: Unit) -> psycopg.Connection[Any]:
    raw = unit_connection(session).connection.driver_connection
    if not isinstance(raw, psycopg.Connection):
        raise AuditUnavailable("COPY needs a psycopg connection.")
    return raw


def _copy_rows(session: Unit, rows: list[dict[str, object]]) -> None:
    """Write ``rows`` with ``COPY ... FROM STDIN`` on the session's own connection (so inside
    the caller's transaction): a bulk sweep's rows cost a fraction of a multi-row INSERT.

    psycopg's ``write_row`` does COPY's escaping. COPY text made by hand in one pass was
    tried (issue 20) and measured no faster: 10,000 entry rows took 52-60 ms of client CPU
    either way, and binary COPY with the columns' types set the same; what costs is sending
    the bodies (tests/audit/test_bulk.py checks that this path stores what INSERT stores)."""
    columns = [column.name for column in _ENTRIES.columns]
    for row in rows:
        for name in ("recorded_at", "started_at"):
            value = row[name]
            # COPY bypasses UTCDateTime; a naive time would be read in the server's zone.
            if not isinstance(value, datetime) or value.tzinfo is None:
                raise ValueError(f"{name} must be a timezone-aware datetime")
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(_ENTRIES.name), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    # Every row has every column (_write_rows builds them): a C getter, not a lookup each.
    values = operator.itemgetter(*columns)
    with _driver_connection(session).cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(values(row))


_SUBJECT_COPY = "COPY audit_entry_subject (pseudonym, idx) FROM STDIN"


def _copy_subjects(session: Unit, subjects: list[tuple[str, int]]) -> None:
    """The subject rows as one block of COPY text: a pseudonym is 64 hex digits and an index
    a number (checked), so no value needs COPY's escaping and no row is built one by one."""
    if not subjects:
        return
    if not all(_HEX64.fullmatch(pseudonym) for pseudonym, _ in subjects):
        raise AuditUnavailable("A data subject pseudonym is not 64 hex digits.")
    block = "".join(f"{pseudonym}\t{int(index)}\n" for pseudonym, index in subjects)
    with _driver_connection(session).cursor() as cursor, cursor.copy(_SUBJECT_COPY) as copy:
        copy.write(block.encode("ascii"))


def sealed_size(session: Session) -> int:
    """The number of entries in the log: the committed prefix ``0..n-1`` without holes.

    On SQLite that is the head row. On PostgreSQL it is the sealed head (see :func:`seal`)
    extended by the run of committed entries that follows it; an index still held by an open
    transaction (or left by a rolled-back one, until it is voided) ends the run.
    """
    head = session.execute(
        select(AuditHead.next_index).where(AuditHead.id == HEAD_ID)
    ).scalar_one_or_none()
    if head is None:
        raise AuditUnavailable("The audit log is not initialised (no head row); run migrations.")
    if not uses_sequence(session):
        return int(head)
    following = _ENTRIES.alias("following")
    this = _ENTRIES.alias("this")
    # The first entry at or after the head whose successor is missing ends the run.
    run_end = session.execute(
        select(func.min(this.c.idx)).where(
            this.c.idx >= head,
            ~select(following.c.idx).where(following.c.idx == this.c.idx + 1).exists(),
        )
    ).scalar_one_or_none()
    present = session.execute(
        select(AuditRecord.index).where(AuditRecord.index == head)
    ).scalar_one_or_none()
    if present is None or run_end is None:
        return int(head)
    return int(run_end) + 1


def _void_row(index: int, now: datetime) -> dict[str, object]:
    body = canonical_json(
        {
            "activity": VOID_ACTIVITY,
            "format": ENTRY_FORMAT,
            "index": index,
            "reason": "index reserved by a transaction that rolled back",
            "recordedAt": format_time(now),
        }
    )
    return {
        "idx": index,
        "leaf_hash": leaf_hash(body),
        "body": body.decode("utf-8"),
        "recorded_at": now,
        # No covenant: privacy-officer searches (always per covenant) never show voids.
        "covenant_id": "",
        "activity": VOID_ACTIVITY,
        "outcome": "recorded",
        "clause_ids": "",
        "data_owners": "",
        "started_at": now,
    }


def seal(session: Session, *, grace_seconds: float = VOID_GRACE_SECONDS) -> int:
    """Advance the head over the committed prefix, voiding holes left by rollbacks; returns the
    sealed size. Call under the checkpoint lock (PostgreSQL; on SQLite it only reads the head).

    Only indexes at or above the head are ever voided: a hole below it (an entry deleted after
    sealing) is tampering, which verification must report, not paper over.
    """
    if not uses_sequence(session):
        return sealed_size(session)
    head = int(
        session.execute(select(AuditHead.next_index).where(AuditHead.id == HEAD_ID)).scalar_one()
    )
    now = utcnow()
    # Holes below the newest entry committed before the grace period (see VOID_GRACE_SECONDS).
    limit = session.execute(
        select(func.max(AuditRecord.index)).where(
            AuditRecord.index >= head,
            AuditRecord.recorded_at < now - timedelta(seconds=grace_seconds),
        )
    ).scalar_one_or_none()
    if limit is not None:
        present = set(
            session.execute(
                select(AuditRecord.index).where(
                    AuditRecord.index >= head, AuditRecord.index < limit
                )
            ).scalars()
        )
        missing = [index for index in range(head, int(limit)) if index not in present]
        if missing:
            # Waits for any open transaction that holds one of these indexes.
            session.execute(
                pg_insert(_ENTRIES)
                .values([_void_row(index, now) for index in missing])
                .on_conflict_do_nothing(index_elements=["idx"])
            )
    size = sealed_size(session)
    if size > head:
        session.execute(update(AuditHead).where(AuditHead.id == HEAD_ID).values(next_index=size))
    return size
