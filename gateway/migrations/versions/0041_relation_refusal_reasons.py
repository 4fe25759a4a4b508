"""Exchange: refusals stored with a fact of the case's state next to a failing relation
keep only what the policy now tells.

Until review6b's finding P1 the policy explained a refusal by the requester's relation to
the case (``not-dwelling-landlord``, ``not-case-lead``, ``not-event-recorder``) with the
case's failing state conditions as well: a woonconsulent of a corporation that is not the
dwelling's landlord, asking for the sfeerverslag, read
``event-not-recorded:eviction-procedure`` exactly while the landlord had not started its
eviction procedure, a measure the case summary withholds from it. The policy now tells a
requester that every clause refuses by its relation that relation alone (docs/policy.md,
"Decisions"). A request's items keep the reasons given when it was made or answered
(``information_request_item.reasons``) and return them on every read, so this keeps, of each
stored item with a relation reason, every reason but those of the case's state (as 0030 did
for the static reasons). In the two covenants no clause gives a role both a relation-bound
and an unbound grant of one category, so this is exactly what the policy gives now; under
a covenant that did, it would tell less, never more. Nothing is added to any item;
downgrading does not restore what was removed.

Revision ID: 0041_relation_refusal_reasons
Revises: 0040_idempotency_case
Create Date: 2026-12-06
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0041_relation_refusal_reasons"
down_revision: str | Sequence[str] | None = "0040_idempotency_case"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The reasons of a failing relation of the requester to the case (policies/rego/authz.rego).
RELATION_REASONS = ("not-dwelling-landlord", "not-case-lead", "not-event-recorder")
#: The reasons of the case's state: its conditions (``event-not-recorded:<event>`` names the
#: event) and how the OM consent fails.
STATE_REASONS = (
    "corporation-permission-missing",
    "police-not-in-case-team",
    "dwelling-pollution-not-established",
    "event-not-recorded",
    "investigation-status-unknown",
    "om-consent-missing",
    "om-consent-expired",
)

_ITEMS = sa.table(
    "information_request_item",
    sa.column("id", sa.Integer),
    sa.column("reasons", sa.JSON),
)


def told_now(reasons: list[str]) -> list[str]:
    """What the policy tells now of a refusal stored with ``reasons``."""
    if not any(r in RELATION_REASONS for r in reasons):
        return reasons
    return [r for r in reasons if r.split(":", 1)[0] not in STATE_REASONS]


def upgrade() -> None:
    connection = op.get_bind()
    stored = sa.cast(_ITEMS.c.reasons, sa.Text)
    rows = connection.execute(
        sa.select(_ITEMS.c.id, _ITEMS.c.reasons).where(
            sa.or_(*(stored.like(f'%"{r}"%') for r in RELATION_REASONS))
        )
    ).all()
    for item_id, value in rows:
        reasons = list(json.loads(value) if isinstance(value, str) else value)
        if told_now(reasons) != reasons:
            connection.execute(
                sa.update(_ITEMS).where(_ITEMS.c.id == item_id).values(reasons=told_now(reasons))
            )


def downgrade() -> None:
    pass
