"""The audit log's channels as a reader reaches them through the API and the pages, for the
tests that check what each channel shows of the log to whom (the landlord's case-event
entries, the sweep's erasure entries)."""

from __future__ import annotations

import csv
import io
import json
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


def exports(
    client: TestClient, auth: Auth, who: tuple[str, str], case_id: str
) -> tuple[list[Any], list[dict[str, str]], list[Any]]:
    """The case's entries as the jsonl, csv and LDV exports give them to ``who``, parsed."""
    jsonl = [json.loads(line) for line in export(client, auth, who, case_id, "jsonl").splitlines()]
    table = list(csv.DictReader(io.StringIO(export(client, auth, who, case_id, "csv"))))
    ldv = [json.loads(line) for line in export(client, auth, who, case_id, "ldv").splitlines()]
    return jsonl, table, ldv


def access_report_lines(
    client: TestClient, auth: Auth, who: tuple[str, str], bsn: str
) -> list[Any]:
    """The lines of the GDPR access report for ``bsn`` as ``who`` asks it through the API."""
    report = client.post(
        "/v1/audit/access-report",
        json={"identifierType": "bsn", "identifier": bsn},
        headers=auth(*who),
    )
    assert report.status_code == 200, report.text
    return report.json()["lines"]  # type: ignore[no-any-return]


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
