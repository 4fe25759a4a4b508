"""Exchange: information requests and their items, case facts, disclosures, idempotency keys.

Revision ID: 0005_exchange
Revises: 0001_foundation
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_exchange"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "information_request",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("covenant_id", sa.String(100), nullable=False),
        sa.Column("purpose", sa.String(100), nullable=False),
        sa.Column("requester_partner_id", sa.String(100), nullable=False),
        sa.Column("requester_role", sa.String(60), nullable=False),
        sa.Column("requester_user", sa.String(200), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("due_at", _TS, nullable=True),
        sa.Column("decision_id", sa.String(100), nullable=False),
        sa.Column("bundle_revision", sa.String(200), nullable=True),
        sa.Column("audit_index", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_information_request"),
    )
    op.create_index("ix_information_request_case_id", "information_request", ["case_id"])
    op.create_index(
        "ix_information_request_requester_partner_id",
        "information_request",
        ["requester_partner_id"],
    )
    op.create_table(
        "information_request_item",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.String(36), nullable=False),
        sa.Column("partner_id", sa.String(100), nullable=False),
        sa.Column("category", sa.String(100), nullable=False),
        sa.Column("answer_form", sa.String(10), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("clauses", sa.JSON(), nullable=False),
        sa.Column("answered_at", _TS, nullable=True),
        sa.Column("fact_id", sa.String(36), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["information_request.id"],
            name="fk_information_request_item_request_id_information_request",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_information_request_item"),
        sa.UniqueConstraint(
            "request_id", "partner_id", "category", name="uq_information_request_item_request_id"
        ),
    )
    op.create_index(
        "ix_information_request_item_request_id", "information_request_item", ["request_id"]
    )
    op.create_index(
        "ix_information_request_item_partner_id", "information_request_item", ["partner_id"]
    )
    op.create_index("ix_information_request_item_state", "information_request_item", ["state"])
    op.create_table(
        "case_fact",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("covenant_id", sa.String(100), nullable=False),
        sa.Column("category", sa.String(100), nullable=False),
        sa.Column("partner_id", sa.String(100), nullable=False),
        sa.Column("source", sa.String(10), nullable=False),
        sa.Column("request_id", sa.String(36), nullable=True),
        sa.Column("answer_form", sa.String(10), nullable=False),
        sa.Column("value_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("recorded_at", _TS, nullable=False),
        sa.Column("recorded_by", sa.String(300), nullable=False),
        sa.Column("audit_index", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_case_fact"),
    )
    op.create_index("ix_case_fact_case_id", "case_fact", ["case_id"])
    op.create_index("ix_case_fact_request_id", "case_fact", ["request_id"])
    op.create_table(
        "disclosure",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("covenant_id", sa.String(100), nullable=False),
        sa.Column("request_id", sa.String(36), nullable=True),
        sa.Column("recipient_partner_id", sa.String(100), nullable=False),
        sa.Column("recipient_role", sa.String(60), nullable=False),
        sa.Column("purpose", sa.String(100), nullable=False),
        sa.Column("disclosed", sa.JSON(), nullable=False),
        sa.Column("redacted", sa.JSON(), nullable=False),
        sa.Column("data_owners", sa.JSON(), nullable=False),
        sa.Column("decision_id", sa.String(100), nullable=False),
        sa.Column("bundle_revision", sa.String(200), nullable=True),
        sa.Column("audit_index", sa.BigInteger(), nullable=False),
        sa.Column("disclosed_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_disclosure"),
    )
    op.create_index("ix_disclosure_case_id", "disclosure", ["case_id"])
    op.create_index("ix_disclosure_request_id", "disclosure", ["request_id"])
    op.create_index("ix_disclosure_recipient_partner_id", "disclosure", ["recipient_partner_id"])
    op.create_index("ix_disclosure_audit_index", "disclosure", ["audit_index"])
    op.create_table(
        "idempotency_record",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("partner_id", sa.String(100), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("operation", sa.String(200), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_idempotency_record"),
        sa.UniqueConstraint("partner_id", "key", name="uq_idempotency_record_partner_id"),
    )
    op.create_index("ix_idempotency_record_created_at", "idempotency_record", ["created_at"])


def downgrade() -> None:
    op.drop_table("idempotency_record")
    op.drop_table("disclosure")
    op.drop_table("case_fact")
    op.drop_table("information_request_item")
    op.drop_table("information_request")
