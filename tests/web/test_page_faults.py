"""A database fault or a bug on a page answers a Dutch error page with the pages' headers
(review8c F4), not the API's English application/problem+json: a database that is down is
a 503 page, anything else a 500 page, neither saying more than that nothing was done.
Control: the same page without the fault is shown."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection

from gateway.web import case_pages
from tests.web.conftest import sign_in
from tests.web.scenario import seed_utrecht_case

Auth = Callable[..., dict[str, str]]
SECRET = "geheim-detail-uit-de-uitzondering"


def _assert_dutch_page(response: Any, status: int, words: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert "Permissions-Policy" in response.headers
    assert words in response.text
    assert "Er is niets vastgelegd of verstrekt." in response.text
    assert SECRET not in response.text
    assert "Traceback" not in response.text


@pytest.fixture
def case_page(browser: TestClient, client: TestClient, auth: Auth) -> str:
    seeded = seed_utrecht_case(client, auth)
    sign_in(browser, "u-centraal", "casemanager")
    return f"/zaken/{seeded.case_id}"


def _fail_commits_once(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    real = Connection._commit_impl
    failed: list[bool] = []

    def commit(self: Connection) -> None:
        if not failed:
            failed.append(True)
            raise error
        real(self)

    monkeypatch.setattr(Connection, "_commit_impl", commit)


@pytest.mark.parametrize(
    ("error", "status", "words"),
    [
        (
            sa_exc.OperationalError("COMMIT", {}, Exception(SECRET)),
            503,
            "De database van de gateway is tijdelijk niet bereikbaar.",
        ),
        (
            sa_exc.IntegrityError("COMMIT", {}, Exception(SECRET)),
            500,
            "Er ging iets mis in de gateway.",
        ),
    ],
    ids=["outage", "refused"],
)
def test_a_database_fault_answers_a_dutch_page(
    browser: TestClient,
    case_page: str,
    monkeypatch: pytest.MonkeyPatch,
    error: Exception,
    status: int,
    words: str,
) -> None:
    assert browser.get(case_page).status_code == 200  # control
    _fail_commits_once(monkeypatch, error)
    _assert_dutch_page(browser.get(case_page), status, words)
    assert browser.get(case_page).status_code == 200  # and the next request is served


def test_a_bug_answers_a_dutch_500_page_without_its_message(
    browser: TestClient, case_page: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError(SECRET)

    monkeypatch.setattr(case_pages.case_service, "case_summary", broken)
    _assert_dutch_page(browser.get(case_page), 500, "Er ging iets mis in de gateway.")
