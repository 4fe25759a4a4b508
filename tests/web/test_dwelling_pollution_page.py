"""The case lead records on the case page whether pollution of the dwelling is part of the
nuisance (U §5.4, ``dwellingPollution``), as ``POST /v1/cases/{id}/criteria`` does.

Before, only the API could record it, and Volksgezondheid's hygiene advice waits for it
(review5b P3). The form is shown to the lead only (it alone reads the value); anyone else's
post is refused by the same service and changes nothing; a post without the page's CSRF
token or with an unknown choice changes nothing either."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.cases.builders import report_body
from tests.web.conftest import csrf_of, sign_in

Auth = Callable[..., dict[str, str]]
LEAD = ("u-centraal", "casemanager")
LANDLORD = ("mitros", "woonconsulent")
FORM = "/vervuiling"
QUESTION = "Is vervuiling van de woning onderdeel van de overlast?"


def _case(browser: TestClient, auth: Auth) -> str:
    created = browser.post("/v1/reports", json=report_body(), headers=auth(*LANDLORD))
    assert created.status_code == 201, created.text
    case_id: str = created.json()["caseId"]
    return case_id


def _recorded(browser: TestClient, auth: Auth, case_id: str) -> bool | None:
    """``dwellingPollution`` as the lead reads it over the API."""
    summary = browser.get(f"/v1/cases/{case_id}", headers=auth(*LEAD))
    assert summary.status_code == 200, summary.text
    value: bool | None = summary.json()["dwellingPollution"]
    return value


def _post(browser: TestClient, case_id: str, csrf: str | None, choice: str) -> int:
    data = {"vervuiling": choice}
    if csrf is not None:
        data["csrf_token"] = csrf
    posted = browser.post(f"/zaken/{case_id}{FORM}", data=data, follow_redirects=False)
    return posted.status_code


def test_the_lead_records_dwelling_pollution_on_the_case_page(
    browser: TestClient, auth: Auth
) -> None:
    case_id = _case(browser, auth)
    sign_in(browser, *LEAD)
    page = browser.get(f"/zaken/{case_id}")
    assert page.status_code == 200
    assert f'action="/zaken/{case_id}{FORM}"' in page.text
    assert QUESTION in page.text
    assert "U §5.4): niet vastgelegd." in page.text
    assert _post(browser, case_id, csrf_of(page.text), "ja") == 303
    assert _recorded(browser, auth, case_id) is True
    after = browser.get(f"/zaken/{case_id}?melding=vervuiling")
    assert "Vastgelegd of vervuiling van de woning onderdeel is van de overlast." in after.text
    assert "U §5.4): ja." in after.text
    assert 'value="ja" checked' in after.text
    # And back: the lead may record that it is not (the advice is then not shared).
    assert _post(browser, case_id, csrf_of(after.text), "nee") == 303
    assert _recorded(browser, auth, case_id) is False
    assert "U §5.4): nee." in browser.get(f"/zaken/{case_id}").text


@pytest.mark.parametrize(
    "who",
    [LANDLORD, ("politie-midden-nederland", "wijkagent")],
    ids=["landlord", "police"],
)
def test_another_partner_sees_no_form_and_its_post_changes_nothing(
    browser: TestClient, auth: Auth, who: tuple[str, str]
) -> None:
    case_id = _case(browser, auth)
    if who[0] != LANDLORD[0]:
        added = browser.post(
            f"/v1/cases/{case_id}/team", json={"partnerId": who[0]}, headers=auth(*LEAD)
        )
        assert added.status_code in (200, 201), added.text
    sign_in(browser, *who)
    page = browser.get(f"/zaken/{case_id}")
    assert page.status_code == 200
    assert FORM not in page.text
    assert QUESTION not in page.text
    assert _post(browser, case_id, csrf_of(page.text), "ja") == 403
    assert _recorded(browser, auth, case_id) is None


def test_a_post_without_the_csrf_token_or_with_an_unknown_choice_changes_nothing(
    browser: TestClient, auth: Auth
) -> None:
    case_id = _case(browser, auth)
    sign_in(browser, *LEAD)
    page = browser.get(f"/zaken/{case_id}")
    assert _post(browser, case_id, None, "ja") == 403
    assert _post(browser, case_id, "not-the-token", "ja") == 403
    assert _post(browser, case_id, csrf_of(page.text), "misschien") == 422
    assert _post(browser, case_id, csrf_of(page.text), "") == 422
    assert _recorded(browser, auth, case_id) is None
    # Control: the same form with the token and a choice records it.
    assert _post(browser, case_id, csrf_of(page.text), "ja") == 303
    assert _recorded(browser, auth, case_id) is True
