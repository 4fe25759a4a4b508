"""A reason is a reason (issue 14.11): every free-text justification refuses blank and
whitespace-only text, and the same request with a real reason goes through."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.cases.test_api_cases import CM, _open

Auth = Callable[..., dict[str, str]]
BLANKS = ["", "   ", "\t\n "]


def _refused_as_blank(response: object, field: str) -> None:
    assert response.status_code == 400, response.text  # type: ignore[attr-defined]
    params = response.json()["invalidParams"]  # type: ignore[attr-defined]
    assert [p["name"] for p in params] == [field]


@pytest.mark.parametrize("blank", BLANKS, ids=["empty", "spaces", "whitespace"])
def test_a_blank_acute_override_reason_is_refused(
    client: TestClient, auth: Auth, blank: str
) -> None:
    case_id = _open(client, auth, ownership="owner-occupied", corporation=None)
    refused = client.post(
        f"/v1/cases/{case_id}/criteria", headers=auth(*CM), json={"acuteOverrideReason": blank}
    )
    _refused_as_blank(refused, "acuteOverrideReason")
    allowed = client.post(
        f"/v1/cases/{case_id}/criteria",
        headers=auth(*CM),
        json={"acuteOverrideReason": "Brandgevaar."},
    )
    assert allowed.status_code == 200, allowed.text


@pytest.mark.parametrize("blank", BLANKS, ids=["empty", "spaces", "whitespace"])
def test_a_blank_transition_reason_is_refused(client: TestClient, auth: Auth, blank: str) -> None:
    """The transition reason is what skipping to eviction (R Bijlage D fase 4c) requires."""
    case_id = _open(client, auth)
    refused = client.post(
        f"/v1/cases/{case_id}/transitions",
        headers=auth(*CM),
        json={"transition": "decline", "reason": blank},
    )
    _refused_as_blank(refused, "reason")
    allowed = client.post(
        f"/v1/cases/{case_id}/transitions",
        headers=auth(*CM),
        json={"transition": "decline", "reason": "Geen extreme overlast."},
    )
    assert allowed.status_code == 200, allowed.text
