"""A team member that asks for the nuisance antecedents does not read in the refusal whether a
police investigation runs (review2, finding 1). The case summary withholds the status from
all but the police and the lead (gateway/cases/summary_readers.py); the refusal used to tell
it: a woonconsulent was told ``role-not-recipient``, plus ``om-consent-missing`` while an
investigation ran and ``investigation-status-unknown`` while nobody had recorded it.

For every role of the Utrecht covenant file that the antecedents clause does not name, in the
case team, under the three statuses (not recorded, running, not running): asking
(``POST /v1/information-requests``), reading the request back (``GET``) and querying the case's
facts (``POST /v1/case-facts/queries``) all give the same reasons, the static ones; once
removed from the team, reading its answers is a 404 (review4 F2). An audit role is refused
the exchange itself.
The control: the lead, the clause's recipient, is told how the OM consent fails."""

from __future__ import annotations

from typing import Any

import pytest
from alembic import command
from sqlalchemy import update

from gateway.context import GatewayContext
from gateway.db import alembic_config, transaction
from gateway.exchange.models import RequestItem
from gateway.policy.covenant import Covenant, load_covenants
from tests.exchange.conftest import ANTECEDENTS, CASE_MANAGER, UtrechtCase

COVENANT: Covenant = load_covenants()["utrecht-extreme-woonoverlast"]
CLAUSE = next(c for c in COVENANT.clauses if ANTECEDENTS in c.categories)
AUDIT_ROLES = {r.id for r in COVENANT.roles if r.kind == "audit"}
#: Every role the clause does not name, asked by the first partner holding it.
NON_RECIPIENTS = [
    (next(p.id for p in COVENANT.partners if role.id in p.roles), role.id)
    for role in COVENANT.roles
    if role.id not in CLAUSE.roles and any(role.id in p.roles for p in COVENANT.partners)
]
STATUSES = {"not recorded": None, "running": True, "not running": False}
#: The partners of the kind that discloses the antecedents (the police).
OWNERS = {p.id for p in COVENANT.partners if p.kind == CLAUSE.provider}


def _in_team(case: UtrechtCase, partner: str) -> None:
    response = case.client.post(
        f"/v1/cases/{case.case_id}/team",
        json={"partnerId": partner},
        headers=case.as_(CASE_MANAGER),
    )
    assert response.status_code in (200, 201, 409), response.text


def _ask(case: UtrechtCase, who: tuple[str, str]) -> Any:
    return case.client.post(
        "/v1/information-requests",
        json={"caseId": case.case_id, "purpose": "case-handling", "categories": [ANTECEDENTS]},
        headers=case.as_(who, "user-1"),
    )


def _told(case: UtrechtCase, who: tuple[str, str]) -> dict[str, list[str]]:
    """What ``who`` is told about the antecedents on asking, reading the request back and
    querying the case's facts."""
    queried = _query(case, who)
    asked = _ask(case, who)
    if who[0] in OWNERS:
        # The police cannot ask themselves for their own data: refused before any decision.
        assert asked.status_code == 422, asked.text
        return {"asked": [asked.json()["detail"]], "queried": queried}
    assert asked.status_code == 201, asked.text
    (item,) = asked.json()["items"]
    assert item["state"] == "denied", item
    read = case.client.get(f"/v1/information-requests/{asked.json()['id']}", headers=case.as_(who))
    assert read.status_code == 200, read.text
    (read_item,) = read.json()["items"]
    return {"asked": item["reasons"], "read": read_item["reasons"], "queried": queried}


def _query(case: UtrechtCase, who: tuple[str, str]) -> list[str]:
    queried = case.client.post(
        "/v1/case-facts/queries",
        json={"caseId": case.case_id, "purpose": "case-handling", "categories": [ANTECEDENTS]},
        headers=case.as_(who, "user-1"),
    )
    assert queried.status_code == 200, queried.text
    (value,) = queried.json()["values"]
    assert value["outcome"] == "redacted", value
    return value["reasons"]  # type: ignore[no-any-return]


def _set(case: UtrechtCase, running: bool | None) -> None:
    if running is not None:
        case.investigation(running)


def test_every_non_recipient_role_is_told_the_same_whatever_the_investigation(
    utrecht_case: UtrechtCase,
) -> None:
    assert {role for _, role in NON_RECIPIENTS} >= {"woonconsulent", "wijkagent", "adapter"}
    for partner, _ in NON_RECIPIENTS:
        _in_team(utrecht_case, partner)
    told: dict[str, dict[tuple[str, str], dict[str, list[str]]]] = {}
    for status, running in STATUSES.items():
        _set(utrecht_case, running)
        told[status] = {}
        for who in NON_RECIPIENTS:
            if who[1] in AUDIT_ROLES:
                refused = _ask(utrecht_case, who)
                assert refused.status_code == 403, refused.text
                assert refused.headers["content-type"].startswith("application/problem+json")
                continue
            told[status][who] = _told(utrecht_case, who)
    static = ["role-not-recipient"]
    for status, by_role in told.items():
        assert by_role.keys() == told["not recorded"].keys()
        for who, reasons in by_role.items():
            assert reasons == told["not recorded"][who], (status, who)
            assert reasons["queried"] == static, (status, who)
            if who[0] not in OWNERS:
                assert reasons == {"asked": static, "read": static, "queried": static}, who


@pytest.mark.parametrize("status", list(STATUSES))
def test_control_the_lead_is_told_how_the_om_consent_fails(
    utrecht_case: UtrechtCase, status: str
) -> None:
    _set(utrecht_case, STATUSES[status])
    asked = _ask(utrecht_case, CASE_MANAGER)
    assert asked.status_code == 201, asked.text
    (item,) = asked.json()["items"]
    expected = {
        "not recorded": ("denied", ["investigation-status-unknown", "om-consent-missing"]),
        "running": ("denied", ["om-consent-missing"]),
        "not running": ("asked", []),
    }[status]
    assert (item["state"], item["reasons"]) == expected


def test_a_removed_requester_reads_no_reasons(utrecht_case: UtrechtCase) -> None:
    """Mitros asks while an investigation runs, then leaves the team and reads its answers:
    told nothing, the 404 of an unknown request (review4 F2; it read the one static reason
    before). Control: the lead's own request is told the OM consent is missing."""
    mitros = ("mitros", "woonconsulent")
    utrecht_case.investigation(True)
    asked = _ask(utrecht_case, mitros)
    assert asked.status_code == 201, asked.text
    removed = utrecht_case.client.delete(
        f"/v1/cases/{utrecht_case.case_id}/team/mitros", headers=utrecht_case.as_(CASE_MANAGER)
    )
    assert removed.status_code in (200, 204), removed.text
    answers = utrecht_case.client.get(
        f"/v1/information-requests/{asked.json()['id']}/answers",
        headers=utrecht_case.as_(mitros, "user-1"),
    )
    assert answers.status_code == 404, answers.text
    assert answers.json()["type"].endswith("/information-request-not-found")
    assert "om-consent" not in answers.text
    lead = _ask(utrecht_case, CASE_MANAGER).json()["items"][0]
    assert lead["reasons"] == ["om-consent-missing"]


def test_refusals_stored_before_the_fix_tell_only_what_the_policy_tells_now(
    utrecht_case: UtrechtCase, context: GatewayContext, database_url: str
) -> None:
    """An item stored by the earlier policy keeps its reasons and returns them on every read:
    the migration (0030) takes the case's criminal-law facts out of the refusals of a
    requester refused statically or outside the team. Control: the lead's refusal keeps
    ``om-consent-missing``."""
    mitros = ("mitros", "woonconsulent")
    utrecht_case.investigation(True)
    landlord = _ask(utrecht_case, mitros).json()["id"]
    lead = _ask(utrecht_case, CASE_MANAGER).json()["id"]
    old = {
        landlord: ["role-not-recipient", "om-consent-missing"],
        lead: ["not-in-case-team", "investigation-status-unknown", "om-consent-missing"],
    }
    with transaction(context.session_factory) as session:
        for request_id, reasons in old.items():
            session.execute(
                update(RequestItem)
                .where(RequestItem.request_id == request_id)
                .values(reasons=reasons)
            )
    control = _ask(utrecht_case, CASE_MANAGER).json()["id"]

    context.engine.dispose()
    config = alembic_config(database_url)
    command.downgrade(config, "0029_case_state_days")
    command.upgrade(config, "head")

    def told(request_id: str, who: tuple[str, str]) -> list[str]:
        read = utrecht_case.client.get(
            f"/v1/information-requests/{request_id}", headers=utrecht_case.as_(who)
        )
        assert read.status_code == 200, read.text
        return read.json()["items"][0]["reasons"]  # type: ignore[no-any-return]

    assert told(landlord, mitros) == ["role-not-recipient"]
    assert told(lead, CASE_MANAGER) == ["not-in-case-team"]
    assert told(control, CASE_MANAGER) == ["om-consent-missing"]
