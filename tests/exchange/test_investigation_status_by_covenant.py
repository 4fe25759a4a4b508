"""Whether a police investigation runs is shown to a case lead only when a clause of its
covenant that depends on the investigation names the lead's role (U §5.3: the case manager
asks for the antecedents, which need the OM's consent while one runs), and recorded only in
a covenant that has such a clause.

Rijswijk has none, and there a housing corporation can lead a case about its own tenant: it
was shown ``investigationRunning`` (and the OM's consents) as the lead (review3, finding 2).
The positive control is Utrecht, where the police record it and U Centraal's case manager,
the lead, reads it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from gateway.context import GatewayContext
from tests.cases.builders import (
    RIJSWIJK_LANDLORD,
    audit_activities,
    rijswijk_case_led_by_the_landlord,
)
from tests.exchange.conftest import CASE_MANAGER, MITROS, WIJKAGENT, UtrechtCase

Auth = Callable[..., dict[str, str]]
LANDLORD = RIJSWIJK_LANDLORD
LANDLORD_SYSTEM = ("rijswijk-wonen", "adapter")
POLICE = ("politie-den-haag", "wijkagent")
WIJKTEAM = ("sociaal-wijkteam-rijswijk", "buurtteam-medewerker")
INVESTIGATION = ["investigationRunning", "omConsents"]


def _rijswijk_case_led_by_the_landlord(client: TestClient, auth: Auth) -> str:
    """The causer's landlord files the report, so it leads the case (R §3.2.2, workflow
    ``lead: source-partner``), and adds the police and the neighbourhood team."""
    return rijswijk_case_led_by_the_landlord(
        client, auth, team=("politie-den-haag", "sociaal-wijkteam-rijswijk")
    )


def _summary(client: TestClient, auth: Auth, case_id: str, who: tuple[str, str]) -> Any:
    response = client.get(f"/v1/cases/{case_id}", headers=auth(*who))
    assert response.status_code == 200, response.text
    return response.json()


def test_rijswijk_police_cannot_record_an_investigation_no_clause_depends_on(
    exchange_client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    case_id = _rijswijk_case_led_by_the_landlord(exchange_client, auth)
    before = audit_activities(context)
    for running in (True, False, None):
        refused = exchange_client.put(
            f"/v1/cases/{case_id}/investigation-status",
            json={"running": running},
            headers=auth(*POLICE),
        )
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["type"].endswith("/not-in-covenant")
    assert audit_activities(context) == before  # nothing recorded, nothing audited
    # Who asks is checked first: a corporation is told that only the police record it.
    other = exchange_client.put(
        f"/v1/cases/{case_id}/investigation-status", json={"running": True}, headers=auth(*LANDLORD)
    )
    assert other.status_code == 403, other.text
    # The corporation that leads is not told about it either.
    summary = _summary(exchange_client, auth, case_id, LANDLORD)
    assert summary["leadPartnerId"] == "rijswijk-wonen"
    assert summary["investigationRunning"] is None
    assert "investigationRunning" in summary["withheld"]


def test_rijswijk_corporation_lead_is_not_shown_a_status_recorded_before(
    exchange_client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    """A status the police recorded before the refusal stays in the case row: the summary
    shows it to the police that recorded it, not to the corporation that leads."""
    from gateway.cases.models import CaseFile

    case_id = _rijswijk_case_led_by_the_landlord(exchange_client, auth)
    with context.session_factory() as session, session.begin():
        session.get_one(CaseFile, case_id).investigation_running = True
    for lead in (LANDLORD, LANDLORD_SYSTEM):
        summary = _summary(exchange_client, auth, case_id, lead)
        assert summary["leadPartnerId"] == "rijswijk-wonen"
        assert summary["investigationRunning"] is None, lead
        assert set(INVESTIGATION) <= set(summary["withheld"]), lead
        # The lead still reads its own assessment (only the investigation is not its own).
        assert "criteria" not in summary["withheld"], lead
    team_member = _summary(exchange_client, auth, case_id, WIJKTEAM)
    assert team_member["investigationRunning"] is None
    assert "investigationRunning" in team_member["withheld"]
    police = _summary(exchange_client, auth, case_id, POLICE)
    assert police["investigationRunning"] is True
    assert "investigationRunning" not in police["withheld"]


def test_utrecht_police_record_it_and_the_case_manager_who_leads_reads_it(
    utrecht_case: UtrechtCase,
) -> None:
    """The positive control: U-5.3-antecedenten (om-consent-if-investigation) names the case
    manager, and U Centraal leads (U §5.1)."""
    utrecht_case.investigation(True)  # the police, 200
    utrecht_case.om_consent()
    for who in (CASE_MANAGER, ("u-centraal", "adapter"), WIJKAGENT):
        summary = utrecht_case.client.get(
            f"/v1/cases/{utrecht_case.case_id}", headers=utrecht_case.as_(who)
        ).json()
        assert summary["investigationRunning"] is True, who
        assert not set(INVESTIGATION) & set(summary["withheld"]), who
        assert [c["kind"] for c in summary["consents"]].count("om-consent") == 1, who
    mitros = utrecht_case.client.get(
        f"/v1/cases/{utrecht_case.case_id}", headers=utrecht_case.as_(MITROS)
    ).json()
    assert mitros["investigationRunning"] is None
    assert set(INVESTIGATION) <= set(mitros["withheld"])
