"""The audit entry of the lead's criteria (``case-criteria``) says what the case summary tells
a reader other than the lead: how many of the U §2 criteria hold up to the minimum the
workflow needs (two), not the exact count. All six holding would tell the privacy officers
who read the entry (the lead's and the covenant's coordinating one) that criterion 4
("psychiatrische problematiek, verslaving, onaangepast gedrag, criminaliteit") holds, which
the summary keeps to the lead (gateway/cases/summary_readers.py). Review of 6 December
(review4, finding 9)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.exchange.conftest import CASE_MANAGER, UtrechtCase, open_utrecht_case

Auth = Callable[..., dict[str, str]]
COORDINATOR = ("gemeente-utrecht", "privacy-officer")
LEADS_OFFICER = ("u-centraal", "privacy-officer")
EVERY = [
    "dwelling-related",
    "serious-or-long",
    "several-forms",
    "complex-problems",
    "own-attempts-failed",
    "multidisciplinary",
]


@pytest.fixture
def utrecht_case(client: TestClient, auth: Auth) -> UtrechtCase:
    return open_utrecht_case(client, auth)


def _record(case: UtrechtCase, criteria: list[tuple[str, bool]], **extra: Any) -> None:
    recorded = case.client.post(
        f"/v1/cases/{case.case_id}/criteria",
        json={"criteria": [{"criterion": c, "holds": h} for c, h in criteria], **extra},
        headers=case.as_(CASE_MANAGER),
    )
    assert recorded.status_code == 200, recorded.text


def _entries(case: UtrechtCase, officer: tuple[str, str]) -> list[dict[str, Any]]:
    """The attributes of the case's ``case-criteria`` entries, as ``officer`` finds them."""
    found = case.client.post(
        "/v1/audit/entries/search",
        json={"caseId": case.case_id, "activity": "case-criteria"},
        headers=case.as_(officer),
    )
    assert found.status_code == 200, found.text
    return [entry.get("attributes") or {} for entry in found.json()["entries"]]


@pytest.mark.parametrize("officer", [LEADS_OFFICER, COORDINATOR], ids="/".join)
def test_the_officers_read_that_the_criteria_are_met_not_that_all_six_hold(
    utrecht_case: UtrechtCase, officer: tuple[str, str]
) -> None:
    _record(utrecht_case, [(c, True) for c in EVERY])
    assert _entries(utrecht_case, officer) == [{"criteriaHolding": 2, "acuteOverride": False}]
    # What the summary shows the lead's officer; the lead itself reads six.
    for who, holding in ((LEADS_OFFICER, 2), (CASE_MANAGER, 6)):
        summary = utrecht_case.client.get(
            f"/v1/cases/{utrecht_case.case_id}", headers=utrecht_case.as_(who)
        )
        assert summary.status_code == 200, summary.text
        assert summary.json()["criteriaHolding"] == holding, who


def test_control_the_entry_tells_the_criteria_not_met_and_the_acute_override(
    utrecht_case: UtrechtCase,
) -> None:
    """Below the minimum the count is what it is (what the workflow's guard reads), and the
    acute override is told: the entry stays the officer's record of why the case could be
    taken on. The count is the case's after the change, not the request's."""
    _record(utrecht_case, [("dwelling-related", True), ("complex-problems", False)])
    _record(utrecht_case, [("several-forms", False)], acuteOverrideReason="Brandgevaar.")
    _record(utrecht_case, [("serious-or-long", True)])
    assert _entries(utrecht_case, COORDINATOR) == [
        {"criteriaHolding": 1, "acuteOverride": False},
        {"criteriaHolding": 1, "acuteOverride": True},
        {"criteriaHolding": 2, "acuteOverride": False},
    ]
