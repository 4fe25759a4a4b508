"""Cases: indexes for reports and deadlines that do not grow with the covenant's history.

The steering report read every case the covenant ever had and filtered in Python; it now
reads its period: the cases opened in it (``ix_case_file_opened``), closed in it
(``ix_case_file_closed``) and its transitions (``ix_case_transition_at``). A partner's
deadlines are read a page at a time, each (deadline, state) in the order of the deadline's
start column (``ix_case_file_state_first_report``, ``ix_case_file_state_entered``), and the
overdue count is one range count per such pair over the same indexes.

Revision ID: 0019_case_period_indexes
Revises: 0018_case_notice
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0019_case_period_indexes"
down_revision: str | Sequence[str] | None = "0018_case_notice"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CASE_FILE = {
    "ix_case_file_opened": ["covenant_id", "opened_at"],
    "ix_case_file_closed": ["covenant_id", "closed_at"],
    "ix_case_file_state_first_report": ["covenant_id", "state", "first_report_at"],
    "ix_case_file_state_entered": ["covenant_id", "state", "state_entered_at"],
}


def upgrade() -> None:
    for name, columns in CASE_FILE.items():
        op.create_index(name, "case_file", columns)
    op.create_index("ix_case_transition_at", "case_transition", ["at", "case_id", "transition"])


def downgrade() -> None:
    op.drop_index("ix_case_transition_at", table_name="case_transition")
    for name in reversed(CASE_FILE):
        op.drop_index(name, table_name="case_file")
