"""Cases: whether pollution of the dwelling is part of the nuisance (U §5.4), as the case
lead records it (``POST /v1/cases/{id}/criteria``, ``dwellingPollution``).

The hygiene advice of Volksgezondheid (U-5.4-volksgezondheid, health data) is shared only
"als vervuiling van de woning onderdeel is van de overlast"; before, no fact said so and
the advice went out in every case (review5b, P3). ``case_file.dwelling_pollution`` is NULL
for every existing case: not recorded, which the policy treats as no (unknown is not no),
so the advice waits until the lead records it. The retention sweep clears it with the rest
of the lead's assessment (``info={"erasure_null": True}``).

Revision ID: 0039_case_dwelling_pollution
Revises: 0038_idempotency_principal
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0039_case_dwelling_pollution"
down_revision: str | Sequence[str] | None = "0038_idempotency_principal"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Not in batch mode: SQLite adds and (3.35 and later) drops a column in place, where batch
# mode would copy the table, which its rows' foreign keys refuse (as 0027).


def upgrade() -> None:
    op.add_column("case_file", sa.Column("dwelling_pollution", sa.Boolean(), nullable=True))


def downgrade() -> None:
    op.drop_column("case_file", "dwelling_pollution")
