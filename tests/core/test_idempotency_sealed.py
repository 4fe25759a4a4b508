"""An idempotency record holds its stored response sealed and its key as a keyed digest.

The first response of a POST with an ``Idempotency-Key`` was stored in plaintext JSON for the
replay window (a landlord's measure, an OM consent's kind and scope), and the key as the
client sent it. Now the response is sealed with the field cipher under the case's data key,
bound to its record and caller, and the key is stored as a keyed digest (migration 0049;
gateway/core/idempotency.py). Read from the raw rows, on both databases; the positive
control throughout: the same caller's retry is replayed, byte for byte. A record that cannot
be opened (altered, moved, its case's key shredded) is a 409 that runs nothing and changes
nothing. Records from before 0049 (legacy, plaintext) still replay; the migration's
downgrade parks the sealed records and its upgrade restores them.
"""

from __future__ import annotations

import json
from typing import Any

from alembic import command
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import text

from gateway.context import GatewayContext
from gateway.crypto import case_scope, shred_scope
from gateway.crypto.runtime import local_key_file
from gateway.db import alembic_config, transaction
from tests.core.idempotency_records import make_legacy, opened_responses, stored_key_of
from tests.exchange.conftest import MITROS, open_utrecht_case

REPLAYED = "Idempotent-Replayed"
#: A key a client chose with something in it that must not be stored: a BSN.
KEY = "client-key-111222333-a"
OTHER_KEY = "client-key-123456782-b"
EVENT = {"event": "care-contract", "occurredOn": "2026-01-05"}
PERMISSION = {"kind": "corporation-permission"}


def _event(client: TestClient, auth: Any, case_id: str, key: str, user: str = "wc-1") -> Response:
    return client.post(
        f"/v1/cases/{case_id}/events",
        json=EVENT,
        headers={**auth(*MITROS, user=user), "Idempotency-Key": key},
    )


def _consent(client: TestClient, auth: Any, case_id: str, key: str) -> Response:
    return client.post(
        f"/v1/cases/{case_id}/consents",
        json=PERMISSION,
        headers={**auth(*MITROS, user="wc-1"), "Idempotency-Key": key},
    )


def _raw(context: GatewayContext) -> list[dict[str, Any]]:
    """Every idempotency record as the database holds it (bytea as bytes)."""
    with context.engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM idempotency_record ORDER BY id"))
        return [
            {k: bytes(v) if isinstance(v, memoryview) else v for k, v in row._mapping.items()}
            for row in rows
        ]


def _holds(row: dict[str, Any], needle: str) -> bool:
    for value in row.values():
        if isinstance(value, bytes) and needle.encode() in value:
            return True
        if needle in (value if isinstance(value, str) else json.dumps(value, default=str)):
            return True
    return False


def _count(context: GatewayContext, table: str, case_id: str) -> int:
    with context.engine.connect() as connection:
        return int(
            connection.execute(
                text(f"SELECT count(*) FROM {table} WHERE case_id = :id"), {"id": case_id}
            ).scalar_one()
        )


def _set_sealed(context: GatewayContext, record_id: int, sealed: bytes) -> None:
    with context.engine.begin() as connection:
        connection.execute(
            text("UPDATE idempotency_record SET response_sealed = :sealed WHERE id = :id"),
            {"sealed": sealed, "id": record_id},
        )


def _unreadable(response: Response) -> None:
    assert response.status_code == 409, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith("idempotency-record-unreadable")
    assert REPLAYED not in response.headers
    assert KEY not in response.text


def test_the_row_holds_neither_the_response_nor_the_key_and_the_retry_replays(
    client: TestClient, auth: Any, context: GatewayContext
) -> None:
    case = open_utrecht_case(client, auth)
    first = _event(client, auth, case.case_id, KEY)
    assert first.status_code == 201, first.text
    (row,) = [r for r in _raw(context) if r["operation"].startswith("record-case-event")]
    assert row["key"] == stored_key_of(context, KEY)
    assert row["response"] is None
    assert row["response_sealed"]
    for needle in (KEY, "111222333", "care-contract", "2026-01-05", first.json()["id"]):
        assert not _holds(row, needle), needle
    # The sealed value is the response, whole (the positive control of the raw read).
    assert opened_responses(context)[row["id"]] == first.json()
    # The same caller's retry is replayed, byte for byte, and records nothing twice.
    retry = _event(client, auth, case.case_id, KEY)
    assert (retry.status_code, retry.headers.get(REPLAYED)) == (201, "true")
    assert retry.content == first.content
    assert _count(context, "case_event", case.case_id) == 1
    # Another user's request with the same key is its own (not the replay).
    other = _event(client, auth, case.case_id, KEY, user="wc-2")
    assert other.status_code == 201, other.text
    assert REPLAYED not in other.headers
    assert other.json()["id"] != first.json()["id"]


def test_an_altered_sealed_response_is_409_runs_nothing_and_changes_nothing(
    client: TestClient, auth: Any, context: GatewayContext
) -> None:
    case = open_utrecht_case(client, auth)
    first = _consent(client, auth, case.case_id, KEY)
    assert first.status_code == 201, first.text
    control = _consent(client, auth, case.case_id, KEY)
    assert (control.headers.get(REPLAYED), control.content) == ("true", first.content)
    (row,) = _raw(context)
    sealed = bytearray(row["response_sealed"])
    sealed[-1] ^= 0x01
    _set_sealed(context, row["id"], bytes(sealed))
    stored = _raw(context)
    consents = _count(context, "case_consent", case.case_id)

    _unreadable(_consent(client, auth, case.case_id, KEY))

    assert _raw(context) == stored
    assert _count(context, "case_consent", case.case_id) == consents
    # The control: the same bytes put back replay again.
    _set_sealed(context, row["id"], row["response_sealed"])
    again = _consent(client, auth, case.case_id, KEY)
    assert (again.headers.get(REPLAYED), again.content) == ("true", first.content)


def test_a_sealed_response_moved_to_another_record_does_not_open(
    client: TestClient, auth: Any, context: GatewayContext
) -> None:
    case = open_utrecht_case(client, auth)
    one = _consent(client, auth, case.case_id, KEY)
    two = _consent(client, auth, case.case_id, OTHER_KEY)
    assert (one.status_code, two.status_code) == (201, 201)
    for key, first in ((KEY, one), (OTHER_KEY, two)):  # the control, before the swap
        assert _consent(client, auth, case.case_id, key).content == first.content
    a, b = _raw(context)
    _set_sealed(context, a["id"], b["response_sealed"])
    _set_sealed(context, b["id"], a["response_sealed"])
    consents = _count(context, "case_consent", case.case_id)
    for key in (KEY, OTHER_KEY):
        response = _consent(client, auth, case.case_id, key)
        assert response.status_code == 409, response.text
        assert response.json()["type"].endswith("idempotency-record-unreadable")
    assert _count(context, "case_consent", case.case_id) == consents


def test_a_record_altered_to_name_another_caller_is_not_replayed_to_it(
    client: TestClient, auth: Any, context: GatewayContext
) -> None:
    """The caller is bound into the seal: a record whose ``principal`` was rewritten to
    another user does not open for that user (nor run its request: 409)."""
    case = open_utrecht_case(client, auth)
    first = _event(client, auth, case.case_id, KEY)
    assert first.status_code == 201, first.text
    assert _event(client, auth, case.case_id, KEY).content == first.content  # control
    with context.engine.begin() as connection:
        connection.execute(text("UPDATE idempotency_record SET principal = 'woonconsulent/wc-2'"))
    _unreadable(_event(client, auth, case.case_id, KEY, user="wc-2"))
    assert _count(context, "case_event", case.case_id) == 1


def test_after_the_case_key_is_shredded_the_record_does_not_open(
    client: TestClient, auth: Any, context: GatewayContext
) -> None:
    """Sealed under the case's data key: the erasure's shred makes a record that outlived it
    unreadable (the sweep deletes them too); it is neither replayed nor run again."""
    case = open_utrecht_case(client, auth)
    first = _consent(client, auth, case.case_id, KEY)
    assert _consent(client, auth, case.case_id, KEY).content == first.content  # control
    stored = _raw(context)
    keys = context.require_keys()
    with transaction(context.session_factory) as session:
        shred_scope(session=session, keys=keys.keys, scope=case_scope(case.case_id), reason="t")
    _unreadable(_consent(client, auth, case.case_id, KEY))
    assert _raw(context) == stored


def test_while_the_key_provider_is_down_a_retry_is_503_and_runs_nothing(
    client: TestClient, auth: Any, context: GatewayContext
) -> None:
    """No key, no replay and no second run: the usual 503 (retry later), nothing stored
    changes; the control: with the KEK back the same retry is replayed."""
    case = open_utrecht_case(client, auth)
    first = _consent(client, auth, case.case_id, KEY)
    assert first.status_code == 201, first.text
    stored = _raw(context)
    consents = _count(context, "case_consent", case.case_id)
    kek = local_key_file(context.settings)
    away = kek.with_name("kek.json.away")
    kek.rename(away)
    try:
        context.require_keys().keys.clear()  # as after a failed readiness probe or the TTL
        down = _consent(client, auth, case.case_id, KEY)
    finally:
        away.rename(kek)
    assert down.status_code == 503, down.text
    assert down.json()["type"].endswith("key-provider-unavailable")
    assert REPLAYED not in down.headers
    assert _raw(context) == stored
    assert _count(context, "case_consent", case.case_id) == consents
    back = _consent(client, auth, case.case_id, KEY)
    assert (back.headers.get(REPLAYED), back.content) == ("true", first.content)


def test_a_legacy_plaintext_record_is_still_replayed(
    client: TestClient, auth: Any, context: GatewayContext
) -> None:
    """A record stored before 0049 (the key as sent, the response in plaintext) replays to
    its caller until the replay window deletes it; another body with its key is a 422."""
    case = open_utrecht_case(client, auth)
    first = _consent(client, auth, case.case_id, KEY)
    (row,) = _raw(context)
    with context.engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE idempotency_record SET key = :key, response = :response,"
                " response_sealed = NULL WHERE id = :id"
            ),
            {"key": KEY, "response": first.text, "id": row["id"]},
        )
    retry = _consent(client, auth, case.case_id, KEY)
    assert (retry.status_code, retry.headers.get(REPLAYED)) == (201, "true")
    assert retry.content == first.content
    assert len(_raw(context)) == 1
    other_body = client.post(
        f"/v1/cases/{case.case_id}/consents",
        json={"kind": "corporation-permission", "granted": False},
        headers={**auth(*MITROS, user="wc-1"), "Idempotency-Key": KEY},
    )
    assert other_body.status_code == 422, other_body.text
    assert "idempotency-key-reused" in other_body.json()["type"]


def test_migration_0049_keeps_legacy_records_replaying_and_parks_sealed_ones(
    client: TestClient, auth: Any, context: GatewayContext, database_url: str
) -> None:
    """Downgrade to 0048: a sealed record is parked (its sealed bytes in ``response``, no
    plaintext, the key's digest), and a record as the code before stored it (legacy) is made
    by hand. Upgrade: the parked one is restored as it was, the legacy one stays plaintext,
    and both replay byte for byte, creating nothing twice (a retry that spans the upgrade)."""
    case = open_utrecht_case(client, auth)
    sealed_first = _consent(client, auth, case.case_id, KEY)
    legacy_first = _consent(client, auth, case.case_id, OTHER_KEY)
    assert (sealed_first.status_code, legacy_first.status_code) == (201, 201)
    before = {row["key"]: row for row in _raw(context)}
    sealed_row = before[stored_key_of(context, KEY)]
    legacy_row = before[stored_key_of(context, OTHER_KEY)]
    plaintexts = opened_responses(context)
    context.engine.dispose()
    config = alembic_config(database_url)

    command.downgrade(config, "0048_team_consulted")

    parked = {row["id"]: row for row in _raw(context)}
    assert "response_sealed" not in parked[sealed_row["id"]]
    assert parked[sealed_row["id"]]["key"] == sealed_row["key"]
    for needle in (KEY, "corporation-permission", sealed_first.json()["id"]):
        assert not _holds(parked[sealed_row["id"]], needle), needle
    make_legacy(
        context, {legacy_row["id"]: plaintexts[legacy_row["id"]]}, {legacy_row["id"]: OTHER_KEY}
    )
    context.engine.dispose()

    command.upgrade(config, "head")

    after = {row["id"]: row for row in _raw(context)}
    assert after[sealed_row["id"]] == sealed_row  # restored: key digest, sealed, no plaintext
    legacy = after[legacy_row["id"]]
    assert (legacy["key"], legacy["response_sealed"]) == (OTHER_KEY, None)
    consents = _count(context, "case_consent", case.case_id)
    for key, first in ((KEY, sealed_first), (OTHER_KEY, legacy_first)):
        retry = _consent(client, auth, case.case_id, key)
        assert (retry.status_code, retry.headers.get(REPLAYED)) == (201, "true"), key
        assert retry.content == first.content, key
    assert _count(context, "case_consent", case.case_id) == consents
    assert len(_raw(context)) == 2


REPORT = {
    "dwelling": {
        "address": {"postcode": "3511 AB", "houseNumber": 14},
        "ownership": "corporation",
        "corporationId": "mitros",
        "district": "binnenstad",
    },
    "persons": [{"role": "causer", "bsn": "111222333"}],
    "report": {"channel": "form", "description": "Lawaai."},
}


def test_a_sealed_record_taken_below_0040_and_back_keeps_its_case_and_replays(
    client: TestClient, auth: Any, context: GatewayContext, database_url: str
) -> None:
    """A report's record names its case only in its response's ``caseId`` for migration 0040,
    which drops ``case_id`` on its way down and reads it back from the response on its way
    up. A parked response keeps the case id beside the sealed bytes (review of 0049, F2):
    without it the record came back without its case, did not open under the no-case scope
    (a 409 on the retry) and was no longer deleted with the case's dossier."""
    first = client.post(
        "/v1/reports", json=REPORT, headers={**auth(*MITROS, user="wc-1"), "Idempotency-Key": KEY}
    )
    assert first.status_code == 201, first.text
    case_id = first.json()["caseId"]
    (row,) = [r for r in _raw(context) if r["key"] == stored_key_of(context, KEY)]
    assert row["case_id"] == case_id
    context.engine.dispose()
    config = alembic_config(database_url)

    command.downgrade(config, "0039_case_dwelling_pollution")
    parked = {r["id"]: r for r in _raw(context)}[row["id"]]
    assert "case_id" not in parked
    for needle in (KEY, "Lawaai", "111222333"):
        assert not _holds(parked, needle), needle
    context.engine.dispose()
    command.upgrade(config, "head")

    after = {r["id"]: r for r in _raw(context)}[row["id"]]
    assert after == row  # its case, its digest, its sealed bytes: as it was
    retry = client.post(
        "/v1/reports", json=REPORT, headers={**auth(*MITROS, user="wc-1"), "Idempotency-Key": KEY}
    )
    assert (retry.status_code, retry.headers.get(REPLAYED)) == (201, "true")
    assert retry.content == first.content
