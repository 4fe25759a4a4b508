"""Migration 0035 clears the police investigation status and the OM's consents recorded in
the cases of a covenant where no clause depends on a police investigation (Rijswijk) before
the gateway refused them there (review3 finding 2; docs/cases.md). The control: a Utrecht
case's status, OM consent and its idempotency record stay."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from alembic import command
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient
from sqlalchemy import text

from gateway.cases.summary_readers import investigation_readers
from gateway.context import GatewayContext
from gateway.db import alembic_config
from gateway.policy.covenant import load_covenants
from tests.cases.builders import RIJSWIJK_LANDLORD, rijswijk_case_led_by_the_landlord
from tests.exchange.conftest import ANTECEDENTS, CASE_MANAGER, WIJKAGENT, open_utrecht_case

Auth = Callable[..., dict[str, str]]
BEFORE = "0034_case_file_fewer_indexes"
REVISION = "0035_clear_investigation"
AT = datetime(2026, 12, 1, 9, tzinfo=UTC)


def _om_consent_before_the_fix(context: GatewayContext, case_id: str) -> str:
    """An OM consent the Rijswijk police registered before it was refused, with the
    idempotency record of its POST, as the gateway wrote both."""
    consent_id = str(uuid.uuid4())
    with context.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO case_consent (id, case_id, kind, partner_id, granted, scope,"
                " expires_at, recorded_at, recorded_by)"
                " VALUES (:id, :case, 'om-consent', 'politie-den-haag', :granted, :scope,"
                " :expires, :at, 'politie-den-haag/wijkagent')"
            ),
            {
                "id": consent_id,
                "case": case_id,
                "granted": True,
                "scope": '["police-registrations"]',
                "expires": datetime(2099, 1, 1, tzinfo=UTC),
                "at": AT,
            },
        )
        connection.execute(
            text(
                "INSERT INTO idempotency_record (partner_id, key, operation, request_hash,"
                " status_code, response, created_at)"
                " VALUES ('politie-den-haag', :key, :operation, :hash, 201, :response, :at)"
            ),
            {
                "key": f"om-{consent_id}",
                "operation": f"record-consent:{case_id}",
                "hash": "0" * 64,
                "response": f'{{"id": "{consent_id}", "kind": "om-consent"}}',
                "at": AT,
            },
        )
        connection.execute(
            text("UPDATE case_file SET investigation_running = :running WHERE id = :case"),
            {"running": True, "case": case_id},
        )
    return consent_id


def _state(context: GatewayContext, case_id: str) -> tuple[bool | None, list[str], int]:
    """The case's status, its consents' kinds, and the stored consent responses for it."""
    with context.engine.connect() as connection:
        running = connection.execute(
            text("SELECT investigation_running FROM case_file WHERE id = :case"), {"case": case_id}
        ).scalar_one()
        kinds = sorted(
            connection.scalars(
                text("SELECT kind FROM case_consent WHERE case_id = :case"), {"case": case_id}
            )
        )
        stored = connection.execute(
            text("SELECT count(*) FROM idempotency_record WHERE operation = :operation"),
            {"operation": f"record-consent:{case_id}"},
        ).scalar_one()
    return (None if running is None else bool(running)), kinds, stored


def test_upgrade_clears_the_rijswijk_investigation_and_om_consents_and_keeps_utrecht_s(
    client: TestClient, auth: Auth, context: GatewayContext, database_url: str
) -> None:
    rijswijk = rijswijk_case_led_by_the_landlord(client, auth, team=("politie-den-haag",))
    utrecht = open_utrecht_case(client, auth)
    utrecht.investigation(True)
    consent = client.post(
        f"/v1/cases/{utrecht.case_id}/consents",
        json={"kind": "om-consent", "scope": [ANTECEDENTS], "expiresAt": "2099-01-01T00:00:00Z"},
        headers={**auth(*WIJKAGENT), "Idempotency-Key": "utrecht-om-consent"},
    )
    assert consent.status_code == 201, consent.text
    rijswijk_kinds = _state(context, rijswijk)[1]
    assert "om-consent" not in rijswijk_kinds
    utrecht_before = _state(context, utrecht.case_id)
    assert utrecht_before[0] is True
    assert "om-consent" in utrecht_before[1]
    assert utrecht_before[2] == 1

    context.engine.dispose()
    config = alembic_config(database_url)
    command.downgrade(config, BEFORE)
    _om_consent_before_the_fix(context, rijswijk)
    assert _state(context, rijswijk) == (True, sorted([*rijswijk_kinds, "om-consent"]), 1)
    context.engine.dispose()

    command.upgrade(config, "head")

    assert _state(context, rijswijk) == (None, rijswijk_kinds, 0)
    assert _state(context, utrecht.case_id) == utrecht_before
    # The cases read as before: the lead and the police of each, nothing left to show.
    police = client.get(f"/v1/cases/{rijswijk}", headers=auth("politie-den-haag", "wijkagent"))
    assert police.status_code == 200, police.text
    assert police.json()["investigationRunning"] is None
    assert [c["kind"] for c in police.json()["consents"]].count("om-consent") == 0
    landlord = client.get(f"/v1/cases/{rijswijk}", headers=auth(*RIJSWIJK_LANDLORD))
    assert landlord.status_code == 200, landlord.text
    manager = client.get(f"/v1/cases/{utrecht.case_id}", headers=auth(*CASE_MANAGER)).json()
    assert manager["investigationRunning"] is True
    assert [c["kind"] for c in manager["consents"]].count("om-consent") == 1


def test_the_migration_names_the_covenants_the_gateway_s_rule_gave_when_it_was_written() -> None:
    """The migration names its covenants rather than reading the covenant files (its
    docstring says why). On the packaged covenants of 6 December 2026 they are exactly those
    without a clause conditioned on the investigation. Should a later covenant change this,
    the migration stays as it was: this test then records the day's rule, and goes."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://")).get_revision(REVISION)
    assert script is not None
    named = set(script.module.COVENANTS_WITHOUT_INVESTIGATION)
    without = {c.id for c in load_covenants().values() if not investigation_readers(c)}
    assert named == without == {"rijswijk-woonoverlast"}
