"""An OM consent tells that a police investigation runs: the OM is asked only "indien er een
onderzoek loopt" (U §5.3). So the case summary (GET /v1/cases/{caseId}) lists the consents of
kind ``om-consent`` only to the readers it shows the investigation status to (the police and
the case lead, gateway/cases/summary_readers.py), and names them (``omConsents``) in
``withheld`` for every other reader, whether or not one is on file. Found by the review of
6 December (review2, finding 2)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.exchange.conftest import (
    CASE_MANAGER,
    MITROS,
    POLICE,
    WIJKAGENT,
    UtrechtCase,
    open_utrecht_case,
)

Auth = Callable[..., dict[str, str]]
BUURTTEAM_WORKER = ("buurtteam-sociaal", "buurtteam-medewerker")


@pytest.fixture
def utrecht_case(client: TestClient, auth: Auth) -> UtrechtCase:
    """A corporation dwelling's case with the corporation's permission, the police, Mitros
    and a neighbourhood team in its team."""
    case = open_utrecht_case(client, auth)
    for partner in ("buurtteam-sociaal", "mitros"):
        team = client.post(
            f"/v1/cases/{case.case_id}/team",
            json={"partnerId": partner},
            headers=case.as_(CASE_MANAGER),
        )
        assert team.status_code in (200, 201), team.text
    return case


def _summary(case: UtrechtCase, who: tuple[str, str]) -> dict:  # type: ignore[type-arg]
    response = case.client.get(f"/v1/cases/{case.case_id}", headers=case.as_(who))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _kinds(summary: dict) -> list[str]:  # type: ignore[type-arg]
    return [c["kind"] for c in summary["consents"]]


NOT_TOLD = [
    MITROS,
    BUURTTEAM_WORKER,
    ("mitros", "adapter"),
    ("mitros", "privacy-officer"),
    ("u-centraal", "privacy-officer"),
    ("politie-midden-nederland", "privacy-officer"),
]


@pytest.mark.parametrize("who", NOT_TOLD, ids=lambda who: "/".join(who))
def test_team_members_and_privacy_officers_are_not_told_of_the_om_consent(
    utrecht_case: UtrechtCase, who: tuple[str, str]
) -> None:
    utrecht_case.investigation(True)
    utrecht_case.om_consent()
    summary = _summary(utrecht_case, who)
    assert summary["investigationRunning"] is None
    assert "om-consent" not in _kinds(summary), summary["consents"]
    # The corporation's permission stays: it is the whole team's (U §5.1).
    assert set(_kinds(summary)) == {"corporation-permission"}
    assert summary["withheld"][:2] == ["investigationRunning", "omConsents"]


@pytest.mark.parametrize("who", [MITROS, ("mitros", "privacy-officer")], ids="/".join)
def test_om_consents_are_named_withheld_whether_or_not_one_is_on_file(
    utrecht_case: UtrechtCase, who: tuple[str, str]
) -> None:
    """Listed in ``withheld`` only when one exists, the name would tell what it hides."""
    before = _summary(utrecht_case, who)
    utrecht_case.investigation(True)
    utrecht_case.om_consent()
    after = _summary(utrecht_case, who)
    assert "omConsents" in before["withheld"]
    assert (before["withheld"], before["consents"]) == (after["withheld"], after["consents"])


@pytest.mark.parametrize(
    "who", [CASE_MANAGER, ("u-centraal", "adapter"), WIJKAGENT, POLICE], ids="/".join
)
def test_the_lead_and_the_police_read_the_om_consent(
    utrecht_case: UtrechtCase, who: tuple[str, str]
) -> None:
    """The positive control: the lead asks for the antecedents and must know whether the OM
    consented; the police registered it (and their adapter matches it to its export)."""
    utrecht_case.investigation(True)
    consent_id = utrecht_case.om_consent()
    summary = _summary(utrecht_case, who)
    assert summary["investigationRunning"] is True
    assert "omConsents" not in summary["withheld"]
    [om] = [c for c in summary["consents"] if c["kind"] == "om-consent"]
    assert (om["id"], om["scope"], om["live"]) == (
        consent_id,
        ["police-nuisance-antecedents"],
        True,
    )
    assert set(_kinds(summary)) == {"corporation-permission", "om-consent"}


@pytest.mark.parametrize(
    ("who", "status"),
    [
        (MITROS, 404),
        (("mitros", "privacy-officer"), 404),
        (BUURTTEAM_WORKER, 404),
        # The control: the lead sees the consent, and is told it is not its to withdraw.
        (CASE_MANAGER, 403),
    ],
    ids=lambda value: "/".join(value) if isinstance(value, tuple) else str(value),
)
def test_withdrawing_an_om_consent_one_may_not_see_answers_as_for_no_consent(
    utrecht_case: UtrechtCase, who: tuple[str, str], status: int
) -> None:
    utrecht_case.investigation(True)
    consent_id = utrecht_case.om_consent()
    response = utrecht_case.client.post(
        f"/v1/cases/{utrecht_case.case_id}/consents/{consent_id}/withdrawal",
        headers=utrecht_case.as_(who),
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    unknown = utrecht_case.client.post(
        f"/v1/cases/{utrecht_case.case_id}/consents/00000000-0000-4000-8000-000000000000/withdrawal",
        headers=utrecht_case.as_(who),
    )
    assert unknown.status_code == 404, unknown.text
    if status == 404:
        assert response.json()["detail"] == unknown.json()["detail"]
    # Nothing changed: the police's consent still stands for the lead.
    summary = _summary(utrecht_case, CASE_MANAGER)
    assert [c["live"] for c in summary["consents"] if c["id"] == consent_id] == [True]
