"""The landlord's measures (case ``events``) are shown in the summary and on the case page by
the rule the policy grants their category with: a clause of the category names the reader's
role, its relation holding, AND lists the case's current phase; the recorder reads its own
(review9a F2; gateway/cases/summary_readers.py).

Before, the summary decided by role alone and gave every event to whichever partner led:
- R-A-corporatie-meldingen gives "Meldingen en huurrechtelijke maatregelen van de
  corporatie" to the case manager and the wijkagent from the weighing to the eviction, not in
  own-approach (R §3.4 "Tot de fase van complexe overlast ... blijft eenieder dus
  verantwoordelijk voor zijn eigen dossier") nor in a closed case ("Case closed; no further
  sharing."), yet the wijkagent read them there;
- in Rijswijk the partner that reports leads (``intake.lead: source-partner``): a GGD or fire
  brigade that led read the corporation's measures the policy refuses it
  (role-not-recipient).
Positive controls: the wijkagent and the municipality's case manager read them in
integrated-approach (tests/cases/test_landlord_measures_readers.py), and the landlord reads
its own record in every phase.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.cases.builders import RIJSWIJK_LANDLORD, rijswijk_case_led_by_the_landlord
from tests.web.conftest import sign_in

Auth = Callable[..., dict[str, str]]
POLICE = ("politie-den-haag", "wijkagent")
GGD = ("ggd-haaglanden", "zorgmedewerker")
BRANDWEER = ("brandweer-haaglanden", "brandweer-medewerker")
MEASURES_HEADING = "Maatregelen van de verhuurder"
LAST_CHANCE = "Laatste kans"


def _record(client: TestClient, auth: Auth, case_id: str, event: str) -> None:
    recorded = client.post(
        f"/v1/cases/{case_id}/events",
        json={"event": event, "occurredOn": "2026-11-30"},
        headers=auth(*RIJSWIJK_LANDLORD),
    )
    assert recorded.status_code == 201, recorded.text


def _move(client: TestClient, auth: Auth, case_id: str, body: dict[str, Any]) -> str:
    moved = client.post(
        f"/v1/cases/{case_id}/transitions", json=body, headers=auth(*RIJSWIJK_LANDLORD)
    )
    assert moved.status_code == 200, moved.text
    state: str = moved.json()["state"]
    return state


def _told(client: TestClient, auth: Auth, case_id: str, who: tuple[str, str]) -> Any:
    seen = client.get(f"/v1/cases/{case_id}", headers=auth(*who))
    assert seen.status_code == 200, seen.text
    summary = seen.json()
    return [e["event"] for e in summary["events"]], "events" in summary["withheld"]


def _policy(
    client: TestClient, auth: Auth, case_id: str, who: tuple[str, str], purpose: str
) -> Any:
    """The policy's answer to ``who`` asking for the category the events are of."""
    asked = client.post(
        "/v1/case-facts/queries",
        json={
            "caseId": case_id,
            "purpose": purpose,
            "categories": ["corporation-nuisance-reports"],
        },
        headers=auth(*who),
    )
    assert asked.status_code == 200, asked.text
    value = asked.json()["values"][0]
    return value["outcome"], value["reasons"]


def test_the_wijkagent_is_not_shown_the_measures_in_own_approach(
    client: TestClient, auth: Auth
) -> None:
    case_id = rijswijk_case_led_by_the_landlord(client, auth, team=("politie-den-haag",))
    _record(client, auth, case_id, "eviction-procedure")
    assert _move(client, auth, case_id, {"transition": "classify-simple"}) == "own-approach"
    outcome, reasons = _policy(client, auth, case_id, POLICE, "dossier-building")
    assert outcome == "redacted"
    assert "phase-not-allowed" in reasons
    assert _told(client, auth, case_id, POLICE) == ([], True)
    # The positive control: the landlord, which recorded it, reads its own record.
    assert _told(client, auth, case_id, RIJSWIJK_LANDLORD) == (["eviction-procedure"], True)


def test_a_closed_case_shows_the_wijkagent_no_measures(
    app: Any, client: TestClient, auth: Auth
) -> None:
    case_id = rijswijk_case_led_by_the_landlord(client, auth, team=("politie-den-haag",))
    _record(client, auth, case_id, "last-chance-contract")
    for body in (
        {"transition": "classify-simple"},
        {"transition": "nuisance-stopped"},
        {
            "transition": "close",
            "result": {
                "neighboursJudgement": "improved",
                "partnersJudgement": "resolved",
                "aftercare": "none",
            },
        },
    ):
        state = _move(client, auth, case_id, body)
    assert state == "closed"
    assert _told(client, auth, case_id, POLICE) == ([], True)
    assert _told(client, auth, case_id, RIJSWIJK_LANDLORD) == (["last-chance-contract"], True)
    with TestClient(app, base_url="https://testserver") as browser:
        sign_in(browser, *POLICE)
        page = browser.get(f"/zaken/{case_id}")
        assert page.status_code == 200, page.text
        text = " ".join(re.sub(r"<[^>]+>", " ", page.text).split())
        assert MEASURES_HEADING in text
        assert LAST_CHANCE not in text
        # The positive control: the landlord's own page lists its record.
        sign_in(browser, *RIJSWIJK_LANDLORD)
        page = browser.get(f"/zaken/{case_id}")
        text = " ".join(re.sub(r"<[^>]+>", " ", page.text).split())
        assert LAST_CHANCE in text


@pytest.mark.parametrize("lead", [GGD, BRANDWEER], ids="/".join)
def test_a_lead_no_clause_gives_the_category_is_not_shown_the_measures(
    client: TestClient, auth: Auth, lead: tuple[str, str]
) -> None:
    """In Rijswijk the reporting partner leads; R Bijlage A gives the corporations' reports to
    no care or fire-brigade partner, and R §2.3 tells the municipality of the measures, not
    whichever partner leads."""
    filed = client.post(
        "/v1/reports",
        json={
            "dwelling": {
                "address": {"postcode": "2281 AA", "houseNumber": 7},
                "ownership": "corporation",
                "corporationId": "rijswijk-wonen",
                "district": "Te Werve",
            },
            "persons": [],
            "report": {"channel": "form", "description": "Overlast."},
        },
        headers=auth(*lead),
    )
    assert filed.status_code == 201, filed.text
    case_id = filed.json()["caseId"]
    led = client.get(f"/v1/cases/{case_id}", headers=auth(*lead)).json()
    assert led["leadPartnerId"] == lead[0]
    _record(client, auth, case_id, "last-chance-contract")
    outcome, reasons = _policy(client, auth, case_id, lead, "integrated-approach")
    assert outcome == "redacted"
    assert "role-not-recipient" in reasons
    assert _told(client, auth, case_id, lead) == ([], True)
    assert _told(client, auth, case_id, (lead[0], "adapter")) == ([], True)
    # The positive control: the landlord in the team reads its own record.
    assert _told(client, auth, case_id, RIJSWIJK_LANDLORD) == (["last-chance-contract"], True)
