"""Cases: the police investigation status and the OM's consents cleared in the cases of a
covenant where no clause depends on a police investigation (Rijswijk).

Review3 finding 2: such a covenant keeps neither. Since acbf06b the police are refused the
status there, and since the OM consent fix (docs/cases.md, 422 ``not-in-covenant``) the
OM's consent too: the OM is asked only "indien er een onderzoek loopt" (U §5.3), so a
consent on file says that one runs. What was recorded before stays criminal-law
information nobody may be told there; this clears it: ``case_file.investigation_running``
back to NULL ("not recorded", the state every Rijswijk case is in from now on), the
``case_consent`` rows of kind ``om-consent`` deleted, and the idempotency records of the
POSTs that recorded them (their stored response would replay a consent that is gone).

Which covenants. The rule is the gateway's (``covenant_reads_investigation`` in
gateway/cases/summary_readers.py): a covenant none of whose clauses has the condition
``om-consent-if-investigation``. This migration does not evaluate it: it must not import
gateway code that may change later, and reading the covenant files here would make a
data-deleting step depend on the environment it runs in (``KETENPOORT_COVENANT_DIR`` is a
setting of the gateway that an operator's ``alembic upgrade head`` from a shell may not
carry, and the files change with later releases). So it names the covenants the rule gave
on 6 December 2026, when the packaged covenants were utrecht-extreme-woonoverlast (clause
U-5.3-antecedenten has the condition) and rijswijk-woonoverlast (no clause has it):
``rijswijk-woonoverlast``, the id of policies/rijswijk-woonoverlast/covenant.yaml. A
deployment with a covenant of its own without such a clause clears it by hand
(docs/operations.md, migration 0035).

The audit log is not touched (it is never rewritten): the entries of these changes name
that the police changed the status, or a consent's id, never a value (review2 finding 3).

No downgrade: the values are gone, and the gateway would refuse them again.

Revision ID: 0035_clear_investigation
Revises: 0034_case_file_fewer_indexes
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0035_clear_investigation"
down_revision: str | Sequence[str] | None = "0034_case_file_fewer_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The covenants without a clause conditioned on ``om-consent-if-investigation`` on
#: 6 December 2026 (see above). Fixed: a later covenant change does not change this step.
COVENANTS_WITHOUT_INVESTIGATION = ("rijswijk-woonoverlast",)

# The tables as they are at this revision, not the models (which may change later).
_case_file = sa.table(
    "case_file",
    sa.column("id", sa.String),
    sa.column("covenant_id", sa.String),
    sa.column("investigation_running", sa.Boolean),
)
_case_consent = sa.table(
    "case_consent",
    sa.column("id", sa.String),
    sa.column("case_id", sa.String),
    sa.column("kind", sa.String),
)
_idempotency_record = sa.table(
    "idempotency_record",
    sa.column("id", sa.Integer),
    sa.column("operation", sa.String),
    sa.column("response", sa.JSON),
)

OM_CONSENT = "om-consent"
#: The operation ``POST /cases/{caseId}/consents`` stores with its key (gateway/cases/api.py).
RECORD_CONSENT = "record-consent:"


def upgrade() -> None:
    connection = op.get_bind()
    cases = sa.select(_case_file.c.id).where(
        _case_file.c.covenant_id.in_(COVENANTS_WITHOUT_INVESTIGATION)
    )
    connection.execute(
        _case_file.update()
        .where(
            _case_file.c.covenant_id.in_(COVENANTS_WITHOUT_INVESTIGATION),
            _case_file.c.investigation_running.is_not(None),
        )
        .values(investigation_running=None)
    )
    consents = set(
        connection.scalars(
            sa.select(_case_consent.c.id).where(
                _case_consent.c.kind == OM_CONSENT, _case_consent.c.case_id.in_(cases)
            )
        )
    )
    if not consents:
        return
    connection.execute(_case_consent.delete().where(_case_consent.c.id.in_(consents)))
    # The stored responses are JSON, read here rather than in SQL (SQLite and PostgreSQL
    # query JSON differently); only the consents' records are read.
    stored = connection.execute(
        sa.select(_idempotency_record.c.id, _idempotency_record.c.response).where(
            _idempotency_record.c.operation.like(f"{RECORD_CONSENT}%")
        )
    )
    replays = [
        record_id
        for record_id, response in stored
        if isinstance(response, dict) and response.get("id") in consents
    ]
    if replays:
        connection.execute(
            _idempotency_record.delete().where(_idempotency_record.c.id.in_(replays))
        )


def downgrade() -> None:
    """Nothing to restore: the cleared values are not kept anywhere."""
