"""An erased case shows no OM consent and no landlord's measure (review5b P2).

Review4 F4 cleared the investigation status with the dossier (docs/cases.md: an erased case
shows none of its assessment). An OM consent tells the same fact ("an OM consent on file
(its scope and expiry too) says that an investigation runs or ran: it goes with
investigationRunning"), and the landlord's measures include "wonen met een zorgcontract",
which "also tells a care need". Neither ``case_consent`` nor ``case_event`` was touched by the
sweep, so after the erasure the lead still read the OM consent (scope, expiry) and the care
contract (``occurredOn``) in ``GET /v1/cases/{id}`` and on ``/zaken/{id}``; the notices that
told of a measure (``event:<kind>``) stayed too. Now the tables are marked
``erasure_delete`` (gateway/retention/targets.py) and the sweep deletes the case's rows on
both backends; migration 0037 deletes those of cases erased before.

The probe is review5b's (tests/review5b/test_p2_erased_case_keeps_om_consent_and_events.py on
branch review5b), with its control.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from alembic import command
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from gateway.context import GatewayContext
from gateway.db import alembic_config
from gateway.retention.targets import discover_deletions, discover_targets
from tests.exchange.conftest import CASE_MANAGER, MITROS, UtrechtCase, open_utrecht_case
from tests.retention.conftest import seed_case
from tests.retention.test_erased_assessment import _erase
from tests.web.conftest import sign_in

DELETED = ("case_consent", "case_event", "case_notice")
AT = datetime(2024, 1, 2, 9, tzinfo=UTC)


@pytest.fixture
def browser(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as client:
        yield client


def _case_with_om_consent_and_care_contract(client: TestClient, auth: Any) -> UtrechtCase:
    case = open_utrecht_case(client, auth)
    case.to_execution()
    case.investigation(True)
    case.om_consent()
    recorded = client.post(
        f"/v1/cases/{case.case_id}/events",
        json={"event": "care-contract", "occurredOn": "2026-01-05"},
        headers=case.as_(MITROS),
    )
    assert recorded.status_code in (200, 201), recorded.text
    return case


def _summary(case: UtrechtCase) -> dict[str, Any]:
    response = case.client.get(f"/v1/cases/{case.case_id}", headers=case.as_(CASE_MANAGER))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _om(seen: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in seen["consents"] if c["kind"] == "om-consent"]


def test_control_before_erasure_the_lead_reads_the_om_consent_and_the_measure(
    browser: TestClient, auth: Any
) -> None:
    case = _case_with_om_consent_and_care_contract(browser, auth)
    seen = _summary(case)
    assert seen["investigationRunning"] is True
    assert _om(seen), seen["consents"]
    assert [e["event"] for e in seen["events"]] == ["care-contract"]
    sign_in(browser, *CASE_MANAGER)
    page = browser.get(f"/zaken/{case.case_id}").text
    assert "zorgcontract" in page
    assert "police-nuisance-antecedents" in page


def test_the_erased_case_shows_no_om_consent_and_no_measure(
    browser: TestClient, auth: Any, context: GatewayContext
) -> None:
    """Failed before (main at 3201cbe): investigationRunning was null, but the OM consent
    (scope, expiry) and the care contract (since 2026-01-05) were still listed, in the API
    and on the page."""
    case = _case_with_om_consent_and_care_contract(browser, auth)
    _erase(context, case.case_id)
    seen = _summary(case)
    assert seen["erased"] is True
    assert seen["investigationRunning"] is None  # review4 F4's fix holds
    sign_in(browser, *CASE_MANAGER)
    page = browser.get(f"/zaken/{case.case_id}").text
    leaks = {
        "consents (API)": seen["consents"],
        "events (API)": seen["events"],
        "notices (API)": seen["notices"],
        "OM consent on the page": "police-nuisance-antecedents" in page,
        "care contract on the page": "zorgcontract" in page,
    }
    assert not any(leaks.values()), leaks
    assert "met het dossier gewist" in page


def _rows(context: GatewayContext, case_id: str) -> dict[str, int]:
    with context.engine.connect() as connection:
        return {
            table: connection.execute(
                text(f"SELECT count(*) FROM {table} WHERE case_id = :case"), {"case": case_id}
            ).scalar_one()
            for table in DELETED
        }


def _consent_event_and_notice(context: GatewayContext, case_id: str) -> None:
    """One row of each table, as the cases domain writes them (a notice of an event)."""
    event_id = str(uuid.uuid4())
    with context.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO case_consent (id, case_id, kind, partner_id, granted, scope,"
                " expires_at, recorded_at, recorded_by) VALUES (:id, :case, 'om-consent',"
                " 'politie-den-haag', :granted, :scope, :at, :at, 'politie-den-haag/wijkagent')"
            ),
            {
                "id": str(uuid.uuid4()),
                "case": case_id,
                "granted": True,
                "scope": '["police-registrations"]',
                "at": AT,
            },
        )
        connection.execute(
            text(
                "INSERT INTO case_event (id, case_id, kind, partner_id, occurred_on,"
                " recorded_at, recorded_by) VALUES (:id, :case, 'care-contract',"
                " 'rijswijk-wonen', :on, :at, 'rijswijk-wonen/woonconsulent')"
            ),
            {"id": event_id, "case": case_id, "on": date(2024, 1, 1), "at": AT},
        )
        connection.execute(
            text(
                "INSERT INTO case_notice (id, case_id, partner_id, subject, about_id,"
                " from_partner_id, created_at) VALUES (:id, :case, 'gemeente-rijswijk',"
                " 'event:care-contract', :about, 'rijswijk-wonen', :at)"
            ),
            {"id": str(uuid.uuid4()), "case": case_id, "about": event_id, "at": AT},
        )


def test_the_sweep_deletes_the_erased_case_s_rows_and_keeps_another_case_s(
    context: GatewayContext,
) -> None:
    """On both backends (the PostgreSQL bulk path and the SQLite path); the control: a case
    not yet due keeps its rows."""
    # R-3.4-licht-bemiddeld: the first is due a year after its mediation, the second not yet.
    erased = seed_case(context, facts=[("mediation-ended", date(2024, 3, 1), "solved")])
    kept = seed_case(context, facts=[("mediation-ended", date(2024, 9, 1), "solved")])
    for case in (erased, kept):
        _consent_event_and_notice(context, case.case_id)
    assert context.require_retention().sweep(as_of=date(2025, 3, 10)).redacted == 1
    assert _rows(context, erased.case_id) == dict.fromkeys(DELETED, 0)
    assert _rows(context, kept.case_id) == dict.fromkeys(DELETED, 1)


def test_a_dry_run_deletes_nothing_and_counts_no_deleted_rows(context: GatewayContext) -> None:
    """The dry run changes nothing; its counts (as the tombstone's) leave the deleted tables
    out: their number would tell what the summary withholds (an OM consent, a measure)."""
    erased = seed_case(context, facts=[("mediation-ended", date(2024, 3, 1), "solved")])
    _consent_event_and_notice(context, erased.case_id)
    report = context.require_retention().sweep(as_of=date(2025, 3, 10), dry_run=True)
    (item,) = [i for i in report.items if i.case_id == erased.case_id]
    assert not set(item.values) & set(DELETED), item.values
    assert _rows(context, erased.case_id) == dict.fromkeys(DELETED, 1)


def test_the_sweep_finds_the_deleted_tables_by_their_marker(context: GatewayContext) -> None:
    """One source of truth: the tables say what the sweep deletes; none of them is a record
    of the records list (their rows would be listed and counted to every reader)."""
    with context.engine.connect() as connection:
        deleted = {t.name for t in discover_deletions(connection)}
        targets = {t.name for t in discover_targets(connection)}
    # The idempotency records of an erased case too (test_erased_idempotency.py).
    assert deleted == {*DELETED, "idempotency_record"}
    assert not deleted & targets


def test_migration_0037_deletes_the_rows_of_cases_erased_before(
    context: GatewayContext, database_url: str
) -> None:
    erased = seed_case(context).case_id
    kept = seed_case(context).case_id
    context.engine.dispose()
    config = alembic_config(database_url)
    command.downgrade(config, "0036_erased_assessment_cleared")
    for case_id in (erased, kept):
        _consent_event_and_notice(context, case_id)
    with context.engine.begin() as connection:
        connection.execute(
            text("UPDATE case_file SET erased_at = :at WHERE id = :id"),
            {"at": datetime(2025, 3, 10, tzinfo=UTC), "id": erased},
        )
    context.engine.dispose()

    command.upgrade(config, "head")

    assert _rows(context, erased) == dict.fromkeys(DELETED, 0)
    assert _rows(context, kept) == dict.fromkeys(DELETED, 1)
