"""An inbox that could not list the corporation's permission requests says so (review8c F3).

``_permission_items`` caught every exception and returned no items: with the cases domain's
deadlines failing, ``GET /v1/inbox`` answered 200 ``{"items": []}``, telling Mitros' adapter
and people "no work" while the three days of U §5.2 ("reageert binnen drie dagen") ran; on
PostgreSQL a failed statement aborted the transaction and the inbox failed later anyway (a
500), so the two backends differed. Now the inbox fails as any other read does: a problem,
never a 200 without the item. The control: the same inbox lists the request.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import ColumnElement, literal_column

import gateway.cases.deadlines
import gateway.cases.districts
from tests.exchange.conftest import MITROS, Auth
from tests.exchange.test_permission_inbox_in_the_team import _asked_of_mitros


def _inbox(client: TestClient, auth: Auth) -> Any:
    return client.get("/v1/inbox", headers=auth(*MITROS, user="u-1"))


def _fails_visibly(response: Any) -> None:
    assert response.status_code in (500, 503), response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "items" not in response.json()


def _deadlines_failing(**_: Any) -> Any:
    raise RuntimeError("the deadlines could not be computed")


def _first_statement_refused() -> Any:
    """``partner_cases`` whose first use (the permission section's, the first of the inbox)
    is a condition the database refuses; later uses (the other sections') as they are."""
    real = gateway.cases.districts.partner_cases
    calls = 0

    def partner_cases(partner: str) -> ColumnElement[bool]:
        nonlocal calls
        calls += 1
        return literal_column("no_such_column_r8c") == 1 if calls == 1 else real(partner)

    return partner_cases


@pytest.mark.parametrize("fault", ["deadlines", "statement"])
def test_an_inbox_that_could_not_list_the_permission_requests_is_no_empty_inbox(
    exchange_client: TestClient, auth: Auth, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    client = exchange_client
    case_id, reference = _asked_of_mitros(client, auth)
    # Control: the corporation is asked.
    listed = _inbox(client, auth)
    assert listed.status_code == 200, listed.text
    assert [
        (i["caseId"], i["caseReference"])
        for i in listed.json()["items"]
        if i["kind"] == "permission-request"
    ] == [(case_id, reference)]

    with monkeypatch.context() as patched:
        if fault == "deadlines":
            patched.setattr(gateway.cases.deadlines, "case_deadlines", _deadlines_failing)
        else:
            patched.setattr(gateway.cases.districts, "partner_cases", _first_statement_refused())
        _fails_visibly(_inbox(client, auth))

    # Once the fault is gone, the request is listed again.
    again = _inbox(client, auth)
    assert again.status_code == 200, again.text
    assert case_id in [i["caseId"] for i in again.json()["items"]]
