"""The erasure marked on the case itself: ``case_file.erased_at``.

The lists, work lists and open counts leave an open case erased under retention out. They
did so by probing the retention register per row read (a correlated ``NOT EXISTS``): on
SQLite a probe per row, on PostgreSQL a scan of the whole register per use, which grew with
the history (the steering report at 50,000 open cases: 64 → 777 ms on SQLite). The sweep now
sets ``case_file.erased_at`` in the erasure's own transaction (an ``erasure_mark`` column,
gateway/retention/targets.py), and the reads go by that column of the row they read
(gateway/cases/live.py). Cases erased before this migration are marked from the register.

``ix_case_file_open_live`` (covenant, state, district) of the open cases not erased: the
steering report's open counts are read from it alone, and it does not grow with the history.

Revision ID: 0027_case_erased_at
Revises: 0026_report_closed_meeting_held
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027_case_erased_at"
down_revision: str | Sequence[str] | None = "0026_report_closed_meeting_held"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_LIVE = sa.text("closed_at IS NULL AND erased_at IS NULL")


def upgrade() -> None:
    op.add_column("case_file", sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE case_file SET erased_at = (SELECT r.erased_at FROM retention_case r"
        " WHERE r.case_id = case_file.id)"
        " WHERE EXISTS (SELECT 1 FROM retention_case r"
        " WHERE r.case_id = case_file.id AND r.erased_at IS NOT NULL)"
    )
    op.create_index(
        "ix_case_file_open_live",
        "case_file",
        ["covenant_id", "state", "district"],
        postgresql_where=OPEN_LIVE,
        sqlite_where=OPEN_LIVE,
    )


def downgrade() -> None:
    op.drop_index("ix_case_file_open_live", table_name="case_file")
    # Not in batch mode: SQLite (3.35 and later) drops a column in place, where batch mode
    # would copy the table, which its rows' foreign keys refuse.
    op.drop_column("case_file", "erased_at")
