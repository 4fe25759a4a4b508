"""Idempotency records of reports that wait for the lead: the case they joined.

A report from a partner outside the case team joins the dossier and is answered 202
``created: false, awaitingLead: true`` with no case named (U §6: the lead decides whether
the reporter joins). Migration 0040 and the route left such a record's ``case_id`` NULL (its
response "holds no case data"), but that answer says that a dossier exists for the address
or person, and the record (with its keyed digest of a body holding a BSN and an address)
outlived the dossier's erasure by up to the replay window; a retry with the key replayed
"joined an existing dossier" after the dossier was gone (review7b finding 2). The route now
names the case the report joined (gateway/cases/intake.py ``case_of_result``); the records
already stored get it here, by the response's ``reportId`` (``case_report`` rows are kept
through erasure), and those of a case erased before this migration are deleted, as the sweep
would have. 0040 is left as it was (it may have run). The downgrade changes nothing: the
filled ``case_id`` is what the route writes now, and no deleted record comes back.

Revision ID: 0044_idempotency_awaiting_case
Revises: 0043_case_report_registered
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0044_idempotency_awaiting_case"
down_revision: str | Sequence[str] | None = "0043_case_report_registered"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPERATION = "register-report"
CHUNK = 500

_records = sa.table(
    "idempotency_record",
    sa.column("id", sa.Integer()),
    sa.column("operation", sa.String()),
    sa.column("response", sa.JSON()),
    sa.column("case_id", sa.String()),
)
_reports = sa.table("case_report", sa.column("id"), sa.column("case_id"))


def _fill(bind: sa.Connection) -> None:
    by_report: dict[int, str] = {}
    rows = bind.execute(
        sa.select(_records.c.id, _records.c.response).where(
            _records.c.operation == OPERATION, _records.c.case_id.is_(None)
        )
    )
    for record_id, response in rows:
        report_id = response.get("reportId") if isinstance(response, dict) else None
        # A report id is a UUID: anything else names no report.
        if isinstance(report_id, str) and 0 < len(report_id) <= 36:
            by_report[record_id] = report_id
    report_ids = sorted(set(by_report.values()))
    cases: dict[str, str] = {}
    for start in range(0, len(report_ids), CHUNK):
        chunk = report_ids[start : start + CHUNK]
        pairs = bind.execute(
            sa.select(_reports.c.id, _reports.c.case_id).where(_reports.c.id.in_(chunk))
        )
        cases.update((report_id, case_id) for report_id, case_id in pairs)
    found = {rid: cases[rep] for rid, rep in by_report.items() if rep in cases}
    if found:
        bind.execute(
            sa.update(_records)
            .where(_records.c.id == sa.bindparam("rid"))
            .values(case_id=sa.bindparam("cid")),
            [{"rid": rid, "cid": cid} for rid, cid in sorted(found.items())],
        )


def upgrade() -> None:
    _fill(op.get_bind())
    op.execute(
        "DELETE FROM idempotency_record WHERE case_id IN "
        "(SELECT id FROM case_file WHERE erased_at IS NOT NULL)"
    )


def downgrade() -> None:
    """Nothing to undo (see the module's docstring)."""
