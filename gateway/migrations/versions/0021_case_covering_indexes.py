"""Cases: covering indexes, so the steering report and a deadlines page read indexes only.

- The report's cases opened in its period, and its open cases, are counted per district:
  ``ix_case_file_opened`` becomes ``ix_case_file_opened_district`` (with the district), and
  ``ix_case_file_state_district`` counts the open cases per (state, district).
- The report's closed cases of a period: ``ix_case_file_closed`` becomes
  ``ix_case_file_closed_cover`` on (covenant, closed_at) *with* first_report_at and both
  judgements, so the count, sums, median, longest and legs read the index, not the rows.
- The report's transitions of a period check each one's case covenant: ``ix_case_file_id_covenant``
  answers that from an index (the primary key holds the id alone).
- A deadlines page reads each (deadline, state) stream ordered by (start column, id): the two
  stream indexes gain ``id``, so no sort is needed after the index range.

On PostgreSQL an index-only scan needs the visibility map, which autovacuum keeps.

Revision ID: 0021_case_covering_indexes
Revises: 0020_case_list_indexes
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0021_case_covering_indexes"
down_revision: str | Sequence[str] | None = "0020_case_list_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = {
    "ix_case_file_opened": ["covenant_id", "opened_at"],
    "ix_case_file_closed": ["covenant_id", "closed_at"],
    "ix_case_file_state_first_report": ["covenant_id", "state", "first_report_at"],
    "ix_case_file_state_entered": ["covenant_id", "state", "state_entered_at"],
}
NEW = {
    "ix_case_file_opened_district": ["covenant_id", "opened_at", "district"],
    "ix_case_file_state_district": ["covenant_id", "state", "district"],
    "ix_case_file_closed_cover": [
        "covenant_id",
        "closed_at",
        "first_report_at",
        "neighbours_judgement",
        "partners_judgement",
    ],
    "ix_case_file_id_covenant": ["id", "covenant_id"],
    "ix_case_file_state_first_report_id": ["covenant_id", "state", "first_report_at", "id"],
    "ix_case_file_state_entered_id": ["covenant_id", "state", "state_entered_at", "id"],
}


def upgrade() -> None:
    for name, columns in NEW.items():
        op.create_index(name, "case_file", columns)
    for name in OLD:
        op.drop_index(name, table_name="case_file")


def downgrade() -> None:
    for name, columns in OLD.items():
        op.create_index(name, "case_file", columns)
    for name in reversed(NEW):
        op.drop_index(name, table_name="case_file")
