"""Idempotency keys: bound to the caller (partner, role and user), not to the partner alone
(review5a F3).

A replay answered before the route's own checks, to anyone of the partner: the privacy
officer (403 without a key) sent the case manager's key and body and got its stored 201, and
another body told it the key was used (422, not 403). ``principal`` (``role`` or
``role/user``) joins the unique key; a retry by the same caller replays as before, anyone else
runs the request and its checks.

A record from before this migration has ``principal = ''``: whose it was is not known, so it
replays to nobody; its key answers 422 ``idempotency-key-reused`` (use a new key) until the
retention sweep deletes it after the replay window (gateway/core/replays.py). The downgrade
deletes the records of callers other than the first per (partner, key), so that the former
unique key holds again.

Revision ID: 0038_idempotency_principal
Revises: 0037_erased_consents_events
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0038_idempotency_principal"
down_revision: str | Sequence[str] | None = "0037_erased_consents_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNIQUE = "uq_idempotency_record_partner_id"


def upgrade() -> None:
    with op.batch_alter_table("idempotency_record") as batch:
        batch.add_column(sa.Column("principal", sa.String(300), nullable=False, server_default=""))
        batch.drop_constraint(UNIQUE, type_="unique")
        batch.create_unique_constraint(UNIQUE, ["partner_id", "principal", "key"])


def downgrade() -> None:
    op.execute(
        "DELETE FROM idempotency_record WHERE id NOT IN (SELECT min(id) FROM "
        "idempotency_record GROUP BY partner_id, key)"
    )
    with op.batch_alter_table("idempotency_record") as batch:
        batch.drop_constraint(UNIQUE, type_="unique")
        batch.create_unique_constraint(UNIQUE, ["partner_id", "key"])
        batch.drop_column("principal")
