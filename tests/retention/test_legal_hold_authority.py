"""Who sets and lifts a case's legal hold: the roles the covenant file gives ``legalHold``,
each on the cases its partner answers for. A casework role (the case manager) on the cases
its partner leads; an audit role (the privacy officer) on those its partner leads or is in
the team of. Before (review F9), any partner's privacy officer could lift the hold the lead
set for a court procedure on a case its partner had no part in, and the next sweep erased
the dossier if it was due. Of the partners outside the case, only the covenant's
coordinating privacy officer reads its retention state, and so is refused with 403; any
other gets the 404 of an unknown case (review2 finding 12, tests/retention/
test_officer_reads.py). A hold is lifted only by the partner that set it (review5 F2's open
end, tests/retention/test_hold_lifter.py). Every refusal has its control."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update

from gateway.cases.access import team_ids
from gateway.cases.models import CaseFile
from gateway.context import GatewayContext
from gateway.db import transaction
from tests.exchange.conftest import CASE_MANAGER, open_utrecht_case
from tests.retention.conftest import Seeder

Auth = Callable[..., dict[str, str]]
OUTSIDER_OFFICER = ("lister", "privacy-officer")
COORDINATING_OFFICER = ("gemeente-utrecht", "privacy-officer")
TEAM_OFFICER = ("politie-midden-nederland", "privacy-officer")


def _hold(client: TestClient, auth: Auth, case_id: str, who: tuple[str, str], lift: bool) -> Any:
    tail = "/lift" if lift else ""
    return client.post(
        f"/v1/cases/{case_id}/retention/legal-hold{tail}",
        json={"reason": "court procedure"},
        headers=auth(*who),
    )


def _refused(response: Any, status: int = 403) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


def _refused_to(who: tuple[str, str], response: Any) -> None:
    """403 for the coordinating officer, who reads the case's state; 404 for the rest."""
    _refused(response, 403 if who == COORDINATING_OFFICER else 404)


def test_a_privacy_officer_of_a_partner_outside_the_team_neither_sets_nor_lifts_a_hold(
    client: TestClient, auth: Auth
) -> None:
    case = open_utrecht_case(client, auth)
    state = f"/v1/cases/{case.case_id}/retention"
    # The coordinating officer reads the retention state it audits, and is refused (403).
    assert client.get(state, headers=auth(*COORDINATING_OFFICER)).status_code == 200
    _refused(_hold(client, auth, case.case_id, COORDINATING_OFFICER, lift=False))
    # Another partner's officer does not see the case at all.
    assert client.get(state, headers=auth(*OUTSIDER_OFFICER)).status_code == 404
    _refused(_hold(client, auth, case.case_id, OUTSIDER_OFFICER, lift=False), 404)
    held = _hold(client, auth, case.case_id, CASE_MANAGER, lift=False)  # the lead: control
    assert held.status_code == 201, held.text
    _refused(_hold(client, auth, case.case_id, OUTSIDER_OFFICER, lift=True), 404)
    _refused(_hold(client, auth, case.case_id, COORDINATING_OFFICER, lift=True))
    hold = client.get(state, headers=auth(*CASE_MANAGER)).json()["legalHold"]
    assert (hold["setBy"], hold["liftedAt"]) == ("u-centraal/casemanager", None)
    # A team partner's privacy officer may not lift the lead's hold (only the partner that
    # set it, tests/retention/test_hold_lifter.py); the control: the lead lifts it.
    _refused(_hold(client, auth, case.case_id, TEAM_OFFICER, lift=True))
    lifted = _hold(client, auth, case.case_id, CASE_MANAGER, lift=True)
    assert lifted.status_code == 200, lifted.text
    assert lifted.json()["liftedBy"] == "u-centraal/casemanager"


def test_every_legal_hold_role_of_a_partner_outside_the_team_is_refused(
    client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    """The roles come from the covenant file, as the grant does: whichever roles it gives
    legalHold, a partner that neither leads the case nor is in its team holds none for it."""
    case = open_utrecht_case(client, auth)
    covenant = context.covenants["utrecht-extreme-woonoverlast"]
    with context.session_factory() as session:
        team = team_ids(session, case.case_id)
    holding = {role.id for role in covenant.roles if role.legal_hold}
    outside = [
        (partner.id, role)
        for partner in covenant.partners
        if partner.id not in team and partner.id != "u-centraal"
        for role in partner.roles
        if role in holding
    ]
    assert {OUTSIDER_OFFICER, COORDINATING_OFFICER} <= set(outside)  # the list is not empty
    for who in outside:
        _refused_to(who, _hold(client, auth, case.case_id, who, lift=False))
    inside = [(partner, "privacy-officer") for partner in sorted(team - {"u-centraal"})]
    assert inside, team
    for who in inside:  # the controls: every team partner's privacy officer sets and lifts
        assert _hold(client, auth, case.case_id, who, lift=False).status_code == 201, who
        assert _hold(client, auth, case.case_id, who, lift=True).status_code == 200, who


def test_a_case_manager_whose_partner_no_longer_leads_the_case_holds_it_no_more(
    client: TestClient, auth: Auth, seed: Seeder, context: GatewayContext
) -> None:
    """Rijswijk hands a case over to the corporation (R §2.3): the municipality stays in the
    team, its case manager no longer leads. Its privacy officer (a team partner's) may."""
    case = seed()
    with transaction(context.session_factory) as session:
        session.execute(
            update(CaseFile).where(CaseFile.id == case.case_id).values(lead_partner_id="vidomes")
        )
    _refused(_hold(client, auth, case.case_id, ("gemeente-rijswijk", "casemanager"), lift=False))
    officer = _hold(client, auth, case.case_id, ("gemeente-rijswijk", "privacy-officer"), False)
    assert officer.status_code == 201, officer.text
    # The new lead's privacy officer may not lift the municipality's hold (only the partner
    # that set it); the municipality's officer, in the team, lifts it (control).
    _refused(_hold(client, auth, case.case_id, ("vidomes", "privacy-officer"), lift=True))
    lifted = _hold(client, auth, case.case_id, ("gemeente-rijswijk", "privacy-officer"), True)
    assert lifted.status_code == 200, lifted.text
