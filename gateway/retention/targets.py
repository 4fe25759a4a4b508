"""Which stored values belong to a case's dossier, and the SQL that overwrites them.

Shredding the case's data key already makes every value under it unreadable. The sweeper
also overwrites the ciphertexts (defence in depth: nothing of the dossier stays in the live
tables) and clears blind indexes, which would otherwise still link the erased case to the
resident. Targets are found from the ORM metadata, so a column another domain adds is
covered without a change here: any table with a ``case_id`` column (or ``case_file``
itself), its ``*_sealed`` / ``info={"encrypted": True}`` columns, and its ``*_index`` /
``info={"blind_index": True}`` columns; an ``info={"erasure_mark": True}`` column is set to the
moment of the erasure (``case_file.erased_at``: the other domains' reads leave an erased case
out by it). Plain columns that hold the lead's assessment of the causer (the U §2 criteria,
the OGGZ check, the police investigation status) are set to NULL: ``info={"erasure_null":
True}`` (review4 F4: they outlived the erasure). A JSON object column marked
``info={"erasure_keep_keys": (...)}`` keeps only those keys (``case_transition.facts``: the
sanction's days and amount the figures count, not the screening of the causer). A table
marked ``info={"erasure_delete": True}`` whose rows hold no sealed value but tell about the
resident by being there (an OM consent: an investigation ran; a landlord's measure: "wonen
met een zorgcontract") loses the case's rows (``discover_deletions``; review5b P2); such rows
are no records of the records list and are not counted in the tombstone, as their number
would tell what the summary withholds from most readers. The audit
log and retention's own tables are never touched: the audit log holds no personal data and
must keep verifying.

A target's table also says who may learn that a record of it exists, for the records list
(``GET /v1/cases/{id}/retention/records``): ``info={"record_readers": ...}`` on the
table, one of ``RECORD_READERS``. A record's id is its key, and its being listed tells that
it exists: ``case_criterion``'s key names a U §2 criterion the lead recorded, which the
case summary shows the lead only (review2 finding 4); a ``case_fact`` row that a police
answer was stored (review3 finding 10), so its rows are listed per record, to the readers of
the fact. A table that names no readers is listed to nobody (unknown is not no);
tests/retention/test_record_readers.py checks that every target names them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    LargeBinary,
    Table,
    case,
    cast,
    func,
    inspect,
    literal,
    text,
    update,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import JSON, Boolean

from gateway.crypto.models import DataKey
from gateway.db import among

#: FieldCipher frames start with a format byte and the data key id (9 bytes). An erased
#: value keeps that header followed by zeros, so FieldCipher.decrypt still finds the
#: (shredded) data key and answers Erased instead of failing on a malformed value.
HEADER_BYTES = 9
#: Who may learn that a table's records exist, in the terms of the case summary's readers
#: (gateway/cases/summary_readers.py): ``case``, whoever reads the case's retention state;
#: ``assessment``, those shown the lead's assessment (U §2 criteria, the OGGZ check);
#: ``investigation``, those shown whether a police investigation runs (U §5.3); ``fact``,
#: per record, those who may read the stored fact itself (``case_fact``: its provider and
#: the recipients of its category, gateway/exchange/fact_readers.py).
RECORD_READERS = ("case", "assessment", "investigation", "fact")
#: The readers decided per record rather than per table: the caller of the records list
#: gives each a condition on the table's rows, else the table is withheld.
PER_RECORD_READERS = ("fact",)
ZERO_BODY = bytes(12 + 16)
EXCLUDED_PREFIXES = ("retention_", "audit_", "crypto_")


@dataclass(frozen=True)
class RedactionTarget:
    table: Table
    key: Column[Any]
    sealed: tuple[Column[Any], ...]
    indexes: tuple[Column[Any], ...]
    #: Set to the moment of the erasure.
    marks: tuple[Column[Any], ...] = ()
    #: Set to NULL.
    nulls: tuple[Column[Any], ...] = ()
    #: JSON objects that keep only the keys their ``erasure_keep_keys`` name.
    pruned: tuple[Column[Any], ...] = ()

    @property
    def name(self) -> str:
        return self.table.name

    @property
    def readers(self) -> str | None:
        """Who may learn a record of this table exists (one of RECORD_READERS), or None:
        the table does not say, and its records are listed to nobody."""
        readers = self.table.info.get("record_readers")
        return readers if readers in RECORD_READERS else None


def _is_sealed(column: Column[Any]) -> bool:
    return bool(column.info.get("encrypted")) or (
        column.name.endswith("_sealed") and isinstance(column.type, LargeBinary)
    )


def _is_index(column: Column[Any]) -> bool:
    return bool(column.info.get("blind_index")) or (
        column.name.endswith("_index") and column.nullable is True
    )


def discover_targets(connection: Connection) -> list[RedactionTarget]:
    """Targets among the gateway's models whose tables exist in this database."""
    import gateway.models  # noqa: F401 - registers every domain's tables on Base.metadata
    from gateway.db import Base

    existing = set(inspect(connection).get_table_names())
    targets: list[RedactionTarget] = []
    for table in Base.metadata.sorted_tables:
        if table.name not in existing or table.name.startswith(EXCLUDED_PREFIXES):
            continue
        if table.info.get("erasure_delete") is True:
            # Its rows of the case go whole (``discover_deletions``): nothing to overwrite
            # first, no record to list (``idempotency_record.response_sealed``).
            continue
        if table.name == "case_file":
            key = table.c.id
        elif "case_id" in table.c:
            key = table.c.case_id
        else:
            continue
        sealed = tuple(c for c in table.c if _is_sealed(c))
        indexes = tuple(c for c in table.c if _is_index(c) and c is not key)
        marks = tuple(c for c in table.c if c.info.get("erasure_mark"))
        nulls = tuple(c for c in table.c if c.info.get("erasure_null"))
        pruned = tuple(c for c in table.c if "erasure_keep_keys" in c.info)
        if sealed or indexes or marks or nulls or pruned:
            targets.append(RedactionTarget(table, key, sealed, indexes, marks, nulls, pruned))
    return targets


@dataclass(frozen=True)
class DependentTarget:
    """A table without a ``case_id`` whose rows belong to a case through a parent row that
    has one (``info={"erasure_via": "<foreign key column>"}`` on the table), and the
    columns of it the erasure empties (``info={"erasure_empty": True}``: a JSON list, set
    to ``[]``). ``information_request_item.reasons`` (the policy's reasons of a refusal:
    ``om-consent-missing`` says that a police investigation ran, U §5.3) hangs off its
    ``information_request`` and outlived the erasure (review8a F6)."""

    table: Table
    via: Column[Any]
    parent_key: Column[Any]
    parent_case: Column[Any]
    emptied: tuple[Column[Any], ...]

    @property
    def name(self) -> str:
        return self.table.name

    def owned_by(self, session: Session, case_ids: list[str]) -> ColumnElement[bool]:
        """The rows of this table that belong to ``case_ids``, through the parent."""
        from sqlalchemy import select

        parents = select(self.parent_key).where(among(session, self.parent_case, case_ids))
        return self.via.in_(parents)


def discover_dependents(connection: Connection) -> list[DependentTarget]:
    """The tables, among those that exist, that reach their case through a foreign key
    (``erasure_via``) and have columns to empty. A table without a ``case_id`` that refers
    to a table with one must say which it is (tests/retention/test_dependent_tables.py)."""
    import gateway.models  # noqa: F401 - registers every domain's tables on Base.metadata
    from gateway.db import Base

    existing = set(inspect(connection).get_table_names())
    found: list[DependentTarget] = []
    for table in Base.metadata.sorted_tables:
        via_name = table.info.get("erasure_via")
        if table.name not in existing or not via_name or "case_id" in table.c:
            continue
        via = table.c[via_name]
        (foreign_key,) = via.foreign_keys
        parent = foreign_key.column.table
        emptied = tuple(c for c in table.c if c.info.get("erasure_empty"))
        if emptied and "case_id" in parent.c:
            found.append(DependentTarget(table, via, foreign_key.column, parent.c.case_id, emptied))
    return found


def empty_dependents(session: Session, case_ids: list[str]) -> None:
    """Empty the marked columns of the rows that belong to ``case_ids`` through a parent
    (``DependentTarget``), in the erasure's transaction (both paths: a batch's ids)."""
    if not case_ids:
        return
    for dependent in discover_dependents(session.connection()):
        session.execute(
            update(dependent.table)
            .where(dependent.owned_by(session, case_ids))
            .values({column.name: [] for column in dependent.emptied})
            .execution_options(synchronize_session=False)
        )


def discover_deletions(connection: Connection) -> list[Table]:
    """The tables, among those that exist, whose rows of an erased case the sweep deletes:
    a ``case_id`` column and ``info={"erasure_delete": True}`` on the table."""
    import gateway.models  # noqa: F401 - registers every domain's tables on Base.metadata
    from gateway.db import Base

    existing = set(inspect(connection).get_table_names())
    return [
        table
        for table in Base.metadata.sorted_tables
        if table.name in existing
        and not table.name.startswith(EXCLUDED_PREFIXES)
        and "case_id" in table.c
        and table.info.get("erasure_delete") is True
    ]


def kept_keys(column: Column[Any]) -> tuple[str, ...]:
    """The keys a pruned JSON column keeps (its ``erasure_keep_keys``)."""
    keys = tuple(column.info["erasure_keep_keys"])
    if not keys or not all(isinstance(k, str) and k.isalnum() for k in keys):
        # They are written into the statement: names of facts, nothing else.
        raise ValueError(f"{column}: erasure_keep_keys must name keys, plainly, not {keys!r}")
    return keys


class pruned_object(FunctionElement[Any]):  # noqa: N801 - an SQL function's name
    """The JSON object in a column with only the keys it keeps (``kept_keys``): an allow-list,
    so a fact added later is dropped at erasure until someone decides to keep it."""

    type = JSON()
    name = "pruned_object"
    inherit_cache = True


class drops_keys(FunctionElement[bool]):  # noqa: N801 - an SQL function's name
    """Whether the JSON object in a column has a key ``pruned_object`` would drop: only those
    rows are written (a rewritten row is a new row version with an entry in every index)."""

    type = Boolean()
    name = "drops_keys"
    inherit_cache = True


def _key_list(element: FunctionElement[Any]) -> tuple[Column[Any], str]:
    (column,) = element.clauses
    assert isinstance(column, Column)  # built from a target's column
    return column, ", ".join(f"'{k}'" for k in kept_keys(column))


@compiles(pruned_object, "postgresql")
def _pruned_object_pg(element: pruned_object, compiler: SQLCompiler, **kw: Any) -> str:
    column, keys = _key_list(element)
    value = compiler.process(column, **kw)
    return (
        f"(SELECT COALESCE(json_object_agg(e.key, e.value), '{{}}'::json) "
        f"FROM json_each({value}) AS e WHERE e.key IN ({keys}))"
    )


@compiles(pruned_object, "sqlite")
def _pruned_object_sqlite(element: pruned_object, compiler: SQLCompiler, **kw: Any) -> str:
    column, keys = _key_list(element)
    value = compiler.process(column, **kw)
    # ``->`` gives the member as JSON text and json() marks it as JSON, so an object, a
    # true or a string is kept as it was (json_each's value would turn true into 1).
    member = f"json({value} -> ('$.\"' || e.key || '\"'))"
    return (
        f"(SELECT json_group_object(e.key, {member}) "
        f"FROM json_each({value}) AS e WHERE e.key IN ({keys}))"
    )


@compiles(drops_keys)
def _drops_keys(element: drops_keys, compiler: SQLCompiler, **kw: Any) -> str:
    column, keys = _key_list(element)
    value = compiler.process(column, **kw)
    return f"EXISTS (SELECT 1 FROM json_each({value}) AS e WHERE e.key NOT IN ({keys}))"


def tombstone_value(column: Column[Any]) -> ColumnElement[Any]:
    """Header kept, body zeroed; NULL stays NULL; a value too short for a header becomes
    empty (or NULL where allowed)."""
    header = func.substr(column, 1, HEADER_BYTES)
    # SQLite's || yields text: cast back, or the column would hold a string.
    erased = cast(header.op("||")(literal(ZERO_BODY, LargeBinary)), LargeBinary)
    short: Any = None if column.nullable else literal(b"", LargeBinary)
    return case(
        (column.is_(None), None),
        (func.length(column) >= HEADER_BYTES, erased),
        else_=short,
    )


def erased_value_count(target: RedactionTarget) -> ColumnElement[Any]:
    """How many of a row's sealed values hold a tombstone (header and zero body), for the
    per-record state after erasure."""
    erased = literal(ZERO_BODY, LargeBinary)
    terms = [case((func.substr(c, HEADER_BYTES + 1) == erased, 1), else_=0) for c in target.sealed]
    if not terms:
        return literal(0)
    total: ColumnElement[Any] = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


_PG_KEY_TOMBSTONES = text(
    """INSERT INTO crypto_data_key (scope, kek_version, wrapped_key, shredded_at, shred_reason,
         created_at)
       SELECT s, 0, NULL, :now, r, :now
       FROM unnest(CAST(:scopes AS TEXT[]), CAST(:reasons AS TEXT[])) AS t(s, r)
       ON CONFLICT (scope) DO NOTHING"""
)


def shred_scopes(session: Session, scopes: list[tuple[str, str]], now: datetime) -> None:
    """Bulk form of gateway.crypto.shred_scope for ``(scope, reason)`` pairs: the same end
    state (wrapped key NULL, when and why recorded; a tombstone key for a scope that never
    had one, so nothing can be stored under it later), in one statement per reason and one
    for the tombstones, instead of two per scope."""
    by_reason: dict[str, list[str]] = defaultdict(list)
    for scope, reason in scopes:
        by_reason[reason].append(scope)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            _PG_KEY_TOMBSTONES,
            {"now": now, "scopes": [p[0] for p in scopes], "reasons": [p[1] for p in scopes]},
        )
    else:
        rows = [
            {
                "scope": scope,
                "kek_version": 0,
                "wrapped_key": None,
                "shredded_at": now,
                "shred_reason": reason,
                "created_at": now,
            }
            for scope, reason in scopes
        ]
        session.execute(
            sqlite.insert(DataKey).on_conflict_do_nothing(index_elements=["scope"]), rows
        )
    for reason, named in by_reason.items():
        session.execute(
            update(DataKey)
            .where(among(session, DataKey.scope, named), DataKey.wrapped_key.is_not(None))
            .values(wrapped_key=None, shredded_at=now, shred_reason=reason)
            .execution_options(synchronize_session=False)
        )
