"""A refused read tells no answer state (review6b, P3), on SQLite and PostgreSQL.

The answers are decided when they are read (docs/exchange.md). Once the policy refuses the
read (here the corporation withdrew its permission, U §5.1; the same after closure or a
hand-over of the lead), the read still told per category whether the partner answered with
data (``state: answered``) or holds nothing (``state: not-available``), and
``GET /information-requests/{id}`` told it without any decision: for the neighbourhood
team's care-worker name (U §5.6, health data), whether the causer has a care worker there.
Now a category the read refuses carries the read's reasons and no state, and the status
route, decided again for the requester, shows it ``denied`` with those reasons; the request's
own state still says whether the partners answered (``open`` / ``answered``). Positive
controls: with the permission on file the same reads show ``not-available`` and the yes/no;
the addressed partner still reads the states of the answers it gave.
"""

from __future__ import annotations

from typing import Any

from tests.exchange.conftest import BUURTTEAM, CASE_MANAGER, MITROS, UtrechtCase

KNOWN = "neighbourhood-team-known"
WORKER = "neighbourhood-team-care-worker"
SOCIAAL = "buurtteam-sociaal"
MISSING = ["corporation-permission-missing"]


def _permission(case: UtrechtCase, granted: bool) -> None:
    given = case.client.post(
        f"/v1/cases/{case.case_id}/consents",
        json={"kind": "corporation-permission", "granted": granted},
        headers=case.as_(MITROS),
    )
    assert given.status_code == 201, given.text


def _status(case: UtrechtCase, request_id: str, who: tuple[str, str] = CASE_MANAGER) -> Any:
    status = case.client.get(f"/v1/information-requests/{request_id}", headers=case.as_(who))
    assert status.status_code == 200, status.text
    return status.json()


def _answered(case: UtrechtCase) -> str:
    case.to_execution()
    request_id = case.ask("case-handling", [(SOCIAAL, [KNOWN, WORKER])])
    answered = case.answer(
        request_id,
        [{"category": KNOWN, "yesNo": True}, {"category": WORKER, "notAvailable": True}],
        who=BUURTTEAM,
    )
    assert answered.status_code == 200, answered.text
    return request_id


def test_a_refused_read_shows_its_reasons_and_no_answer_state(utrecht_case: UtrechtCase) -> None:
    case = utrecht_case
    request_id = _answered(case)
    # Positive control: with the permission on file.
    values = {v["category"]: v for v in case.read(request_id)["values"]}
    assert (values[KNOWN]["outcome"], values[KNOWN]["yesNo"]) == ("disclosed", True)
    assert (values[WORKER]["state"], values[WORKER]["reasons"]) == (
        "not-available",
        ["not-available-at-partner"],
    )
    status = _status(case, request_id)
    assert [(i["category"], i["state"]) for i in status["items"]] == [
        (KNOWN, "answered"),
        (WORKER, "not-available"),
    ]

    _permission(case, granted=False)
    values = {v["category"]: v for v in case.read(request_id)["values"]}
    for category in (KNOWN, WORKER):
        value = values[category]
        assert (value["outcome"], value["reasons"]) == ("redacted", MISSING), category
        assert value.get("state") is None, value
        assert value.get("yesNo") is None
    status = _status(case, request_id)
    assert status["state"] == "answered"  # the partner answered: that much it knows
    for item in status["items"]:
        assert (item["state"], item["reasons"]) == ("denied", MISSING), item
        assert item.get("answeredAt") is None, item
    # The answering partner still reads the states of the answers it gave.
    own = _status(case, request_id, ("buurtteam-sociaal", "buurtteam-medewerker"))
    assert sorted(i["state"] for i in own["items"]) == ["answered", "not-available"]

    # Given again: the same reads show the states and the yes/no again.
    _permission(case, granted=True)
    values = {v["category"]: v for v in case.read(request_id)["values"]}
    assert (values[KNOWN]["outcome"], values[KNOWN]["yesNo"]) == ("disclosed", True)
    assert values[WORKER]["state"] == "not-available"
    assert [i["state"] for i in _status(case, request_id)["items"]] == [
        "answered",
        "not-available",
    ]


def test_a_refused_read_does_not_tell_whether_the_partner_answered_a_category(
    utrecht_case: UtrechtCase,
) -> None:
    """Still waiting or answered: refused now, the categories look the same; the request's
    state says only whether the partner has answered at all (open)."""
    case = utrecht_case
    case.to_execution()
    request_id = case.ask("case-handling", [(SOCIAAL, [KNOWN, WORKER])])
    _permission(case, granted=False)
    status = _status(case, request_id)
    assert status["state"] == "open"
    assert [(i["state"], i["reasons"]) for i in status["items"]] == [("denied", MISSING)] * 2
    values = case.read(request_id)["values"]
    assert [(v.get("state"), v["reasons"]) for v in values] == [(None, MISSING)] * 2
    # Control: with the permission, they wait for the partner.
    _permission(case, granted=True)
    assert [i["state"] for i in _status(case, request_id)["items"]] == ["asked", "asked"]
