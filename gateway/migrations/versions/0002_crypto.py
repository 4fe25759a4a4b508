"""Crypto: data keys (DEKs) wrapped by a key-encryption key, one per key scope.

Revision ID: 0002_crypto
Revises: 0001_foundation
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_crypto"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "crypto_data_key",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("scope", sa.String(200), nullable=False),
        sa.Column("kek_version", sa.Integer(), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rewrapped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("shredded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("shred_reason", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_crypto_data_key"),
        sa.UniqueConstraint("scope", name="uq_crypto_data_key_scope"),
        sa.CheckConstraint(
            "(wrapped_key IS NULL AND shredded_at IS NOT NULL)"
            " OR (wrapped_key IS NOT NULL AND shredded_at IS NULL)",
            name="ck_crypto_data_key_shredded_has_no_key",
        ),
    )
    op.create_index("ix_crypto_data_key_kek_version", "crypto_data_key", ["kek_version"])


def downgrade() -> None:
    op.drop_index("ix_crypto_data_key_kek_version", table_name="crypto_data_key")
    op.drop_table("crypto_data_key")
