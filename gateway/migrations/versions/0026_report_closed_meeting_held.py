"""The steering report's closed cases in one read; the districts' openings and meetings by index.

- ``ix_case_file_closed_cover`` ends in ``id`` now: the report numbers the period's closed
  cases by duration, ties by id (the median), in one read with window functions, from the
  index alone; without the id every one of them was a heap fetch.
- ``ix_case_meeting_district_held`` (covenant, district, held_at): a deadlines page reads
  each district's last meeting held as one index probe, not every meeting ever held.
- ``ix_case_file_open_district`` (covenant, district, opened_at) of the open cases only
  (``closed_at IS NULL``): the districts of a partner's open cases and each one's first
  opening are read district by district (gateway/cases/districts.py), not by grouping every
  open case of the partner.

Revision ID: 0026_report_closed_meeting_held
Revises: 0025_report_awaiting_covenant
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026_report_closed_meeting_held"
down_revision: str | Sequence[str] | None = "0025_report_awaiting_covenant"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CLOSED = ["covenant_id", "closed_at", "first_report_at", "neighbours_judgement"]
CLOSED += ["partners_judgement"]
OPEN = sa.text("closed_at IS NULL")


def upgrade() -> None:
    op.drop_index("ix_case_file_closed_cover", table_name="case_file")
    op.create_index("ix_case_file_closed_cover", "case_file", [*CLOSED, "id"])
    op.create_index(
        "ix_case_meeting_district_held", "case_meeting", ["covenant_id", "district", "held_at"]
    )
    op.create_index(
        "ix_case_file_open_district",
        "case_file",
        ["covenant_id", "district", "opened_at"],
        postgresql_where=OPEN,
        sqlite_where=OPEN,
    )


def downgrade() -> None:
    op.drop_index("ix_case_file_open_district", table_name="case_file")
    op.drop_index("ix_case_meeting_district_held", table_name="case_meeting")
    op.drop_index("ix_case_file_closed_cover", table_name="case_file")
    op.create_index("ix_case_file_closed_cover", "case_file", CLOSED)
