"""Web: server-side page sessions and pending OIDC sign-ins.

Revision ID: 0009_web
Revises: 0001_foundation
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_web"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_session",
        sa.Column("id_hash", sa.String(64), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("partner_id", sa.String(100), nullable=True),
        sa.Column("partner_kind", sa.String(100), nullable=True),
        sa.Column("covenant_id", sa.String(100), nullable=True),
        sa.Column("role", sa.String(60), nullable=True),
        sa.Column("user", sa.String(200), nullable=True),
        sa.Column("auth_method", sa.String(20), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id_hash", name="pk_web_session"),
    )
    op.create_index("ix_web_session_expires_at", "web_session", ["expires_at"])
    op.create_table(
        "web_oidc_login",
        sa.Column("state_hash", sa.String(64), nullable=False),
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("code_verifier", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("state_hash", name="pk_web_oidc_login"),
    )
    op.create_index("ix_web_oidc_login_expires_at", "web_oidc_login", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_web_oidc_login_expires_at", table_name="web_oidc_login")
    op.drop_table("web_oidc_login")
    op.drop_index("ix_web_session_expires_at", table_name="web_session")
    op.drop_table("web_session")
