"""Cases: a team membership carries its case's opening moment; the deadline streams' indexes
hold only cases not erased.

``GET /v1/cases`` lists a partner's cases (led or in the team of) oldest first, a page at a
time. The cases in the team of came from the memberships joined to their cases, and
PostgreSQL, whose estimate of "the partner is in the team" is a covenant-wide average,
walked the covenant's cases in opening order and probed each one's membership: at 50,000
cases a first page took 80 ms for a partner in the team of few cases it does not lead. With
``case_team_member.case_opened_at`` (the case's ``opened_at``, which never changes; written
with every membership since) ``ix_case_team_member_partner_opened`` (partner, opened,
case) gives a partner's team cases in the list's order, a page long, at any history size.

The deadline streams' indexes (``ix_case_file_state_first_report_id``,
``ix_case_file_state_entered_id``: covenant, state, start, id) become partial, ``WHERE
erased_at IS NULL``: every read through them leaves an erased case out (gateway/cases/live.py),
and took ``erased_at`` from each row's heap page to do so. The steering report's overdue
count read some 3,800 rows from the heap per (deadline, state) at 50,000 open cases (on
PostgreSQL a bitmap heap scan each, ~8 ms); from the partial index it counts from the index
alone. An erased case leaves them, so they also stop growing with what retention erased.

Revision ID: 0028_team_opened_live_streams
Revises: 0027_case_erased_at
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028_team_opened_live_streams"
down_revision: str | Sequence[str] | None = "0027_case_erased_at"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = sa.text("erased_at IS NULL")
STREAMS = {
    "ix_case_file_state_first_report_id": ["covenant_id", "state", "first_report_at", "id"],
    "ix_case_file_state_entered_id": ["covenant_id", "state", "state_entered_at", "id"],
}


def upgrade() -> None:
    with op.batch_alter_table("case_team_member") as batch:
        batch.add_column(sa.Column("case_opened_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE case_team_member SET case_opened_at = "
        "(SELECT c.opened_at FROM case_file c WHERE c.id = case_team_member.case_id)"
    )
    with op.batch_alter_table("case_team_member") as batch:
        batch.alter_column(
            "case_opened_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )
    op.create_index(
        "ix_case_team_member_partner_opened",
        "case_team_member",
        ["partner_id", "case_opened_at", "case_id"],
    )
    for name, columns in STREAMS.items():
        op.drop_index(name, table_name="case_file")
        op.create_index(name, "case_file", columns, postgresql_where=LIVE, sqlite_where=LIVE)


def downgrade() -> None:
    for name, columns in STREAMS.items():
        op.drop_index(name, table_name="case_file")
        op.create_index(name, "case_file", columns)
    op.drop_index("ix_case_team_member_partner_opened", table_name="case_team_member")
    with op.batch_alter_table("case_team_member") as batch:
        batch.drop_column("case_opened_at")
