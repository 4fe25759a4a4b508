"""Outside a case's team the case does not exist (U §6), for the partners a request is
addressed to as well: a requester cannot address a partner outside the team by name (the
request would tell it of the case), and a partner removed from the team no longer sees,
reads the state of, or answers the requests it was asked. Each denial has its control: the
same partner in the team is asked, sees the request and answers it."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select, update

from gateway.audit.models import AuditRecord
from gateway.context import GatewayContext
from gateway.exchange.models import CaseFact
from tests.exchange.conftest import CASE_MANAGER, UtrechtCase, close_in_the_register

OUTSIDER = "buurtteam-sociaal"
ITS_ADAPTER = (OUTSIDER, "adapter")
KNOWN = "neighbourhood-team-known"  # U §5.6: "desgevraagd of een overlastveroorzaker ... bekend is"


def _ask(case: UtrechtCase) -> Any:
    return case.client.post(
        "/v1/information-requests",
        json={
            "caseId": case.case_id,
            "purpose": "case-handling",
            "recipients": [{"partnerId": OUTSIDER, "categories": [KNOWN]}],
        },
        headers=case.as_(CASE_MANAGER, "cm-1"),
    )


def _inbox(case: UtrechtCase) -> list[tuple[str | None, str | None]]:
    inbox = case.client.get("/v1/inbox", headers=case.as_(ITS_ADAPTER))
    assert inbox.status_code == 200, inbox.text
    return [
        (item.get("caseId"), item.get("purpose"))
        for item in inbox.json()["items"]
        if item["kind"] == "information-request"
    ]


def _team(case: UtrechtCase, method: str) -> None:
    if method == "add":
        response = case.client.post(
            f"/v1/cases/{case.case_id}/team",
            json={"partnerId": OUTSIDER},
            headers=case.as_(CASE_MANAGER),
        )
    else:
        response = case.client.delete(
            f"/v1/cases/{case.case_id}/team/{OUTSIDER}", headers=case.as_(CASE_MANAGER)
        )
    assert response.status_code in (200, 201), response.text


def _answer(case: UtrechtCase, request_id: str) -> Any:
    return case.client.post(
        f"/v1/information-requests/{request_id}/answers",
        json={"answers": [{"category": KNOWN, "yesNo": True}]},
        headers=case.as_(ITS_ADAPTER),
    )


def test_a_partner_outside_the_team_cannot_be_addressed_and_is_told_nothing(
    utrecht_case: UtrechtCase,
) -> None:
    asked = _ask(utrecht_case)
    assert asked.status_code == 422, asked.text
    assert asked.headers["content-type"].startswith("application/problem+json")
    assert "not in the case team" in asked.json()["detail"]
    assert _inbox(utrecht_case) == []
    # Control: once the lead has added it to the team, the same request reaches it.
    _team(utrecht_case, "add")
    asked = _ask(utrecht_case)
    assert asked.status_code == 201, asked.text
    assert _inbox(utrecht_case) == [(utrecht_case.case_id, "case-handling")]


def test_a_partner_in_the_team_sees_and_answers_its_request(utrecht_case: UtrechtCase) -> None:
    _team(utrecht_case, "add")
    request_id = _ask(utrecht_case).json()["id"]
    status = utrecht_case.client.get(
        f"/v1/information-requests/{request_id}", headers=utrecht_case.as_(ITS_ADAPTER)
    )
    assert status.status_code == 200, status.text
    answered = _answer(utrecht_case, request_id)
    assert answered.status_code in (200, 201), answered.text


def test_a_partner_removed_from_the_team_no_longer_sees_or_answers_its_request(
    utrecht_case: UtrechtCase,
) -> None:
    _team(utrecht_case, "add")
    request_id = _ask(utrecht_case).json()["id"]
    assert _inbox(utrecht_case) == [(utrecht_case.case_id, "case-handling")]
    _team(utrecht_case, "remove")
    assert _inbox(utrecht_case) == []
    status = utrecht_case.client.get(
        f"/v1/information-requests/{request_id}", headers=utrecht_case.as_(ITS_ADAPTER)
    )
    assert status.status_code == 404, status.text
    answered = _answer(utrecht_case, request_id)
    assert answered.status_code == 404, answered.text
    # The requester still sees its request, with the item still asked: nothing was answered.
    mine = utrecht_case.client.get(
        f"/v1/information-requests/{request_id}", headers=utrecht_case.as_(CASE_MANAGER)
    )
    assert mine.status_code == 200, mine.text
    assert [item["state"] for item in mine.json()["items"]] == ["asked"]


def test_an_answer_stored_in_detail_is_withheld_once_the_clause_allows_only_yes_or_no(
    utrecht_case: UtrechtCase, context: GatewayContext
) -> None:
    """An answer is told in the form the decision allows now, not the one it was stored in:
    a fact stored as a detail (under an earlier covenant) is not opened once its clause says
    "het feit of" (yes or no). The control: the same fact stored as yes/no is disclosed."""
    _team(utrecht_case, "add")
    request_id = _ask(utrecht_case).json()["id"]
    assert _answer(utrecht_case, request_id).status_code in (200, 201)

    def read() -> dict[str, Any]:
        response = utrecht_case.client.get(
            f"/v1/information-requests/{request_id}/answers",
            headers=utrecht_case.as_(CASE_MANAGER, "cm-1"),
        )
        assert response.status_code == 200, response.text
        [value] = [v for v in response.json()["values"] if v["category"] == KNOWN]
        return value  # type: ignore[no-any-return]

    control = read()
    assert (control["outcome"], control["yesNo"]) == ("disclosed", True)
    with context.engine.begin() as connection:
        stored = connection.execute(
            update(CaseFact).where(CaseFact.category == KNOWN).values(answer_form="detail")
        )
        assert stored.rowcount == 1
    narrowed = read()
    assert (narrowed["outcome"], narrowed["reasons"]) == ("redacted", ["answer-form-narrowed"])
    assert narrowed.get("value") is None
    assert narrowed.get("yesNo") is None


# --- the requester's side: a requester removed from the team reads no answers (review4 F2) ---

MEMBER = (OUTSIDER, "buurtteam-medewerker")
RISK = "police-risk-assessment"  # U-5.3-risico: to the case manager and the buurtteam-medewerker


def _ask_the_police(case: UtrechtCase) -> str:
    """The buurtteam's worker, in the team, asks the police for their risk assessment."""
    _team(case, "add")
    asked = case.client.post(
        "/v1/information-requests",
        json={"caseId": case.case_id, "purpose": "safety", "categories": [RISK]},
        headers=case.as_(MEMBER, "bt-1"),
    )
    assert asked.status_code == 201, asked.text
    assert [i["state"] for i in asked.json()["items"]] == ["asked"]
    return str(asked.json()["id"])


def _read_answers(case: UtrechtCase, request_id: str) -> Any:
    return case.client.get(
        f"/v1/information-requests/{request_id}/answers", headers=case.as_(MEMBER, "bt-1")
    )


def _entries(context: GatewayContext) -> int:
    with context.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(AuditRecord)).scalar_one())


def test_a_requester_removed_from_the_team_no_longer_reads_whether_it_was_answered(
    utrecht_case: UtrechtCase, context: GatewayContext
) -> None:
    request_id = _ask_the_police(utrecht_case)
    unknown = _read_answers(utrecht_case, "no-such-request")
    assert unknown.status_code == 404, unknown.text
    # Control: in the team, the requester reads the police's answer.
    assert utrecht_case.answer(request_id, [{"category": RISK, "value": "hond"}]).status_code == 200
    read = _read_answers(utrecht_case, request_id)
    assert read.status_code == 200, read.text
    assert [(v["outcome"], v["value"]) for v in read.json()["values"]] == [("disclosed", "hond")]
    # Removed from the team, the same read is the 404 of a request that does not exist, and
    # nothing is logged (a denial entry would be the case's news again).
    _team(utrecht_case, "remove")
    before = _entries(context)
    removed = _read_answers(utrecht_case, request_id)
    assert (removed.status_code, removed.json()) == (404, unknown.json())
    assert _entries(context) == before


def test_a_requester_removed_before_the_answer_is_not_told_it_came(
    utrecht_case: UtrechtCase,
) -> None:
    request_id = _ask_the_police(utrecht_case)
    _team(utrecht_case, "remove")
    # The police, still in the team, answer after the removal: the answer is not the
    # removed requester's to learn of (it read 200 "withheld, not-in-case-team" before).
    assert utrecht_case.answer(request_id, [{"category": RISK, "value": "hond"}]).status_code == 200
    read = _read_answers(utrecht_case, request_id)
    assert read.status_code == 404, read.text
    # Control: back in the team, it reads its request again; the answer given while it was
    # out was withheld from it and not stored (answer_information_request decides for the
    # requester at answer time).
    _team(utrecht_case, "add")
    again = _read_answers(utrecht_case, request_id)
    assert again.status_code == 200, again.text
    assert [(v["state"], v["reasons"]) for v in again.json()["values"]] == [
        ("withheld", ["not-in-case-team"])
    ]


def test_a_requester_removed_from_the_team_is_not_told_of_the_erasure(
    utrecht_case: UtrechtCase, context: GatewayContext
) -> None:
    theirs = _ask_the_police(utrecht_case)
    _team(utrecht_case, "remove")
    ours = utrecht_case.answered_request()
    retention = context.require_retention()
    retention.sweep(as_of=date(2020, 1, 1))
    close_in_the_register(context, utrecht_case.case_id, date(2020, 1, 6))
    assert retention.sweep(as_of=date(2030, 1, 1)).redacted >= 1
    read = _read_answers(utrecht_case, theirs)
    assert read.status_code == 404, read.text
    assert "U-default" not in read.text
    # Control: the case manager, in the team, is told its request's case was erased.
    erased = utrecht_case.client.get(
        f"/v1/information-requests/{ours}/answers", headers=utrecht_case.as_(CASE_MANAGER, "cm-1")
    )
    assert erased.status_code == 410, erased.text
    assert erased.json()["ruleId"] == "U-default-na-afsluiting"
