"""Audit: the data subjects of each entry in their own indexed table.

An entry about a case names every person of the case (``dataSubjects`` in the body); the
access report (GDPR art. 15) found those by scanning every entry's body. Now each named
pseudonym is a row ``(pseudonym, idx)``, written in the same statement or transaction as the
entry, and existing entries are copied over here.

Revision ID: 0013_audit_entry_subject
Revises: 0010_audit_index_sequence
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_audit_entry_subject"
down_revision: str | Sequence[str] | None = "0010_audit_index_sequence"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BACKFILL_POSTGRESQL = """
INSERT INTO audit_entry_subject (pseudonym, idx)
SELECT subject_pseudonym, idx FROM audit_entry WHERE subject_pseudonym IS NOT NULL
UNION
SELECT s.value ->> 'pseudonym', e.idx
FROM audit_entry AS e, jsonb_array_elements(e.body::jsonb -> 'dataSubjects') AS s
WHERE e.body LIKE '%"dataSubjects"%'
"""
_BACKFILL_SQLITE = """
INSERT INTO audit_entry_subject (pseudonym, idx)
SELECT subject_pseudonym, idx FROM audit_entry WHERE subject_pseudonym IS NOT NULL
UNION
SELECT json_extract(s.value, '$.pseudonym'), e.idx
FROM audit_entry AS e, json_each(e.body, '$.dataSubjects') AS s
WHERE e.body LIKE '%"dataSubjects"%'
"""


def upgrade() -> None:
    op.create_table(
        "audit_entry_subject",
        sa.Column("pseudonym", sa.String(64), nullable=False),
        sa.Column("idx", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.PrimaryKeyConstraint("pseudonym", "idx", name="pk_audit_entry_subject"),
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.execute(_BACKFILL_POSTGRESQL if postgresql else _BACKFILL_SQLITE)


def downgrade() -> None:
    op.drop_table("audit_entry_subject")
