"""Page-test fixtures: a client on https://testserver (so the Secure session cookie is
sent, as a browser does), and helpers to sign in through the real forms."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


@pytest.fixture
def browser(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as client:
        yield client


def sign_in(client: TestClient, partner: str, role: str) -> None:
    page = client.get("/inloggen")
    response = client.post(
        "/inloggen/demo",
        data={"csrf_token": csrf_of(page.text), "gebruiker": f"{partner}|{role}"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
