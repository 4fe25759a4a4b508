"""Meetings and a partner's own reports a page at a time: keyset indexes.

- ``GET /v1/meetings`` reads the covenant's meetings by (scheduled_on, id), of one district
  or all: ``ix_case_meeting_covenant_scheduled`` and ``ix_case_meeting_district_scheduled``.
  The first starts with the covenant, so ``ix_case_meeting_covenant_id`` goes.
- ``GET /v1/reports`` reads the partner's reports newest first by (registered_at, id):
  ``ix_case_report_source_registered``, read backwards.
- The case page lists the meetings a case was on the agenda of: ``ix_meeting_agenda_item_case``
  (the primary key starts with the meeting).

Revision ID: 0024_history_page_indexes
Revises: 0021_case_covering_indexes
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0024_history_page_indexes"
down_revision: str | Sequence[str] | None = "0021_case_covering_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW = {
    "ix_case_meeting_covenant_scheduled": ("case_meeting", ["covenant_id", "scheduled_on", "id"]),
    "ix_case_meeting_district_scheduled": (
        "case_meeting",
        ["covenant_id", "district", "scheduled_on", "id"],
    ),
    "ix_case_report_source_registered": (
        "case_report",
        ["source_partner_id", "registered_at", "id"],
    ),
    "ix_meeting_agenda_item_case": ("meeting_agenda_item", ["case_id", "meeting_id"]),
}


def upgrade() -> None:
    for name, (table, columns) in NEW.items():
        op.create_index(name, table, columns)
    op.drop_index("ix_case_meeting_covenant_id", table_name="case_meeting")


def downgrade() -> None:
    op.create_index("ix_case_meeting_covenant_id", "case_meeting", ["covenant_id"])
    for name, (table, _) in reversed(NEW.items()):
        op.drop_index(name, table_name=table)
