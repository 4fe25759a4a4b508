"""review5a F3: an Idempotency-Key was scoped to the partner, and a replay answers before the
route's own checks: U Centraal's privacy officer (an audit role, 403 without a key) that sent
the case manager's key and body got its stored 201 back, and another body a 422
``idempotency-key-reused`` that told the key was used. The key is bound to the caller now
(partner, role and user): anyone else's key is unknown to it, its request runs with the
route's checks. The control: the case manager's own retry is replayed as before, and its own
key with another body is still a 422."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select, text

from gateway.context import GatewayContext
from gateway.core.models import IdempotencyRecord
from tests.exchange.conftest import CASE_MANAGER, REPORTS, VIOLENCE, open_utrecht_case

Auth = Callable[..., dict[str, str]]
OFFICER = ("u-centraal", "privacy-officer")
KEY = "review5a-key-0001"


def _post(client: TestClient, headers: dict[str, str], body: dict[str, object]) -> Response:
    return client.post(
        "/v1/information-requests", json=body, headers={**headers, "Idempotency-Key": KEY}
    )


def test_another_role_of_the_partner_gets_its_own_403_not_the_replay(
    client: TestClient, auth: Auth
) -> None:
    case = open_utrecht_case(client, auth)
    body = {"caseId": case.case_id, "purpose": "case-handling", "categories": [REPORTS, VIOLENCE]}
    first = _post(client, auth(*CASE_MANAGER, user="cm-1"), body)
    assert first.status_code == 201, first.text
    replay = _post(client, auth(*OFFICER, user="po-1"), body)
    assert replay.status_code == 403, replay.text
    assert "Idempotent-Replayed" not in replay.headers
    other = _post(client, auth(*OFFICER, user="po-1"), {**body, "categories": [REPORTS]})
    assert other.status_code == 403, other.text


def test_control_the_same_caller_s_retry_is_replayed(client: TestClient, auth: Auth) -> None:
    case = open_utrecht_case(client, auth)
    body = {"caseId": case.case_id, "purpose": "case-handling", "categories": [REPORTS, VIOLENCE]}
    first = _post(client, auth(*CASE_MANAGER, user="cm-1"), body)
    assert first.status_code == 201, first.text
    retry = _post(client, auth(*CASE_MANAGER, user="cm-1"), body)
    assert retry.status_code == 201, retry.text
    assert retry.headers.get("Idempotent-Replayed") == "true"
    assert retry.json()["id"] == first.json()["id"]
    reused = _post(client, auth(*CASE_MANAGER, user="cm-1"), {**body, "categories": [REPORTS]})
    assert reused.status_code == 422, reused.text
    assert "idempotency-key-reused" in reused.json()["type"]


def test_another_user_of_the_same_role_runs_its_own_request(
    client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    """The user is part of the caller too: a colleague's key is not replayed to another case
    manager; its request runs (here allowed: its own 201, its own record)."""
    case = open_utrecht_case(client, auth)
    body = {"caseId": case.case_id, "purpose": "case-handling", "categories": [REPORTS]}
    first = _post(client, auth(*CASE_MANAGER, user="cm-1"), body)
    second = _post(client, auth(*CASE_MANAGER, user="cm-2"), body)
    assert (first.status_code, second.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in second.headers
    assert second.json()["id"] != first.json()["id"]
    with context.session_factory() as session:
        callers = set(session.scalars(select(IdempotencyRecord.principal)))
    assert callers == {"casemanager/cm-1", "casemanager/cm-2"}


def test_a_record_from_before_the_callers_replays_to_nobody(
    client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    """Migration 0038: whose a record from before was is not known (``principal = ''``); it
    is replayed to nobody, its key is a 422 (use a new key), the request is not run."""
    case = open_utrecht_case(client, auth)
    body = {"caseId": case.case_id, "purpose": "case-handling", "categories": [REPORTS]}
    with context.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO idempotency_record (partner_id, principal, key, operation,"
                " request_hash, status_code, response, created_at)"
                " VALUES ('u-centraal', '', :key, 'information-request', 'x', 201, '{}', :at)"
            ),
            {"key": KEY, "at": datetime.now(UTC)},
        )
    for who in [auth(*CASE_MANAGER, user="cm-1"), auth(*OFFICER, user="po-1")]:
        response = _post(client, who, body)
        assert response.status_code == 422, response.text
        assert "before keys were bound to the caller" in response.json()["detail"]
    # The control: another key runs.
    fresh = client.post(
        "/v1/information-requests",
        json=body,
        headers={**auth(*CASE_MANAGER, user="cm-1"), "Idempotency-Key": "review5a-key-0002"},
    )
    assert fresh.status_code == 201, fresh.text
