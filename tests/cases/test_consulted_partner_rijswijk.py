"""Rijswijk sibling of review9a F3: the GGD / Meldpunt Bezorgd (R Bijlage A: "reageert op
meldingen bij zorgwekkende zorgmijders"; its actions "binnen het gezin" go to the case
lead only, R-A-ggd-acties) that the lead only consults is listed to the lead and to the GGD
only, not to the police or the fire brigade in the team. Controls: the lead addresses it, and
the GGD added as involved is listed to the whole team."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.cases.builders import RIJSWIJK_LANDLORD, rijswijk_case_led_by_the_landlord

Auth = Callable[..., dict[str, str]]
GGD_ID = "ggd-haaglanden"
GGD = (GGD_ID, "zorgmedewerker")
OTHERS = [
    ("politie-den-haag", "wijkagent"),
    ("politie-den-haag", "adapter"),
    ("brandweer-haaglanden", "brandweer-medewerker"),
    ("brandweer-haaglanden", "privacy-officer"),
]


def _summary(client: TestClient, auth: Auth, case_id: str, who: tuple[str, str]) -> Any:
    seen = client.get(f"/v1/cases/{case_id}", headers=auth(*who))
    assert seen.status_code == 200, seen.text
    return seen.json()


def test_the_consulted_ggd_is_listed_to_the_lead_and_itself_only(
    client: TestClient, auth: Auth
) -> None:
    case_id = rijswijk_case_led_by_the_landlord(
        client, auth, team=("politie-den-haag", "brandweer-haaglanden")
    )
    consulted = client.post(
        f"/v1/cases/{case_id}/team",
        json={"partnerId": GGD_ID, "consulted": True},
        headers=auth(*RIJSWIJK_LANDLORD),
    )
    assert consulted.status_code == 200, consulted.text
    for who in OTHERS:
        summary = _summary(client, auth, case_id, who)
        assert GGD_ID not in summary["team"], who
        assert "consultedPartners" in summary["withheld"], who
    lead = _summary(client, auth, case_id, RIJSWIJK_LANDLORD)
    assert (GGD_ID in lead["team"], lead["consultedPartners"]) == (True, [GGD_ID])
    assert _summary(client, auth, case_id, GGD)["consultedPartners"] == [GGD_ID]

    # The lead may address it (the policy then decides: in intake no clause gives
    # care-actions, so the item is denied for the phase); the wijkagent may not, as if the
    # GGD were outside the team.
    body = {
        "caseId": case_id,
        "purpose": "integrated-approach",
        "recipients": [{"partnerId": GGD_ID, "categories": ["care-actions"]}],
    }
    by_lead = client.post(
        "/v1/information-requests", json=body, headers=auth(*RIJSWIJK_LANDLORD, user="u-1")
    )
    assert by_lead.status_code == 201, by_lead.text
    by_police = client.post(
        "/v1/information-requests", json=body, headers=auth("politie-den-haag", "wijkagent")
    )
    assert by_police.status_code == 422, by_police.text
    assert "not in the case team" in by_police.json()["detail"]

    involved = client.post(
        f"/v1/cases/{case_id}/team", json={"partnerId": GGD_ID}, headers=auth(*RIJSWIJK_LANDLORD)
    )
    assert involved.status_code == 200, involved.text
    for who in OTHERS:
        assert GGD_ID in _summary(client, auth, case_id, who)["team"], who
