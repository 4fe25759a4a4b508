"""Cases: the lead's assessment of the causer goes with an erased dossier (review4 F4).

``case_criterion.holds`` may be NULL: the retention sweep clears it, with the OGGZ check and
the police investigation status of ``case_file`` and the screening facts of
``case_transition.facts``, when it erases the case's dossier (``info={"erasure_null": True}``
and ``erasure_keep_keys``, gateway/retention/targets.py). Before, they stayed in plain
columns and the erased case's summary showed them.

The cases erased before this migration lose the same values here, as the sweep would have
cleared them: the assessment is special-category data (AVG art. 9/10) kept past its period.
The downgrade makes ``holds`` NOT NULL again, a cleared criterion reading ``false``; what
was cleared does not come back.

Revision ID: 0036_erased_assessment_cleared
Revises: 0035_clear_investigation
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0036_erased_assessment_cleared"
down_revision: str | Sequence[str] | None = "0035_clear_investigation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: gateway/cases/schemas.py FACTS_KEPT_AFTER_ERASURE as of this migration (a migration does
#: not follow later changes of the code).
KEPT = "'bothSidesHeard', 'result', 'measure', 'amountEur', 'days'"
ERASED = "SELECT id FROM case_file WHERE erased_at IS NOT NULL"
PRUNED = {
    "postgresql": "(SELECT COALESCE(json_object_agg(e.key, e.value), '{}'::json) "
    f"FROM json_each(facts) AS e WHERE e.key IN ({KEPT}))",
    "sqlite": "(SELECT json_group_object(e.key, json(facts -> ('$.\"' || e.key || '\"'))) "
    f"FROM json_each(facts) AS e WHERE e.key IN ({KEPT}))",
}


def upgrade() -> None:
    with op.batch_alter_table("case_criterion") as batch:
        batch.alter_column("holds", existing_type=sa.Boolean(), nullable=True)
    op.execute(f"UPDATE case_criterion SET holds = NULL WHERE case_id IN ({ERASED})")
    op.execute(
        "UPDATE case_file SET oggz_target_group = NULL, oggz_referred = NULL, "
        "investigation_running = NULL WHERE erased_at IS NOT NULL"
    )
    pruned = PRUNED[op.get_bind().dialect.name]
    op.execute(
        f"UPDATE case_transition SET facts = {pruned} WHERE case_id IN ({ERASED}) "
        f"AND EXISTS (SELECT 1 FROM json_each(facts) AS e WHERE e.key NOT IN ({KEPT}))"
    )


def downgrade() -> None:
    op.execute("UPDATE case_criterion SET holds = false WHERE holds IS NULL")
    with op.batch_alter_table("case_criterion") as batch:
        batch.alter_column("holds", existing_type=sa.Boolean(), nullable=False)
