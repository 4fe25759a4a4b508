"""The audit log's channels as a reader reaches them through the API and the pages, for the
tests that check what each channel shows of the log to whom (the landlord's case-event
entries, the sweep's erasure entries)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.web.conftest import csrf_of, sign_in

Auth = Any


def search(client: TestClient, auth: Auth, who: tuple[str, str], **terms: Any) -> list[Any]:
    found = client.post("/v1/audit/entries/search", json=terms, headers=auth(*who))
    assert found.status_code == 200, found.text
    return found.json()["entries"]  # type: ignore[no-any-return]


def export(client: TestClient, auth: Auth, who: tuple[str, str], case_id: str, fmt: str) -> str:
    response = client.post(
        "/v1/audit/entries/export",
        params={"format": fmt},
        json={"caseId": case_id},
        headers=auth(*who),
    )
    assert response.status_code == 200, response.text
    return response.text


def receipt_status(client: TestClient, auth: Auth, who: tuple[str, str], index: int) -> int:
    return client.get(f"/v1/audit/receipts/{index}", headers=auth(*who)).status_code


def access_report_page(browser: TestClient, who: tuple[str, str], bsn: str) -> str:
    """The privacy page's access report for ``bsn``, signed in as ``who``."""
    sign_in(browser, *who)
    form = browser.get("/privacy/inzage")
    response = browser.post(
        "/privacy/inzage", data={"csrf_token": csrf_of(form.text), "nummer": bsn}
    )
    assert response.status_code == 200, response.text
    return response.text
