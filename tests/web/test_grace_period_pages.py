"""The pages ask for the resident's term after a warning or intention and say in Dutch why the
next rung waits for it (R Bijlage E "begunstigingstermijn", "na een gesteld termijn";
review8a F4). The API side: tests/cases/test_grace_period.py."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from gateway.context import GatewayContext
from gateway.db import transaction
from gateway.demo.clock import date_case_back
from tests.cases.test_grace_period import MAYOR, _integrated_approach
from tests.web.conftest import csrf_of, sign_in

Auth = Callable[..., dict[str, str]]


def test_the_warning_form_asks_for_the_term_and_the_intention_waits_for_it(
    browser: TestClient, client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    case_id = _integrated_approach(client, auth)
    sign_in(browser, *MAYOR)
    form = browser.get(f"/zaken/{case_id}/overgang/issue-warning").text
    assert "Begunstigingstermijn in dagen" in form
    # A term of several weeks fits (the eviction's field stops at 28 days).
    assert 'name="dagen" min="1" max="366" required' in form
    assert "Aantal dagen" not in form  # the eviction's field, with its 28-day cap
    warned = browser.post(
        f"/zaken/{case_id}/overgang/issue-warning",
        data={"csrf_token": csrf_of(form), "dagen": "14"},
    )
    assert warned.status_code == 200, warned.text
    page = browser.get(f"/zaken/{case_id}").text
    assert "Einde begunstigingstermijn (waarschuwing of voornemen)" in page

    form = browser.get(f"/zaken/{case_id}/overgang/announce-intention").text
    refused = browser.post(
        f"/zaken/{case_id}/overgang/announce-intention",
        data={"csrf_token": csrf_of(form), "dagen": "14"},
    )
    assert refused.status_code == 409
    assert (
        "Deze stap kan nog niet: de begunstigingstermijn uit de waarschuwing of het voornemen "
        "moet eerst verstreken zijn"
    ) in refused.text
    assert "grace-period-ended" not in refused.text  # the guard's id stays in the API

    # Positive control: past the term, the same form goes through.
    with transaction(context.session_factory) as session:
        date_case_back(session, case_id, 15)
    form = browser.get(f"/zaken/{case_id}/overgang/announce-intention").text
    announced = browser.post(
        f"/zaken/{case_id}/overgang/announce-intention",
        data={"csrf_token": csrf_of(form), "dagen": "14"},
    )
    assert announced.status_code == 200, announced.text
