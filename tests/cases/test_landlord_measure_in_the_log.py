"""The landlord's ``case-event`` audit entry names the measure (behavioural order, eviction
procedure, last chance, care contract) and when it happened. The case summary shows the
measures only to the recipients of their category, the case lead and the recorder (review4
F5, docs/cases.md); the log showed them to every officer who finds the entry: Utrecht's
coordinating officer (the municipality, which U-6-corporatie does not give the landlord's
"huurrechtelijke maatregelen") read that Mitros lets its tenant live with a care contract.

Now an officer that is no party to the entry reads it without ``event`` and ``occurredOn``
(and without its salt) unless its partner would be shown the event in the summary: a role
of it receives the event's category, or it led the case when the event was recorded
(``lead``). Controls: the landlord's officer reads its own entry whole; Rijswijk's
coordinating officer (the municipality, a case manager there, a recipient of
R-A-corporatie-meldingen) reads the measure; the stored entry is unchanged."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from audit.entry import SALT_FIELD
from gateway.audit.readers import LogReader
from gateway.context import GatewayContext
from tests.cases.builders import RIJSWIJK_LANDLORD, rijswijk_case_led_by_the_landlord
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


def test_utrechts_coordinating_officer_does_not_read_the_landlords_measure(
    client: TestClient, auth: Auth
) -> None:
    case = open_utrecht_case(client, auth)
    recorded = client.post(
        f"/v1/cases/{case.case_id}/events",
        json={"event": "care-contract", "occurredOn": "2026-11-30"},
        headers=auth(*MITROS),
    )
    assert recorded.status_code == 201, recorded.text
    [entry] = _case_events(client, auth, case.case_id, UTRECHT_COORDINATOR)
    assert "event" not in entry["attributes"]
    assert "occurredOn" not in entry["attributes"]
    assert SALT_FIELD not in entry
    assert "care-contract" not in str(entry)
    # Control: the landlord's officer reads its own entry whole, with the lead it names.
    [own] = _case_events(client, auth, case.case_id, ("mitros", "privacy-officer"))
    assert own["attributes"]["event"] == "care-contract"
    assert own["attributes"]["occurredOn"] == "2026-11-30"
    assert own["attributes"]["lead"] == "u-centraal"
    assert SALT_FIELD in own


def test_control_rijswijks_coordinating_officer_a_recipient_reads_the_measure(
    client: TestClient, auth: Auth
) -> None:
    case_id = rijswijk_case_led_by_the_landlord(client, auth)
    recorded = client.post(
        f"/v1/cases/{case_id}/events",
        json={"event": "eviction-procedure", "occurredOn": "2026-11-30"},
        headers=auth(*RIJSWIJK_LANDLORD),
    )
    assert recorded.status_code == 201, recorded.text
    [entry] = _case_events(client, auth, case_id, RIJSWIJK_COORDINATOR)
    assert entry["attributes"]["event"] == "eviction-procedure"
    assert entry["attributes"]["occurredOn"] == "2026-11-30"


@pytest.mark.parametrize(
    ("lead", "shown"),
    [("gemeente-utrecht", True), ("u-centraal", False), (None, False)],
)
def test_the_lead_when_recorded_reads_the_measure(
    context: GatewayContext, lead: str | None, shown: bool
) -> None:
    """Utrecht's municipality receives no measure, but reads it of a case it led when the
    landlord recorded it; an entry without ``lead`` (written before it was recorded) names
    no lead, and an unknown lead is no lead."""
    covenant = context.covenants["utrecht-extreme-woonoverlast"]
    reader = LogReader.of(covenant, "gemeente-utrecht", covenant_wide=True)
    attributes: dict[str, Any] = {"event": "care-contract", "occurredOn": "2026-11-30"}
    if lead is not None:
        attributes["lead"] = lead
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
    """One rule: the log reader's partners reading an event (not as lead) are those the
    summary shows it to for one of their roles (both through Covenant.category_readers)."""
    for covenant in context.covenants.values():
        for partner in covenant.partners:
            reader = LogReader.of(covenant, partner.id, covenant_wide=True)
            summary = {
                e.id
                for e in covenant.events
                if set(partner.roles) & covenant.category_readers(e.category)
            }
            assert reader.measure_events == summary, (covenant.id, partner.id)
