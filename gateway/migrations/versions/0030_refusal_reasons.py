"""Exchange: refusals stored with a fact of the case their requester may not see keep only
what the policy now tells.

Until review2's finding 1 the policy explained a category that a static reason refuses
(``role-not-recipient``, ``purpose-not-allowed``, ``phase-not-allowed``), and one asked by a
requester outside the case team (``not-in-case-team``), with the reasons of the case's state
as well, among them ``investigation-status-unknown`` and ``om-consent-*``: a team member that
asked for the nuisance antecedents read whether a police investigation ran. A request's
items keep the reasons given when it was made or answered
(``information_request_item.reasons``) and return them on every read, so the old ones would
go on telling it. This keeps, of each stored item with a static reason, the static reasons
alone, and of one outside the team ``not-in-case-team`` alone, as the policy now gives them
(docs/policy.md, "Decisions"). Nothing is added to any item; downgrading does not restore
what was removed.

Revision ID: 0030_refusal_reasons
Revises: 0029_case_state_days
Create Date: 2026-12-06
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030_refusal_reasons"
down_revision: str | Sequence[str] | None = "0029_case_state_days"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The reasons a request's role, purpose and phase give (policies/rego/authz.rego).
STATIC_REASONS = ("role-not-recipient", "purpose-not-allowed", "phase-not-allowed")
OUTSIDE_THE_TEAM = "not-in-case-team"

_ITEMS = sa.table(
    "information_request_item",
    sa.column("id", sa.Integer),
    sa.column("reasons", sa.JSON),
)


def told_now(reasons: list[str]) -> list[str]:
    """What the policy tells now of a refusal stored with ``reasons``."""
    static = [r for r in reasons if r in STATIC_REASONS]
    if static:
        return static
    if OUTSIDE_THE_TEAM in reasons:
        return [OUTSIDE_THE_TEAM]
    return reasons


def upgrade() -> None:
    connection = op.get_bind()
    stored = sa.cast(_ITEMS.c.reasons, sa.Text)
    rows = connection.execute(
        sa.select(_ITEMS.c.id, _ITEMS.c.reasons).where(
            sa.or_(*(stored.like(f'%"{r}"%') for r in (*STATIC_REASONS, OUTSIDE_THE_TEAM)))
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
