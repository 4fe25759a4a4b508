"""An erased case's stored idempotent responses go with its dossier.

A stored response holds the case's data (sealed since migration 0049, in plaintext before;
gateway/core/idempotency.py lists it per route: an OM consent's kind and scope, the
landlord's measure, the policy's reasons).
The sweep deleted a record only after the replay window, so an erased case's responses
outlived the erasure by up to 7 days. Now each record names its case (migration 0040) and
the erasure deletes them in its transaction; the control: a case the sweep leaves alone (on
legal hold) keeps its records, and they still replay. Both backends (the PostgreSQL bulk
path and the SQLite path). Migration 0040 gives the records stored before it their case and
deletes those of cases erased before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from gateway.context import GatewayContext
from gateway.core.models import IdempotencyRecord
from gateway.db import alembic_config
from tests.core.idempotency_records import make_legacy, names_by_stored_key, opened_responses
from tests.exchange.conftest import (
    CASE_MANAGER,
    MITROS,
    POLICE,
    REPORTS,
    WIJKAGENT,
    UtrechtCase,
    open_utrecht_case,
)
from tests.retention.test_erased_assessment import _erase

REPLAYED = "Idempotent-Replayed"


def _report(
    client: TestClient, auth: Any, house: int, bsn: str, key: str, who: Any = MITROS
) -> Any:
    return client.post(
        "/v1/reports",
        json={
            "dwelling": {
                "address": {"postcode": "3511 AB", "houseNumber": house},
                "ownership": "corporation",
                "corporationId": "mitros",
                "district": "binnenstad",
            },
            "persons": [{"role": "causer", "bsn": bsn}],
            "report": {"channel": "form", "description": "Nachtelijk lawaai."},
        },
        headers={**auth(*who), "Idempotency-Key": key},
    )


def _post(case: UtrechtCase, path: str, body: dict[str, Any], who: Any, key: str) -> Any:
    response = case.client.post(path, json=body, headers={**case.as_(*who), "Idempotency-Key": key})
    assert response.status_code in (200, 201), response.text
    return response


def _case_with_every_kind_of_record(client: TestClient, auth: Any, prefix: str) -> UtrechtCase:
    """A case with a stored response of each per-case route, keys ``<prefix>-<route>``."""
    case = open_utrecht_case(client, auth)
    joined = _report(client, auth, 12, "111222333", f"{prefix}-report")
    assert joined.json()["caseId"] == case.case_id, joined.text
    case.to_execution()
    case.investigation(True)
    consents = f"/v1/cases/{case.case_id}/consents"
    om = {"kind": "om-consent", "scope": [REPORTS], "expiresAt": "2099-01-01T00:00:00Z"}
    _post(case, consents, om, (WIJKAGENT,), f"{prefix}-consent")
    event = {"event": "care-contract", "occurredOn": "2026-01-05"}
    _post(case, f"/v1/cases/{case.case_id}/events", event, (MITROS,), f"{prefix}-event")
    asked = _post(
        case,
        "/v1/information-requests",
        {"caseId": case.case_id, "purpose": "case-handling", "categories": [REPORTS]},
        (CASE_MANAGER, "cm-1"),
        f"{prefix}-request",
    ).json()
    answer = {"answers": [{"category": REPORTS, "value": "2 meldingen"}]}
    path = f"/v1/information-requests/{asked['id']}/answers"
    _post(case, path, answer, (POLICE,), f"{prefix}-answer")
    fact = {"caseId": case.case_id, "category": "neighbourhood-team-known", "yesNo": True}
    case.client.post(
        f"/v1/cases/{case.case_id}/team",
        json={"partnerId": "buurtteam-sociaal"},
        headers=case.as_(CASE_MANAGER),
    )
    _post(case, "/v1/case-facts", fact, (("buurtteam-sociaal", "adapter"),), f"{prefix}-fact")
    return case


ROUTES = ("report", "consent", "event", "request", "answer", "fact")


#: Every Idempotency-Key this module sends.
KEYS = [
    *(f"erased-{route}" for route in ROUTES),
    "kept-report",
    "kept-consent",
    "waiting-report",
    "waiting-erased",
    "waiting-kept",
]


def _records(context: GatewayContext) -> dict[str, tuple[str | None, str]]:
    """Every record: key -> (its case, its stored response as text). A record stores its
    key's digest (a legacy one the key as sent) and its response sealed (a legacy one in
    plaintext): both read back."""
    names = names_by_stored_key(context, KEYS)
    responses = opened_responses(context)
    with context.session_factory() as session:
        return {
            names[r.key]: (r.case_id, str(responses[r.id]))
            for r in session.scalars(select(IdempotencyRecord))
        }


def _as_legacy(context: GatewayContext) -> Callable[[], None]:
    """Read every record before a downgrade below 0049; what makes them the legacy records
    the code before stored (the key as sent, the response in plaintext) after it."""
    names = names_by_stored_key(context, KEYS)
    responses = opened_responses(context)
    with context.session_factory() as session:
        keys = {r.id: names[r.key] for r in session.scalars(select(IdempotencyRecord))}
    return lambda: make_legacy(context, responses, keys)


def _other_case(client: TestClient, auth: Any) -> UtrechtCase:
    """Another case (another dwelling and causer), on legal hold: the sweep leaves it."""
    opened = _report(client, auth, 14, "123456782", "kept-report")
    assert opened.status_code == 201, opened.text
    case = UtrechtCase(client=client, auth=auth, case_id=opened.json()["caseId"])
    permission = {"kind": "corporation-permission"}
    _post(case, f"/v1/cases/{case.case_id}/consents", permission, (MITROS,), "kept-consent")
    held = client.post(
        f"/v1/cases/{case.case_id}/retention/legal-hold",
        json={"reason": "Rechtszaak loopt"},
        headers=auth(*CASE_MANAGER),
    )
    assert held.status_code == 201, held.text
    return case


def test_every_per_case_record_names_its_case(
    client: TestClient, auth: Any, context: GatewayContext
) -> None:
    case = _case_with_every_kind_of_record(client, auth, "erased")
    stored = _records(context)
    assert {route: stored[f"erased-{route}"][0] for route in ROUTES} == dict.fromkeys(
        ROUTES, case.case_id
    )


def test_the_erasure_deletes_the_cases_records_and_keeps_another_cases(
    client: TestClient, auth: Any, context: GatewayContext
) -> None:
    erased = _case_with_every_kind_of_record(client, auth, "erased")
    kept = _other_case(client, auth)
    before = _records(context)
    assert "om-consent" in before["erased-consent"][1]  # the plaintext the erasure must take
    assert "care-contract" in before["erased-event"][1]

    _erase(context, erased.case_id)

    after = _records(context)
    gone = [key for key in after if key.startswith("erased-")]
    assert gone == [], gone
    assert not [key for key, (_, response) in after.items() if erased.case_id in response]
    # Control: the case the sweep left keeps its records, and a retry still replays.
    assert {key: case for key, (case, _) in after.items()} == {
        "kept-report": kept.case_id,
        "kept-consent": kept.case_id,
    }
    replay = client.post(
        f"/v1/cases/{kept.case_id}/consents",
        json={"kind": "corporation-permission"},
        headers={**auth(*MITROS), "Idempotency-Key": "kept-consent"},
    )
    assert replay.status_code == 201, replay.text
    assert replay.headers.get(REPLAYED) == "true"


def test_migration_0040_names_the_stored_records_cases_and_deletes_the_erased_ones(
    client: TestClient, auth: Any, context: GatewayContext, database_url: str
) -> None:
    """Records stored before 0040 get their case from the path, the response or the
    answered request; those of a case erased before are deleted; a report waiting for the
    lead (no case) keeps none."""
    erased = _case_with_every_kind_of_record(client, auth, "erased")
    kept = _other_case(client, auth)
    waiting = _report(client, auth, 16, "222333443", "waiting-report")
    assert waiting.status_code in (200, 201), waiting.text
    before = _records(context)
    legacy = _as_legacy(context)
    context.engine.dispose()
    config = alembic_config(database_url)
    command.downgrade(config, "0039_case_dwelling_pollution")
    legacy()
    with context.engine.begin() as connection:
        connection.execute(
            text("UPDATE case_file SET erased_at = CURRENT_TIMESTAMP WHERE id = :id"),
            {"id": erased.case_id},
        )
    context.engine.dispose()

    command.upgrade(config, "head")

    after = _records(context)
    assert not [key for key in after if key.startswith("erased-")]
    expected = {key: case for key, (case, _) in before.items() if not key.startswith("erased-")}
    assert {key: case for key, (case, _) in after.items()} == expected
    assert expected["kept-consent"] == kept.case_id
    assert expected["waiting-report"] == waiting.json()["caseId"]


# -- a report that waits for the lead (review7b finding 2) ---------------------------------

OUTSIDER = ("gemeente-utrecht", "gebiedsmanager")  # not in the Utrecht case's team


def test_a_waiting_report_s_record_goes_with_the_dossier_it_joined(
    client: TestClient, auth: Any, context: GatewayContext
) -> None:
    """Its answer names no case, but "created: false, awaitingLead: true" says a dossier
    exists: the record names the dossier it joined, the erasure deletes it, and a retry
    with its key is a new request (no replay of a dossier that is gone). Control: the same
    of a case the sweep leaves (legal hold) stays and still replays."""
    erased = open_utrecht_case(client, auth)
    kept = _other_case(client, auth)
    waiting = _report(client, auth, 12, "111222333", "waiting-erased", who=OUTSIDER)
    assert waiting.status_code == 202, waiting.text
    assert (waiting.json()["caseId"], waiting.json()["awaitingLead"]) == (None, True)
    held = _report(client, auth, 14, "123456782", "waiting-kept", who=OUTSIDER)
    assert held.status_code == 202, held.text
    stored = _records(context)
    assert stored["waiting-erased"][0] == erased.case_id
    assert stored["waiting-kept"][0] == kept.case_id

    _erase(context, erased.case_id)

    after = _records(context)
    assert "waiting-erased" not in after
    assert after["waiting-kept"][0] == kept.case_id
    retry = _report(client, auth, 12, "111222333", "waiting-erased", who=OUTSIDER)
    assert retry.headers.get(REPLAYED) is None
    assert retry.status_code == 201, retry.text  # the dossier is gone: a new case
    assert retry.json()["created"] is True
    again = _report(client, auth, 14, "123456782", "waiting-kept", who=OUTSIDER)
    assert again.status_code == 202, again.text
    assert again.headers.get(REPLAYED) == "true"
    assert again.json() == held.json()


def test_migration_0044_names_the_stored_waiting_reports_cases(
    client: TestClient, auth: Any, context: GatewayContext, database_url: str
) -> None:
    """Waiting reports' records stored before (``case_id`` NULL, as 0040 and the route left
    them) get the dossier they joined, by the response's reportId; those of a case erased
    before are deleted; a record of another route is left as it was."""
    erased = open_utrecht_case(client, auth)
    kept = _other_case(client, auth)
    assert _report(client, auth, 12, "111222333", "waiting-erased", who=OUTSIDER).status_code == 202
    assert _report(client, auth, 14, "123456782", "waiting-kept", who=OUTSIDER).status_code == 202
    before = _records(context)
    legacy = _as_legacy(context)
    context.engine.dispose()
    config = alembic_config(database_url)
    command.downgrade(config, "0043_case_report_registered")
    legacy()
    with context.engine.begin() as connection:
        connection.execute(
            text("UPDATE idempotency_record SET case_id = NULL WHERE key LIKE 'waiting-%'")
        )
        connection.execute(
            text("UPDATE case_file SET erased_at = CURRENT_TIMESTAMP WHERE id = :id"),
            {"id": erased.case_id},
        )
    context.engine.dispose()

    command.upgrade(config, "head")

    after = _records(context)
    assert "waiting-erased" not in after
    assert after["waiting-kept"][0] == kept.case_id
    assert {key: case for key, (case, _) in after.items()} == {
        key: case for key, (case, _) in before.items() if key != "waiting-erased"
    }
