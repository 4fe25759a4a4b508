"""A member the lead only consulted (U §5.6 "desgevraagd") answers the lead's requests and
does nothing of its own on the case (review10 F2): the case's deadlines are not on its list
(``GET /v1/deadlines``), which holds what the partner has to do. Control: the lead's list has
them, and once the lead marks the member involved (U §6) so has the member's."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.web.scenario import seed_utrecht_case

Auth = Callable[..., dict[str, str]]
ASKED = ("buurtteam-jeugd-gezin", "buurtteam-medewerker")
LEAD = ("u-centraal", "casemanager")


def _cases_on_list(client: TestClient, auth: Auth, who: tuple[str, str]) -> set[str]:
    response = client.get("/v1/deadlines?limit=500", headers=auth(*who))
    assert response.status_code == 200, response.text
    return {d["caseId"] for d in response.json()["_embedded"]["deadlines"] if d.get("caseId")}


def test_a_consulted_member_has_no_deadline_of_the_case_until_it_is_involved(
    client: TestClient, auth: Auth
) -> None:
    case_id = seed_utrecht_case(client, auth).case_id
    added = client.post(
        f"/v1/cases/{case_id}/team",
        headers=auth(*LEAD, user="cm-1"),
        json={"partnerId": ASKED[0], "consulted": True},
    )
    assert added.status_code == 200, added.text
    assert case_id in _cases_on_list(client, auth, LEAD)
    assert case_id not in _cases_on_list(client, auth, ASKED)

    marked = client.post(
        f"/v1/cases/{case_id}/team", headers=auth(*LEAD, user="cm-1"), json={"partnerId": ASKED[0]}
    )
    assert marked.status_code == 200, marked.text
    assert case_id in _cases_on_list(client, auth, ASKED)
