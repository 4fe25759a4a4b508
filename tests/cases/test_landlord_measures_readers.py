"""The case summary's ``events`` are the landlord's further measures under tenancy law (U §5.2:
behavioural order, eviction procedure, last chance, care contract; R Bijlage F). The
covenants give them as a category to few: Rijswijk's "Meldingen en huurrechtelijke
maatregelen van de corporatie" to the case manager and the wijkagent (R-A-corporatie-
meldingen), Utrecht's "huurrechtelijke maatregelen" to the case manager (U-6-corporatie).
So the summary shows an event to the recipients of its category (``events[].category`` in
the covenant file), to the case lead and to the partner that recorded it, and names
``events`` in ``withheld`` for everyone else (gateway/cases/summary_readers.py). Before,
every team member read them: the GGD and the fire brigade that the policy refuses the
category. Review of 6 December (review4, finding 5)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.policy.schemas import PolicyInput
from tests.cases.builders import (
    RIJSWIJK_LANDLORD,
    rijswijk_case_led_by_the_landlord,
    rijswijk_to_integrated_approach,
)
from tests.exchange.conftest import (
    CASE_MANAGER,
    MITROS,
    WIJKAGENT,
    UtrechtCase,
    open_utrecht_case,
)
from tests.policy.conftest import loaded_engine

Auth = Callable[..., dict[str, str]]
GGD = ("ggd-haaglanden", "zorgmedewerker")
BRANDWEER = ("brandweer-haaglanden", "brandweer-medewerker")
MUNICIPALITY = ("gemeente-rijswijk", "casemanager")
RIJSWIJK_POLICE = ("politie-den-haag", "wijkagent")
RIJSWIJK_TEAM = ("gemeente-rijswijk", "ggd-haaglanden", "brandweer-haaglanden", "politie-den-haag")
BUURTTEAM = ("buurtteam-sociaal", "buurtteam-medewerker")


def _summary(client: TestClient, auth: Auth, case_id: str, who: tuple[str, str]) -> Any:
    seen = client.get(f"/v1/cases/{case_id}", headers=auth(*who))
    assert seen.status_code == 200, seen.text
    return seen.json()


def _told(client: TestClient, auth: Auth, case_id: str, who: tuple[str, str]) -> Any:
    """The events ``who`` is shown, and whether it is told they are withheld."""
    summary = _summary(client, auth, case_id, who)
    return [e["event"] for e in summary["events"]], "events" in summary["withheld"]


def _rijswijk_case_with_eviction_procedure(client: TestClient, auth: Auth) -> str:
    """A Rijswijk case in integrated-approach (led by the municipality), a phase
    R-A-corporatie-meldingen lists, with the landlord's eviction procedure on record."""
    case_id = rijswijk_case_led_by_the_landlord(client, auth, team=RIJSWIJK_TEAM)
    rijswijk_to_integrated_approach(client, auth, case_id)
    recorded = client.post(
        f"/v1/cases/{case_id}/events",
        json={"event": "eviction-procedure", "occurredOn": "2026-11-30"},
        headers=auth(*RIJSWIJK_LANDLORD),
    )
    assert recorded.status_code == 201, recorded.text
    return case_id


def _rijswijk_policy(who: tuple[str, str]) -> str:
    """The production engine's answer to ``who`` asking for the category the events are of."""
    request = PolicyInput.model_validate(
        {
            "requester": {"partner": who[0], "role": who[1], "user": "p"},
            "case": {
                "id": "c1",
                "covenant": "rijswijk-woonoverlast",
                "phase": "integrated-approach",
                "team": ["rijswijk-wonen", *RIJSWIJK_TEAM],
                "lead": "gemeente-rijswijk",
                "dwelling": {"ownership": "corporation", "corporation": "rijswijk-wonen"},
                "policeInvestigation": None,
                "events": [],
            },
            "categories": ["corporation-nuisance-reports"],
            "purpose": "integrated-approach",
            "consents": [],
            "now": "2026-03-01T12:00:00Z",
        }
    )
    verdict = loaded_engine("regorus").decide(request)
    return str(verdict.categories["corporation-nuisance-reports"].outcome)


@pytest.mark.parametrize(
    "who",
    [GGD, BRANDWEER, ("ggd-haaglanden", "adapter"), ("rijswijk-wonen", "privacy-officer")],
    ids="/".join,
)
def test_the_team_members_the_covenant_refuses_the_category_are_not_shown_the_measures(
    client: TestClient, auth: Auth, who: tuple[str, str]
) -> None:
    case_id = _rijswijk_case_with_eviction_procedure(client, auth)
    if who[1] != "privacy-officer":  # an audit role asks for nothing
        assert _rijswijk_policy(who) == "redact"
    assert _told(client, auth, case_id, who) == ([], True)


@pytest.mark.parametrize(
    "who",
    [
        MUNICIPALITY,  # a recipient of R-A-corporatie-meldingen, and the lead
        RIJSWIJK_POLICE,  # the other
        RIJSWIJK_LANDLORD,  # which recorded it
        ("rijswijk-wonen", "adapter"),  # its back-office system reads its own record
    ],
    ids="/".join,
)
def test_control_the_recipients_and_the_recorder_are_shown_them(
    client: TestClient, auth: Auth, who: tuple[str, str]
) -> None:
    case_id = _rijswijk_case_with_eviction_procedure(client, auth)
    recipient = who in (MUNICIPALITY, RIJSWIJK_POLICE)
    if recipient:
        assert _rijswijk_policy(who) == "disclose"
    # The recorder, no recipient, reads its own and is told it would not read another's.
    assert _told(client, auth, case_id, who) == (["eviction-procedure"], not recipient)


@pytest.fixture
def utrecht_case(client: TestClient, auth: Auth) -> UtrechtCase:
    """Mitros's case with the police and the neighbourhood team in the team; Mitros records
    that it lets its tenant live with a care contract and started an eviction procedure."""
    case = open_utrecht_case(client, auth)
    added = client.post(
        f"/v1/cases/{case.case_id}/team",
        json={"partnerId": BUURTTEAM[0]},
        headers=auth(*CASE_MANAGER),
    )
    assert added.status_code in (200, 201), added.text
    for event in ("care-contract", "eviction-procedure"):
        recorded = client.post(
            f"/v1/cases/{case.case_id}/events", json={"event": event}, headers=auth(*MITROS)
        )
        assert recorded.status_code == 201, recorded.text
    return case


def test_in_utrecht_only_the_case_manager_and_the_landlord_read_the_landlords_measures(
    utrecht_case: UtrechtCase, client: TestClient, auth: Auth
) -> None:
    """U-6-corporatie gives "huurrechtelijke maatregelen" to the case manager, who leads; the
    police and the neighbourhood team in the team are not told, not even of the care
    contract (a care need). The police need not be: the policy reads the eviction procedure
    itself when the landlord asks for the sfeerverslag (tests/exchange/
    test_sfeerverslag_and_case_events.py)."""
    case_id = utrecht_case.case_id
    both = ["care-contract", "eviction-procedure"]
    for who in (WIJKAGENT, BUURTTEAM, ("politie-midden-nederland", "adapter")):
        assert _told(client, auth, case_id, who) == ([], True), who
    # The positive controls: the lead reads every event ...
    for who in (CASE_MANAGER, ("u-centraal", "adapter")):
        assert _told(client, auth, case_id, who) == (both, False), who
    # ... and the landlord (its adapter too) those it recorded; it is told that it would not
    # be shown another partner's ("events" in ``withheld``, whether or not one is on file).
    for who in (MITROS, ("mitros", "adapter")):
        assert _told(client, auth, case_id, who) == (both, True), who


def test_a_partner_reads_the_measures_it_recorded_but_not_another_landlords(
    utrecht_case: UtrechtCase, client: TestClient, auth: Auth
) -> None:
    """After the lead corrected the landlord, the former landlord keeps reading its own
    record (its adapter checks it so as not to record it twice), and the new landlord does
    not read the former's: it is the recorder of neither, nor a recipient."""
    case_id = utrecht_case.case_id
    corrected = client.put(
        f"/v1/cases/{case_id}/dwelling/landlord",
        json={"ownership": "corporation", "corporationId": "portaal"},
        headers=auth(*CASE_MANAGER),
    )
    assert corrected.status_code == 200, corrected.text
    recorded = client.post(
        f"/v1/cases/{case_id}/events",
        json={"event": "behavioural-order"},
        headers=auth("portaal", "woonconsulent"),
    )
    assert recorded.status_code == 201, recorded.text
    portaal = ("portaal", "woonconsulent")
    assert _told(client, auth, case_id, portaal) == (["behavioural-order"], True)
    assert _told(client, auth, case_id, MITROS) == (["care-contract", "eviction-procedure"], True)
    assert _told(client, auth, case_id, CASE_MANAGER)[0] == [
        "care-contract",
        "eviction-procedure",
        "behavioural-order",
    ]
