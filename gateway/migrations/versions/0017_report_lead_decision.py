"""Cases: the lead's decision on a reporter that is not in the case team.

A report about a known dwelling joins its dossier (R Bijlage B/C) but no longer makes the
reporting partner part of the case team: the lead decides (U §6, exchange only with the
parties involved in the case). The decision is kept on the report: ``joined`` (the lead
added the reporter to the team) or ``declined``; empty while the lead has not decided.

Revision ID: 0017_report_lead_decision
Revises: 0016_case_events
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_report_lead_decision"
down_revision: str | Sequence[str] | None = "0016_case_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("case_report") as batch:
        batch.add_column(sa.Column("lead_decision", sa.String(20), nullable=True))
        batch.add_column(sa.Column("lead_decided_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("lead_decided_by", sa.String(300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("case_report") as batch:
        batch.drop_column("lead_decided_by")
        batch.drop_column("lead_decided_at")
        batch.drop_column("lead_decision")
