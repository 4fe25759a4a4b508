"""The privacy officer's lists as its partner reads the log (review4 F1): a partner only
asked in a request, or whose item a read disclosed, lists that entry with its own category,
not what the same request asked of the police or whether the police's items were refused."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.exchange.conftest import ANTECEDENTS, CASE_MANAGER, POLICE, REPORTS, open_utrecht_case
from tests.web.conftest import sign_in

Auth = Callable[..., dict[str, str]]
BUURTTEAM = "buurtteam-sociaal"
KNOWN = "neighbourhood-team-known"
#: The categories' names as the pages show them (the covenant file's).
KNOWN_NAME = "bekend is bij het buurtteam"
ANTECEDENTS_NAME = "overlastantecedenten"
REPORTS_NAME = "Aard, omvang en constatering van meldingen"


def _asked_and_read(browser: TestClient, auth: Auth, *, investigation: bool) -> None:
    """One request to the police (antecedents, reports) and the buurtteam (does it know the
    causer); both answer what they may, the case manager reads the answers."""
    case = open_utrecht_case(browser, auth)
    case.investigation(investigation)
    added = browser.post(
        f"/v1/cases/{case.case_id}/team", json={"partnerId": BUURTTEAM}, headers=auth(*CASE_MANAGER)
    )
    assert added.status_code in (200, 201), added.text
    asked = browser.post(
        "/v1/information-requests",
        json={
            "caseId": case.case_id,
            "purpose": "case-handling",
            "recipients": [
                {"partnerId": POLICE[0], "categories": [ANTECEDENTS, REPORTS]},
                {"partnerId": BUURTTEAM, "categories": [KNOWN]},
            ],
        },
        headers=auth(*CASE_MANAGER, user="cm-1"),
    )
    assert asked.status_code == 201, asked.text
    request_id = asked.json()["id"]
    police = [{"category": REPORTS, "value": "2 meldingen"}]
    if not investigation:
        police.append({"category": ANTECEDENTS, "yesNo": True})
    assert case.answer(request_id, police).status_code == 200
    known = case.answer(
        request_id, [{"category": KNOWN, "yesNo": True}], who=(BUURTTEAM, "adapter")
    )
    assert known.status_code == 200, known.text
    case.read(request_id)


def test_the_buurtteams_disclosures_name_its_own_category_only(
    browser: TestClient, auth: Auth
) -> None:
    _asked_and_read(browser, auth, investigation=False)
    sign_in(browser, BUURTTEAM, "privacy-officer")
    page = browser.get("/privacy/verstrekkingen")
    assert page.status_code == 200, page.text
    assert KNOWN_NAME in page.text
    assert ANTECEDENTS_NAME not in page.text
    assert REPORTS_NAME not in page.text


def test_the_polices_disclosures_name_its_antecedents_not_the_buurtteams_item(
    browser: TestClient, auth: Auth
) -> None:
    _asked_and_read(browser, auth, investigation=False)
    sign_in(browser, "politie-midden-nederland", "privacy-officer")
    page = browser.get("/privacy/verstrekkingen")
    assert page.status_code == 200, page.text
    assert ANTECEDENTS_NAME in page.text
    assert KNOWN_NAME not in page.text


def test_the_buurtteam_lists_no_refusal_of_the_polices_antecedents(
    browser: TestClient, auth: Auth
) -> None:
    """Nor does the count of its refusals (the list's total) tell of one."""
    _asked_and_read(browser, auth, investigation=True)
    sign_in(browser, BUURTTEAM, "privacy-officer")
    page = browser.get("/privacy/weigeringen")
    assert page.status_code == 200, page.text
    assert "Geen regels gevonden." in page.text
    assert ANTECEDENTS_NAME not in page.text
    # Control: the requester's officer lists the refused antecedents.
    sign_in(browser, "u-centraal", "privacy-officer")
    page = browser.get("/privacy/weigeringen")
    assert ANTECEDENTS_NAME in page.text
