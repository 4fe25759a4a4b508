"""Cases: the day-based deadline streams' numbers of days from an index.

A deadlines page and the steering report first ask which numbers of days the cases in a
state whose period comes from the case's days (``amountFromDays``) have: one ``SELECT
DISTINCT state, state_days``. PostgreSQL answered it from ``ix_case_file_state`` and the
table, reading every case in those states (7,574 rows, 6–13 ms at 50,000 open cases) to
find the few with a number of days. ``ix_case_file_state_days`` (covenant, state, days),
partial on ``state_days IS NOT NULL``, holds only those few.

Revision ID: 0029_case_state_days
Revises: 0028_team_opened_live_streams
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029_case_state_days"
down_revision: str | Sequence[str] | None = "0028_team_opened_live_streams"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WITH_DAYS = sa.text("state_days IS NOT NULL")


def upgrade() -> None:
    op.create_index(
        "ix_case_file_state_days",
        "case_file",
        ["covenant_id", "state", "state_days"],
        postgresql_where=WITH_DAYS,
        sqlite_where=WITH_DAYS,
    )


def downgrade() -> None:
    op.drop_index("ix_case_file_state_days", table_name="case_file")
