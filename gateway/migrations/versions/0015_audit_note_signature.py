"""Audit: the signature lines of each checkpoint's C2SP signed note (the log's own and the
witnesses' tlog-cosignatures).

Revision ID: 0015_audit_note_signature
Revises: 0014_single_head
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_audit_note_signature"
down_revision: str | Sequence[str] | None = "0014_single_head"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_note_signature",
        sa.Column("tree_size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("signer", sa.String(length=200), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tree_size", "signer"),
    )


def downgrade() -> None:
    op.drop_table("audit_note_signature")
