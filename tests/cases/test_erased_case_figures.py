"""An open case erased under retention is no open work (its steps answer 410): the steering
report's open counts and overdue deadlines leave it out, ``GET /v1/cases`` does not list it
(open only or all), and the organiser is not asked for a district meeting for it. That it
was opened in the period still counts, and a closed case erased under retention stays in the
full list, closed as it was (docs/retention.md, "An erased open case"). Controls: the same
case counted and listed before the sweep, and a case opened after it counted and listed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from alembic import command
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from gateway.cases.models import CaseFile
from gateway.context import GatewayContext
from gateway.db import alembic_config, transaction
from gateway.retention.models import RetentionCase
from tests.cases.builders import listed_deadlines, report_body
from tests.steering_periods import exact_counts, this_month_ended
from tests.web.conftest import sign_in

Auth = Callable[..., dict[str, str]]
CM = ("u-centraal", "casemanager")
POLICE = ("politie-midden-nederland", "wijkagent")
OFFICER = ("u-centraal", "privacy-officer")
#: Long before today: the decision due five days after the first report is overdue.
LONG_AGO = datetime(2026, 1, 5, 9, tzinfo=UTC)


def _open(client: TestClient, auth: Auth, number: int) -> str:
    body = report_body(postcode="3511 AB", number=number, persons=[])
    response = client.post("/v1/reports", json=body, headers=auth(*POLICE))
    assert response.status_code == 201, response.text
    return str(response.json()["caseId"])


def _backdate(context: GatewayContext, case_id: str, **values: object) -> None:
    with transaction(context.session_factory) as session:
        session.execute(
            update(CaseFile)
            .where(CaseFile.id == case_id)
            .values(first_report_at=LONG_AGO, state_entered_at=LONG_AGO, **values)
        )


def _figures(client: TestClient, auth: Auth) -> tuple[int, int, int]:
    """The steering report's open cases, overdue deadlines and cases opened, exact (the
    noise of review14 is tests/cases/test_steering_differences.py's; here the counts
    before and after an erasure are compared)."""
    with this_month_ended(), exact_counts():
        response = client.get("/v1/steering-report", headers=auth(*OFFICER))
    assert response.status_code == 200, response.text
    body = response.json()
    # The phases add up to the open cases unless small ones were left out (review3 finding 9).
    shown = sum(body["openByPhase"].values())
    assert shown == body["openCases"] if not body["suppressedPhases"] else shown < body["openCases"]
    return body["openCases"], body["overdueDeadlines"], body["casesOpened"]


def _listed(client: TestClient, auth: Auth, *, include_closed: bool) -> list[str]:
    """Every case of ``GET /v1/cases`` for the lead, page by page."""
    ids: list[str] = []
    href: str | None = f"/v1/cases?includeClosed={str(include_closed).lower()}&limit=2"
    while href is not None:
        response = client.get(href, headers=auth(*CM))
        assert response.status_code == 200, response.text
        ids += [case["id"] for case in response.json()["_embedded"]["cases"]]
        href = response.json()["_links"].get("next", {}).get("href")
    return ids


def _meeting_districts(client: TestClient, auth: Auth) -> set[str]:
    """The districts the organiser is asked to hold a case meeting in."""
    deadlines = listed_deadlines(client, auth(*CM))
    return {d["district"] for d in deadlines if d["kind"] == "district-meeting"}


def _erase_everything(context: GatewayContext) -> None:
    """Years later: every case is past its retention period."""
    report = context.require_retention().sweep(as_of=date(2030, 1, 1))
    assert report.redacted >= 1


def test_an_erased_open_case_leaves_the_open_counts_and_the_case_lists(
    client: TestClient, auth: Auth, context: GatewayContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What erasure does to the counts, not small counts (tests/cases/test_steering_figures.py):
    # every count is shown here, one case too.
    monkeypatch.setattr("gateway.cases.steering.MIN_GROUP_SIZE", 1)
    erased = _open(client, auth, 1)
    _backdate(context, erased)
    closed = _open(client, auth, 2)
    _backdate(context, closed, state="closed", closed_at=LONG_AGO)
    open_cases, overdue, opened = _figures(client, auth)
    assert (open_cases, opened) == (1, 2)
    assert overdue >= 1
    assert _listed(client, auth, include_closed=False) == [erased]
    assert _listed(client, auth, include_closed=True) == [erased, closed]
    assert _meeting_districts(client, auth) == {"Oost"}

    _erase_everything(context)
    assert _figures(client, auth) == (0, 0, 2)  # opened in the period: still counted
    assert _listed(client, auth, include_closed=False) == []
    assert _listed(client, auth, include_closed=True) == [closed]  # closed, as it was
    assert _meeting_districts(client, auth) == set()

    later = _open(client, auth, 3)
    _backdate(context, later)
    assert _figures(client, auth) == (1, overdue, 3)
    assert _listed(client, auth, include_closed=False) == [later]
    assert _listed(client, auth, include_closed=True) == [closed, later]
    assert _meeting_districts(client, auth) == {"Oost"}


def _summary(client: TestClient, auth: Auth, case_id: str) -> dict[str, object]:
    response = client.get(f"/v1/cases/{case_id}", headers=auth(*CM))
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def _case_page(app: FastAPI, case_id: str) -> str:
    """The case page, as the case manager sees it in a browser."""
    with TestClient(app, base_url="https://testserver") as browser:
        sign_in(browser, *CM)
        page = browser.get(f"/zaken/{case_id}")
    assert page.status_code == 200, page.text
    return page.text


def test_an_erased_open_case_s_summary_offers_no_work(
    app: FastAPI, client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    """A team member who follows an old link to an erased open case sees it marked erased,
    without deadlines, pending reports or transitions (each would answer 410). Control: the
    same case before the sweep has all three."""
    # The corporation reports first; the police's report then awaits the lead's decision.
    first = client.post(
        "/v1/reports",
        json=report_body(postcode="3511 AB", number=1, persons=[]),
        headers=auth("mitros", "woonconsulent"),
    )
    assert first.status_code == 201, first.text
    case_id = str(first.json()["caseId"])
    second = client.post(
        "/v1/reports",
        json=report_body(postcode="3511 AB", number=1, persons=[]),
        headers=auth(*POLICE),
    )
    assert second.json()["awaitingLead"] is True, second.text
    _backdate(context, case_id)
    before = _summary(client, auth, case_id)
    page_before = _case_page(app, case_id)
    assert before["erased"] is False
    assert before["deadlines"]
    assert before["allowedTransitions"]
    assert before["pendingReports"]

    _erase_everything(context)
    after = _summary(client, auth, case_id)
    assert after["erased"] is True
    assert after["deadlines"] == after["allowedTransitions"] == after["pendingReports"] == []
    assert after["state"] == before["state"]
    assert after["closedAt"] is None  # erased, not closed

    assert "bewaartermijn verstreken" not in page_before
    assert f"/zaken/{case_id}/informatieverzoek" in page_before
    page = _case_page(app, case_id)
    assert "bewaartermijn verstreken" in page
    assert f"/zaken/{case_id}/informatieverzoek" not in page


def _marks(context: GatewayContext) -> dict[str, tuple[object, object]]:
    """Each case's erasure mark and the register's erasure time."""
    with context.session_factory() as session:
        rows = session.execute(
            select(CaseFile.id, CaseFile.erased_at, RetentionCase.erased_at).join(
                RetentionCase, RetentionCase.case_id == CaseFile.id, isouter=True
            )
        ).all()
    return {case_id: (mark, registered) for case_id, mark, registered in rows}


def test_the_sweep_marks_the_erasure_on_the_case_and_the_migration_marks_earlier_ones(
    client: TestClient, auth: Auth, context: GatewayContext, database_url: str
) -> None:
    """The reads go by ``case_file.erased_at`` (gateway/cases/live.py): the sweep sets it in
    the erasure's transaction, at the register's time; a case not erased has none (the
    control). Migration 0027 marks the cases erased before it, from the register."""
    erased = _open(client, auth, 1)
    _backdate(context, erased)
    _erase_everything(context)
    later = _open(client, auth, 2)
    marks = _marks(context)
    mark, registered = marks[erased]
    assert mark is not None
    assert mark == registered
    assert marks[later][0] is None

    context.engine.dispose()
    config = alembic_config(database_url)
    command.downgrade(config, "0026_report_closed_meeting_held")  # the column is gone
    command.upgrade(config, "head")
    assert _marks(context) == marks
    assert _listed(client, auth, include_closed=True) == [later]
