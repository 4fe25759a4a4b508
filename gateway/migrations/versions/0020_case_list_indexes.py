"""Cases: indexes for a partner's cases a page at a time (``GET /v1/cases``).

The list is keyset-paged in the order (opened_at, id). The cases the partner leads are read
in that order from ``ix_case_file_lead_opened`` (lead, opened_at, id; the covenant is
checked per row, a partner belongs to one covenant). Not (covenant, lead, ...): SQLite keeps
no statistics and would then read the lead's whole history through it for "the lead's open
cases" of the deadlines, instead of the open states through their index. The cases it is in
the team of come from its memberships (``ix_case_team_member_partner``; the primary key
starts with the case).

Revision ID: 0020_case_list_indexes
Revises: 0019_case_period_indexes
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0020_case_list_indexes"
down_revision: str | Sequence[str] | None = "0019_case_period_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_case_file_lead_opened", "case_file", ["lead_partner_id", "opened_at", "id"])
    op.create_index("ix_case_team_member_partner", "case_team_member", ["partner_id", "case_id"])


def downgrade() -> None:
    op.drop_index("ix_case_team_member_partner", table_name="case_team_member")
    op.drop_index("ix_case_file_lead_opened", table_name="case_file")
