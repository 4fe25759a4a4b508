"""Case events (the landlord's further measures, U §5.2) and an investigation status that can
be unknown (U §5.3: only the police know whether an investigation runs).

``case_event`` holds the events a clause can require (e.g. ``eviction-procedure``), who
recorded them and when; no personal data. ``case_file.investigation_running`` becomes
nullable: NULL means nobody recorded it, which the policy treats as if one runs. Existing
cases keep their recorded value (they were created with "no investigation" as a default; the
operator can reset them to unknown with ``UPDATE case_file SET investigation_running = NULL``
where the police never set it, which this migration cannot tell).

Revision ID: 0016_case_events
Revises: 0015_audit_note_signature
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_case_events"
down_revision: str | Sequence[str] | None = "0015_audit_note_signature"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_event",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(60), nullable=False),
        sa.Column("partner_id", sa.String(100), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(300), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case_file.id"], name="fk_case_event_case_id_case_file"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_case_event"),
    )
    op.create_index("ix_case_event_case_id", "case_event", ["case_id"])
    with op.batch_alter_table("case_file") as batch:
        batch.alter_column("investigation_running", existing_type=sa.Boolean(), nullable=True)


def downgrade() -> None:
    # Unknown is not no: back to a NOT NULL column, an unknown status becomes "runs".
    op.execute(
        "UPDATE case_file SET investigation_running = true WHERE investigation_running IS NULL"
    )
    with op.batch_alter_table("case_file") as batch:
        batch.alter_column("investigation_running", existing_type=sa.Boolean(), nullable=False)
    op.drop_index("ix_case_event_case_id", table_name="case_event")
    op.drop_table("case_event")
