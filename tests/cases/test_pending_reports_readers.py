"""Which partner outside the team reported about the dwelling, while the lead has not decided
on it, is the lead's to know (review9a F1).

The case summary (``pendingReports``, and the ``reporter-decision`` entries of its
``deadlines`` naming the reporter) and the case page ("Meldingen van partners buiten het
zaakteam") are read by every team member. A report from Buurtteamorganisatie Jeugd en Gezin
or the GGD tells that the household is known to social care, which the covenants give to the
case manager only (U §5.6 "Het buurtteam meldt de casemanager ... of een overlastveroorzaker
... bij het buurtteam bekend is"; R-A-ggd-acties to the case lead), and whether the reporter
becomes involved is the lead's decision (U §5.1 "De casemanager voert de regie"; U §6). So
they are shown to the lead's casework roles and its back-office system only, as
``GET /v1/deadlines`` and the inbox already keep them; everyone else reads ``pendingReports``
in ``withheld``. The positive control: the lead's case manager reads the report and decides.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.cases.builders import RIJSWIJK_LANDLORD, rijswijk_case_led_by_the_landlord
from tests.exchange.conftest import CASE_MANAGER, MITROS, WIJKAGENT, open_utrecht_case
from tests.web.conftest import sign_in

Auth = Callable[..., dict[str, str]]

JEUGD_EN_GEZIN = ("buurtteam-jeugd-gezin", "buurtteam-medewerker")
GGD = ("ggd-haaglanden", "zorgmedewerker")
UTRECHT_DWELLING = {
    "address": {"postcode": "3511 AB", "houseNumber": 12},
    "ownership": "corporation",
    "corporationId": "mitros",
    "district": "binnenstad",
}
RIJSWIJK_DWELLING = {
    "address": {"postcode": "2281 AA", "houseNumber": 4},
    "ownership": "corporation",
    "corporationId": "rijswijk-wonen",
    "district": "Te Werve",
}
PAGE_HEADING = "Meldingen van partners buiten het zaakteam"


def _report(client: TestClient, auth: Auth, who: tuple[str, str], dwelling: Any) -> str:
    filed = client.post(
        "/v1/reports",
        json={
            "dwelling": dwelling,
            "persons": [],
            "report": {"channel": "phone", "description": "Zorgen om het gezin."},
        },
        headers=auth(*who),
    )
    assert filed.status_code == 202, filed.text
    assert filed.json()["caseId"] is None
    report_id: str = filed.json()["reportId"]
    return report_id


def _told(client: TestClient, auth: Auth, case_id: str, who: tuple[str, str]) -> Any:
    """The reporters ``who`` is shown (pending reports and reporter-decision deadlines), and
    whether it is told ``pendingReports`` is withheld."""
    seen = client.get(f"/v1/cases/{case_id}", headers=auth(*who))
    assert seen.status_code == 200, seen.text
    summary = seen.json()
    deadlines = [d for d in summary["deadlines"] if d["deadline"] == "reporter-decision"]
    return (
        [r["partnerId"] for r in summary["pendingReports"]],
        len(deadlines),
        "pendingReports" in summary["withheld"],
    )


@pytest.fixture
def utrecht_case_with_a_care_report(client: TestClient, auth: Auth) -> tuple[str, str]:
    """Mitros's case (police in the team); the youth-and-family team reports about it."""
    case = open_utrecht_case(client, auth)
    return case.case_id, _report(client, auth, JEUGD_EN_GEZIN, UTRECHT_DWELLING)


@pytest.mark.parametrize(
    "who",
    [
        WIJKAGENT,
        ("politie-midden-nederland", "adapter"),
        ("politie-midden-nederland", "privacy-officer"),
        MITROS,
        ("mitros", "adapter"),
        # The lead's privacy officer reads no case data either (an audit role).
        ("u-centraal", "privacy-officer"),
    ],
    ids="/".join,
)
def test_the_team_is_not_told_which_partner_reported_while_the_lead_decides(
    utrecht_case_with_a_care_report: tuple[str, str],
    client: TestClient,
    auth: Auth,
    who: tuple[str, str],
) -> None:
    case_id, _ = utrecht_case_with_a_care_report
    assert _told(client, auth, case_id, who) == ([], 0, True)


def test_control_the_lead_reads_the_report_and_decides(
    utrecht_case_with_a_care_report: tuple[str, str], client: TestClient, auth: Auth
) -> None:
    case_id, report_id = utrecht_case_with_a_care_report
    for who in (CASE_MANAGER, ("u-centraal", "adapter")):
        assert _told(client, auth, case_id, who) == (["buurtteam-jeugd-gezin"], 1, False), who
    decided = client.post(
        f"/v1/cases/{case_id}/reports/{report_id}/reporter-decision",
        json={"addToTeam": False},
        headers=auth(*CASE_MANAGER),
    )
    assert decided.status_code == 200, decided.text
    assert _told(client, auth, case_id, CASE_MANAGER) == ([], 0, False)


def test_the_case_page_names_the_reporter_to_the_lead_only(
    app: Any, client: TestClient, auth: Auth, utrecht_case_with_a_care_report: tuple[str, str]
) -> None:
    case_id, _ = utrecht_case_with_a_care_report
    with TestClient(app, base_url="https://testserver") as browser:
        sign_in(browser, *WIJKAGENT)
        page = browser.get(f"/zaken/{case_id}")
        assert page.status_code == 200, page.text
        text = " ".join(re.sub(r"<[^>]+>", " ", page.text).split())
        assert PAGE_HEADING not in text
        assert "Jeugd en Gezin" not in text
        # The positive control: the lead's case manager reads it, with the decision's buttons.
        sign_in(browser, *CASE_MANAGER)
        page = browser.get(f"/zaken/{case_id}")
        assert page.status_code == 200, page.text
        text = " ".join(re.sub(r"<[^>]+>", " ", page.text).split())
        assert PAGE_HEADING in text
        assert "Jeugd en Gezin" in text
        assert "Toevoegen aan zaakteam" in text


def test_in_rijswijk_the_police_and_fire_brigade_are_not_told_that_the_ggd_reported(
    client: TestClient, auth: Auth
) -> None:
    """R Bijlage A: the GGD (Meldpunt Bezorgd, care avoiders) shares what it does in a
    household with the case lead only (R-A-ggd-acties)."""
    case_id = rijswijk_case_led_by_the_landlord(
        client, auth, team=("politie-den-haag", "brandweer-haaglanden")
    )
    _report(client, auth, GGD, RIJSWIJK_DWELLING)
    others = (("politie-den-haag", "wijkagent"), ("brandweer-haaglanden", "brandweer-medewerker"))
    for who in others:
        assert _told(client, auth, case_id, who) == ([], 0, True), who
    # The positive control: the lead (the causer's landlord) is told.
    assert _told(client, auth, case_id, RIJSWIJK_LANDLORD) == (["ggd-haaglanden"], 1, False)


def test_the_leads_privacy_officer_reads_no_reporter_decision_in_its_deadlines(
    utrecht_case_with_a_care_report: tuple[str, str], client: TestClient, auth: Auth
) -> None:
    """``GET /v1/deadlines`` keeps the decision for the lead's partner; its privacy officer
    (an audit role, "never receives case data") is not told who reported either."""

    def decisions(who: tuple[str, str]) -> list[str]:
        listed = client.get("/v1/deadlines", headers=auth(*who))
        assert listed.status_code == 200, listed.text
        return [
            d["description"]
            for d in listed.json()["_embedded"]["deadlines"]
            if d["deadline"] == "reporter-decision"
        ]

    assert decisions(("u-centraal", "privacy-officer")) == []
    assert decisions(WIJKAGENT) == []
    # The positive control: the lead's case manager has it, naming the reporter.
    [decision] = decisions(CASE_MANAGER)
    assert "buurtteam-jeugd-gezin" in decision
