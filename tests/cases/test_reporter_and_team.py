"""Filing a report does not make a partner part of the case team (issue 14 item 6).

The report joins the dossier (R Bijlage B/C), the lead is told (deadline list, inbox, case
page) and decides whether the reporter joins the team (U §6: partners exchange with "de
andere partijen die bij de casus zijn betrokken"). Until then the case does not exist for the
reporter, which keeps seeing what it reported itself. Each refusal has its positive control.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from gateway.audit.models import AuditRecord
from gateway.context import GatewayContext
from tests.cases.builders import listed_deadlines

Auth = Callable[..., dict[str, str]]

LEAD = ("u-centraal", "casemanager")
LEAD_ADAPTER = ("u-centraal", "adapter")
MITROS = ("mitros", "woonconsulent")
POLICE = ("politie-midden-nederland", "wijkagent")
DWELLING = {
    "address": {"postcode": "3511 AB", "houseNumber": 12},
    "ownership": "corporation",
    "corporationId": "mitros",
    "district": "binnenstad",
}


def _report(client: TestClient, auth: Auth, who: tuple[str, str], text: str) -> Any:
    return client.post(
        "/v1/reports",
        json={
            "dwelling": DWELLING,
            "persons": [{"role": "causer", "bsn": "111222333"}],
            "report": {"channel": "form", "description": text},
        },
        headers=auth(*who),
    )


@pytest.fixture
def joined(client: TestClient, auth: Auth) -> tuple[str, dict[str, Any]]:
    """Mitros opens the case (team: U Centraal, Mitros); the police then report the same
    dwelling."""
    opened = _report(client, auth, MITROS, "Nachtelijk lawaai.")
    assert opened.status_code == 201, opened.text
    police = _report(client, auth, POLICE, "Melding geluidsoverlast en bedreiging.")
    assert police.status_code == 202, police.text
    return opened.json()["caseId"], police.json()


def _case(client: TestClient, auth: Auth, case_id: str, who: tuple[str, str]) -> Any:
    return client.get(f"/v1/cases/{case_id}", headers=auth(*who))


def _decide(
    client: TestClient, auth: Auth, case_id: str, report_id: str, who: Any, add: bool
) -> Any:
    return client.post(
        f"/v1/cases/{case_id}/reports/{report_id}/reporter-decision",
        json={"addToTeam": add},
        headers=auth(*who),
    )


def test_the_report_joins_the_dossier_but_not_the_reporter_the_team(
    client: TestClient, auth: Auth, joined: tuple[str, dict[str, Any]]
) -> None:
    case_id, police = joined
    assert police["caseId"] is None
    assert police["reference"] is None
    assert police["state"] is None
    assert police["awaitingLead"] is True
    assert not police["created"]
    summary = _case(client, auth, case_id, LEAD).json()
    assert summary["reportCount"] == 2
    assert "politie-midden-nederland" not in summary["team"]
    assert [(r["id"], r["partnerId"]) for r in summary["pendingReports"]] == [
        (police["reportId"], "politie-midden-nederland")
    ]
    # Outside the team, the case does not exist for the police.
    assert _case(client, auth, case_id, POLICE).status_code == 404
    query = client.post(
        "/v1/case-facts/queries",
        json={"caseId": case_id, "purpose": "case-handling", "categories": ["police-reports"]},
        headers=auth(*POLICE),
    )
    assert query.status_code == 404
    # Positive control: a partner in the team reporting again gets the case (200).
    again = _report(client, auth, MITROS, "Weer lawaai.")
    assert again.status_code == 200, again.text
    assert again.json()["caseId"] == case_id
    assert not again.json()["awaitingLead"]


def test_the_lead_is_told_in_its_deadlines_and_its_inbox(
    client: TestClient, auth: Auth, joined: tuple[str, dict[str, Any]]
) -> None:
    case_id, police = joined
    deadlines = listed_deadlines(client, auth(*LEAD))
    (due,) = [d for d in deadlines if d["deadline"] == "reporter-decision"]
    assert due["caseId"] == case_id
    assert due["responsiblePartnerId"] == "u-centraal"
    assert "politie-midden-nederland" in due["description"]
    summary = _case(client, auth, case_id, LEAD).json()
    registered = datetime.fromisoformat(summary["pendingReports"][0]["registeredAt"])
    # Five calendar days from the (Dutch) day of registration (ASSUMPTION, docs/cases.md).
    day = registered.astimezone(ZoneInfo("Europe/Amsterdam")).date()
    assert due["dueOn"] == summary["pendingReports"][0]["dueOn"]
    assert due["dueOn"] == (day + timedelta(days=5)).isoformat()
    inbox = client.get("/v1/inbox", headers=auth(*LEAD)).json()["items"]
    assert [(i["kind"], i["requestId"], i["requesterPartnerId"]) for i in inbox] == [
        ("reporter-decision", police["reportId"], "politie-midden-nederland")
    ]
    # Not the lead's back-office adapter (the decision is a person's), not the team member
    # Mitros, not the reporter.
    assert client.get("/v1/inbox", headers=auth(*LEAD_ADAPTER)).json()["items"] == []
    for who in (MITROS, POLICE):
        kinds = [i["kind"] for i in client.get("/v1/inbox", headers=auth(*who)).json()["items"]]
        assert "reporter-decision" not in kinds
        due = listed_deadlines(client, auth(*who))
        assert "reporter-decision" not in [d["deadline"] for d in due]


def test_the_lead_adds_the_reporter_and_only_then_it_sees_the_case(
    client: TestClient, auth: Auth, joined: tuple[str, dict[str, Any]], context: GatewayContext
) -> None:
    case_id, police = joined
    decided = _decide(client, auth, case_id, police["reportId"], LEAD, True)
    assert decided.status_code == 200, decided.text
    assert _case(client, auth, case_id, POLICE).status_code == 200
    summary = _case(client, auth, case_id, LEAD).json()
    assert "politie-midden-nederland" in summary["team"]
    assert summary["pendingReports"] == []
    assert "reporter-decision" not in [d["deadline"] for d in summary["deadlines"]]
    own = client.get(f"/v1/reports/{police['reportId']}", headers=auth(*POLICE)).json()
    assert (own["status"], own["caseId"]) == ("joined", case_id)
    with context.session_factory() as session:
        activities = session.scalars(
            select(AuditRecord.activity).where(AuditRecord.case_id == case_id)
        ).all()
    assert "case-reporter-decision" in activities


def test_the_lead_declines_and_the_case_stays_hidden_from_the_reporter(
    client: TestClient, auth: Auth, joined: tuple[str, dict[str, Any]]
) -> None:
    case_id, police = joined
    decided = _decide(client, auth, case_id, police["reportId"], LEAD, False)
    assert decided.status_code == 200, decided.text
    assert _case(client, auth, case_id, POLICE).status_code == 404
    summary = _case(client, auth, case_id, LEAD).json()
    assert summary["pendingReports"] == []
    assert "politie-midden-nederland" not in summary["team"]
    own = client.get(f"/v1/reports/{police['reportId']}", headers=auth(*POLICE)).json()
    assert (own["status"], own["caseId"]) == ("declined", None)
    # A decided report awaits no second decision.
    again = _decide(client, auth, case_id, police["reportId"], LEAD, True)
    assert again.status_code == 403


def test_only_the_lead_decides(
    client: TestClient, auth: Auth, joined: tuple[str, dict[str, Any]]
) -> None:
    case_id, police = joined
    # A team member that is not the lead: refused; the reporter itself: the case is not found.
    assert _decide(client, auth, case_id, police["reportId"], MITROS, True).status_code == 403
    assert _decide(client, auth, case_id, police["reportId"], POLICE, True).status_code == 404
    assert _case(client, auth, case_id, POLICE).status_code == 404
    # Positive control: the lead.
    assert _decide(client, auth, case_id, police["reportId"], LEAD, True).status_code == 200


def test_the_reporter_keeps_seeing_what_it_reported_itself(
    client: TestClient, auth: Auth, joined: tuple[str, dict[str, Any]]
) -> None:
    _, police = joined
    mine = client.get("/v1/reports", headers=auth(*POLICE))
    assert mine.status_code == 200, mine.text
    (own,) = mine.json()["_embedded"]["reports"]
    assert own["id"] == police["reportId"]
    assert (own["status"], own["caseId"], own["reference"]) == ("awaiting-lead", None, None)
    assert own["channel"] == "form"
    # Another partner cannot read it; the partner that opened the case sees its own report
    # with the case (it is in the team).
    assert client.get(f"/v1/reports/{own['id']}", headers=auth(*MITROS)).status_code == 404
    (mitros,) = client.get("/v1/reports", headers=auth(*MITROS)).json()["_embedded"]["reports"]
    assert mitros["status"] == "in-team"
    assert mitros["caseId"] is not None


def test_a_replayed_report_answers_as_the_first_did(client: TestClient, auth: Auth) -> None:
    """The idempotency helper stores the 202 with the result."""
    opened = _report(client, auth, MITROS, "Nachtelijk lawaai.")
    assert opened.status_code == 201
    headers = {**auth(*POLICE), "Idempotency-Key": "melding-1"}
    body = {
        "dwelling": DWELLING,
        "persons": [],
        "report": {"channel": "form", "description": "Melding"},
    }
    first = client.post("/v1/reports", json=body, headers=headers)
    replay = client.post(
        "/v1/reports", json=body, headers={**auth(*POLICE), "Idempotency-Key": "melding-1"}
    )
    assert first.status_code == replay.status_code == 202
    assert first.json() == replay.json()


def test_an_erased_case_leaves_the_leads_inbox_and_its_decision_is_410(
    client: TestClient, auth: Auth, joined: tuple[str, dict[str, Any]], context: GatewayContext
) -> None:
    """An open case without activity is erased under retention (docs/retention.md); its
    pending report is no longer work for the lead: deciding it answers 410, so the inbox does
    not offer it (as it does not offer an erased case's information requests or notices)."""
    case_id, police = joined

    def pending() -> list[tuple[str, str]]:
        items = client.get("/v1/inbox", headers=auth(*LEAD)).json()["items"]
        return [(i["kind"], i["requestId"]) for i in items if i["kind"] == "reporter-decision"]

    def due() -> list[str]:
        deadlines = listed_deadlines(client, auth(*LEAD))
        return [d["deadline"] for d in deadlines if d["deadline"] == "reporter-decision"]

    # Positive control: before the erasure the lead is asked to decide (inbox, deadlines).
    assert pending() == [("reporter-decision", police["reportId"])]
    assert due() == ["reporter-decision"]
    report = context.require_retention().sweep(as_of=date(2030, 1, 1))
    assert report.redacted >= 1
    assert pending() == []
    assert due() == []
    decided = _decide(client, auth, case_id, police["reportId"], LEAD, True)
    assert decided.status_code == 410, decided.text
    assert decided.headers["content-type"].startswith("application/problem+json")
