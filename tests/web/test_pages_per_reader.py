"""The case page and the meeting pages show each partner what the API shows it
(gateway/cases/summary_readers.py, gateway/cases/meetings.py): whether a police
investigation runs to the police and the case lead (U §5.3), which criteria hold to the lead
(U §5.1, §2), and on a meeting's agenda only the reader's cases (U §6). Found by the review
of 6 December (F3, F6); the meeting counts since review4, finding 6."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from gateway.context import GatewayContext
from tests.cases.builders import (
    RIJSWIJK_LANDLORD,
    rijswijk_case_led_by_the_landlord,
    rijswijk_to_integrated_approach,
)
from tests.web.conftest import sign_in
from tests.web.scenario import POLICE, seed_utrecht_case

Auth = Callable[..., dict[str, str]]
BUURTTEAM = "buurtteam-sociaal"
INVESTIGATION = "Politieonderzoek loopt"
EACH_CRITERION = 'class="criteria"'
ONLY_THE_LEAD = "Welke criteria gelden, ziet alleen de regiehouder."


def _case_with_criteria_and_a_neighbourhood_team(client: TestClient, auth: Auth) -> str:
    """A case with an investigation running (the scenario's police record it), two criteria
    recorded by the lead, and the neighbourhood team in its team."""
    seeded = seed_utrecht_case(client, auth)
    manager = {"user": "cm-1"}
    criteria = client.post(
        f"/v1/cases/{seeded.case_id}/criteria",
        headers=auth("u-centraal", "casemanager", **manager),
        json={
            "criteria": [
                {"criterion": "dwelling-related", "holds": True},
                {"criterion": "complex-problems", "holds": True},
            ]
        },
    )
    assert criteria.status_code == 200, criteria.text
    team = client.post(
        f"/v1/cases/{seeded.case_id}/team",
        headers=auth("u-centraal", "casemanager", **manager),
        json={"partnerId": BUURTTEAM},
    )
    assert team.status_code == 200, team.text
    return seeded.case_id


def test_the_case_page_shows_the_investigation_and_the_criteria_only_to_whom_they_belong(
    browser: TestClient, client: TestClient, auth: Auth
) -> None:
    case_id = _case_with_criteria_and_a_neighbourhood_team(client, auth)
    # The positive control: the lead reads both, each criterion with its answer.
    sign_in(browser, "u-centraal", "casemanager")
    lead = browser.get(f"/zaken/{case_id}").text
    assert INVESTIGATION in lead
    assert EACH_CRITERION in lead
    assert "2 van de 6 criteria zijn vastgesteld" in lead
    assert "Minstens" not in lead
    # The police read whether an investigation runs, not the lead's assessment.
    sign_in(browser, POLICE, "wijkagent")
    police = browser.get(f"/zaken/{case_id}").text
    assert INVESTIGATION in police
    assert EACH_CRITERION not in police
    assert ONLY_THE_LEAD in police
    # The neighbourhood team reads neither: only how many criteria hold.
    sign_in(browser, BUURTTEAM, "buurtteam-medewerker")
    team = browser.get(f"/zaken/{case_id}").text
    assert INVESTIGATION not in team
    assert EACH_CRITERION not in team
    assert "Geldt" not in team
    # That the minimum holds, not how many beyond it (all six would tell criterion 4).
    assert "Minstens 2 van de 6 criteria zijn vastgesteld" in team
    assert ONLY_THE_LEAD in team


def test_the_meeting_pages_neither_name_nor_count_the_cases_of_other_teams(
    browser: TestClient, client: TestClient, auth: Auth
) -> None:
    seeded = seed_utrecht_case(client, auth, district="Noordoost")
    planned = client.post(
        "/v1/meetings",
        headers=auth("u-centraal", "casemanager", user="cm-1"),
        json={"district": "Noordoost", "scheduledOn": "2099-01-05"},
    )
    assert planned.status_code == 201, planned.text
    meeting_id = planned.json()["id"]
    # The positive control: the police, in the case's team, read the case on the agenda.
    sign_in(browser, POLICE, "wijkagent")
    assert seeded.reference in browser.get(f"/overleggen/{meeting_id}").text
    # Lister is not in the team: the meeting neither names the case nor counts it (a count
    # of the others told, meeting by meeting, that a case was opened or closed between).
    sign_in(browser, "lister", "woonbegeleider")
    page = browser.get(f"/overleggen/{meeting_id}").text
    assert seeded.reference not in page
    assert seeded.case_id not in page
    assert "Geen zaken van uw zaakteams op de agenda" in page
    assert "worden hier niet genoemd en niet geteld" in page
    assert "minder dan 5" not in page
    listed = browser.get("/overleggen").text
    assert seeded.reference not in listed
    assert "0 zaak/zaken van uw zaakteams</td>" in listed
    # The police read the case on the list too.
    sign_in(browser, POLICE, "wijkagent")
    assert "1 zaak/zaken van uw zaakteams</td>" in browser.get("/overleggen").text


def test_the_meeting_pages_do_not_count_five_cases_of_other_teams_either(
    browser: TestClient, client: TestClient, auth: Auth
) -> None:
    """Five and more were counted (the minimum group size): not any more, whatever the
    number. The control: the police, in each case's team, read them on the agenda."""
    seeded = [
        seed_utrecht_case(client, auth, district="Noordoost", house_number=n, causer_bsn=None)
        for n in range(20, 25)
    ]
    planned = client.post(
        "/v1/meetings",
        headers=auth("u-centraal", "casemanager", user="cm-1"),
        json={"district": "Noordoost", "scheduledOn": "2099-01-05"},
    )
    assert planned.status_code == 201, planned.text
    sign_in(browser, "lister", "woonbegeleider")
    page = browser.get(f"/overleggen/{planned.json()['id']}").text
    assert "Er staan 5 zaken" not in page
    assert "Geen zaken van uw zaakteams op de agenda" in page
    assert "0 zaak/zaken van uw zaakteams</td>" in browser.get("/overleggen").text
    sign_in(browser, POLICE, "wijkagent")
    page = browser.get(f"/overleggen/{planned.json()['id']}").text
    assert all(case.reference in page for case in seeded)


OM_CONSENT = "Toestemming Openbaar Ministerie"


def test_the_case_page_names_the_om_consent_only_to_the_lead_and_the_police(
    browser: TestClient, client: TestClient, auth: Auth
) -> None:
    """An OM consent exists only while an investigation runs (U §5.3): the page's consents and
    its timeline name it to whom the investigation is shown, as the API does (review2,
    finding 2)."""
    from tests.exchange.conftest import CASE_MANAGER, open_utrecht_case

    case = open_utrecht_case(client, auth)
    for partner in (BUURTTEAM, "mitros"):
        team = client.post(
            f"/v1/cases/{case.case_id}/team",
            json={"partnerId": partner},
            headers=case.as_(CASE_MANAGER),
        )
        assert team.status_code in (200, 201), team.text
    case.investigation(True)
    case.om_consent()
    # The positive control: the lead and the police read it in the list and on the timeline.
    for partner, role in (("u-centraal", "casemanager"), (POLICE, "wijkagent")):
        sign_in(browser, partner, role)
        page = browser.get(f"/zaken/{case.case_id}").text
        assert page.count(OM_CONSENT) == 2, (partner, role)
        assert "police-nuisance-antecedents" in page
    # The landlord and the neighbourhood team read the corporation's permission only.
    for partner, role in (("mitros", "woonconsulent"), (BUURTTEAM, "buurtteam-medewerker")):
        sign_in(browser, partner, role)
        page = browser.get(f"/zaken/{case.case_id}").text
        assert "Openbaar Ministerie" not in page, (partner, role)
        assert "police-nuisance-antecedents" not in page, (partner, role)
        assert "Toestemming corporatie" in page, (partner, role)


def test_the_case_page_of_a_rijswijk_case_led_by_a_corporation_hides_the_investigation(
    browser: TestClient, client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    """No Rijswijk clause depends on a police investigation, so a corporation that leads a
    case about its own tenant is not shown one, even a status recorded before the police
    were refused to record it there (review3, finding 2); nor are the police, whose row
    would only show what the covenant does not keep (below)."""
    from gateway.cases.models import CaseFile

    landlord = RIJSWIJK_LANDLORD
    case_id = rijswijk_case_led_by_the_landlord(client, auth, team=("politie-den-haag",))
    with context.session_factory() as session, session.begin():
        session.get_one(CaseFile, case_id).investigation_running = True
    for who in (landlord, ("politie-den-haag", "wijkagent")):
        sign_in(browser, *who)
        page = browser.get(f"/zaken/{case_id}")
        assert page.status_code == 200, page.text
        assert INVESTIGATION not in page.text, who


def test_the_police_case_page_has_no_investigation_row_where_the_covenant_keeps_none(
    browser: TestClient, client: TestClient, auth: Auth
) -> None:
    """The Rijswijk police read "Politieonderzoek loopt: Onbekend" on every case: a status
    they cannot record there (422 not-in-covenant), so the row said nothing. The control: in
    Utrecht, where the antecedents' clause depends on it, the police read the same "Onbekend"
    row until they record it."""
    case_id = rijswijk_case_led_by_the_landlord(client, auth, team=("politie-den-haag",))
    sign_in(browser, "politie-den-haag", "wijkagent")
    page = browser.get(f"/zaken/{case_id}")
    assert page.status_code == 200, page.text
    assert INVESTIGATION not in page.text
    assert "Onbekend" not in page.text
    utrecht = seed_utrecht_case(client, auth)
    unrecorded = client.put(
        f"/v1/cases/{utrecht.case_id}/investigation-status",
        headers=auth(POLICE, "wijkagent", user="wa-1"),
        json={"running": None},
    )
    assert unrecorded.status_code == 200, unrecorded.text
    sign_in(browser, POLICE, "wijkagent")
    page = browser.get(f"/zaken/{utrecht.case_id}")
    assert page.status_code == 200, page.text
    assert f"<dt>{INVESTIGATION}</dt><dd>Onbekend" in page.text


EVICTION_PROCEDURE = "Procedure voor ontbinding en ontruiming gestart"
MEASURES_WITHHELD = (
    "Maatregelen die een andere organisatie vastlegde, ziet alleen wie het convenant"
)


def test_the_case_page_shows_the_landlords_measures_only_to_whom_the_covenant_gives_them(
    browser: TestClient, client: TestClient, auth: Auth
) -> None:
    """R-A-corporatie-meldingen gives the corporation's tenancy-law measures to the case
    manager and the wijkagent: the GGD in the team reads that they are withheld, not "none
    recorded" (review4, finding 5)."""
    case_id = rijswijk_case_led_by_the_landlord(
        client, auth, team=("gemeente-rijswijk", "ggd-haaglanden")
    )
    # In a phase the clause lists (review9a F2: the measures follow the clause's phases).
    rijswijk_to_integrated_approach(client, auth, case_id)
    recorded = client.post(
        f"/v1/cases/{case_id}/events",
        json={"event": "eviction-procedure", "occurredOn": "2026-11-30"},
        headers=auth(*RIJSWIJK_LANDLORD),
    )
    assert recorded.status_code == 201, recorded.text
    sign_in(browser, "ggd-haaglanden", "zorgmedewerker")
    page = browser.get(f"/zaken/{case_id}").text
    assert EVICTION_PROCEDURE not in page
    assert MEASURES_WITHHELD in page
    assert "Geen maatregelen vastgelegd" not in page
    # The positive controls: the municipality's case manager (a recipient in this phase)
    # reads it; the landlord reads its own record, and is told it would not be shown another
    # partner's (no recipient of R-A-corporatie-meldingen, no longer the lead; review9a F2).
    for who, told in ((("gemeente-rijswijk", "casemanager"), False), (RIJSWIJK_LANDLORD, True)):
        sign_in(browser, *who)
        page = browser.get(f"/zaken/{case_id}").text
        assert EVICTION_PROCEDURE in page, who
        assert (MEASURES_WITHHELD in page) is told, who
