"""The dwelling's landlord is the first report's word until the lead corrects it (review3,
finding 3): a corporation that names itself as the landlord of a dwelling it does not let
gets what the landlord gets (the sfeerverslag, U §5.3 "de verhuurder"; recording the
landlord's events; in Utrecht the permission it gave itself by reporting, U §5.2). Nothing in
the gateway can check the claim, so the lead corrects it (``PUT
/v1/cases/{caseId}/dwelling/landlord``), audited; from then on the false claimant gets
nothing of it and its permission no longer counts, and the real landlord gets what a landlord
gets. Each refusal is next to the same request allowed."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from gateway.audit.models import AuditRecord
from gateway.context import GatewayContext
from tests.cases.builders import audit_activities
from tests.exchange.conftest import CASE_MANAGER, MITROS, WIJKAGENT, Auth, UtrechtCase
from tests.exchange.test_sfeerverslag_and_case_events import _ask

PORTAAL = ("portaal", "woonconsulent")
EVICTION = {"event": "eviction-procedure", "occurredOn": "2025-03-01"}
TO_MITROS = {"ownership": "corporation", "corporationId": "mitros"}
CAUSER_BSN = "111222333"
POSTCODE = "3581 KK"


def _claimed_by_portaal(client: TestClient, auth: Auth) -> UtrechtCase:
    """Portaal reports Mitros's dwelling and names itself as its corporation."""
    report = client.post(
        "/v1/reports",
        json={
            "dwelling": {
                "address": {"postcode": POSTCODE, "houseNumber": 7},
                "ownership": "corporation",
                "corporationId": "portaal",
                "district": "binnenstad",
            },
            "persons": [{"role": "causer", "bsn": CAUSER_BSN, "name": "Jan Testpersoon"}],
            "report": {"channel": "form", "description": "Nachtelijk lawaai."},
        },
        headers=auth(*PORTAAL),
    )
    assert report.status_code == 201, report.text
    case = UtrechtCase(client=client, auth=auth, case_id=report.json()["caseId"])
    police = _post(case, "team", {"partnerId": "politie-midden-nederland"}, CASE_MANAGER)
    assert police.status_code in (200, 201), police.text
    return case


def _post(case: UtrechtCase, path: str, body: Any, who: tuple[str, str]) -> Any:
    return case.client.post(f"/v1/cases/{case.case_id}/{path}", json=body, headers=case.as_(who))


def _correct(case: UtrechtCase, body: Any, who: tuple[str, str] = CASE_MANAGER) -> Any:
    return case.client.put(
        f"/v1/cases/{case.case_id}/dwelling/landlord", json=body, headers=case.as_(who)
    )


def _summary(case: UtrechtCase) -> dict[str, Any]:
    response = case.client.get(f"/v1/cases/{case.case_id}", headers=case.as_(CASE_MANAGER))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _permissions(case: UtrechtCase) -> list[tuple[str, bool]]:
    return [
        (c["partnerId"], c["live"])
        for c in _summary(case)["consents"]
        if c["kind"] == "corporation-permission"
    ]


def test_after_the_leads_correction_the_false_claimant_gets_nothing_of_the_landlords(
    exchange_client: TestClient, auth: Auth
) -> None:
    case = _claimed_by_portaal(exchange_client, auth)
    assert _permissions(case) == [("portaal", True)]  # U §5.2: given by reporting
    case.to_execution()
    # What the claim gives before the correction: the landlord's events and the sfeerverslag.
    assert _post(case, "events", EVICTION, PORTAAL).status_code == 201
    assert _ask(case, PORTAAL)["state"] == "asked"
    # The real landlord is not in the case: it cannot give its permission.
    assert _post(case, "consents", {"kind": "corporation-permission"}, MITROS).status_code == 404

    corrected = _correct(case, TO_MITROS)
    assert corrected.status_code == 200, corrected.text
    assert corrected.json() == TO_MITROS

    summary = _summary(case)
    assert summary["corporationId"] == "mitros"
    assert "mitros" in summary["team"]
    assert "portaal" in summary["team"]  # it filed the report: it stays as the reporter
    assert _permissions(case) == [("portaal", False)]  # withdrawn, and no longer counts
    (claimed,) = [c for c in summary["consents"] if c["partnerId"] == "portaal"]
    assert claimed["withdrawnAt"] is not None
    refused = _ask(case, PORTAAL)
    assert refused["state"] == "denied"
    assert "not-dwelling-landlord" in refused["reasons"]
    not_landlord = _post(case, "events", EVICTION, PORTAAL)
    assert not_landlord.status_code == 403, not_landlord.text
    assert not_landlord.headers["content-type"].startswith("application/problem+json")
    # Positive control: Mitros, the landlord now, gets what a landlord gets.
    permission = _post(case, "consents", {"kind": "corporation-permission"}, MITROS)
    assert permission.status_code == 201, permission.text
    assert _permissions(case) == [("portaal", False), ("mitros", True)]
    # Portaal's eviction procedure was not the landlord's: it unlocks nothing, for the
    # landlord or the lead, until the landlord records its own.
    for who in (MITROS, CASE_MANAGER):
        waiting = _ask(case, who)
        assert waiting["state"] == "denied", who
        assert "event-not-recorded:eviction-procedure" in waiting["reasons"], who
    assert _post(case, "events", EVICTION, MITROS).status_code == 201
    assert _ask(case, MITROS)["state"] == "asked"
    assert _ask(case, CASE_MANAGER)["state"] == "asked"


def test_only_the_lead_corrects_the_landlord(
    exchange_client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    case = _claimed_by_portaal(exchange_client, auth)
    # In the team but not the lead: 403; outside the team: the case is not there (404).
    for who, status in (
        (PORTAAL, 403),
        (WIJKAGENT, 403),
        (("u-centraal", "privacy-officer"), 403),
        (MITROS, 404),
    ):
        refused = _correct(case, TO_MITROS, who)
        assert refused.status_code == status, (who, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
    assert _summary(case)["corporationId"] == "portaal"
    assert _permissions(case) == [("portaal", True)]
    assert "case-landlord-change" not in audit_activities(context, case.case_id)
    # Positive control: the same request by the lead.
    assert _correct(case, TO_MITROS).status_code == 200
    assert _summary(case)["corporationId"] == "mitros"


def test_the_landlord_is_a_corporation_of_the_covenant_or_none(
    exchange_client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    case = _claimed_by_portaal(exchange_client, auth)
    for body in (
        {"ownership": "corporation", "corporationId": "politie-midden-nederland"},
        {"ownership": "corporation", "corporationId": "no-such-partner"},
        {"ownership": "corporation"},
        {"ownership": "private-rental", "corporationId": "mitros"},
    ):
        refused = _correct(case, body)
        assert refused.status_code == 422, (body, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
    assert _summary(case)["corporationId"] == "portaal"
    assert "case-landlord-change" not in audit_activities(context, case.case_id)
    # Positive control: a privately rented dwelling has no corporation; the claimant's
    # permission ends with its claim, and a private dwelling needs none.
    private = _correct(case, {"ownership": "private-rental", "corporationId": None})
    assert private.status_code == 200, private.text
    summary = _summary(case)
    assert (summary["ownership"], summary["corporationId"]) == ("private-rental", None)
    assert _permissions(case) == [("portaal", False)]


def test_the_correction_is_audited_without_personal_data(
    exchange_client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    case = _claimed_by_portaal(exchange_client, auth)
    before = audit_activities(context, case.case_id)
    assert _correct(case, TO_MITROS).status_code == 200
    after = audit_activities(context, case.case_id)[len(before) :]
    # The correction, the claimant's permission withdrawn, the landlord added to the team.
    assert after == ["case-landlord-change", "consent-change", "case-team-change"]
    with context.session_factory() as session:
        (entry,) = session.scalars(
            select(AuditRecord).where(
                AuditRecord.case_id == case.case_id,
                AuditRecord.activity == "case-landlord-change",
            )
        )
        stored, requester = entry.body, entry.requester_partner
    assert requester == "u-centraal"
    # Which corporation it was and is: partner ids, not personal data.
    assert {"portaal", "mitros"} <= set(json.loads(stored)["attributes"].values())
    for personal in (CAUSER_BSN, "Testpersoon", POSTCODE, POSTCODE.replace(" ", "")):
        assert personal not in stored
    # The same correction again changes nothing and writes nothing.
    assert _correct(case, TO_MITROS).status_code == 200
    assert audit_activities(context, case.case_id).count("case-landlord-change") == 1


def test_a_closed_case_keeps_its_landlord(exchange_client: TestClient, auth: Auth) -> None:
    case = _claimed_by_portaal(exchange_client, auth)
    declined = _post(
        case, "transitions", {"transition": "decline", "reason": "Niet extreem."}, CASE_MANAGER
    )
    assert declined.status_code == 200, declined.text
    refused = _correct(case, TO_MITROS)
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert _summary(case)["corporationId"] == "portaal"
