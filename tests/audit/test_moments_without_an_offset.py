"""A moment without an offset names no instant: every date-time the audit API reads (the
partner-activity report's ``from``/``until``, the search's and the export's ``from``/``until``
in the body) refuses it as a 400 problem+json naming the parameter, as ``receivedAt`` and
``expiresAt`` do (docs/cases.md). It was a 500 (the database layer refused it). The control:
the same moment with its offset is answered."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

Auth = Callable[..., dict[str, str]]
OFFICER = ("gemeente-utrecht", "privacy-officer")
NAIVE = "2026-01-01T00:00:00"
WITH_OFFSET = "2026-01-01T00:00:00+01:00"


def _call(client: TestClient, auth: Auth, route: str, name: str, moment: str):  # type: ignore[no-untyped-def]
    if route == "partner-activity":
        return client.get(
            "/v1/audit/partner-activity", params={name: moment}, headers=auth(*OFFICER)
        )
    return client.post(f"/v1/audit/entries/{route}", json={name: moment}, headers=auth(*OFFICER))


@pytest.mark.parametrize("route", ["partner-activity", "search", "export"])
@pytest.mark.parametrize("name", ["from", "until"])
def test_an_audit_query_moment_without_an_offset_is_a_400_naming_it(
    client: TestClient, auth: Auth, route: str, name: str
) -> None:
    response = _call(client, auth, route, name, NAIVE)
    assert response.status_code == 400, (route, name, response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [p["name"] for p in response.json()["invalidParams"]] == [name]


@pytest.mark.parametrize("route", ["partner-activity", "search", "export"])
@pytest.mark.parametrize("name", ["from", "until"])
def test_an_audit_query_moment_with_its_offset_is_answered(
    client: TestClient, auth: Auth, route: str, name: str
) -> None:
    for moment in (WITH_OFFSET, "2026-01-01T00:00:00Z"):
        response = _call(client, auth, route, name, moment)
        assert response.status_code == 200, (route, name, moment, response.text[:300])
