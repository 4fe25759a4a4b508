"""A refusal's reason in the log tells whether an investigation runs only to those told it.

The case lead asking the police for the nuisance antecedents is refused
``investigation-status-unknown`` while nobody recorded the status and ``om-consent-missing``
while the police recorded that one runs (U §5.3: the lead must know whether an OM consent is
needed first). The audit entry keeps the reason the requester was told. Until review3
(finding 1) every reader of the entry read it: the coordinating privacy officer (the
municipality) in its search, exports and on /privacy/weigeringen, and any partner asked for
another category of the same request. Now the reason is shown as told only to the officers
of the partners told it (the entry's requester and recipient) and of the police; every other
reader reads ``om-consent-condition-not-met`` whatever the status, the stored entry being
unchanged (it stays verifiable)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from gateway.policy.compiler import OM_CONDITION_UNMET
from tests.exchange.conftest import (
    ANTECEDENTS,
    REPORTS,
    WIJKAGENT,
    UtrechtCase,
    open_utrecht_case,
)

Auth = Callable[..., dict[str, str]]
COORDINATOR = ("gemeente-utrecht", "privacy-officer")
REQUESTER_OFFICER = ("u-centraal", "privacy-officer")
POLICE_OFFICER = ("politie-midden-nederland", "privacy-officer")
MITROS_OFFICER = ("mitros", "privacy-officer")
#: Mitros's category (the dwelling's corporation): asked with the antecedents, it makes
#: Mitros a data owner of the request's entry.
CORPORATION = "corporation-case-information"


def _reasons(case: UtrechtCase, who: tuple[str, str], activity: str) -> list[str]:
    response = case.client.post(
        "/v1/audit/entries/search",
        json={"caseId": case.case_id, "activity": activity, "refused": True},
        headers=case.as_(who),
    )
    assert response.status_code == 200, response.text
    return [
        r["reason"]
        for entry in response.json()["entries"]
        for r in entry["redacted"]
        if r["category"] == ANTECEDENTS
    ]


@pytest.fixture
def unknown(client: TestClient, auth: Auth) -> UtrechtCase:
    """The lead asks for the antecedents; nobody recorded whether an investigation runs."""
    case = open_utrecht_case(client, auth)
    case.request([ANTECEDENTS, REPORTS])
    return case


@pytest.fixture
def running(client: TestClient, auth: Auth) -> UtrechtCase:
    """The same at another dwelling, where the police recorded that one runs."""
    case = _open_case_at(client, auth, postcode="3512 CD")
    case.investigation(True)
    case.request([ANTECEDENTS, REPORTS])
    return case


def test_the_coordinating_officer_reads_one_reason_whether_or_not_one_runs(
    unknown: UtrechtCase, running: UtrechtCase
) -> None:
    told_unknown = _reasons(unknown, COORDINATOR, "information-request")
    told_running = _reasons(running, COORDINATOR, "information-request")
    assert told_unknown == told_running == [OM_CONDITION_UNMET]


@pytest.mark.parametrize("who", [REQUESTER_OFFICER, POLICE_OFFICER])
def test_the_requesters_and_the_polices_officers_read_the_reason_as_told(
    unknown: UtrechtCase, running: UtrechtCase, who: tuple[str, str]
) -> None:
    # Positive control of the test above: the lead was told, the police know.
    assert _reasons(unknown, who, "information-request") == ["investigation-status-unknown"]
    assert _reasons(running, who, "information-request") == ["om-consent-missing"]


def test_a_partner_asked_in_the_same_request_reads_one_reason(
    client: TestClient, auth: Auth
) -> None:
    """Mitros is asked for its own category beside the police's antecedents: a data owner
    of the request's entry, its officer finds it, but was told nothing of the police. Since
    review4 (F1) it reads the entry as it concerns its own data: no refusal of the police's
    item at all, not even with the one reason."""
    case = _open_case_at(client, auth, postcode="3513 EF")
    case.investigation(True)
    request = case.request([ANTECEDENTS, CORPORATION])
    assert {i["partnerId"] for i in request["items"] if i["state"] == "asked"} == {"mitros"}
    assert _reasons(case, MITROS_OFFICER, "information-request") == []
    found = case.client.post(
        "/v1/audit/entries/search",
        json={"caseId": case.case_id, "activity": "information-request"},
        headers=case.as_(MITROS_OFFICER),
    )
    [entry] = found.json()["entries"]
    assert entry["redacted"] == []
    assert _reasons(case, REQUESTER_OFFICER, "information-request") == ["om-consent-missing"]


def test_an_answer_withheld_on_delivery_tells_only_the_parties(
    client: TestClient, auth: Auth
) -> None:
    """The police answer after withdrawing the OM's consent: the answer's entry (the police
    its requester, the lead its recipient) keeps ``om-consent-missing``."""
    case = open_utrecht_case(client, auth)
    case.investigation(True)
    consent_id = case.om_consent()
    request = case.request([ANTECEDENTS])
    withdrawn = case.client.post(
        f"/v1/cases/{case.case_id}/consents/{consent_id}/withdrawal", headers=case.as_(WIJKAGENT)
    )
    assert withdrawn.status_code == 200, withdrawn.text
    answered = case.answer(request["id"], [{"category": ANTECEDENTS, "yesNo": True}])
    assert answered.status_code == 200, answered.text
    assert _reasons(case, COORDINATOR, "information-answer") == [OM_CONDITION_UNMET]
    for who in (REQUESTER_OFFICER, POLICE_OFFICER):
        assert _reasons(case, who, "information-answer") == ["om-consent-missing"], who


@pytest.mark.parametrize("export_format", ["jsonl", "csv"])
def test_the_coordinating_officers_export_reads_the_same(
    running: UtrechtCase, export_format: str
) -> None:
    def export(who: tuple[str, str]) -> str:
        response = running.client.post(
            f"/v1/audit/entries/export?format={export_format}",
            json={"caseId": running.case_id, "refused": True},
            headers=running.as_(who),
        )
        assert response.status_code == 200, response.text
        return response.text

    coordinator = export(COORDINATOR)
    assert OM_CONDITION_UNMET in coordinator
    assert "om-consent-missing" not in coordinator
    # Control: the requester's officer exports what the lead was told.
    assert "om-consent-missing" in export(REQUESTER_OFFICER)


def _open_case_at(client: TestClient, auth: Auth, *, postcode: str) -> UtrechtCase:
    """open_utrecht_case at another dwelling (a case of its own), without its causer."""
    report = client.post(
        "/v1/reports",
        json={
            "dwelling": {
                "address": {"postcode": postcode, "houseNumber": 12},
                "ownership": "corporation",
                "corporationId": "mitros",
                "district": "binnenstad",
            },
            "persons": [],
            "report": {"channel": "form", "description": "Overlast."},
        },
        headers=auth("mitros", "woonconsulent"),
    )
    assert report.status_code == 201, report.text
    case_id: str = report.json()["caseId"]
    for path, body, who in (
        ("team", {"partnerId": "politie-midden-nederland"}, ("u-centraal", "casemanager")),
        ("consents", {"kind": "corporation-permission"}, ("mitros", "woonconsulent")),
    ):
        done = client.post(f"/v1/cases/{case_id}/{path}", json=body, headers=auth(*who))
        assert done.status_code in (200, 201), done.text
    return UtrechtCase(client=client, auth=auth, case_id=case_id)
