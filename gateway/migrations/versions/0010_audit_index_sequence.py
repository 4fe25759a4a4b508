"""Audit: a sequence for entry indexes on PostgreSQL, so appends no longer lock the head row.

Appends take their index from ``audit_index_seq`` (no lock held through the commit); the
checkpoint job seals the committed prefix and fills indexes whose transaction rolled back with
void entries (see :mod:`gateway.audit.log`). SQLite keeps the head-row lock (it has one writer
anyway), so this migration does nothing there.

Revision ID: 0010_audit_index_sequence
Revises: 0003_audit
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0010_audit_index_sequence"
down_revision: str | Sequence[str] | None = "0003_audit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # CACHE 1 (the default) keeps nextval monotonic in time across sessions, which the
    # gap filler relies on (gateway.audit.log.seal).
    op.execute("CREATE SEQUENCE audit_index_seq AS bigint MINVALUE 0 START WITH 0 CACHE 1")
    # Continue after the entries already appended under the head-row lock.
    op.execute(
        "SELECT setval('audit_index_seq', next_index, false) FROM audit_head "
        "WHERE id = 1 AND next_index > 0"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "UPDATE audit_head SET next_index = GREATEST(next_index, "
        "(SELECT COALESCE(MAX(idx) + 1, 0) FROM audit_entry)) WHERE id = 1"
    )
    op.execute("DROP SEQUENCE audit_index_seq")
