"""Cases: five indexes of ``case_file`` that no read needs, dropped (issue 20, the sweep).

Since migrations 0027/0028 (``erased_at`` in the predicates of partial indexes) and 0031
(``address_index``, cleared at erasure), the retention sweep's overwrite of an erased case's
row changes indexed columns, so it is no HOT update: it writes a new entry into every full
index of the table, twelve before this migration. Five of them serve no statement of the
gateway (docs/performance.md, "Sixth round" of the retention sweep: every read of
``case_file`` listed, with its plan before and after on a seeded 100k database):

- ``ix_case_file_covenant_id`` and ``ix_case_file_lead_partner_id``: prefixes of composite
  indexes (``ix_case_file_opened_district`` and the others on ``covenant_id``;
  ``ix_case_file_lead_opened``), which serve every read that used them;
- ``ix_case_file_state`` and ``ix_case_file_district``: every read that tests a case's state
  or district also tests its covenant, and the composite and partial indexes on
  (``covenant_id``, ``state``, ...) and (``covenant_id``, ``district``, ...) answer those;
- ``ix_case_file_id_covenant``: made for the steering report's check of a transition's
  covenant, which since migration 0025 reads the transition's own ``covenant_id``; a probe
  by case id takes the primary key.

Kept: the primary key, ``uq_case_file_reference`` and ``ix_case_file_dwelling_id`` (the
dwelling's key, by which a corporation's open cases can be found from its dwellings), and
the composite and partial indexes. The downgrade recreates the five.

Revision ID: 0034_case_file_fewer_indexes
Revises: 0033_case_report_person
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0034_case_file_fewer_indexes"
down_revision: str | Sequence[str] | None = "0033_case_report_person"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DROPPED = {
    "ix_case_file_covenant_id": ["covenant_id"],
    "ix_case_file_lead_partner_id": ["lead_partner_id"],
    "ix_case_file_state": ["state"],
    "ix_case_file_district": ["district"],
    "ix_case_file_id_covenant": ["id", "covenant_id"],
}


def upgrade() -> None:
    for name in DROPPED:
        op.drop_index(name, table_name="case_file")


def downgrade() -> None:
    for name, columns in DROPPED.items():
        op.create_index(name, "case_file", columns)
