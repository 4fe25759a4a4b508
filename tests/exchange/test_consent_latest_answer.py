"""The latest word on a consent counts (issue 24): a refusal or withdrawal after a grant ends
it for the policy *and* the workflow alike, a grant after a refusal restores it, and one
party's answer never changes another's. Each denial is next to the same request allowed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from tests.cases.builders import report_body
from tests.exchange.conftest import ANTECEDENTS, CASE_MANAGER, VIOLENCE, WIJKAGENT, Auth

MITROS = ("mitros", "woonconsulent")
OGGZ = {"targetGroup": False, "referred": False}


@dataclass
class Case:
    client: TestClient
    auth: Auth
    case_id: str

    def consent(self, who: tuple[str, str], **body: Any) -> dict[str, Any]:
        body.setdefault("kind", "corporation-permission")
        response = self.client.post(
            f"/v1/cases/{self.case_id}/consents", json=body, headers=self.auth(*who)
        )
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    def withdraw(self, who: tuple[str, str], consent_id: str) -> None:
        response = self.client.post(
            f"/v1/cases/{self.case_id}/consents/{consent_id}/withdrawal", headers=self.auth(*who)
        )
        assert response.status_code == 200, response.text

    def om_consent(self) -> dict[str, Any]:
        return self.consent(
            WIJKAGENT, kind="om-consent", scope=[ANTECEDENTS], expiresAt="2099-01-01T00:00:00Z"
        )

    def asked(self, category: str) -> dict[str, Any]:
        """The case manager's request for ``category``; the item as the gateway answers."""
        response = self.client.post(
            "/v1/information-requests",
            json={"caseId": self.case_id, "purpose": "intake-assessment", "categories": [category]},
            headers=self.auth(*CASE_MANAGER, user="cm-1"),
        )
        assert response.status_code == 201, response.text
        item: dict[str, Any] = response.json()["items"][0]
        return item

    def take_on(self) -> Any:
        return self.client.post(
            f"/v1/cases/{self.case_id}/transitions",
            json={"transition": "take-on", "oggzCheck": OGGZ},
            headers=self.auth(*CASE_MANAGER),
        )

    def live(self) -> list[tuple[str, bool, bool]]:
        summary = self.client.get(f"/v1/cases/{self.case_id}", headers=self.auth(*CASE_MANAGER))
        return [(c["kind"], c["granted"], c["live"]) for c in summary.json()["consents"]]


def _case(client: TestClient, auth: Auth) -> Case:
    """A Utrecht report by the police about a Mitros dwelling, criteria met, still in intake:
    nothing from the corporation on file yet."""
    report = client.post("/v1/reports", json=report_body(), headers=auth(*WIJKAGENT))
    assert report.status_code == 201, report.text
    case = Case(client, auth, report.json()["caseId"])
    criteria = client.post(
        f"/v1/cases/{case.case_id}/criteria",
        json={
            "criteria": [
                {"criterion": "dwelling-related", "holds": True},
                {"criterion": "several-forms", "holds": True},
            ]
        },
        headers=auth(*CASE_MANAGER),
    )
    assert criteria.status_code == 200, criteria.text
    status = client.put(
        f"/v1/cases/{case.case_id}/investigation-status",
        json={"running": True},
        headers=auth(*WIJKAGENT),
    )
    assert status.status_code == 200, status.text
    return case


def test_a_refusal_after_a_grant_ends_the_permission_for_policy_and_workflow(
    exchange_client: TestClient, auth: Auth
) -> None:
    case = _case(exchange_client, auth)
    case.consent(MITROS)
    assert case.asked(VIOLENCE)["state"] == "asked"  # positive control: the grant stands

    case.consent(MITROS, granted=False)
    item = case.asked(VIOLENCE)
    assert item["state"] == "denied"
    assert item["reasons"] == ["corporation-permission-missing"]
    refused = case.take_on()
    assert refused.status_code == 409
    assert refused.json()["guard"] == "corporation-permission"
    assert "refused or withdrew" in refused.json()["detail"]
    assert case.live() == [
        ("corporation-permission", True, False),
        ("corporation-permission", False, False),
    ]


def test_a_withdrawal_after_a_grant_ends_the_permission_for_policy_and_workflow(
    exchange_client: TestClient, auth: Auth
) -> None:
    case = _case(exchange_client, auth)
    granted = case.consent(MITROS)
    assert case.asked(VIOLENCE)["state"] == "asked"  # positive control

    case.withdraw(MITROS, granted["id"])
    item = case.asked(VIOLENCE)
    assert item["state"] == "denied"
    assert item["reasons"] == ["corporation-permission-missing"]
    assert case.take_on().json()["guard"] == "corporation-permission"
    assert case.live() == [("corporation-permission", True, False)]


def test_a_withdrawal_of_an_older_grant_after_a_newer_one_is_the_latest_word(
    exchange_client: TestClient, auth: Auth
) -> None:
    case = _case(exchange_client, auth)
    first = case.consent(MITROS)
    case.consent(MITROS)
    assert case.asked(VIOLENCE)["state"] == "asked"  # positive control: two grants on file

    case.withdraw(MITROS, first["id"])
    assert case.asked(VIOLENCE)["reasons"] == ["corporation-permission-missing"]
    assert case.take_on().status_code == 409


def test_a_grant_after_a_refusal_restores_the_permission_for_policy_and_workflow(
    exchange_client: TestClient, auth: Auth
) -> None:
    case = _case(exchange_client, auth)
    case.consent(MITROS, granted=False)
    assert case.asked(VIOLENCE)["reasons"] == ["corporation-permission-missing"]
    assert case.take_on().status_code == 409  # the denial this test's grant lifts

    case.consent(MITROS, granted=True)
    assert case.asked(VIOLENCE)["state"] == "asked"
    assert case.live() == [
        ("corporation-permission", False, False),
        ("corporation-permission", True, True),
    ]
    taken = case.take_on()
    assert taken.status_code == 200, taken.text
    assert taken.json()["state"] == "plan-of-approach"


def test_two_parties_answers_on_one_case_each_count_for_their_own_consent(
    exchange_client: TestClient, auth: Auth
) -> None:
    case = _case(exchange_client, auth)
    case.consent(MITROS)
    om = case.om_consent()
    # Positive control: both answers stand, both categories are asked.
    assert case.asked(ANTECEDENTS)["state"] == "asked"
    assert case.asked(VIOLENCE)["state"] == "asked"

    # The police withdraw the OM's consent: the antecedents stop, the corporation's
    # permission (another party's answer) still stands.
    case.withdraw(WIJKAGENT, om["id"])
    item = case.asked(ANTECEDENTS)
    assert item["state"] == "denied"
    assert item["reasons"] == ["om-consent-missing"]
    assert case.asked(VIOLENCE)["state"] == "asked"
    assert case.take_on().status_code == 200


def test_another_corporations_answer_is_not_the_landlords(
    exchange_client: TestClient, auth: Auth
) -> None:
    case = _case(exchange_client, auth)
    case.consent(MITROS)
    team = exchange_client.post(
        f"/v1/cases/{case.case_id}/team",
        json={"partnerId": "portaal"},
        headers=auth(*CASE_MANAGER),
    )
    assert team.status_code in (200, 201), team.text
    # Portaal is not entitled to answer for a Mitros dwelling: refused at the door, and the
    # landlord's grant stands.
    refused = exchange_client.post(
        f"/v1/cases/{case.case_id}/consents",
        json={"kind": "corporation-permission", "granted": False},
        headers=auth("portaal", "woonconsulent"),
    )
    assert refused.status_code == 403
    assert case.asked(VIOLENCE)["state"] == "asked"
