"""One deadline, one date: the corporation's answer to a permission request (U §5.2) shows
the same day in the API, the partner's deadline list, the command line, the adapter's inbox
and the Dutch pages. A day-based deadline is met until the end of that day; before, the
pages showed the moment it passes (the next day, 00:00). The demo's narration is checked in
tests/e2e/test_demo_scenarios.py."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from gateway.cli import app as cli
from tests.adapters.conftest import Auth, ClientFactory, open_utrecht_case
from tests.cases.builders import listed_deadlines
from tests.web.conftest import browser, sign_in  # noqa: F401 - the page client fixture

pytestmark = pytest.mark.anyio
ANSWER = "corporation-permission-answer"
MITROS = ("mitros", "woonconsulent")


def _dutch(day: date) -> str:
    return day.strftime("%d-%m-%Y")


async def test_the_permission_answer_shows_one_date_everywhere(
    client: TestClient,
    auth: Auth,
    sdk_client: ClientFactory,
    browser: TestClient,  # noqa: F811
    database_url: str,
) -> None:
    case = open_utrecht_case(client, auth, stage="permission-requested")
    summary = client.get(f"/v1/cases/{case.id}", headers=auth(*MITROS)).json()
    (in_case,) = [d for d in summary["deadlines"] if d["deadline"] == ANSWER]
    due_on = date.fromisoformat(in_case["dueOn"])

    listed = listed_deadlines(client, auth(*MITROS))
    assert [d["dueOn"] for d in listed if d["deadline"] == ANSWER] == [in_case["dueOn"]]

    async with sdk_client("mitros") as adapter:
        inbox = await adapter.inbox(wait_seconds=0)
    asked = [item for item in inbox.items if item.kind == "permission-request"]
    assert [item.due_on for item in asked] == [due_on]

    command = CliRunner().invoke(
        cli, ["deadlines", "--partner", "mitros"], env={"KETENPOORT_DATABASE_URL": database_url}
    )
    (line,) = [row for row in command.stdout.splitlines() if ANSWER in row]
    assert line.split()[1] == in_case["dueOn"]

    sign_in(browser, *MITROS)
    for page in (f"/zaken/{case.id}", "/zaken"):
        html = browser.get(page).text
        assert f"uiterlijk {_dutch(due_on)}" in html
        # The moment it passes is not a second date on the page.
        assert f"{_dutch(due_on + timedelta(days=1))} 00:00" not in html
