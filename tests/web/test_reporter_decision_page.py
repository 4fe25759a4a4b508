"""The lead's case page shows a report from a partner outside the team and lets the lead
add that partner to the team, or not (issue 14 item 6; U §6)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.web.conftest import csrf_of, sign_in
from tests.web.scenario import seed_utrecht_case

Auth = Callable[..., dict[str, str]]
HEADING = "Meldingen van partners buiten het zaakteam"


def _outside_report(client: TestClient, auth: Auth) -> str:
    """A neighbourhood team, not in the seeded case's team, reports the same dwelling."""
    response = client.post(
        "/v1/reports",
        headers=auth("buurtteam-sociaal", "buurtteam-medewerker"),
        json={
            "dwelling": {
                "address": {"postcode": "3511 AB", "houseNumber": 12},
                "ownership": "owner-occupied",
                "district": "Noordoost",
            },
            "persons": [],
            "report": {"channel": "phone", "description": "Zorgen over de bewoner"},
        },
    )
    assert response.status_code == 202, response.text
    return str(response.json()["reportId"])


def _decide(browser: TestClient, case_id: str, report_id: str, choice: str) -> Any:
    page = browser.get(f"/zaken/{case_id}").text
    return browser.post(
        f"/zaken/{case_id}/meldingen/{report_id}/besluit",
        data={"csrf_token": csrf_of(page), "toevoegen": choice},
    )


def test_the_lead_sees_the_report_and_adds_the_reporter(
    browser: TestClient, client: TestClient, auth: Auth
) -> None:
    seeded = seed_utrecht_case(client, auth)
    report_id = _outside_report(client, auth)
    sign_in(browser, "u-centraal", "casemanager")
    page = browser.get(f"/zaken/{seeded.case_id}").text
    assert HEADING in page
    assert f"/meldingen/{report_id}/besluit" in page
    assert "Besluiten of de melder aan het zaakteam wordt toegevoegd" in page
    done = _decide(browser, seeded.case_id, report_id, "ja")
    assert done.status_code == 200, done.text
    assert "De melder is aan het zaakteam toegevoegd." in done.text
    assert HEADING not in done.text
    assert "Buurtteamorganisatie Sociaal" in done.text  # now in the team list


def test_a_team_member_who_is_not_the_lead_gets_no_form_and_cannot_decide(
    browser: TestClient, client: TestClient, auth: Auth
) -> None:
    seeded = seed_utrecht_case(client, auth)
    report_id = _outside_report(client, auth)
    sign_in(browser, "politie-midden-nederland", "wijkagent")  # in the team, not the lead
    page = browser.get(f"/zaken/{seeded.case_id}").text
    # Which partner reported is the lead's to know until it decides (review9a F1): the block
    # is not shown to another team member at all.
    assert HEADING not in page
    assert f"/meldingen/{report_id}/besluit" not in page
    refused = browser.post(
        f"/zaken/{seeded.case_id}/meldingen/{report_id}/besluit",
        data={"csrf_token": csrf_of(page), "toevoegen": "ja"},
    )
    assert refused.status_code == 403
    # Positive control: the lead declines, and the reporter stays outside.
    sign_in(browser, "u-centraal", "casemanager")
    declined = _decide(browser, seeded.case_id, report_id, "nee")
    assert "De melder is niet aan het zaakteam toegevoegd." in declined.text
    outside = client.get(
        f"/v1/cases/{seeded.case_id}", headers=auth("buurtteam-sociaal", "buurtteam-medewerker")
    )
    assert outside.status_code == 404
