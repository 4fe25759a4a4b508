"""The steering report's record keys (``case_file.record_key``, ``case_transition.record_key``).

review14 F1, F2: the difference of two reports gave back a month's suppressed figures. The
report now perturbs every count by the cell-key method (gateway/cases/cell_key.py): each case
and each step carries a fixed random key, never shown, and a count's noise is a function of
the count and of the sum of its records' keys, so the same set of cases always gets the same
noise and two different sets independent-looking noise. The keys are summed in SQL, so they
join the covering indexes the report reads (migrations 0021, 0025, 0026, 0042) and it still
reads them from the index alone. Existing rows get a random key here. The state figures a
retention sweep keeps per month (``steering_snapshot``, migration 0045) keep their cells'
keys too (``cell_keys``). The downgrade drops the columns and restores the indexes.

Revision ID: 0050_steering_record_keys
Revises: 0049_idempotency_sealed
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0050_steering_record_keys"
down_revision: str | Sequence[str] | None = "0049_idempotency_sealed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_LIVE = "closed_at IS NULL AND erased_at IS NULL"
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


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table in ("case_file", "case_transition"):
        # NOT NULL with a default of 0, so SQLite adds it without rebuilding the table (and
        # its partial indexes); the model gives every new row a random key.
        op.add_column(
            table,
            sa.Column("record_key", sa.Integer(), nullable=False, server_default=sa.text("0")),
        )
        # A random key in 0 .. 2^31 - 1 for every existing row (gateway/cases/cell_key.py).
        if postgresql:
            op.execute(f"UPDATE {table} SET record_key = floor(random() * 2147483648)::integer")
        else:
            op.execute(f"UPDATE {table} SET record_key = abs(random() % 2147483648)")
    for name, table, columns, where in INDEXES:
        op.drop_index(name, table_name=table)
        _index(name, table, [*columns, "record_key"], where)
    # The kept state figures' cell keys beside their counts (gateway/cases/snapshots.py);
    # none for a month kept before this revision (the report then keys them by the month).
    op.add_column("steering_snapshot", sa.Column("cell_keys", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("steering_snapshot", "cell_keys")
    for name, table, columns, where in INDEXES:
        op.drop_index(name, table_name=table)
        _index(name, table, columns, where)
    for table in ("case_file", "case_transition"):
        op.drop_column(table, "record_key")
