"""The steering report's state figures as of the end of its period (gateway/cases/state_at.py).

The report's open counts and overdue deadlines describe the end of its last whole ended
month, not the moment it is read. The cases as their row has them are counted in SQL, the
few that moved since (a transition since, or erased since while open) are replayed; what
that reads:

- ``ix_case_transition_covenant_at`` holds the case id too: the cases with a transition
  since the period's end are read from the index alone (the count of the period's
  transitions by kind still is);
- ``ix_case_file_erased_open`` (covenant, erasure) of the open cases erased under retention:
  those erased since the period's end, without reading every open case;
- ``ix_case_file_open_live`` holds the opening and the id: the open counts test "opened
  before the end" and "not one of the moved" from the index alone;
- the deadline streams' ``ix_case_file_state_first_report_id`` and
  ``ix_case_file_state_entered_id`` hold the opening: the overdue count tests "opened before
  the end" from them alone (their order, which the deadlines pages read, is unchanged).

Revision ID: 0042_steering_as_of
Revises: 0041_relation_refusal_reasons
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0042_steering_as_of"
down_revision: str | Sequence[str] | None = "0041_relation_refusal_reasons"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_LIVE = sa.text("closed_at IS NULL AND erased_at IS NULL")
ERASED_OPEN = sa.text("closed_at IS NULL AND erased_at IS NOT NULL")
LIVE = sa.text("erased_at IS NULL")
STREAMS = {
    "ix_case_file_state_first_report_id": "first_report_at",
    "ix_case_file_state_entered_id": "state_entered_at",
}


def _transitions(columns: list[str]) -> None:
    op.drop_index("ix_case_transition_covenant_at", table_name="case_transition")
    op.create_index("ix_case_transition_covenant_at", "case_transition", columns)


def _open_live(columns: list[str]) -> None:
    op.drop_index("ix_case_file_open_live", table_name="case_file")
    op.create_index(
        "ix_case_file_open_live",
        "case_file",
        columns,
        postgresql_where=OPEN_LIVE,
        sqlite_where=OPEN_LIVE,
    )


def _streams(opened: bool) -> None:
    for name, start in STREAMS.items():
        op.drop_index(name, table_name="case_file")
        columns = ["covenant_id", "state", start, "id", *(["opened_at"] if opened else [])]
        op.create_index(name, "case_file", columns, postgresql_where=LIVE, sqlite_where=LIVE)


def upgrade() -> None:
    _transitions(["covenant_id", "at", "transition", "case_id"])
    _open_live(["covenant_id", "state", "district", "opened_at", "id"])
    op.create_index(
        "ix_case_file_erased_open",
        "case_file",
        ["covenant_id", "erased_at"],
        postgresql_where=ERASED_OPEN,
        sqlite_where=ERASED_OPEN,
    )
    _streams(opened=True)


def downgrade() -> None:
    _streams(opened=False)
    op.drop_index("ix_case_file_erased_open", table_name="case_file")
    _open_live(["covenant_id", "state", "district"])
    _transitions(["covenant_id", "at", "transition"])
