"""Retention: only the indexes a query uses, partial where erased rows need no entry.

Erasing a case updates its ``retention_case`` row; every index on the table took a new
entry for it (the row changes an indexed column, so PostgreSQL cannot update it in place).
Checked with EXPLAIN: ``ix_retention_case_stale`` served no query (the stale scan also
matches on the rules revision, an OR no index answers), ``ix_retention_case_due`` was not
chosen by the sweep (it walks the primary key in keyset order), and the covenant and
resident indexes only serve live rows. Those two become partial, so an erased row (no
resident key, ``erased_at`` set) adds no entry to either.

Revision ID: 0010_retention_indexes
Revises: 0006_retention
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_retention_indexes"
down_revision: str | Sequence[str] | None = "0006_retention"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = sa.text("erased_at IS NULL")
KNOWN_RESIDENT = sa.text("resident_key IS NOT NULL")


def upgrade() -> None:
    for name in ("stale", "due", "covenant_id", "resident_key"):
        op.drop_index(f"ix_retention_case_{name}", table_name="retention_case")
    op.create_index(
        "ix_retention_case_live",
        "retention_case",
        ["covenant_id", "due_on"],
        postgresql_where=LIVE,
        sqlite_where=LIVE,
    )
    op.create_index(
        "ix_retention_case_resident",
        "retention_case",
        ["resident_key"],
        postgresql_where=KNOWN_RESIDENT,
        sqlite_where=KNOWN_RESIDENT,
    )


def downgrade() -> None:
    op.drop_index("ix_retention_case_resident", table_name="retention_case")
    op.drop_index("ix_retention_case_live", table_name="retention_case")
    op.create_index("ix_retention_case_due", "retention_case", ["erased_at", "due_on"])
    op.create_index("ix_retention_case_covenant_id", "retention_case", ["covenant_id"])
    op.create_index("ix_retention_case_resident_key", "retention_case", ["resident_key"])
    op.create_index("ix_retention_case_stale", "retention_case", ["stale"])
