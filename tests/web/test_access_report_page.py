"""The privacy officer's access report page finds the disclosures about a person."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.audit.concerning_case import ANTECEDENTS_NAME, CAUSER, COMPLAINANT, concerning_case
from tests.web.conftest import csrf_of, sign_in
from tests.web.scenario import CAUSER_BSN, answer_police_reports, seed_utrecht_case

Auth = Callable[..., dict[str, str]]
EMPTY = "Over deze betrokkene zijn geen verwerkingen vastgelegd."


def _disclose_police_reports(client: TestClient, auth: Auth, case_id: str) -> None:
    def manager() -> dict[str, str]:  # tokens are single-use (jti)
        return auth("u-centraal", "casemanager", user="cm-1")

    request = client.post(
        "/v1/information-requests",
        json={"caseId": case_id, "purpose": "case-handling", "categories": ["police-reports"]},
        headers=manager(),
    )
    assert request.status_code == 201, request.text
    answer_police_reports(client, auth, request.json()["id"])
    read = client.get(f"/v1/information-requests/{request.json()['id']}/answers", headers=manager())
    assert read.status_code == 200, read.text


def _report_page(browser: TestClient, number: str) -> str:
    form = browser.get("/privacy/inzage")
    response = browser.post(
        "/privacy/inzage", data={"csrf_token": csrf_of(form.text), "nummer": number}
    )
    assert response.status_code == 200, response.text
    assert number not in response.text
    return response.text


def test_access_report_page_lists_the_disclosure_about_the_causer(
    browser: TestClient, client: TestClient, auth: Auth
) -> None:
    seeded = seed_utrecht_case(client, auth)
    _disclose_police_reports(client, auth, seeded.case_id)
    sign_in(browser, "u-centraal", "privacy-officer")

    html = _report_page(browser, CAUSER_BSN)

    assert EMPTY not in html
    assert "U-5.3-meldingen" in html
    assert "<td>" in html
    assert EMPTY in _report_page(browser, "999999990")


def test_access_report_page_shows_only_what_the_officers_partner_is_accountable_for(
    browser: TestClient, client: TestClient, auth: Auth
) -> None:
    """Portaal took no part in the case: its officer's page finds nothing, not even that the
    person figures in a case; the coordinating officer (the municipality) finds it."""
    seeded = seed_utrecht_case(client, auth)
    _disclose_police_reports(client, auth, seeded.case_id)
    sign_in(browser, "portaal", "privacy-officer")
    assert EMPTY in _report_page(browser, CAUSER_BSN)
    sign_in(browser, "gemeente-utrecht", "privacy-officer")
    html = _report_page(browser, CAUSER_BSN)
    assert "U-5.3-meldingen" in html


def test_the_complainants_page_names_none_of_the_causers_police_items(
    browser: TestClient, client: TestClient, auth: Auth
) -> None:
    """review12 F1: the complainant's report listed "Geweigerd: Het feit of de veroorzaker
    bekend staat vanwege overlastantecedenten" and the police reports disclosed to the case
    manager, line for line the causer's (U §5.3: the causer's, to the case manager only)."""
    concerning_case(client, auth)
    sign_in(browser, "gemeente-utrecht", "privacy-officer")
    police_reports = "Aard, omvang en constatering van meldingen en politie-inzet"

    html = _report_page(browser, COMPLAINANT)

    assert EMPTY not in html  # its intake is listed
    assert ANTECEDENTS_NAME not in html
    assert police_reports not in html
    assert "U-5.3" not in html
    # Positive control: the causer's page names both, with the clause.
    causer = _report_page(browser, CAUSER)
    assert ANTECEDENTS_NAME in causer
    assert police_reports in causer
    assert "U-5.3-meldingen" in causer
