"""The steering report's state figures kept per ended month (``steering_snapshot``).

The state figures as of a month's end (``openCases``, ``openByPhase``, ``openByDistrict``,
``overdueDeadlines``) are replayed from the cases' history when a report asks for them. One
fact of that history is deleted with an erased dossier (the corporation's permission), so an
erasure after the month's end could raise that month's ``overdueDeadlines`` by one. The
retention sweep now keeps the figures of the last ended month before it erases anything
(gateway/cases/snapshots.py), and the report reads them from here when they are kept.

Revision ID: 0045_steering_snapshot
Revises: 0044_idempotency_awaiting_case
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0045_steering_snapshot"
down_revision: str | Sequence[str] | None = "0044_idempotency_awaiting_case"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "steering_snapshot",
        sa.Column("covenant_id", sa.String(100), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("open_by_phase", sa.JSON(), nullable=False),
        sa.Column("open_by_district", sa.JSON(), nullable=False),
        sa.Column("overdue_deadlines", sa.Integer(), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("covenant_id", "as_of", name="pk_steering_snapshot"),
    )


def downgrade() -> None:
    op.drop_table("steering_snapshot")
