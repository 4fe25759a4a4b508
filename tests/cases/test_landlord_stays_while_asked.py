"""The lead cannot remove the dwelling's corporation from the case team while its permission
is asked (U §5.1: "Indien het een corporatiewoning betreft vraagt U Centraal eerst
toestemming aan de corporatie", and the case manager starts only "nadat de corporatie
toestemming heeft gegeven"; U §5.2: the corporation answers "binnen drie dagen").

Before, the lead could: the corporation, outside the team, could no longer see the case
(404) and so not answer, while the deadline stayed its own and the case could not be taken
on. Now the removal is refused with 409 ``permission-pending`` and nothing changes; the
lead's way out is to decline the case. Controls: once the corporation answered (granted or
refused), or before the permission was asked, the lead removes it; another partner is
removed while the permission is asked."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.cases.builders import audit_activities, report_body

Auth = Callable[..., dict[str, str]]
CM = ("u-centraal", "casemanager")
LANDLORD = ("mitros", "woonconsulent")


def _case_asking_permission(client: TestClient, auth: Auth, *, ask: bool = True) -> str:
    created = client.post(
        "/v1/reports", json=report_body(), headers=auth("politie-midden-nederland", "wijkagent")
    )
    assert created.status_code == 201, created.text
    case_id = str(created.json()["caseId"])
    recorded = client.post(
        f"/v1/cases/{case_id}/criteria",
        headers=auth(*CM),
        json={
            "criteria": [
                {"criterion": "dwelling-related", "holds": True},
                {"criterion": "several-forms", "holds": True},
            ]
        },
    )
    assert recorded.status_code == 200, recorded.text
    if ask:
        asked = client.post(
            f"/v1/cases/{case_id}/transitions",
            headers=auth(*CM),
            json={"transition": "request-permission"},
        )
        assert asked.status_code == 200, asked.text
    return case_id


def _team(client: TestClient, auth: Auth, case_id: str) -> Any:
    return client.get(f"/v1/cases/{case_id}", headers=auth(*CM)).json()["team"]


def _remove(client: TestClient, auth: Auth, case_id: str, partner: str) -> Any:
    return client.delete(f"/v1/cases/{case_id}/team/{partner}", headers=auth(*CM))


def test_the_corporation_asked_for_its_permission_stays_in_the_team(
    client: TestClient, auth: Auth, context: Any
) -> None:
    case_id = _case_asking_permission(client, auth)
    before = audit_activities(context, case_id)
    refused = _remove(client, auth, case_id, "mitros")
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["type"].endswith("/permission-pending")
    assert "mitros" in _team(client, auth, case_id)
    assert audit_activities(context, case_id) == before  # nothing recorded
    # It can still answer; then the lead may remove it (the control).
    answered = client.post(
        f"/v1/cases/{case_id}/consents",
        json={"kind": "corporation-permission"},
        headers=auth(*LANDLORD),
    )
    assert answered.status_code == 201, answered.text
    removed = _remove(client, auth, case_id, "mitros")
    assert removed.status_code == 200, removed.text
    assert "mitros" not in removed.json()


def test_control_a_refusal_is_an_answer_too(client: TestClient, auth: Auth) -> None:
    case_id = _case_asking_permission(client, auth)
    refused = client.post(
        f"/v1/cases/{case_id}/consents",
        json={"kind": "corporation-permission", "granted": False},
        headers=auth(*LANDLORD),
    )
    assert refused.status_code == 201, refused.text
    assert _remove(client, auth, case_id, "mitros").status_code == 200


@pytest.mark.parametrize("partner", ["mitros", "politie-midden-nederland"])
def test_control_removals_the_permission_does_not_wait_on(
    client: TestClient, auth: Auth, partner: str
) -> None:
    """Before the permission is asked the corporation can go; while it is asked, any other
    partner can."""
    asked = partner != "mitros"
    case_id = _case_asking_permission(client, auth, ask=asked)
    removed = _remove(client, auth, case_id, partner)
    assert removed.status_code == 200, removed.text
    assert partner not in _team(client, auth, case_id)


def test_the_permission_is_not_asked_of_a_corporation_outside_the_team(
    client: TestClient, auth: Auth, context: Any
) -> None:
    """Removed before the permission was asked (allowed, the control above), the corporation
    cannot be asked: outside the team it could neither see nor answer the request. The
    transition is refused by the guard ``landlord-in-team`` and nothing changes; once the
    corporation is back in the team, the same request goes through (positive control)."""
    case_id = _case_asking_permission(client, auth, ask=False)
    assert _remove(client, auth, case_id, "mitros").status_code == 200
    before = audit_activities(context, case_id)
    ask = {"transition": "request-permission"}
    refused = client.post(f"/v1/cases/{case_id}/transitions", headers=auth(*CM), json=ask)
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["guard"] == "landlord-in-team"
    assert audit_activities(context, case_id) == before
    summary = client.get(f"/v1/cases/{case_id}", headers=auth(*CM)).json()
    assert summary["state"] == "intake"

    added = client.post(
        f"/v1/cases/{case_id}/team", headers=auth(*CM), json={"partnerId": "mitros"}
    )
    assert added.status_code == 200, added.text
    asked = client.post(f"/v1/cases/{case_id}/transitions", headers=auth(*CM), json=ask)
    assert asked.status_code == 200, asked.text
    assert asked.json()["state"] == "permission-requested"
