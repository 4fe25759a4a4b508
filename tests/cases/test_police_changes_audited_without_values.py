"""The police's investigation status and OM consents are audited as changes, not as values.

The audit log is append-only and never erased, and the covenant's coordinating privacy
officer (the municipality) searches all of it (POST /v1/audit/entries/search). Whether an
investigation runs, and an OM consent's kind and scope (which says one runs: U §5.3), are
criminal-law information of the police for the police and the case lead only
(gateway/cases/summary_readers.py). So the entries say who changed what on which case and
when: the status changed (``case-investigation-status``, no value), a consent was recorded
or withdrawn (``consent-change`` with the consent's id, which leads to the case row for the
readers allowed to see it), the same shape for every kind. Found by the review of
6 December (review2, finding 3). Since review3 (finding 1) only the police's own privacy
officer finds these entries (tests/cases/test_investigation_entries_per_reader.py); the
coordinating officer still reads the corporation's consent changes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.exchange.conftest import CASE_MANAGER, MITROS, UtrechtCase, open_utrecht_case

Auth = Callable[..., dict[str, str]]
COORDINATOR = ("gemeente-utrecht", "privacy-officer")
POLICE_OFFICER = ("politie-midden-nederland", "privacy-officer")
#: What a consent-change entry carries, whatever the consent's kind.
CONSENT_ATTRIBUTES = {"consent", "change"}


@pytest.fixture
def utrecht_case(client: TestClient, auth: Auth) -> UtrechtCase:
    return open_utrecht_case(client, auth)


def _entries(case: UtrechtCase, activity: str, who: tuple[str, str] = POLICE_OFFICER) -> list[Any]:
    response = case.client.post(
        "/v1/audit/entries/search",
        json={"caseId": case.case_id, "activity": activity},
        headers=case.as_(who),
    )
    assert response.status_code == 200, response.text
    return response.json()["entries"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("running", [True, False])
def test_the_investigation_status_is_audited_without_its_value(
    utrecht_case: UtrechtCase, running: bool
) -> None:
    utrecht_case.investigation(running)
    (entry,) = _entries(utrecht_case, "case-investigation-status")
    assert entry.get("attributes", {}) == {}, entry
    # Still the trail: who changed it, on which case, when.
    assert entry["requester"]["partnerId"] == "politie-midden-nederland"
    assert entry["requester"]["role"] == "wijkagent"
    assert entry["caseId"] == utrecht_case.case_id
    assert entry["startedAt"]
    # Only the police's own officer finds it (review3, finding 1).
    assert _entries(utrecht_case, "case-investigation-status", COORDINATOR) == []


def test_each_change_of_the_status_is_one_entry_and_none_tells_the_value(
    utrecht_case: UtrechtCase,
) -> None:
    for running in (True, False, True):
        utrecht_case.investigation(running)
    entries = _entries(utrecht_case, "case-investigation-status")
    assert len(entries) == 3
    assert [e.get("attributes", {}) for e in entries] == [{}, {}, {}]


def test_an_om_consent_is_audited_by_its_id_without_kind_or_scope(
    utrecht_case: UtrechtCase,
) -> None:
    utrecht_case.investigation(True)
    consent_id = utrecht_case.om_consent()
    withdrawn = utrecht_case.client.post(
        f"/v1/cases/{utrecht_case.case_id}/consents/{consent_id}/withdrawal",
        headers=utrecht_case.as_(("politie-midden-nederland", "wijkagent")),
    )
    assert withdrawn.status_code == 200, withdrawn.text
    entries = _entries(utrecht_case, "consent-change")
    police = [e for e in entries if e["requester"]["partnerId"] == "politie-midden-nederland"]
    assert [e["attributes"] for e in police] == [
        {"consent": consent_id, "change": "recorded"},
        {"consent": consent_id, "change": "withdrawn"},
    ]
    # The lead, whom the summary gives OM consents, follows the id to the consent.
    summary = utrecht_case.client.get(
        f"/v1/cases/{utrecht_case.case_id}", headers=utrecht_case.as_(CASE_MANAGER)
    ).json()
    assert [c["kind"] for c in summary["consents"] if c["id"] == consent_id] == ["om-consent"]


def test_the_corporations_permission_has_the_same_shape(utrecht_case: UtrechtCase) -> None:
    """The control: the corporation's permission is audited as before by its id; its entry
    has the OM consent's shape, so the shape itself tells nothing."""
    (entry,) = _entries(utrecht_case, "consent-change", COORDINATOR)
    assert entry["requester"]["partnerId"] == "mitros"
    assert set(entry["attributes"]) == CONSENT_ATTRIBUTES
    assert entry["attributes"]["change"] == "recorded"
    summary = utrecht_case.client.get(
        f"/v1/cases/{utrecht_case.case_id}", headers=utrecht_case.as_(MITROS)
    ).json()
    assert entry["attributes"]["consent"] in [c["id"] for c in summary["consents"]]
