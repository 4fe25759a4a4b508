"""Cases: notices, a partner told of something in a case it must know.

R §2.3: when the joint approach does not succeed for a rented dwelling, "neemt de
woningcorporatie de regie weer over en informeert ze de gemeente over eventuele juridische
maatregelen". The hand-over and each legal measure the corporation records afterwards leave
a notice for the municipality, in its inbox until it is marked read.

Revision ID: 0018_case_notice
Revises: 0017_report_lead_decision
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_case_notice"
down_revision: str | Sequence[str] | None = "0017_report_lead_decision"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_notice",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("case_id", sa.String(36), sa.ForeignKey("case_file.id"), nullable=False),
        sa.Column("partner_id", sa.String(100), nullable=False),
        sa.Column("subject", sa.String(80), nullable=False),
        sa.Column("about_id", sa.String(36), nullable=False),
        sa.Column("from_partner_id", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("read_by", sa.String(300), nullable=True),
    )
    op.create_index("ix_case_notice_case_id", "case_notice", ["case_id"])
    op.create_index("ix_case_notice_partner_id", "case_notice", ["partner_id"])


def downgrade() -> None:
    op.drop_index("ix_case_notice_partner_id", table_name="case_notice")
    op.drop_index("ix_case_notice_case_id", table_name="case_notice")
    op.drop_table("case_notice")
