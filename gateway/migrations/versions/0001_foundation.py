"""Foundation: token ids seen, for replay protection across replicas.

Revision ID: 0001_foundation
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_foundation"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "used_token",
        sa.Column("issuer", sa.String(100), nullable=False),
        sa.Column("jti", sa.String(200), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("issuer", "jti", name="pk_used_token"),
    )
    op.create_index("ix_used_token_expires_at", "used_token", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_used_token_expires_at", table_name="used_token")
    op.drop_table("used_token")
