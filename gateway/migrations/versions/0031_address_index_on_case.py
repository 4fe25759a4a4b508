"""The address's blind index moves from the dwelling to the case; one dwelling per case.

Review2 finding 7: ``dwelling.address_index`` (NOT NULL, one row per address, shared by every
case about it) outlived each case's erasure, and ``case_file.dwelling_id`` still pointed at
it, so the address joined an erased case's history again. The index is now
``case_file.address_index``, a blind-index column the retention sweep clears with the
dossier, and each case has a dwelling of its own (tenure, corporation, district), so no
dwelling links a kept case at the address to an erased one.

Upgrade: every case not erased takes its dwelling's index (an erased case none); a case that
shared its dwelling with an earlier one gets its own copy (id: the case's id, which no
dwelling has: both are random UUIDs); dwellings no case uses any more are deleted; the
dwelling's column and its unique constraint go. ``ix_case_file_covenant_address``
(covenant, index), partial on ``address_index IS NOT NULL``, serves intake's lookup.

Downgrade: the dwelling takes back the index of its case, the first case opened at the
address when several were (the old unique constraint); the other dwellings, and those of
erased cases, get their own id, which matches no address. Dwellings are not merged again.

SQLite cannot drop a column that is part of a unique constraint, and copying the table in
batch mode fails on the cases' foreign keys (dropping the old table deletes the rows they
reference). So on SQLite the table is rebuilt by hand with ``defer_foreign_keys``: dropped,
created again and refilled in one transaction, so the references hold again at commit.

Revision ID: 0031_address_index_on_case
Revises: 0030_refusal_reasons
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0031_address_index_on_case"
down_revision: str | Sequence[str] | None = "0030_refusal_reasons"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WITH_ADDRESS = sa.text("address_index IS NOT NULL")
KEPT = "id, covenant_id, ownership, corporation_id, district, created_at"


def _dwelling_columns(*, with_index: bool) -> list[sa.Column[object] | sa.Constraint]:
    columns: list[sa.Column[object] | sa.Constraint] = [
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("covenant_id", sa.String(100), nullable=False),
    ]
    if with_index:
        columns.append(sa.Column("address_index", sa.String(128), nullable=False))
    columns += [
        sa.Column("ownership", sa.String(20), nullable=False),
        sa.Column("corporation_id", sa.String(100), nullable=True),
        sa.Column("district", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_dwelling"),
    ]
    if with_index:
        columns.append(
            sa.UniqueConstraint("covenant_id", "address_index", name="uq_dwelling_covenant_id")
        )
    return columns


def _rebuild_sqlite_dwelling(*, with_index: bool, index_sql: str = "") -> None:
    """Drop and create ``dwelling`` again, keeping its rows (see the module docstring). The
    caller has written already, so this runs inside the migration's transaction, where
    ``defer_foreign_keys`` holds until the commit."""
    op.execute("PRAGMA defer_foreign_keys=ON")
    select = f"SELECT {KEPT}{', ' + index_sql if with_index else ''} FROM dwelling"
    op.execute(f"CREATE TEMPORARY TABLE dwelling_kept AS {select}")
    op.execute("DROP TABLE dwelling")
    op.create_table("dwelling", *_dwelling_columns(with_index=with_index))
    columns = KEPT + (", address_index" if with_index else "")
    op.execute(f"INSERT INTO dwelling ({columns}) SELECT {columns} FROM dwelling_kept")
    op.execute("DROP TABLE dwelling_kept")


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.add_column("case_file", sa.Column("address_index", sa.String(64), nullable=True))
    op.execute(
        "UPDATE case_file SET address_index = (SELECT d.address_index FROM dwelling d"
        " WHERE d.id = case_file.dwelling_id) WHERE erased_at IS NULL"
    )
    # Every case but the first of a shared dwelling gets a copy of its own.
    shared = (
        "EXISTS (SELECT 1 FROM case_file o WHERE o.dwelling_id = f.dwelling_id"
        " AND (o.opened_at < f.opened_at OR (o.opened_at = f.opened_at AND o.id < f.id)))"
    )
    op.execute(
        f"INSERT INTO dwelling ({KEPT}, address_index)"
        " SELECT f.id, d.covenant_id, d.ownership, d.corporation_id, d.district, d.created_at,"
        " 'case:' || f.id"
        f" FROM case_file f JOIN dwelling d ON d.id = f.dwelling_id WHERE {shared}"
    )
    op.execute(
        "UPDATE case_file SET dwelling_id = id WHERE EXISTS (SELECT 1 FROM case_file o"
        " WHERE o.dwelling_id = case_file.dwelling_id AND (o.opened_at < case_file.opened_at"
        " OR (o.opened_at = case_file.opened_at AND o.id < case_file.id)))"
    )
    op.execute(
        "DELETE FROM dwelling WHERE NOT EXISTS"
        " (SELECT 1 FROM case_file f WHERE f.dwelling_id = dwelling.id)"
    )
    if sqlite:
        _rebuild_sqlite_dwelling(with_index=False)
    else:
        op.drop_constraint("uq_dwelling_covenant_id", "dwelling", type_="unique")
        op.drop_column("dwelling", "address_index")
    op.create_index(
        "ix_case_file_covenant_address",
        "case_file",
        ["covenant_id", "address_index"],
        postgresql_where=WITH_ADDRESS,
        sqlite_where=WITH_ADDRESS,
    )


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.drop_index("ix_case_file_covenant_address", table_name="case_file")
    # The first case opened at an address gives its dwelling the index; any other dwelling
    # (a later case's, an erased case's) its own id, which matches no address.
    first = (
        "SELECT f.address_index FROM case_file f WHERE f.dwelling_id = dwelling.id"
        " AND f.address_index IS NOT NULL AND NOT EXISTS (SELECT 1 FROM case_file o"
        " WHERE o.covenant_id = f.covenant_id AND o.address_index = f.address_index"
        " AND (o.opened_at < f.opened_at OR (o.opened_at = f.opened_at AND o.id < f.id)))"
    )
    index_sql = f"COALESCE(({first}), id) AS address_index"
    if sqlite:
        op.execute("UPDATE case_file SET address_index = address_index")  # opens the transaction
        _rebuild_sqlite_dwelling(with_index=True, index_sql=index_sql)
    else:
        op.add_column("dwelling", sa.Column("address_index", sa.String(128), nullable=True))
        op.execute(f"UPDATE dwelling SET address_index = COALESCE(({first}), id)")
        op.alter_column("dwelling", "address_index", nullable=False)
        op.create_unique_constraint(
            "uq_dwelling_covenant_id", "dwelling", ["covenant_id", "address_index"]
        )
    # Not in batch mode: SQLite (3.35 and later) drops a column in place, where batch mode
    # would copy the table, which its rows' foreign keys refuse.
    op.drop_column("case_file", "address_index")
