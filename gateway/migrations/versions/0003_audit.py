"""Audit: the append-only disclosure log, its head row, signed checkpoints and tree tiles.

Revision ID: 0003_audit
Revises: 0001_foundation
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_audit"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("next_index", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_head"),
    )
    # The single head row every append locks; created here so appends never race to insert it.
    op.bulk_insert(head, [{"id": 1, "next_index": 0}])
    op.create_table(
        "audit_entry",
        sa.Column("idx", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("covenant_id", sa.String(100), nullable=False),
        sa.Column("activity", sa.String(100), nullable=False),
        sa.Column("outcome", sa.String(40), nullable=False),
        sa.Column("case_id", sa.String(200), nullable=True),
        sa.Column("subject_pseudonym", sa.String(64), nullable=True),
        sa.Column("requester_partner", sa.String(200), nullable=True),
        sa.Column("recipient_partner", sa.String(200), nullable=True),
        sa.Column("purpose", sa.String(200), nullable=True),
        sa.Column("clause_ids", sa.Text(), nullable=False),
        sa.Column("data_owners", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("idx", name="pk_audit_entry"),
    )
    op.create_index("ix_audit_entry_covenant_started", "audit_entry", ["covenant_id", "started_at"])
    op.create_index("ix_audit_entry_subject", "audit_entry", ["subject_pseudonym"])
    op.create_index("ix_audit_entry_case", "audit_entry", ["case_id"])
    op.create_table(
        "audit_checkpoint",
        sa.Column("tree_size", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("root_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("signature", sa.LargeBinary(64), nullable=False),
        sa.PrimaryKeyConstraint("tree_size", name="pk_audit_checkpoint"),
    )
    op.create_table(
        "audit_tree_node",
        sa.Column("level", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("node_index", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
        sa.PrimaryKeyConstraint("level", "node_index", name="pk_audit_tree_node"),
    )


def downgrade() -> None:
    op.drop_table("audit_tree_node")
    op.drop_table("audit_checkpoint")
    op.drop_index("ix_audit_entry_case", table_name="audit_entry")
    op.drop_index("ix_audit_entry_subject", table_name="audit_entry")
    op.drop_index("ix_audit_entry_covenant_started", table_name="audit_entry")
    op.drop_table("audit_entry")
    op.drop_table("audit_head")
