"""Retention: a case's legal hold is also a flag on its register row.

Setting or lifting a hold updates the case's ``retention_case`` row, and the sweep marks a
case erased with an UPDATE whose WHERE requires ``on_hold = false``: both take the same row
lock. A hold committed while the sweep waits for that lock is seen when PostgreSQL
re-checks the row after the wait, and a hold that waits for the sweep finds the case
erased. The ``retention_hold`` rows stay the record of who, when and why.

Revision ID: 0011_retention_on_hold
Revises: 0010_retention_indexes
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_retention_on_hold"
down_revision: str | Sequence[str] | None = "0010_retention_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("retention_case") as batch:
        batch.add_column(
            sa.Column("on_hold", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute(
        "UPDATE retention_case SET on_hold = true WHERE EXISTS (SELECT 1 FROM retention_hold h "
        "WHERE h.case_id = retention_case.case_id AND h.lifted_at IS NULL)"
    )


def downgrade() -> None:
    with op.batch_alter_table("retention_case") as batch:
        batch.drop_column("on_hold")
