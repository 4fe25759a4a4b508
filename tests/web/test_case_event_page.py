"""The case page shows the landlord's measures and lets only the dwelling's landlord record
one (U §5.2), through the same service as the API; and it says when nobody recorded whether
a police investigation runs."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.cases.builders import report_body
from tests.web.conftest import csrf_of, sign_in

Auth = Callable[..., dict[str, str]]


def _mitros_case(browser: TestClient, auth: Auth) -> str:
    created = browser.post(
        "/v1/reports", json=report_body(), headers=auth("mitros", "woonconsulent")
    )
    assert created.status_code == 201, created.text
    case_id: str = created.json()["caseId"]
    return case_id


def test_the_landlord_records_its_eviction_procedure_on_the_case_page(
    browser: TestClient, auth: Auth
) -> None:
    case_id = _mitros_case(browser, auth)
    sign_in(browser, "mitros", "woonconsulent")
    page = browser.get(f"/zaken/{case_id}")
    assert page.status_code == 200
    # The landlord is not the lead nor a recipient of U-6-corporatie: it reads its own
    # measures only, and is told so (review4, finding 5).
    assert "Uw organisatie legde nog geen maatregelen vast." in page.text
    assert "Maatregelen die een andere organisatie vastlegde, ziet alleen" in page.text
    # Whether a police investigation runs is for the police and the case lead (U §5.3;
    # docs/cases.md "What the summary shows whom"), not for the landlord.
    assert "Politieonderzoek loopt" not in page.text
    posted = browser.post(
        f"/zaken/{case_id}/gebeurtenis",
        data={
            "csrf_token": csrf_of(page.text),
            "gebeurtenis": "eviction-procedure",
            "datum": "2025-03-01",
        },
        follow_redirects=False,
    )
    assert posted.status_code == 303, posted.text
    after = browser.get(f"/zaken/{case_id}?melding=gebeurtenis")
    assert "Ontruimingsprocedure gestart — vastgelegd door Mitros, sinds 01-03-2025" in after.text


def test_the_case_lead_sees_the_measures_but_records_none(browser: TestClient, auth: Auth) -> None:
    case_id = _mitros_case(browser, auth)
    sign_in(browser, "u-centraal", "casemanager")
    page = browser.get(f"/zaken/{case_id}")
    assert page.status_code == 200
    # The lead reads that the police have not recorded it yet (unknown counts as running).
    assert "Onbekend: de politie heeft het nog niet vastgelegd" in page.text
    assert 'action="/zaken/' + case_id + '/gebeurtenis"' not in page.text
    refused = browser.post(
        f"/zaken/{case_id}/gebeurtenis",
        data={"csrf_token": csrf_of(page.text), "gebeurtenis": "eviction-procedure"},
        follow_redirects=False,
    )
    assert refused.status_code == 403
