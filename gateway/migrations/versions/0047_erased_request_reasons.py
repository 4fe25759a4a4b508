"""Exchange: an erased dossier's refusal reasons are emptied (review8a F6).

``information_request_item.reasons`` holds why the policy refused a category:
``om-consent-missing`` says that a police investigation ran (U §5.3), the fact for which
migration 0036 cleared ``case_file.investigation_running`` and 0037 deleted the OM
consents. The item has no ``case_id`` (its case is its request's), so the sweep did not
reach it; it now does (``erasure_via`` / ``erasure_empty``, gateway/retention/targets.py).
The items of the cases erased before this migration are emptied here, as the sweep would
have. The downgrade brings nothing back.

Revision ID: 0047_erased_request_reasons
Revises: 0046_oidc_browser_binding
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0047_erased_request_reasons"
down_revision: str | Sequence[str] | None = "0046_oidc_browser_binding"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ERASED = (
    "SELECT r.id FROM information_request r JOIN case_file c ON c.id = r.case_id "
    "WHERE c.erased_at IS NOT NULL"
)


def upgrade() -> None:
    op.execute(f"UPDATE information_request_item SET reasons = '[]' WHERE request_id IN ({ERASED})")


def downgrade() -> None:
    """Nothing to undo: the reasons emptied do not come back."""
