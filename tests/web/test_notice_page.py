"""The municipality's case page shows what it is told after a rented dwelling is handed over
to its corporation (R §2.3: "neemt de woningcorporatie de regie weer over en informeert ze de
gemeente over eventuele juridische maatregelen"), and marks a notice read."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.cases.test_lead_returns_to_corporation import (
    POLICE,
    RW,
    _case_at_intention,
    _move,
    _report,
)
from tests.web.conftest import csrf_of, sign_in

Auth = Callable[..., dict[str, str]]
HEADING = "Berichten voor uw organisatie"


def test_the_municipality_sees_the_hand_over_and_the_measure_and_marks_them_read(
    browser: TestClient, client: TestClient, auth: Auth
) -> None:
    case_id = _case_at_intention(client, auth)
    assert _move(client, auth(*RW), case_id, "hand-over-to-corporation").status_code == 200
    recorded = client.post(
        f"/v1/cases/{case_id}/events", json={"event": "eviction-procedure"}, headers=auth(*RW)
    )
    assert recorded.status_code == 201, recorded.text
    sign_in(browser, "gemeente-rijswijk", "casemanager")
    page = browser.get(f"/zaken/{case_id}").text
    assert HEADING in page
    assert "Overdracht naar de woningcorporatie" in page
    assert "Maatregel vastgelegd: Procedure voor ontbinding en ontruiming gestart" in page
    assert "Overgedragen aan de woningcorporatie" in page  # the phase
    forms = re.findall(rf"/zaken/{case_id}/berichten/([0-9a-f-]+)/gelezen", page)
    assert len(forms) == 2
    done = browser.post(
        f"/zaken/{case_id}/berichten/{forms[0]}/gelezen", data={"csrf_token": csrf_of(page)}
    )
    assert done.status_code == 200, done.text
    assert "Het bericht is als gelezen gemarkeerd." in done.text
    assert len(re.findall(rf"/zaken/{case_id}/berichten/[0-9a-f-]+/gelezen", done.text)) == 1
    assert "gelezen " in done.text


def test_the_corporation_that_acted_gets_no_notice_of_its_own(
    browser: TestClient, client: TestClient, auth: Auth
) -> None:
    case_id = _case_at_intention(client, auth)
    assert _move(client, auth(*RW), case_id, "hand-over-to-corporation").status_code == 200
    sign_in(browser, "rijswijk-wonen", "woonconsulent")
    page = browser.get(f"/zaken/{case_id}").text
    assert "Overgedragen aan de woningcorporatie" in page
    assert HEADING not in page


def test_the_municipality_sees_a_report_it_leads_as_first_point_of_contact(
    browser: TestClient, client: TestClient, auth: Auth
) -> None:
    """R §2.3 ("Bij koop- of particuliere woningen is de gemeente het eerste aanspreekpunt"):
    a police report about an owner-occupied dwelling is shown to the municipality in Dutch;
    the police that filed it is told nothing (control)."""
    case_id = _report(client, auth, POLICE, ownership="owner-occupied")
    sign_in(browser, "gemeente-rijswijk", "casemanager")
    page = browser.get(f"/zaken/{case_id}").text
    assert HEADING in page
    assert "Melding ontvangen: u bent het eerste aanspreekpunt" in page
    police = TestClient(client.app, base_url="https://testserver")
    with police:
        sign_in(police, "politie-den-haag", "wijkagent")
        own = police.get(f"/zaken/{case_id}")
    assert own.status_code == 200, own.text
    assert HEADING not in own.text
