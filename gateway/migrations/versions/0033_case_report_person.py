"""Cases: ``case_report_person``, the persons named in a report by a partner outside the
case team, held with the report until the lead accepts the reporter.

Review3 finding 6: such a report's persons were written into the case at once, before the
lead decided on the reporter, and stayed when the lead declined it; an injected BSN then
pulled later reports into the case and became a data subject of its audit entries. They now
wait here (sealed under the case's key scope, erased with its dossier) and become
``case_person`` rows only on the lead's acceptance (gateway/cases/reports.py). Persons
written before this migration stay where they are: who named them is not recorded.

Revision ID: 0033_case_report_person
Revises: 0032_case_meeting_erased_at
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0033_case_report_person"
down_revision: str | Sequence[str] | None = "0032_case_meeting_erased_at"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_report_person",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("report_id", sa.String(36), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("identifier_index", sa.String(128), nullable=True),
        sa.Column("identifier_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("name_sealed", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case_file.id"], name="fk_case_report_person_case_id_case_file"
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["case_report.id"], name="fk_case_report_person_report_id_case_report"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_case_report_person"),
    )
    op.create_index("ix_case_report_person_case_id", "case_report_person", ["case_id"])
    op.create_index("ix_case_report_person_report_id", "case_report_person", ["report_id"])


def downgrade() -> None:
    op.drop_table("case_report_person")
