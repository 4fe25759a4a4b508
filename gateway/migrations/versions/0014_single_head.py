"""Join the four branches of the history into one head.

The history had grown four heads (0005_exchange, 0009_web, 0012_retention_fillfactor,
0013_audit_entry_subject): ``ketenpoort db upgrade`` migrates to all of them, but Alembic's own
``alembic upgrade head`` refused. This revision changes no table; it only merges, so every later
migration has one parent and operators can use Alembic's commands as documented.

Revision ID: 0014_single_head
Revises: 0005_exchange, 0009_web, 0012_retention_fillfactor, 0013_audit_entry_subject
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0014_single_head"
down_revision: str | Sequence[str] | None = (
    "0005_exchange",
    "0009_web",
    "0012_retention_fillfactor",
    "0013_audit_entry_subject",
)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
