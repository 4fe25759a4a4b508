"""The case page names a partner the lead only consulted (U §5.6 "desgevraagd") to the lead
and to that partner only, as the summary does (review9a F3; U §6 "de andere partijen die bij
de casus zijn betrokken"): the wijkagent does not read that the youth-and-family team was
asked. Control: marked involved, it is on every team member's page."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.web.conftest import sign_in
from tests.web.scenario import POLICE, seed_utrecht_case

Auth = Callable[..., dict[str, str]]
ASKED = "buurtteam-jeugd-gezin"
ITS_NAME = "Jeugd en Gezin"
MARK = "(alleen geraadpleegd)"


def _add_to_team(client: TestClient, auth: Auth, case_id: str, *, consulted: bool) -> None:
    """The lead adds the youth-and-family team, only consulted or involved (which marks a
    consulted member involved)."""
    body = {"partnerId": ASKED, "consulted": True} if consulted else {"partnerId": ASKED}
    added = client.post(
        f"/v1/cases/{case_id}/team",
        headers=auth("u-centraal", "casemanager", user="cm-1"),
        json=body,
    )
    assert added.status_code == 200, added.text


def test_the_case_page_names_the_consulted_team_to_the_lead_and_itself_only(
    browser: TestClient, client: TestClient, auth: Auth
) -> None:
    seeded = seed_utrecht_case(client, auth)
    _add_to_team(client, auth, seeded.case_id, consulted=True)

    sign_in(browser, POLICE, "wijkagent")
    police = browser.get(f"/zaken/{seeded.case_id}")
    assert police.status_code == 200
    assert ITS_NAME not in police.text
    sign_in(browser, "u-centraal", "casemanager")
    page = browser.get(f"/zaken/{seeded.case_id}").text
    assert ITS_NAME in page
    assert MARK in page
    sign_in(browser, ASKED, "buurtteam-medewerker")
    own = browser.get(f"/zaken/{seeded.case_id}").text
    assert ITS_NAME in own
    assert MARK in own

    _add_to_team(client, auth, seeded.case_id, consulted=False)
    sign_in(browser, POLICE, "wijkagent")
    police_after = browser.get(f"/zaken/{seeded.case_id}").text
    assert ITS_NAME in police_after
    assert MARK not in police_after


REQUEST_LINK = '/informatieverzoek">Informatie opvragen'


def test_a_consulted_member_gets_no_request_form_until_the_lead_marks_it_involved(
    browser: TestClient, client: TestClient, auth: Auth
) -> None:
    """review10 F2 made the exchange refuse a consulted member's own request (403
    ``consulted-only``); the page no longer offers it the form. Control: marked involved,
    the same member gets the link and the form."""
    seeded = seed_utrecht_case(client, auth)
    _add_to_team(client, auth, seeded.case_id, consulted=True)

    sign_in(browser, ASKED, "buurtteam-medewerker")
    page = browser.get(f"/zaken/{seeded.case_id}")
    assert page.status_code == 200
    assert REQUEST_LINK not in page.text
    assert "alleen geraadpleegd: u beantwoordt zijn vragen" in page.text
    form = browser.get(f"/zaken/{seeded.case_id}/informatieverzoek")
    assert form.status_code == 403
    assert "alleen geraadpleegd" in form.text

    _add_to_team(client, auth, seeded.case_id, consulted=False)
    involved = browser.get(f"/zaken/{seeded.case_id}")
    assert REQUEST_LINK in involved.text
    assert "alleen geraadpleegd: u beantwoordt" not in involved.text
    assert browser.get(f"/zaken/{seeded.case_id}/informatieverzoek").status_code == 200
