"""Cases: a team member the lead only consults (``case_team_member.consulted``).

U §5.6: "Het buurtteam meldt de casemanager desgevraagd of een overlastveroorzaker en/of
klager bij het buurtteam bekend is" is a question to the neighbourhood team, answered to
the case manager; being asked is not being one of "de andere partijen die bij de casus zijn
betrokken" (U §6). To ask it, the lead had to make the team a full member, listed to every
member of the team (review9a F3). A member added as consulted is shown to the lead and to
itself only, takes no step and receives nothing under the ``case-team`` condition until the
lead marks it involved (docs/cases.md, "Consulted, not involved"). Every existing member
stays involved (``false``), as it was. The downgrade drops the column: consulted members
then become involved, listed to the whole team.

Revision ID: 0048_team_consulted
Revises: 0047_erased_request_reasons
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0048_team_consulted"
down_revision: str | Sequence[str] | None = "0047_erased_request_reasons"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("case_team_member") as batch:
        batch.add_column(
            sa.Column("consulted", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("case_team_member") as batch:
        batch.drop_column("consulted")
