"""Cases: an erased dossier's consents, landlord's measures and notices are deleted
(review5b P2).

The retention sweep now deletes the ``case_consent``, ``case_event`` and ``case_notice``
rows of a case it erases (``info={"erasure_delete": True}`` on the tables,
gateway/retention/targets.py): an OM consent tells that a police investigation runs or ran,
as ``case_file.investigation_running``, which the sweep clears since review4 F4 (migration
0036); a measure's kind and date tell about the resident ("wonen met een zorgcontract": a
care need); a notice names the measure it told of (``event:<kind>``). Before, the erased
case's summary and page still listed them to their readers.

The cases erased before this migration lose the same rows here, as the sweep would have
deleted them. The downgrade brings nothing back.

Revision ID: 0037_erased_consents_events
Revises: 0036_erased_assessment_cleared
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0037_erased_consents_events"
down_revision: str | Sequence[str] | None = "0036_erased_assessment_cleared"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The tables marked ``erasure_delete`` as of this migration (a migration does not follow
#: later changes of the code).
TABLES = ("case_consent", "case_event", "case_notice")
ERASED = "SELECT id FROM case_file WHERE erased_at IS NOT NULL"


def upgrade() -> None:
    for table in TABLES:
        op.execute(f"DELETE FROM {table} WHERE case_id IN ({ERASED})")


def downgrade() -> None:
    """Nothing to undo: what was deleted does not come back."""
