"""The corporation's inbox lists a permission request (U §5.1 "vraagt U Centraal eerst
toestemming aan de corporatie", U §5.2 "reageert binnen drie dagen") only where the
corporation can give it: the landlord of the dwelling, in the case's team (outside the team
the case does not exist for it, U §6; ``POST /v1/cases/{caseId}/consents`` answers 404),
working the case (a privacy officer records no consent: 403). Review4, "Permission inbox
without team check": a landlord the lead removed from the team kept the case id and
reference in its inbox. Each refusal is next to the same request allowed."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import delete

from gateway.cases.models import CaseTeamMember
from gateway.context import GatewayContext
from gateway.db import transaction
from tests.adapters.conftest import open_utrecht_case
from tests.exchange.conftest import CASE_MANAGER, MITROS, Auth

PRIVACY_OFFICER = ("mitros", "privacy-officer")
MITROS_ADAPTER = ("mitros", "adapter")
PERMISSION = {"kind": "corporation-permission"}


def _asked_of_mitros(client: TestClient, auth: Auth, *, house_number: int = 12) -> tuple[str, str]:
    """A Mitros dwelling reported by the case manager (so Mitros has not commissioned the case
    itself, U §5.2), the criteria met and Mitros asked: its id and reference. Intake puts the
    dwelling's corporation in the team (Utrecht's workflow, ``intake.team``)."""
    case = open_utrecht_case(
        client, auth, team=(), stage="permission-requested", house_number=house_number
    )
    return case.id, case.reference


def _permission_requests(client: TestClient, auth: Auth, who: tuple[str, str]) -> list[Any]:
    response = client.get("/v1/inbox", headers=auth(*who, user="u-1"))
    assert response.status_code == 200, response.text
    return [
        (item["caseId"], item["caseReference"])
        for item in response.json()["items"]
        if item["kind"] == "permission-request"
    ]


def _team(client: TestClient, auth: Auth, case_id: str, *, add: bool) -> None:
    if add:
        response = client.post(
            f"/v1/cases/{case_id}/team", json={"partnerId": "mitros"}, headers=auth(*CASE_MANAGER)
        )
    else:
        response = client.delete(f"/v1/cases/{case_id}/team/mitros", headers=auth(*CASE_MANAGER))
    assert response.status_code in (200, 201), response.text


def _give_permission(client: TestClient, auth: Auth, case_id: str) -> Any:
    return client.post(f"/v1/cases/{case_id}/consents", json=PERMISSION, headers=auth(*MITROS))


def _leave_team_behind_the_guards(context: GatewayContext, case_id: str) -> None:
    """The landlord out of the team while it is asked. The API no longer gets a case there
    (the lead cannot remove it while asked: 409 permission-pending; nor ask it from outside
    the team: guard ``landlord-in-team``; tests/cases/test_landlord_stays_while_asked.py),
    but a case asked before those checks can be in that state: the row is deleted here."""
    with transaction(context.session_factory) as session:
        session.execute(
            delete(CaseTeamMember).where(
                CaseTeamMember.case_id == case_id, CaseTeamMember.partner_id == "mitros"
            )
        )


def test_a_landlord_removed_from_the_team_is_not_asked_for_a_permission_it_cannot_give(
    exchange_client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    client = exchange_client
    asked, asked_reference = _asked_of_mitros(client, auth)
    # Control: the landlord in the team is asked, by its people and its adapter.
    for who in (MITROS, MITROS_ADAPTER):
        assert _permission_requests(client, auth, who) == [(asked, asked_reference)]

    case_id, reference = _asked_of_mitros(client, auth, house_number=14)
    _leave_team_behind_the_guards(context, case_id)
    # Neither the case id nor its reference: the case does not exist for Mitros ...
    for who in (MITROS, MITROS_ADAPTER):
        assert _permission_requests(client, auth, who) == [(asked, asked_reference)]
    # ... as the permission's own route says (the list and the action agree).
    refused = _give_permission(client, auth, case_id)
    assert refused.status_code == 404, refused.text

    # The lead takes Mitros in: asked, and its answer is taken and meets the request.
    _team(client, auth, case_id, add=True)
    assert (case_id, reference) in _permission_requests(client, auth, MITROS)
    given = _give_permission(client, auth, case_id)
    assert given.status_code == 201, given.text
    assert _permission_requests(client, auth, MITROS) == [(asked, asked_reference)]


def test_a_corporations_privacy_officer_is_not_asked_for_a_permission_it_cannot_record(
    exchange_client: TestClient, auth: Auth
) -> None:
    client = exchange_client
    case_id, reference = _asked_of_mitros(client, auth)
    assert _permission_requests(client, auth, PRIVACY_OFFICER) == []
    refused = client.post(
        f"/v1/cases/{case_id}/consents", json=PERMISSION, headers=auth(*PRIVACY_OFFICER)
    )
    assert refused.status_code == 403, refused.text
    # Control: the same corporation's case worker is asked, and may answer.
    assert _permission_requests(client, auth, MITROS) == [(case_id, reference)]
    assert _give_permission(client, auth, case_id).status_code == 201
