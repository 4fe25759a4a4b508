"""Idempotency records: the stored response sealed, the client's key kept as a keyed digest.

The first response of a POST with an ``Idempotency-Key`` was stored in plaintext JSON
(``idempotency_record.response``): an OM consent's kind, scope and expiry, a landlord's
measure, the policy's reasons, for the replay window. Records stored from now on seal it
with the field cipher under the case's data key (``response_sealed``; associated data: the
record, its partner, caller, key digest, operation, request hash and status), and store a
keyed digest of the key instead of the key as sent (``key``; gateway/core/idempotency.py).

A migration cannot reach the key provider, so it seals nothing: a record stored before
keeps its plaintext ``response`` and its key as sent, and is read as a **legacy** record
(a retry that spans the upgrade is still replayed) until the retention sweep deletes it
after the replay window (gateway/core/replays.py). ``response`` becomes nullable: NULL on
every record since.

The downgrade cannot open the sealed responses either. It keeps such a record, parked:
``response`` holds ``{"ketenpoort.sealed.v1": "<base64 of the sealed bytes>", "caseId":
"<its case>"}`` (no plaintext; the case id is the record's own ``case_id`` column, kept
there so that migration 0040's upgrade, which reads a record's case from its response's
``caseId``, gives a record taken below 0040 and back its case again) and ``key`` the
digest, so that the older code matches no client's key with it (a retry that spans the
downgrade runs again) and the upgrade restores it as it was.

Revision ID: 0049_idempotency_sealed
Revises: 0048_team_consulted
Create Date: 2026-12-07
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0049_idempotency_sealed"
down_revision: str | Sequence[str] | None = "0048_team_consulted"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The key of a parked record's ``response`` (a route's response has other keys), beside
#: at most its case's id.
PARKED = "ketenpoort.sealed.v1"
CASE = "caseId"
CHUNK = 500

_records = sa.table(
    "idempotency_record",
    sa.column("id", sa.Integer()),
    sa.column("response", sa.JSON()),
    sa.column("response_sealed", sa.LargeBinary()),
    sa.column("case_id", sa.String(36)),
)


def _parked(response: object) -> bytes | None:
    if isinstance(response, dict) and set(response) in ({PARKED}, {PARKED, CASE}):
        value = response[PARKED]
        if isinstance(value, str):
            return base64.b64decode(value, validate=True)
    return None


def _restore(bind: sa.Connection, sealed: dict[int, bytes]) -> None:
    rows = [{"rid": rid, "sealed": value} for rid, value in sorted(sealed.items())]
    for start in range(0, len(rows), CHUNK):
        bind.execute(
            sa.update(_records)
            .where(_records.c.id == sa.bindparam("rid"))
            # sa.null(): a JSON column writes Python None as the JSON value null.
            .values(response=sa.null(), response_sealed=sa.bindparam("sealed")),
            rows[start : start + CHUNK],
        )


def _park(bind: sa.Connection, sealed: dict[int, tuple[bytes, str | None]]) -> None:
    rows = [
        {
            "rid": rid,
            "parked": {PARKED: base64.b64encode(value).decode()}
            | ({CASE: case_id} if case_id is not None else {}),
        }
        for rid, (value, case_id) in sorted(sealed.items())
    ]
    for start in range(0, len(rows), CHUNK):
        bind.execute(
            sa.update(_records)
            .where(_records.c.id == sa.bindparam("rid"))
            .values(response=sa.bindparam("parked")),
            rows[start : start + CHUNK],
        )


def upgrade() -> None:
    with op.batch_alter_table("idempotency_record") as batch:
        batch.add_column(sa.Column("response_sealed", sa.LargeBinary(), nullable=True))
        batch.alter_column("response", existing_type=sa.JSON(), nullable=True)
    bind = op.get_bind()
    # Only the records a downgrade parked are read (none on a first upgrade), not every
    # response of the replay window; the exact shape is checked on each.
    rows = bind.execute(
        sa.select(_records.c.id, _records.c.response).where(
            sa.cast(_records.c.response, sa.Text()).like(f'%"{PARKED}"%')
        )
    ).all()
    _restore(bind, {rid: value for rid, response in rows if (value := _parked(response))})


def downgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(_records.c.id, _records.c.response_sealed, _records.c.case_id).where(
            _records.c.response_sealed.is_not(None)
        )
    ).all()
    _park(bind, {rid: (bytes(value), case_id) for rid, value, case_id in rows})
    # A claim in flight (neither set) is never committed: the claim and its response are.
    op.execute("DELETE FROM idempotency_record WHERE response IS NULL")
    with op.batch_alter_table("idempotency_record") as batch:
        batch.drop_column("response_sealed")
        batch.alter_column("response", existing_type=sa.JSON(), nullable=False)
