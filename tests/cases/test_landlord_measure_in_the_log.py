"""The landlord's ``case-event`` audit entry names the measure (behavioural order, eviction
procedure, last chance, care contract) and when it happened. The case summary shows the
measures only to the recipients of their category, the case lead and the recorder (review4
F5, docs/cases.md); the log showed them to every officer who finds the entry: Utrecht's
coordinating officer (the municipality, which U-6-corporatie does not give the landlord's
"huurrechtelijke maatregelen") read that Mitros lets its tenant live with a care contract.

Now an officer that is no party to the entry reads it only if its partner would have been
shown the event in the summary when it was recorded: a clause of the event's category names
a role of it in the case's phase then (``phase``; review9a F2: no longer the lead as such).
Any other does not find the entry at all (review13 F4, tests/audit/
test_case_event_entry_readers.py); read otherwise (``LogReader.shown``) it has no ``event``,
``occurredOn`` nor salt. Controls: the landlord's
officer reads its own entry whole; Rijswijk's coordinating officer (the municipality, a
case manager there, a recipient of R-A-corporatie-meldingen) reads the measure in a phase
its clause lists; the stored entry is unchanged."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from audit.entry import SALT_FIELD
from gateway.audit.readers import LogReader
from gateway.context import GatewayContext
from tests.cases.builders import (
    RIJSWIJK_LANDLORD,
    rijswijk_case_led_by_the_landlord,
    rijswijk_to_integrated_approach,
)
from tests.exchange.conftest import MITROS, open_utrecht_case

Auth = Callable[..., dict[str, str]]
UTRECHT_COORDINATOR = ("gemeente-utrecht", "privacy-officer")
RIJSWIJK_COORDINATOR = ("gemeente-rijswijk", "privacy-officer")


def _case_events(
    client: TestClient, auth: Auth, case_id: str, who: tuple[str, str]
) -> list[dict[str, Any]]:
    found = client.post(
        "/v1/audit/entries/search",
        json={"caseId": case_id, "activity": "case-event"},
        headers=auth(*who),
    )
    assert found.status_code == 200, found.text
    return found.json()["entries"]  # type: ignore[no-any-return]


def test_utrechts_coordinating_officer_does_not_find_the_landlords_measure(
    client: TestClient, auth: Auth
) -> None:
    case = open_utrecht_case(client, auth)
    recorded = client.post(
        f"/v1/cases/{case.case_id}/events",
        json={"event": "care-contract", "occurredOn": "2026-11-30"},
        headers=auth(*MITROS),
    )
    assert recorded.status_code == 201, recorded.text
    # Not found at all (review13 F4): the entry's being there says a measure was taken.
    assert _case_events(client, auth, case.case_id, UTRECHT_COORDINATOR) == []
    # Control: the landlord's officer reads its own entry whole, with the lead it names.
    [own] = _case_events(client, auth, case.case_id, ("mitros", "privacy-officer"))
    assert own["attributes"]["event"] == "care-contract"
    assert own["attributes"]["occurredOn"] == "2026-11-30"
    assert own["attributes"]["lead"] == "u-centraal"
    assert SALT_FIELD in own


def test_control_rijswijks_coordinating_officer_a_recipient_reads_the_measure(
    client: TestClient, auth: Auth
) -> None:
    """In integrated-approach, a phase R-A-corporatie-meldingen lists."""
    case_id = rijswijk_case_led_by_the_landlord(
        client, auth, team=("gemeente-rijswijk", "politie-den-haag")
    )
    rijswijk_to_integrated_approach(client, auth, case_id)
    recorded = client.post(
        f"/v1/cases/{case_id}/events",
        json={"event": "eviction-procedure", "occurredOn": "2026-11-30"},
        headers=auth(*RIJSWIJK_LANDLORD),
    )
    assert recorded.status_code == 201, recorded.text
    [entry] = _case_events(client, auth, case_id, RIJSWIJK_COORDINATOR)
    assert entry["attributes"]["event"] == "eviction-procedure"
    assert entry["attributes"]["occurredOn"] == "2026-11-30"


def test_rijswijks_coordinating_officer_does_not_find_a_measure_recorded_in_own_approach(
    client: TestClient, auth: Auth
) -> None:
    """R-A-corporatie-meldingen lists no intake or own-approach (R §3.4: until complex
    nuisance each partner keeps its own dossier), so the log shows the measure recorded
    then to the municipality's officer as the summary showed it to its case manager: not
    (review9a F2). The landlord's officer reads its own entry whole (control)."""
    case_id = rijswijk_case_led_by_the_landlord(client, auth)
    recorded = client.post(
        f"/v1/cases/{case_id}/events",
        json={"event": "eviction-procedure", "occurredOn": "2026-11-30"},
        headers=auth(*RIJSWIJK_LANDLORD),
    )
    assert recorded.status_code == 201, recorded.text
    assert _case_events(client, auth, case_id, RIJSWIJK_COORDINATOR) == []
    [own] = _case_events(client, auth, case_id, ("rijswijk-wonen", "privacy-officer"))
    assert own["attributes"]["event"] == "eviction-procedure"
    assert own["attributes"]["phase"] == "intake"


@pytest.mark.parametrize(
    ("covenant_id", "partner", "lead", "phase", "shown"),
    [
        # A recipient (the municipality's case manager) in a phase its clause lists ...
        ("rijswijk-woonoverlast", "gemeente-rijswijk", "gemeente-rijswijk", "warning", True),
        # ... not in one it does not, nor in an entry without the phase (unknown is not no).
        ("rijswijk-woonoverlast", "gemeente-rijswijk", "gemeente-rijswijk", "own-approach", False),
        ("rijswijk-woonoverlast", "gemeente-rijswijk", "gemeente-rijswijk", None, False),
        # Leading is no reason: Utrecht's municipality receives no measure (U-6-corporatie).
        (
            "utrecht-extreme-woonoverlast",
            "gemeente-utrecht",
            "gemeente-utrecht",
            "execution",
            False,
        ),
    ],
)
def test_the_measure_is_read_by_the_clauses_of_the_phase_it_was_recorded_in(
    context: GatewayContext,
    covenant_id: str,
    partner: str,
    lead: str,
    phase: str | None,
    shown: bool,
) -> None:
    covenant = context.covenants[covenant_id]
    reader = LogReader.of(covenant, partner, covenant_wide=True)
    attributes: dict[str, Any] = {
        "event": "eviction-procedure",
        "occurredOn": "2026-11-30",
        "lead": lead,
    }
    if phase is not None:
        attributes["phase"] = phase
    entry = {
        "activity": "case-event",
        "requester": {"partnerId": "mitros", "role": "woonconsulent"},
        "attributes": attributes,
        SALT_FIELD: "00" * 16,
    }
    read = reader.shown(entry)
    assert ("event" in read["attributes"], SALT_FIELD in read) == (shown, shown)


def test_the_log_and_the_summary_give_the_measures_to_the_same_partners(
    context: GatewayContext,
) -> None:
    """One rule: the (event, phase) pairs a log reader's partner reads a measure in (not as
    lead) are those the summary shows it in for one of its roles (both through
    Covenant.category_recipients); the events and the phases of some clause are among them
    (so "none anywhere" cannot pass)."""
    read = 0
    for covenant in context.covenants.values():
        for partner in covenant.partners:
            reader = LogReader.of(covenant, partner.id, covenant_wide=True)
            summary = {
                (e.id, phase.id)
                for e in covenant.events
                for phase in covenant.phases
                if any(
                    r.role in partner.roles and r.relation is None
                    for r in covenant.category_recipients(e.category, phase.id)
                )
            }
            assert reader.measures == summary, (covenant.id, partner.id)
            assert ("eviction-procedure", "closed") not in reader.measures
            read += len(reader.measures)
    assert read > 0
