"""Cases: a report's stored "awaiting the lead", and a transition's covenant.

- ``case_report.awaiting_lead``: the report awaits the lead's decision (undecided, its
  partner neither the lead nor in the case team, the case not closed), filled here from
  that rule and kept right by the session since (gateway/cases/awaiting.py). Indexed with
  the registration, so a deadlines page reads the lead's pending decisions from the index
  instead of every report of the covenant.
- ``case_transition.covenant_id``: the case's covenant, filled here from the case and
  written with every transition since; ``ix_case_transition_covenant_at`` (covenant, at,
  transition) lets the steering report count a period's transitions without checking each
  one's case, and replaces ``ix_case_transition_at`` (at, case_id, transition), which only
  the report read.

Revision ID: 0025_report_awaiting_covenant
Revises: 0024_history_page_indexes
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025_report_awaiting_covenant"
down_revision: str | Sequence[str] | None = "0024_history_page_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AWAITING = """
UPDATE case_report SET awaiting_lead = true
WHERE lead_decision IS NULL
  AND EXISTS (SELECT 1 FROM case_file c WHERE c.id = case_report.case_id
              AND c.closed_at IS NULL AND c.lead_partner_id <> case_report.source_partner_id)
  AND NOT EXISTS (SELECT 1 FROM case_team_member m WHERE m.case_id = case_report.case_id
                  AND m.partner_id = case_report.source_partner_id)
"""


def upgrade() -> None:
    with op.batch_alter_table("case_report") as batch:
        batch.add_column(
            sa.Column("awaiting_lead", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute(AWAITING)
    op.create_index(
        "ix_case_report_awaiting", "case_report", ["awaiting_lead", "registered_at", "id"]
    )

    with op.batch_alter_table("case_transition") as batch:
        batch.add_column(sa.Column("covenant_id", sa.String(100), nullable=True))
    op.execute(
        "UPDATE case_transition SET covenant_id = "
        "(SELECT c.covenant_id FROM case_file c WHERE c.id = case_transition.case_id)"
    )
    with op.batch_alter_table("case_transition") as batch:
        batch.alter_column("covenant_id", existing_type=sa.String(100), nullable=False)
    op.create_index(
        "ix_case_transition_covenant_at", "case_transition", ["covenant_id", "at", "transition"]
    )
    op.drop_index("ix_case_transition_at", table_name="case_transition")


def downgrade() -> None:
    op.create_index("ix_case_transition_at", "case_transition", ["at", "case_id", "transition"])
    op.drop_index("ix_case_transition_covenant_at", table_name="case_transition")
    with op.batch_alter_table("case_transition") as batch:
        batch.drop_column("covenant_id")
    op.drop_index("ix_case_report_awaiting", table_name="case_report")
    with op.batch_alter_table("case_report") as batch:
        batch.drop_column("awaiting_lead")
