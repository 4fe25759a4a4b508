"""A privacy officer audits; it never asks, answers or pushes (gateway/exchange/enforcement.py:
403 on an answer). Its inbox lists no information request to answer, as it lists no
permission to give (tests/exchange/test_permission_inbox_in_the_team.py): the list and the
action agree. Its partner's adapter, asked the same, sees it and answers (the control)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.exchange.conftest import POLICE, REPORTS, UtrechtCase

POLICE_OFFICER = ("politie-midden-nederland", "privacy-officer")


def _asked(case: UtrechtCase, who: tuple[str, str]) -> list[str]:
    response = case.client.get("/v1/inbox", headers=case.as_(who, "u-1"))
    assert response.status_code == 200, response.text
    return [i["requestId"] for i in response.json()["items"] if i["kind"] == "information-request"]


def test_a_privacy_officer_is_not_asked_to_answer_an_information_request(
    exchange_client: TestClient, utrecht_case: UtrechtCase
) -> None:
    request = utrecht_case.request([REPORTS])
    assert _asked(utrecht_case, POLICE_OFFICER) == []
    answer = [{"category": REPORTS, "value": "2 meldingen"}]
    refused = utrecht_case.answer(request["id"], answer, who=POLICE_OFFICER)
    assert refused.status_code == 403, refused.text
    # Control: the police's adapter is asked, and its answer is taken.
    assert _asked(utrecht_case, POLICE) == [request["id"]]
    assert utrecht_case.answer(request["id"], answer).status_code == 200
    assert _asked(utrecht_case, POLICE) == []
