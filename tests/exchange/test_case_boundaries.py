"""Outside a case's team, the case does not exist (issue 14 item 8; U §6: partners exchange
with "de andere partijen die bij de casus zijn betrokken").

A partner of the same covenant that is not in the team and posts an information request, a
facts query or a fact about the case gets exactly what it gets for a case id that does not
exist: the same status, headers that matter and body, byte for byte; no reason code names the
team, no audit entry is written. The same requests from a team member are the positive
controls.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from gateway.audit.models import AuditRecord
from gateway.context import GatewayContext
from tests.exchange.conftest import CASE_MANAGER, VIOLENCE, UtrechtCase, close_in_the_register

OUTSIDER = ("buurtteam-sociaal", "buurtteam-medewerker")
OUTSIDER_ADAPTER = ("buurtteam-sociaal", "adapter")

Call = Callable[[str, tuple[str, str]], Any]


def _request(case: UtrechtCase) -> Call:
    def call(case_id: str, who: tuple[str, str]) -> Any:
        return case.client.post(
            "/v1/information-requests",
            json={"caseId": case_id, "purpose": "case-handling", "categories": [VIOLENCE]},
            headers=case.as_(who, "u-1"),
        )

    return call


def _addressed_request(case: UtrechtCase) -> Call:
    """Addressing the police by name: today's leak named it 'not-in-case-team'."""

    def call(case_id: str, who: tuple[str, str]) -> Any:
        return case.client.post(
            "/v1/information-requests",
            json={
                "caseId": case_id,
                "purpose": "case-handling",
                "recipients": [
                    {"partnerId": "politie-midden-nederland", "categories": [VIOLENCE]},
                    {"partnerId": "mitros", "categories": ["corporation-case-information"]},
                ],
            },
            headers=case.as_(who, "u-1"),
        )

    return call


def _query(case: UtrechtCase) -> Call:
    def call(case_id: str, who: tuple[str, str]) -> Any:
        return case.client.post(
            "/v1/case-facts/queries",
            json={"caseId": case_id, "purpose": "case-handling", "categories": [VIOLENCE]},
            headers=case.as_(who, "u-1"),
        )

    return call


def _push(case: UtrechtCase) -> Call:
    def call(case_id: str, who: tuple[str, str]) -> Any:
        return case.client.post(
            "/v1/case-facts",
            json={"caseId": case_id, "category": "neighbourhood-team-known", "yesNo": True},
            headers=case.as_(who),
        )

    return call


CALLS = {
    "information request": (_request, OUTSIDER),
    "information request addressing partners": (_addressed_request, OUTSIDER),
    "facts query": (_query, OUTSIDER),
    "pushed fact": (_push, OUTSIDER_ADAPTER),
}


def _entries(context: GatewayContext) -> int:
    with context.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(AuditRecord)) or 0)


def _same_apart_from_ids(existing: Any, missing: Any, case_id: str, other_id: str) -> None:
    assert existing.status_code == missing.status_code == 404, (existing.text, missing.text)
    assert existing.headers["content-type"] == missing.headers["content-type"]
    assert existing.content.replace(case_id.encode(), b"<id>") == missing.content.replace(
        other_id.encode(), b"<id>"
    )


@pytest.mark.parametrize("name", list(CALLS))
def test_outsider_gets_for_an_existing_case_what_it_gets_for_a_missing_one(
    name: str, utrecht_case: UtrechtCase, context: GatewayContext
) -> None:
    make, outsider = CALLS[name]
    call = make(utrecht_case)
    before = _entries(context)
    missing_id = str(uuid.uuid4())
    existing = call(utrecht_case.case_id, outsider)
    missing = call(missing_id, outsider)
    _same_apart_from_ids(existing, missing, utrecht_case.case_id, missing_id)
    body = existing.text
    for leak in ("not-in-case-team", "politie", "mitros", "u-centraal", "reason"):
        assert leak not in body
    assert _entries(context) == before  # nothing recorded: nothing happened


@pytest.mark.parametrize("name", list(CALLS))
def test_the_same_call_from_a_team_member_reaches_the_case(
    name: str, utrecht_case: UtrechtCase
) -> None:
    """Positive control: once the lead adds the partner to the team, the same call works."""
    make, outsider = CALLS[name]
    added = utrecht_case.client.post(
        f"/v1/cases/{utrecht_case.case_id}/team",
        json={"partnerId": outsider[0]},
        headers=utrecht_case.as_(CASE_MANAGER),
    )
    assert added.status_code in (200, 201), added.text
    response = make(utrecht_case)(utrecht_case.case_id, outsider)
    assert response.status_code in (200, 201), response.text


def test_outsider_learns_nothing_of_an_erased_case_either(
    utrecht_case: UtrechtCase, context: GatewayContext
) -> None:
    """An erased case answers 410 to its team (rule and date); to an outsider it is a 404
    like any case that does not exist."""
    retention = context.require_retention()
    retention.sweep(as_of=date(2020, 1, 1))
    close_in_the_register(context, utrecht_case.case_id, date(2020, 1, 6))
    assert retention.sweep(as_of=date(2030, 1, 1)).redacted >= 1
    call = _query(utrecht_case)
    missing_id = str(uuid.uuid4())
    _same_apart_from_ids(
        call(utrecht_case.case_id, OUTSIDER),
        call(missing_id, OUTSIDER),
        utrecht_case.case_id,
        missing_id,
    )
    gone = call(utrecht_case.case_id, CASE_MANAGER)
    assert gone.status_code == 410, gone.text
