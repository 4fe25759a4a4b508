"""Case meetings: ``case_meeting.erased_at``, when the retention sweep erased the meeting.

Review2 finding 8: a meeting's minutes (and its actions' descriptions) are sealed under the
meeting's own key scope, which no case's erasure shreds; they were kept for ever. The sweep
now erases a meeting once every case on its agenda is erased (a meeting without cases: after
its covenant's ``openCases`` period), and marks it here: the sweep passes an erased meeting
over, and writes to it answer 410 (gateway/retention/minutes.py, docs/retention.md).

Revision ID: 0032_case_meeting_erased_at
Revises: 0031_address_index_on_case
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0032_case_meeting_erased_at"
down_revision: str | Sequence[str] | None = "0031_address_index_on_case"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("case_meeting", sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # In place (SQLite 3.35 and later): batch mode would copy the table, which the agenda's
    # and the actions' foreign keys refuse.
    op.drop_column("case_meeting", "erased_at")
