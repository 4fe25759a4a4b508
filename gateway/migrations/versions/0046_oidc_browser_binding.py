"""A pending OIDC sign-in is bound to the browser that began it: ``browser_hash``.

The state alone let anyone who began a sign-in hand the callback link (state and code) to
another browser, which was then signed in as them (login CSRF, review8d F3). ``begin`` now
sets a random value in a short-lived cookie and stores its SHA-256 here; the callback is
refused without it. Attempts in flight at the upgrade (they live ten minutes) have no
binding and are deleted: their users start the sign-in again. The downgrade drops the
column (attempts then bound to nothing).

Revision ID: 0046_oidc_browser_binding
Revises: 0045_steering_snapshot
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0046_oidc_browser_binding"
down_revision: str | Sequence[str] | None = "0045_steering_snapshot"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(sa.text("DELETE FROM web_oidc_login"))
    # SQLite cannot add a NOT NULL column without a default in place: it copies the table.
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("web_oidc_login", recreate="always" if sqlite else "auto") as batch:
        batch.add_column(sa.Column("browser_hash", sa.String(64), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("web_oidc_login") as batch:
        batch.drop_column("browser_hash")
