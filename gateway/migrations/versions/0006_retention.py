"""Retention: the retention register, dated facts, legal holds, tombstones, runs, the lock.

Revision ID: 0006_retention
Revises: 0001_foundation
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_retention"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "retention_case",
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("covenant_id", sa.String(100), nullable=False),
        sa.Column("scope", sa.String(200), nullable=False),
        sa.Column("resident_key", sa.String(128), nullable=True),
        sa.Column("complexity", sa.String(20), nullable=True),
        sa.Column("rule_id", sa.String(100), nullable=True),
        sa.Column("source_date", sa.Date(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("rules_revision", sa.String(32), nullable=False),
        sa.Column("stale", sa.Boolean(), nullable=False),
        sa.Column("computed_at", TS, nullable=True),
        sa.Column("erased_at", TS, nullable=True),
        sa.Column("erased_rule_id", sa.String(100), nullable=True),
        sa.Column("erased_run_id", sa.String(36), nullable=True),
        sa.PrimaryKeyConstraint("case_id", name="pk_retention_case"),
    )
    op.create_index("ix_retention_case_due", "retention_case", ["erased_at", "due_on"])
    op.create_index("ix_retention_case_covenant_id", "retention_case", ["covenant_id"])
    op.create_index("ix_retention_case_resident_key", "retention_case", ["resident_key"])
    op.create_index("ix_retention_case_stale", "retention_case", ["stale"])
    op.create_table(
        "retention_fact",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("detail", sa.String(60), nullable=True),
        sa.Column("source_ref", sa.String(120), nullable=True),
        sa.Column("recorded_at", TS, nullable=False),
        sa.Column("recorded_by", sa.String(300), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_retention_fact"),
        sa.UniqueConstraint("source_ref", name="uq_retention_fact_source_ref"),
    )
    op.create_index("ix_retention_fact_case_id", "retention_fact", ["case_id"])
    op.create_table(
        "retention_hold",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("set_at", TS, nullable=False),
        sa.Column("set_by", sa.String(300), nullable=False),
        sa.Column("lifted_at", TS, nullable=True),
        sa.Column("lifted_by", sa.String(300), nullable=True),
        sa.Column("lift_reason", sa.String(500), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_retention_hold"),
    )
    op.create_index("ix_retention_hold_case_id", "retention_hold", ["case_id"])
    op.create_table(
        "retention_tombstone",
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("covenant_id", sa.String(100), nullable=False),
        sa.Column("rule_id", sa.String(100), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("erased_at", TS, nullable=False),
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("removed", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("case_id", name="pk_retention_tombstone"),
    )
    op.create_table(
        "retention_run",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=True),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("redacted", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("started_by", sa.String(300), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_retention_run"),
    )
    op.create_table(
        "retention_lock",
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("host", sa.String(200), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("acquired_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_retention_lock"),
    )


def downgrade() -> None:
    op.drop_table("retention_lock")
    op.drop_table("retention_run")
    op.drop_table("retention_tombstone")
    op.drop_index("ix_retention_hold_case_id", table_name="retention_hold")
    op.drop_table("retention_hold")
    op.drop_index("ix_retention_fact_case_id", table_name="retention_fact")
    op.drop_table("retention_fact")
    for name in ("stale", "resident_key", "covenant_id", "due"):
        op.drop_index(f"ix_retention_case_{name}", table_name="retention_case")
    op.drop_table("retention_case")
