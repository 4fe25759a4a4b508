"""Idempotency records: the case each is about, so the erasure deletes them with the dossier.

A stored idempotent response holds the case's data in plaintext (an OM consent's kind and
scope, a landlord's measure, the policy's reasons; gateway/core/idempotency.py lists it per
route). The retention sweep deleted a record only after the replay window (7 days by
default), so an erased case's responses outlived its erasure by up to a week. Now each
record names its case (``idempotency_record.case_id``, indexed), the table is marked
``erasure_delete``, and the sweep's erasure deletes the erased cases' records in its
transaction, as it deletes their consents and measures (migration 0037).

The records already stored (at most a replay window's worth) get their case here: the
path's case of a consent or a case event (``record-consent:<case>``,
``record-case-event:<case>``), the response's ``caseId`` (a report that joined a case, an
information request, a pushed case fact), an answer's request's case
(``answer:<request>``). Those of a case erased before this migration are deleted, as the
sweep would have. A record whose case is not found (a report that waits for the lead: its
response holds no case data) keeps ``case_id`` NULL and goes with the replay window. The
downgrade drops the column; no deleted record comes back.

Revision ID: 0040_idempotency_case
Revises: 0039_case_dwelling_pollution
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0040_idempotency_case"
down_revision: str | Sequence[str] | None = "0039_case_dwelling_pollution"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_idempotency_record_case_id"
#: The operations whose case is in the key's operation name (the route's path).
PATH_CASE = ("record-consent:", "record-case-event:")
ANSWER = "answer:"
CHUNK = 500

_records = sa.table(
    "idempotency_record",
    sa.column("id", sa.Integer()),
    sa.column("operation", sa.String()),
    sa.column("response", sa.JSON()),
    sa.column("case_id", sa.String()),
)
_requests = sa.table("information_request", sa.column("id"), sa.column("case_id"))


def _case_of(operation: str, response: Any) -> str | None:
    named: Any = None
    for prefix in PATH_CASE:
        if operation.startswith(prefix):
            named = operation[len(prefix) :]
            break
    else:
        named = response.get("caseId") if isinstance(response, dict) else None
    # A case id is a UUID (the routes' CaseId): anything else names no case.
    return named if isinstance(named, str) and 0 < len(named) <= 36 else None


def _fill(bind: sa.Connection) -> None:
    found: dict[int, str] = {}
    answers: dict[int, str] = {}
    rows = bind.execute(sa.select(_records.c.id, _records.c.operation, _records.c.response))
    for record_id, operation, response in rows:
        if operation.startswith(ANSWER):
            answers[record_id] = operation[len(ANSWER) :]
        elif (case_id := _case_of(operation, response)) is not None:
            found[record_id] = case_id
    request_ids = sorted(set(answers.values()))
    cases: dict[str, str] = {}
    for start in range(0, len(request_ids), CHUNK):
        chunk = request_ids[start : start + CHUNK]
        pairs = bind.execute(
            sa.select(_requests.c.id, _requests.c.case_id).where(_requests.c.id.in_(chunk))
        )
        cases.update((request_id, case_id) for request_id, case_id in pairs)
    found.update({rid: cases[req] for rid, req in answers.items() if req in cases})
    if found:
        bind.execute(
            sa.update(_records)
            .where(_records.c.id == sa.bindparam("rid"))
            .values(case_id=sa.bindparam("cid")),
            [{"rid": rid, "cid": cid} for rid, cid in sorted(found.items())],
        )


def upgrade() -> None:
    op.add_column("idempotency_record", sa.Column("case_id", sa.String(36), nullable=True))
    op.create_index(INDEX, "idempotency_record", ["case_id"])
    _fill(op.get_bind())
    op.execute(
        "DELETE FROM idempotency_record WHERE case_id IN "
        "(SELECT id FROM case_file WHERE erased_at IS NOT NULL)"
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name="idempotency_record")
    op.drop_column("idempotency_record", "case_id")
