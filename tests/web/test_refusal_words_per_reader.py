"""The answer page says in words what the API says in codes (review6b, P1): a corporation
that is not the dwelling's landlord reads only that the sfeerverslag is for the landlord,
never that the landlord's eviction procedure is missing; the lead (the positive control)
reads that the procedure is missing."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from gateway.web.texts import REASONS
from tests.exchange.conftest import CASE_MANAGER, UtrechtCase, open_utrecht_case
from tests.web.conftest import sign_in
from tests.web.dutch import visible_text

Auth = Callable[..., dict[str, str]]
SFEER = "police-atmosphere-report"
NOT_LANDLORD = REASONS["not-dwelling-landlord"]
MISSING = REASONS["event-not-recorded"]


def _ask(case: UtrechtCase, who: tuple[str, str]) -> str:
    asked = case.client.post(
        "/v1/information-requests",
        json={"caseId": case.case_id, "purpose": "eviction-procedure", "categories": [SFEER]},
        headers=case.as_(who, "user-1"),
    )
    assert asked.status_code == 201, asked.text
    return str(asked.json()["id"])


def test_the_answer_page_tells_another_corporation_only_that_it_is_not_the_landlord(
    browser: TestClient, client: TestClient, auth: Auth
) -> None:
    case = open_utrecht_case(client, auth)
    case.to_execution()
    added = client.post(
        f"/v1/cases/{case.case_id}/team", json={"partnerId": "portaal"}, headers=auth(*CASE_MANAGER)
    )
    assert added.status_code in (200, 201), added.text
    portaal = _ask(case, ("portaal", "woonconsulent"))
    lead = _ask(case, CASE_MANAGER)

    sign_in(browser, "portaal", "woonconsulent")
    page = browser.get(f"/zaken/{case.case_id}/informatieverzoeken/{portaal}")
    assert page.status_code == 200, page.text
    text = visible_text(page.text)
    assert NOT_LANDLORD in text
    assert MISSING not in text
    # One reason, and it is the relation (the purpose's name says "ontruimingsprocedure").
    assert page.text.count('<ul class="redenen">') == 1
    assert page.text.count("<li title=") == 1

    sign_in(browser, "u-centraal", "casemanager")
    control = visible_text(browser.get(f"/zaken/{case.case_id}/informatieverzoeken/{lead}").text)
    assert f"{MISSING}: ontruimingsprocedure" in control
