"""The retention sweep deletes idempotency records past their replay window.

A record keeps a POST's first response and a keyed fingerprint of its body (an intake
body holds a BSN and an address). Before, nothing ever deleted one: the fingerprints of
every report ever made outlived the dossiers they were about (storage limitation, AVG art.
5(1)(e)). Now the sweep deletes those older than ``KETENPOORT_IDEMPOTENCY_REPLAY_HOURS``
(default 7 days); a record within the window still replays (the control).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from gateway.context import GatewayContext
from gateway.core.models import IdempotencyRecord
from gateway.db import transaction, utcnow
from tests.core.idempotency_records import stored_key_of
from tests.exchange.conftest import CASE_MANAGER, MITROS, open_utrecht_case

REPLAYED = "Idempotent-Replayed"


def _consent(client: TestClient, auth: Any, case_id: str, key: str) -> Any:
    return client.post(
        f"/v1/cases/{case_id}/consents",
        headers={**auth(*MITROS), "Idempotency-Key": key},
        json={"kind": "corporation-permission"},
    )


def _aged(context: GatewayContext, key: str, age: timedelta) -> None:
    with transaction(context.session_factory) as session:
        session.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.key == stored_key_of(context, key))
            .values(created_at=utcnow() - age)
        )


def _keys(context: GatewayContext) -> set[str]:
    """The Idempotency-Keys of the stored records (each stored as its keyed digest)."""
    with context.session_factory() as session:
        stored = set(session.scalars(select(IdempotencyRecord.key)))
    sent = ("consent-key-old", "consent-key-new", "consent-key-dry")
    return {key for key in sent if stored_key_of(context, key) in stored}


def test_the_sweep_deletes_records_past_the_replay_window(
    client: TestClient, auth: Any, context: GatewayContext
) -> None:
    case = open_utrecht_case(client, auth)
    for key in ("consent-key-old", "consent-key-new"):
        assert _consent(client, auth, case.case_id, key).status_code == 201
    _aged(context, "consent-key-old", timedelta(days=7, minutes=1))
    _aged(context, "consent-key-new", timedelta(days=6, hours=23))
    report = context.require_retention().sweep()
    assert report.idempotency_purged >= 1
    kept = _keys(context)
    assert "consent-key-old" not in kept
    assert "consent-key-new" in kept
    # Within the window a retry is still replayed (the control) ...
    again = _consent(client, auth, case.case_id, "consent-key-new")
    assert (again.status_code, again.headers.get(REPLAYED)) == (201, "true"), again.text
    # ... after it, the same key is a new request.
    late = _consent(client, auth, case.case_id, "consent-key-old")
    assert late.status_code == 201, late.text
    assert REPLAYED not in late.headers
    summary = client.get(f"/v1/cases/{case.case_id}", headers=auth(*CASE_MANAGER)).json()
    assert len([c for c in summary["consents"] if c["kind"] == "corporation-permission"]) >= 2


def test_a_dry_run_deletes_none(client: TestClient, auth: Any, context: GatewayContext) -> None:
    case = open_utrecht_case(client, auth)
    assert _consent(client, auth, case.case_id, "consent-key-dry").status_code == 201
    _aged(context, "consent-key-dry", timedelta(days=30))
    assert context.require_retention().sweep(dry_run=True).idempotency_purged == 0
    assert "consent-key-dry" in _keys(context)
