"""The steering report's record keys (``case_file.record_key``, ``case_transition.record_key``).

review14 F1, F2: the difference of two reports gave back a month's suppressed figures. The
report now perturbs every count by the cell-key method (gateway/cases/cell_key.py): each case
and each step carries a fixed random key, never shown, and a count's noise is a function of
the count and of the sum of its records' keys, so the same set of cases always gets the same
noise and two different sets independent-looking noise. The keys are summed in SQL, so they
join the covering indexes the report reads (migrations 0021, 0025, 0026, 0042) and it still
reads them from the index alone. Existing rows get a random key here. The state figures a
retention sweep keeps per month (``steering_snapshot``, migration 0045) keep their cells'
keys too (``cell_keys``). The keys are drawn from the CSPRNG and the columns keep no
default (review of the cell-key change, findings 3 and 4). The downgrade drops the columns
and restores the indexes.

SQLite (review of migration 0050). Its ALTER TABLE adds a NOT NULL column to existing rows
only with a default and cannot drop one, so the column is added with ``DEFAULT 0`` and the
default is then dropped from the table's definition in the schema table, SQLite's own
procedure for a changed default (``_drop_sqlite_default``): one statement, whatever the
table's size. A rebuild of ``case_file`` and ``case_transition`` instead copies every row
and index, and foreign key enforcement cannot be switched off inside the migration's
transaction; dropping them under ``defer_foreign_keys`` (as 0031 rebuilds ``dwelling``)
looks up the children of every dropped row, in tables without an index on the reference
(``enforcement_measure.transition_id``, ``meeting_action.case_id``): a scan per row. The
schema edit is refused in SQLite's defensive mode (SQLITE_DBCONFIG_DEFENSIVE), so it is
tried before anything changes (``_require_schema_edit``): under that mode the upgrade fails
in one line and the database stays as it was. The whole upgrade is one transaction on SQLite
too (gateway/migrations/env.py); before that, this migration's first ADD COLUMN was
committed on its own, and a database that a failed attempt left with
``case_file.record_key`` refused every retry with "duplicate column name". A column already
there with the type this migration adds is therefore taken as it is (``_add_column_once``):
its rows get their keys and its default is dropped as a new one's.

Revision ID: 0050_steering_record_keys
Revises: 0049_idempotency_sealed
Create Date: 2026-12-07
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0050_steering_record_keys"
down_revision: str | Sequence[str] | None = "0049_idempotency_sealed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_LIVE = "closed_at IS NULL AND erased_at IS NULL"
#: Record keys are in 0 .. KEY_MODULUS - 1 (gateway/cases/cell_key.py; a migration keeps its
#: own copy of what it needs).
KEY_MODULUS = 2**31
#: (index, table, columns before, partial condition)
INDEXES = [
    ("ix_case_file_opened_district", "case_file", ["covenant_id", "opened_at", "district"], None),
    (
        "ix_case_file_closed_cover",
        "case_file",
        [
            "covenant_id",
            "closed_at",
            "first_report_at",
            "neighbours_judgement",
            "partners_judgement",
            "id",
        ],
        None,
    ),
    (
        "ix_case_file_open_live",
        "case_file",
        ["covenant_id", "state", "district", "opened_at", "id"],
        OPEN_LIVE,
    ),
    (
        "ix_case_transition_covenant_at",
        "case_transition",
        ["covenant_id", "at", "transition", "case_id"],
        None,
    ),
]


def _index(name: str, table: str, columns: list[str], where: str | None) -> None:
    if where is None:
        op.create_index(name, table, columns)
    else:
        op.create_index(
            name, table, columns, postgresql_where=sa.text(where), sqlite_where=sa.text(where)
        )


#: Rows given their keys per statement (an executemany of UPDATEs by primary key).
BATCH = 5000


def _draw_keys(table: str) -> None:
    """A random key in 0 .. 2^31 - 1 for every existing row, from the system's CSPRNG
    (``secrets.randbelow``, as gateway/cases/cell_key.py ``new_record_key``; SQL's
    ``random()`` is no CSPRNG: review of the cell-key change, finding 4), in batches."""
    bind = op.get_bind()
    rows = sa.table(table, sa.column("id", sa.String()), sa.column("record_key", sa.Integer()))
    update = (
        sa.update(rows)
        .where(rows.c.id == sa.bindparam("row_id"))
        .values(record_key=sa.bindparam("key"))
    )
    ids = [row_id for (row_id,) in bind.execute(sa.select(rows.c.id))]
    for start in range(0, len(ids), BATCH):
        bind.execute(
            update,
            [
                {"row_id": row_id, "key": secrets.randbelow(KEY_MODULUS)}
                for row_id in ids[start : start + BATCH]
            ],
        )


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    if not postgresql:
        _require_schema_edit()
    for table in ("case_file", "case_transition"):
        # NOT NULL with a default of 0 to add it to the existing rows, which then get their
        # random keys; the default is dropped again (review of the cell-key change, finding
        # 3): an insert that left the column out wrote key 0, and a set of cases plus 0-key
        # records kept its cell key, so its noise, and the difference was exact. Without a
        # default such an insert fails; the model gives every new row a random key.
        _add_column_once(
            table,
            sa.Column("record_key", sa.Integer(), nullable=False, server_default=sa.text("0")),
        )
        _draw_keys(table)
        if postgresql:
            op.alter_column(table, "record_key", existing_type=sa.Integer(), server_default=None)
        else:
            _drop_sqlite_default(table)
    for name, table, columns, where in INDEXES:
        op.drop_index(name, table_name=table)
        _index(name, table, [*columns, "record_key"], where)
    # The kept state figures' cell keys beside their counts (gateway/cases/snapshots.py);
    # none for a month kept before this revision (the report then keys them by the month).
    _add_column_once("steering_snapshot", sa.Column("cell_keys", sa.JSON(), nullable=True))


def _add_column_once(table: str, column: sa.Column[Any]) -> None:
    """``column`` added to ``table``, unless an attempt of this migration from before the
    upgrade ran in one transaction left it there (the module docstring). A column of that
    name with another type or nullability is not this migration's: refused."""
    existing = {c["name"]: c for c in sa.inspect(op.get_bind()).get_columns(table)}
    found = existing.get(column.name)
    if found is None:
        op.add_column(table, column)
        return
    if not isinstance(found["type"], type(column.type)) or found["nullable"] != column.nullable:
        raise RuntimeError(
            f"migration 0050: {table}.{column.name} is there already as {found['type']}"
            f"{'' if found['nullable'] else ' NOT NULL'}, which is not the column this "
            "migration adds"
        )


def _require_schema_edit() -> None:
    """SQLite: whether this connection may edit the schema table, tried before anything
    changes (``_drop_sqlite_default`` does it). SQLite's defensive mode
    (SQLITE_DBCONFIG_DEFENSIVE: a build's default, or set by the application) ignores
    ``writable_schema`` and refuses an UPDATE of the schema table when it is prepared, so
    one that matches no row tells."""
    bind = op.get_bind()
    try:
        bind.exec_driver_sql("PRAGMA writable_schema = ON")
        bind.exec_driver_sql("UPDATE sqlite_master SET sql = sql WHERE 0")
    except sa.exc.OperationalError as refused:
        # A StartRefused is one line from `ketenpoort db upgrade` and at the gateway's start.
        from gateway.config import StartRefused

        raise StartRefused(
            "migration 0050 cannot drop the default of record_key on this SQLite database: "
            f"the connection may not edit the schema table ({refused.orig}; SQLite's "
            "defensive mode, SQLITE_DBCONFIG_DEFENSIVE, refuses it). Nothing was changed. "
            "Run 'ketenpoort db upgrade' with an SQLite library that is not in defensive "
            "mode (docs/operations.md, migration 0050)"
        ) from refused
    finally:
        bind.exec_driver_sql("PRAGMA writable_schema = OFF")


def _drop_sqlite_default(table: str) -> None:
    """SQLite: the column's default dropped from the table's definition, as SQLite's own
    documentation does it for "adding, removing, or changing default values on a column"
    (https://sqlite.org/lang_altertable.html, "Making Other Kinds Of Table Schema
    Changes": in a transaction, the definition in the schema table, the schema's version
    one up). Why not a rebuild of the table: the module docstring. The rows are as they
    are: every one was written again with its key above, so none falls back on the
    default."""
    bind = op.get_bind()
    create = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).scalar_one()
    column = "record_key INTEGER DEFAULT 0 NOT NULL"
    if create.count(column) != 1:
        raise RuntimeError(f"{table}: expected {column!r} once in {create!r}")
    version = int(bind.exec_driver_sql("PRAGMA schema_version").scalar_one())
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    try:
        bind.exec_driver_sql(
            "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?",
            (create.replace(column, "record_key INTEGER NOT NULL"), table),
        )
        bind.exec_driver_sql(f"PRAGMA schema_version = {version + 1}")
    finally:
        bind.exec_driver_sql("PRAGMA writable_schema = OFF")
    # Other connections read the definition again only when the version moved.
    if int(bind.exec_driver_sql("PRAGMA schema_version").scalar_one()) <= version:
        raise RuntimeError(f"{table}: SQLite did not take the schema's new version")


def downgrade() -> None:
    op.drop_column("steering_snapshot", "cell_keys")
    for name, table, columns, where in INDEXES:
        op.drop_index(name, table_name=table)
        _index(name, table, columns, where)
    for table in ("case_file", "case_transition"):
        op.drop_column(table, "record_key")
