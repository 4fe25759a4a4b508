"""A POSTed page form names each single-valued field once (review7a F4).

Starlette's ``FormData.get`` (and FastAPI's ``Form()`` parameters) take the last of two equal
fields: ``vervuiling=nee&vervuiling=ja`` was recorded as ja, while a proxy or a log reading
the first saw nee. Every POSTed page form passes ``_csrf_checked`` (gateway/web/pages.py),
which now refuses a repeated field with a 422 page, nothing recorded. The information
request's category checkboxes (``vraag``) are the one field a form sends more than once; the
positive controls: the same forms with each field once, and several ``vraag``."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.cases.builders import report_body
from tests.web.conftest import csrf_of, sign_in
from tests.web.scenario import seed_utrecht_case

Auth = Callable[..., dict[str, str]]
LEAD = ("u-centraal", "casemanager")
LANDLORD = ("mitros", "woonconsulent")


def _pollution(browser: TestClient, auth: Auth, case_id: str) -> bool | None:
    summary = browser.get(f"/v1/cases/{case_id}", headers=auth(*LEAD))
    assert summary.status_code == 200, summary.text
    value: bool | None = summary.json()["dwellingPollution"]
    return value


def test_a_choice_sent_twice_is_a_422_page_and_records_nothing(
    browser: TestClient, auth: Auth
) -> None:
    created = browser.post("/v1/reports", json=report_body(), headers=auth(*LANDLORD))
    assert created.status_code == 201, created.text
    case_id = created.json()["caseId"]
    sign_in(browser, *LEAD)
    csrf = csrf_of(browser.get(f"/zaken/{case_id}").text)
    url = f"/zaken/{case_id}/vervuiling"
    twice = browser.post(
        url, data={"csrf_token": csrf, "vervuiling": ["nee", "ja"]}, follow_redirects=False
    )
    assert twice.status_code == 422
    assert twice.headers["content-type"].startswith("text/html")
    assert "Het formulierveld vervuiling staat er meer dan eens in." in twice.text
    assert _pollution(browser, auth, case_id) is None
    # The CSRF token twice (the second the session's): refused too.
    token_twice = browser.post(
        url, data={"csrf_token": ["x", csrf], "vervuiling": "ja"}, follow_redirects=False
    )
    assert token_twice.status_code in (403, 422)
    assert _pollution(browser, auth, case_id) is None
    # Control: each field once records the choice.
    once = browser.post(url, data={"csrf_token": csrf, "vervuiling": "nee"}, follow_redirects=False)
    assert once.status_code == 303
    assert _pollution(browser, auth, case_id) is False


def test_the_information_requests_purpose_twice_is_refused_its_categories_are_not(
    browser: TestClient, client: TestClient, auth: Auth
) -> None:
    seeded = seed_utrecht_case(client, auth)
    sign_in(browser, *LEAD)
    url = f"/zaken/{seeded.case_id}/informatieverzoek"
    csrf = csrf_of(browser.get(url).text)
    asked = [
        "politie-midden-nederland|police-reports",
        "politie-midden-nederland|police-nuisance-antecedents",
    ]
    twice = browser.post(
        url,
        data={"csrf_token": csrf, "doel": ["no-such-purpose", "intake-assessment"], "vraag": asked},
    )
    assert twice.status_code == 422
    assert "Het formulierveld doel staat er meer dan eens in." in twice.text
    # Control: one purpose, two categories (the multi-valued field) makes the request.
    once = browser.post(url, data={"csrf_token": csrf, "doel": "intake-assessment", "vraag": asked})
    assert once.status_code == 200
    assert "/informatieverzoeken/" in once.url.path
