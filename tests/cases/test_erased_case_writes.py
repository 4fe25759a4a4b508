"""A case erased under retention takes no more writes (docs/retention.md: "Writing to an
erased case answers 410"): an open case without activity is erased like a closed one, and
the cases domain's own writes (a step, criteria, the team, a consent, the investigation
status, the landlord, a reporter decision) answer 410 problem+json ``case-erased`` and store
nothing. Each refusal has its positive control: the same write on a case that was not erased.
A partner outside the team still gets the 404 it gets for any case it cannot see, not the
410 that would tell it the case existed."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from gateway.cases.access import writable_case
from gateway.cases.models import CaseConsent, CaseFile, CaseTeamMember, CaseTransition
from gateway.context import GatewayContext
from gateway.core.dutch_date import dutch_today
from gateway.db import transaction
from gateway.retention.models import RetentionCase
from gateway.retention.sweeper import SweepReport
from tests.cases.builders import listed_deadlines, principal, report_body

Auth = Callable[..., dict[str, str]]
CM = ("u-centraal", "casemanager")
POLICE = ("politie-midden-nederland", "wijkagent")
OUTSIDER = ("portaal", "woonconsulent")

WRITES: dict[str, tuple[str, str, tuple[str, str], dict[str, Any]]] = {
    "step": (
        "post",
        "transitions",
        CM,
        {"transition": "decline", "reason": "Geen extreme overlast."},
    ),
    "criteria": (
        "post",
        "criteria",
        CM,
        {"criteria": [{"criterion": "serious-or-long", "holds": True, "evidence": "Elke nacht."}]},
    ),
    "team": ("post", "team", CM, {"partnerId": "portaal"}),
    "consent": (
        "post",
        "consents",
        POLICE,
        {
            "kind": "om-consent",
            "scope": ["police-nuisance-antecedents"],
            "expiresAt": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
        },
    ),
    "investigation": ("put", "investigation-status", POLICE, {"running": True}),
    "landlord": (
        "put",
        "dwelling/landlord",
        CM,
        {"ownership": "corporation", "corporationId": "portaal"},
    ),
}


def _open(client: TestClient, auth: Auth) -> str:
    response = client.post("/v1/reports", json=report_body(), headers=auth(*POLICE))
    assert response.status_code == 201, response.text
    return str(response.json()["caseId"])


def _erase_everything(context: GatewayContext) -> None:
    """Years later: every open case has been without activity for longer than its rule."""
    report = context.require_retention().sweep(as_of=date(2030, 1, 1))
    assert report.redacted >= 1


def _write(client: TestClient, auth: Auth, case_id: str, name: str) -> Any:
    method, path, who, body = WRITES[name]
    return getattr(client, method)(f"/v1/cases/{case_id}/{path}", json=body, headers=auth(*who))


def _stored(context: GatewayContext, case_id: str) -> tuple[int, int, int]:
    with context.session_factory() as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(model).where(model.case_id == case_id))
            for model in (CaseTransition, CaseTeamMember, CaseConsent)
        )


@pytest.mark.parametrize("name", sorted(WRITES))
def test_a_write_to_an_erased_case_is_410_and_stores_nothing(
    client: TestClient, auth: Auth, context: GatewayContext, name: str
) -> None:
    case_id = _open(client, auth)
    _erase_everything(context)
    before = _stored(context, case_id)
    response = _write(client, auth, case_id, name)
    assert response.status_code == 410, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "Erased under rule " in response.json()["detail"]
    assert _stored(context, case_id) == before


@pytest.mark.parametrize("name", sorted(WRITES))
def test_the_same_write_to_a_case_that_was_not_erased_is_done(
    client: TestClient, auth: Auth, context: GatewayContext, name: str
) -> None:
    """Positive control: the sweep runs on a day the case is not yet due."""
    case_id = _open(client, auth)
    report = context.require_retention().sweep(as_of=dutch_today())
    assert report.redacted == 0
    response = _write(client, auth, case_id, name)
    assert response.status_code in (200, 201), response.text


def test_outside_the_team_an_erased_case_is_still_404(
    client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    case_id = _open(client, auth)
    _erase_everything(context)
    response = client.post(
        f"/v1/cases/{case_id}/consents",
        json={"kind": "corporation-permission"},
        headers=auth(*OUTSIDER),
    )
    assert response.status_code == 404, response.text


@pytest.mark.parametrize("write_held", [True, False])
def test_the_sweep_skips_a_case_a_write_holds_and_erases_it_otherwise(
    client: TestClient, auth: Auth, context: GatewayContext, write_held: bool
) -> None:
    """A write holds the case (its retention row locked before its case row, as the sweep
    takes them) while the sweep runs: the sweep neither deadlocks with it nor waits for it,
    and leaves the case to its next run; the write lands. Control: without the write, the
    same sweep erases the case."""
    if context.engine.dialect.name != "postgresql":
        pytest.skip("concurrent writers are PostgreSQL's (SQLite has one writer)")
    case_id = _open(client, auth)
    lead = principal("u-centraal", "casemanagement", "casemanager", "utrecht-extreme-woonoverlast")
    reports: list[SweepReport] = []

    def sweep() -> None:
        reports.append(context.require_retention().sweep(as_of=date(2030, 1, 1)))

    sweeper = threading.Thread(target=sweep)
    with transaction(context.session_factory) as session:
        if write_held:
            writable_case(session, runtime=context.cases, case_id=case_id, principal=lead)
        sweeper.start()
        sweeper.join(timeout=60)
        assert not sweeper.is_alive(), "the sweep waited for (or deadlocked with) the write"
    (report,) = reports
    with context.session_factory() as session:
        erased = session.scalar(
            select(RetentionCase.erased_at).where(RetentionCase.case_id == case_id)
        )
    assert (erased is None) is write_held
    assert report.redacted == (0 if write_held else 1)


def test_a_new_report_about_an_erased_case_opens_a_new_case(
    client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    """The erased dossier is gone: a report about the same address and person starts a new
    case instead of joining it (before the fix: 422 invalid-key-scope, for every report
    about that address ever after). Control: before the erasure the same report joins."""
    case_id = _open(client, auth)
    joined = client.post("/v1/reports", json=report_body(), headers=auth(*POLICE))
    assert joined.status_code == 200, joined.text
    assert joined.json()["caseId"] == case_id
    _erase_everything(context)
    again = client.post("/v1/reports", json=report_body(), headers=auth(*POLICE))
    assert again.status_code == 201, again.text
    assert again.json()["caseId"] != case_id
    # The next report joins the new case, passing over the erased one again.
    third = client.post("/v1/reports", json=report_body(), headers=auth(*POLICE))
    assert third.status_code == 200, third.text
    assert third.json()["caseId"] == again.json()["caseId"]
    # Review2 finding 7: nothing leads from the address to the erased case any more, not
    # its own index (cleared with the dossier) nor a dwelling shared with the new case.
    with context.session_factory() as session:
        erased = session.get_one(CaseFile, case_id)
        new = session.get_one(CaseFile, again.json()["caseId"])
        assert erased.address_index is None
        assert new.address_index is not None
        assert erased.dwelling_id != new.dwelling_id
        at_address = session.scalars(
            select(CaseFile.id).where(CaseFile.address_index == new.address_index)
        ).all()
        assert at_address == [new.id]


def _meeting(client: TestClient, auth: Auth, day: str) -> Any:
    """The case meeting of the cases' district on ``day``, planned by the organiser."""
    district = report_body()["dwelling"]["district"]
    meeting = client.post(
        "/v1/meetings", headers=auth(*CM), json={"district": district, "scheduledOn": day}
    )
    assert meeting.status_code == 201, meeting.text
    return meeting.json()


def _action(client: TestClient, auth: Auth, meeting_id: str, case_id: str) -> Any:
    return client.post(
        f"/v1/meetings/{meeting_id}/actions",
        headers=auth(*CM),
        json={
            "caseId": case_id,
            "ownerPartnerId": "politie-midden-nederland",
            "description": "Sfeerverslag opstellen.",
            "dueOn": "2026-12-15",
        },
    )


@pytest.mark.parametrize("erased", [True, False])
def test_a_meeting_action_about_an_erased_case_is_410(
    client: TestClient, auth: Auth, context: GatewayContext, erased: bool
) -> None:
    """An action about a case is written to its dossier (sealed, erased with the case): not
    to a case erased after the meeting put it on the agenda. Control: the same action about
    a case that was not erased is added."""
    case_id = _open(client, auth)
    meeting = _meeting(client, auth, "2026-12-01")
    assert case_id in [item["caseId"] for item in meeting["agenda"]]
    if erased:
        _erase_everything(context)
    action = _action(client, auth, meeting["id"], case_id)
    assert action.status_code == (410 if erased else 201), action.text


def test_an_erased_open_case_leaves_the_deadlines_and_the_next_agenda(
    client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    """Its steps are refused (410), so its deadlines are no longer work, nor a meeting action
    about it, and the next case meeting does not put it on the agenda. Control: the case had
    deadlines and an action before, and a case opened after the sweep is listed and put on
    the agenda as usual."""
    erased = _open(client, auth)
    action = _action(client, auth, _meeting(client, auth, "2026-12-01")["id"], erased)
    assert action.status_code == 201, action.text

    def listed(who: tuple[str, str]) -> set[str]:
        return {d.get("caseId") for d in listed_deadlines(client, auth(*who))}

    assert erased in listed(CM)
    assert erased in listed(POLICE)  # the action
    _erase_everything(context)
    later = client.post(
        "/v1/reports",
        json=report_body(postcode="3512 CD", number=9, persons=[]),
        headers=auth(*POLICE),
    )
    assert later.status_code == 201, later.text
    live = later.json()["caseId"]
    assert erased not in listed(CM)
    assert erased not in listed(POLICE)
    assert live in listed(CM)
    next_meeting = _meeting(client, auth, "2027-01-12")
    assert [item["caseId"] for item in next_meeting["agenda"]] == [live]
