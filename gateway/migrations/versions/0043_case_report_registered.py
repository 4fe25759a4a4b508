"""The reports registered since a moment, with their case and receipt (review7b finding 1).

A report that joins an open dossier takes the dossier's first-report moment back to its own
``receivedAt`` when that is earlier (gateway/cases/intake.py), without a transition. The
steering report's state figures as of a past moment (gateway/cases/state_at.py) treat such a
case as moved when the report came in at or after that moment: ``ix_case_report_registered``
(registered, case, received) gives the reports since it from the index alone.

Revision ID: 0043_case_report_registered
Revises: 0042_steering_as_of
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0043_case_report_registered"
down_revision: str | Sequence[str] | None = "0042_steering_as_of"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_case_report_registered", "case_report", ["registered_at", "case_id", "received_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_case_report_registered", table_name="case_report")
