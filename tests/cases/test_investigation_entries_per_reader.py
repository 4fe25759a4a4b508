"""The police's entries about an investigation reach only the police's own privacy officer.

When the police record that an investigation runs, or an OM consent, the log gets a
``case-investigation-status`` or a ``consent-change`` entry by the police. Their details
were stripped (review2, finding 3), but the police can record no consent other than the
OM's, so the actor alone says "the OM consented": an investigation runs. That is the
police's and the case lead's to know (U §5.3; DOMAIN.md §5). Until review3 (finding 1) the
covenant's coordinating privacy officer (the municipality, neither lead nor police) found
both entries in its search and exports, and the GDPR art. 15 access report about the causer,
made to be handed to the causer, listed "politie: consent-change" and "politie:
case-investigation-status" (every entry about a case names the case's persons).

Now they are found only by the officer of the partner that wrote them, and no access report
lists them: answering an art. 15 request during a running investigation is a restriction
decision a human takes (UAVG art. 41; docs/audit.md). The stored entries are unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.exchange.conftest import CASE_MANAGER, MITROS, UtrechtCase, open_utrecht_case

Auth = Callable[..., dict[str, str]]
POLICE = "politie-midden-nederland"
COORDINATOR = ("gemeente-utrecht", "privacy-officer")  # not the lead, not the police
POLICE_OFFICER = (POLICE, "privacy-officer")
LEAD_OFFICER = ("u-centraal", "privacy-officer")
CAUSER_BSN = "111222333"  # open_utrecht_case's causer
INVESTIGATION = {"case-investigation-status", "consent-change"}


def _police_investigation(entries: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """The police's investigation entries among ``entries``: (activity, requester)."""
    return [
        (e["activity"], e["requester"]["partnerId"])
        for e in entries
        if e["activity"] in INVESTIGATION and (e.get("requester") or {}).get("partnerId") == POLICE
    ]


def _search(case: UtrechtCase, who: tuple[str, str], **search: Any) -> list[dict[str, Any]]:
    response = case.client.post(
        "/v1/audit/entries/search", json={"caseId": case.case_id, **search}, headers=case.as_(who)
    )
    assert response.status_code == 200, response.text
    return response.json()["entries"]  # type: ignore[no-any-return]


def _access_report(case: UtrechtCase, who: tuple[str, str]) -> set[tuple[str, str]]:
    response = case.client.post(
        "/v1/audit/access-report",
        json={"identifierType": "bsn", "identifier": CAUSER_BSN},
        headers=case.as_(who),
    )
    assert response.status_code == 200, response.text
    return {(line["activity"], line["requester"]) for line in response.json()["lines"]}


@pytest.fixture
def investigated(client: TestClient, auth: Auth) -> UtrechtCase:
    """A case on which the police recorded that an investigation runs and the OM consented."""
    case = open_utrecht_case(client, auth)
    case.investigation(True)
    case.om_consent()
    return case


def test_the_coordinating_officer_does_not_find_the_polices_investigation_entries(
    investigated: UtrechtCase,
) -> None:
    found = _search(investigated, COORDINATOR)
    assert _police_investigation(found) == []
    # Control: the rest of the case's log is still the coordinating officer's to audit,
    # the corporation's permission (a consent-change of the same shape) included.
    activities = {(e["activity"], e["requester"]["partnerId"]) for e in found}
    assert ("consent-change", "mitros") in activities
    assert ("case-intake", "mitros") in activities


def test_the_polices_own_officer_finds_them(investigated: UtrechtCase) -> None:
    # Positive control of the test above: the police audit their own processing.
    assert sorted(_police_investigation(_search(investigated, POLICE_OFFICER))) == [
        ("case-investigation-status", POLICE),
        ("consent-change", POLICE),
    ]


@pytest.mark.parametrize("who", [LEAD_OFFICER, ("mitros", "privacy-officer")])
def test_no_other_partners_officer_finds_them(
    investigated: UtrechtCase, who: tuple[str, str]
) -> None:
    assert _police_investigation(_search(investigated, who)) == []


@pytest.mark.parametrize("export_format", ["jsonl", "csv", "ldv"])
def test_the_coordinating_officers_exports_leave_them_out(
    investigated: UtrechtCase, export_format: str
) -> None:
    def export(who: tuple[str, str]) -> str:
        response = investigated.client.post(
            f"/v1/audit/entries/export?format={export_format}",
            json={"caseId": investigated.case_id},
            headers=investigated.as_(who),
        )
        assert response.status_code == 200, response.text
        return response.text

    assert "case-investigation-status" not in export(COORDINATOR)
    # Control: the same export by the police's officer holds it.
    assert "case-investigation-status" in export(POLICE_OFFICER)


def test_the_access_report_about_the_causer_lists_none_of_them(
    investigated: UtrechtCase,
) -> None:
    for who in (COORDINATOR, POLICE_OFFICER):
        lines = _access_report(investigated, who)
        assert ("consent-change", POLICE) not in lines, who
        assert ("case-investigation-status", POLICE) not in lines, who
    # Control: the report still lists the case's other processing about the causer.
    lines = _access_report(investigated, COORDINATOR)
    assert ("case-intake", "mitros") in lines
    assert ("consent-change", "mitros") in lines
    # The police's officer, who decides whether to tell the person (UAVG art. 41), finds
    # them by searching the person.
    by_person = _search(
        investigated,
        POLICE_OFFICER,
        dataSubject={"identifierType": "bsn", "identifier": CAUSER_BSN},
    )
    assert len(_police_investigation(by_person)) == 2


def test_the_coordinating_officer_gets_no_receipt_of_them(investigated: UtrechtCase) -> None:
    entries = _search(investigated, POLICE_OFFICER)
    police = [e["index"] for e in entries if e["activity"] in INVESTIGATION]
    mitros = [
        e["index"]
        for e in _search(investigated, COORDINATOR, activity="consent-change")
        if e["requester"]["partnerId"] == "mitros"
    ]
    assert len(police) == 2
    assert len(mitros) == 1

    def receipt(index: int, who: tuple[str, str]) -> int:
        response = investigated.client.get(
            f"/v1/audit/receipts/{index}", headers=investigated.as_(who)
        )
        return response.status_code

    assert [receipt(i, COORDINATOR) for i in police] == [404] * len(police)
    # Controls: the police fetch their own; the coordinating officer fetches the others'.
    assert [receipt(i, POLICE_OFFICER) for i in police] == [200] * len(police)
    assert [receipt(i, COORDINATOR) for i in mitros] == [200] * len(mitros)


def test_case_workers_still_cannot_search_the_log(investigated: UtrechtCase) -> None:
    for worker in (CASE_MANAGER, MITROS):
        denied = investigated.client.post(
            "/v1/audit/entries/search",
            json={"caseId": investigated.case_id},
            headers=investigated.as_(worker),
        )
        assert denied.status_code == 403, denied.text
