"""Through the API, on SQLite and PostgreSQL: a corporation that is not the dwelling's
landlord, refused the sfeerverslag by that relation, is not told whether the landlord
started its eviction procedure (review6b, P1), a measure the case summary withholds from it
(``events`` in ``withheld``; review4, finding 5). Not when it asks, not when it reads the
request back, not when it reads the answers, not in the audit entry its privacy officer
finds. Positive controls: the landlord and the case lead are told the procedure is missing,
and receive the sfeerverslag once it is on record. And refusals stored by the earlier policy
are cut down by migration 0041."""

from __future__ import annotations

from typing import Any

from alembic import command
from sqlalchemy import update

from gateway.context import GatewayContext
from gateway.db import alembic_config, transaction
from gateway.exchange.models import RequestItem
from tests.exchange.conftest import CASE_MANAGER, MITROS, UtrechtCase, audit_search

SFEER = "police-atmosphere-report"
PORTAAL = ("portaal", "woonconsulent")
EVICTION = {"event": "eviction-procedure", "occurredOn": "2025-03-01"}
MISSING = "event-not-recorded:eviction-procedure"


def _ask(case: UtrechtCase, who: tuple[str, str]) -> dict[str, Any]:
    response = case.client.post(
        "/v1/information-requests",
        json={"caseId": case.case_id, "purpose": "eviction-procedure", "categories": [SFEER]},
        headers=case.as_(who, "user-1"),
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def _told(case: UtrechtCase, request_id: str, who: tuple[str, str]) -> dict[str, list[str]]:
    """Every way the requester reads its refusal back: the request and its answers."""
    status = case.client.get(f"/v1/information-requests/{request_id}", headers=case.as_(who))
    assert status.status_code == 200, status.text
    answers = case.client.get(
        f"/v1/information-requests/{request_id}/answers", headers=case.as_(who, "user-1")
    )
    assert answers.status_code == 200, answers.text
    [value] = answers.json()["values"]
    return {"status": status.json()["items"][0]["reasons"], "answers": value["reasons"]}


def test_another_corporation_is_told_only_that_it_is_not_the_landlord(
    utrecht_case: UtrechtCase,
) -> None:
    case = utrecht_case
    case.to_execution_with_portaal()
    summary = case.client.get(f"/v1/cases/{case.case_id}", headers=case.as_(PORTAAL)).json()
    assert "events" in summary["withheld"]

    before = _ask(case, PORTAAL)
    assert case.post("events", EVICTION, MITROS).status_code == 201
    after = _ask(case, PORTAAL)
    for asked in (before, after):
        [item] = asked["items"]
        assert (item["state"], item["reasons"]) == ("denied", ["not-dwelling-landlord"])
        assert _told(case, asked["id"], PORTAAL) == {
            "status": ["not-dwelling-landlord"],
            "answers": ["not-dwelling-landlord"],
        }
    text = repr(audit_search(case, ("portaal", "privacy-officer")))
    assert "not-dwelling-landlord" in text
    assert MISSING not in text


def test_the_landlord_and_the_lead_are_told_and_then_receive(utrecht_case: UtrechtCase) -> None:
    """The positive control: told the procedure is missing before it is recorded, asked
    (and, once the police answer, disclosed) after."""
    case = utrecht_case
    case.to_execution_with_portaal()
    for who in (MITROS, CASE_MANAGER):
        [item] = _ask(case, who)["items"]
        assert (item["state"], item["reasons"]) == ("denied", [MISSING]), who
    assert case.post("events", EVICTION, MITROS).status_code == 201
    for who in (MITROS, CASE_MANAGER):
        asked = _ask(case, who)
        assert asked["items"][0]["state"] == "asked", who
        answered = case.answer(asked["id"], [{"category": SFEER, "value": "Sfeerverslag"}])
        assert answered.status_code == 200, answered.text
        [value] = case.read(asked["id"], who)["values"]
        assert (value["outcome"], value["value"]) == ("disclosed", "Sfeerverslag"), who


def test_refusals_stored_before_the_fix_are_cut_down_by_the_migration(
    utrecht_case: UtrechtCase, context: GatewayContext, database_url: str
) -> None:
    """An item stored by the earlier policy keeps its reasons and returns them on every
    read: migration 0041 takes the case's state out of a refusal by relation. Control: the
    landlord's refusal keeps the missing procedure."""
    case = utrecht_case
    case.to_execution_with_portaal()
    other = _ask(case, PORTAAL)["id"]
    landlord = _ask(case, MITROS)["id"]
    with transaction(context.session_factory) as session:
        session.execute(
            update(RequestItem)
            .where(RequestItem.request_id == other)
            .values(reasons=["not-dwelling-landlord", "police-not-in-case-team", MISSING])
        )
    context.engine.dispose()
    config = alembic_config(database_url)
    command.downgrade(config, "0040_idempotency_case")
    command.upgrade(config, "head")
    assert _told(case, other, PORTAAL)["status"] == ["not-dwelling-landlord"]
    assert _told(case, landlord, MITROS)["status"] == [MISSING]
