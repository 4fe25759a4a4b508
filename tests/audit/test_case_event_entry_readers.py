"""An officer who may not read the landlord's measure does not find its ``case-event`` entry
at all (review13 F4).

A Rijswijk case led by Rijswijk Wonen, still in intake, the municipality and the GGD in its
team: the landlord records a last-chance contract. The case's retention withholds the open
case's dates from the municipality's privacy officer (the covenant's coordinating officer),
since in intake no clause shows it the landlord's measures (sanctions.sanctions_hidden).
Before, the same officer's log search, exports, access report (API and page) and receipt
gave it the ``case-event`` entry, its measure stripped (``LogReader.shown``): every covenant
event is a landlord's measure, so the entry said one was taken, and its moment the day.
Now no channel reading through ``LogReader`` finds it, and the lists' counts agree.

Positive controls: the landlord's officer (the recorder: a party) finds its entry whole;
the municipality's officer finds it, with the measure, for a case in the integrated
approach, a phase whose clause (R-A-corporatie-meldingen) gives it the event's category.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.entry import Actor, AuditEntry, ProcessingActivity
from gateway.audit import reports
from gateway.audit.models import AuditRecord
from gateway.audit.readers import MEASURE_ATTRIBUTES, LogReader
from gateway.audit.schemas import EntrySearch
from gateway.context import GatewayContext
from gateway.db import transaction
from tests.audit import channels
from tests.cases.builders import (
    BSN_CAUSER,
    RIJSWIJK_LANDLORD,
    rijswijk_case_led_by_the_landlord,
    rijswijk_to_integrated_approach,
)

Auth = Callable[..., dict[str, str]]
COORDINATOR = ("gemeente-rijswijk", "privacy-officer")
LANDLORD_OFFICER = ("rijswijk-wonen", "privacy-officer")
CASE_EVENT = "case-event"
#: How the page names the activity (gateway/web/texts.py), spelled out so the test fails,
#: rather than errs, on the code before it.
CASE_EVENT_LABEL = "Gebeurtenis in de zaak vastgelegd"


@pytest.fixture
def browser(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as client:
        yield client


def _record_measure(client: TestClient, auth: Auth, case_id: str) -> None:
    recorded = client.post(
        f"/v1/cases/{case_id}/events",
        json={"event": "last-chance-contract"},
        headers=auth(*RIJSWIJK_LANDLORD),
    )
    assert recorded.status_code == 201, recorded.text


def _activities(client: TestClient, auth: Auth, who: tuple[str, str], case_id: str) -> Any:
    """The activities of the case's entries as each channel gives them to ``who``."""
    jsonl, table, ldv = channels.exports(client, auth, who, case_id)
    lines = channels.access_report_lines(client, auth, who, BSN_CAUSER)
    return {
        "search": [e["activity"] for e in channels.search(client, auth, who, caseId=case_id)],
        "jsonl": [e["activity"] for e in jsonl],
        "csv": [row["activity"] for row in table],
        "ldv": sorted({r["name"] for r in ldv}),
        "access-report": [line["activity"] for line in lines],
    }


def _window(context: GatewayContext, case_id: str, partner: str) -> reports.EntryWindow:
    """The coordinating officer's page of the case's entries and its count (the privacy
    pages' list, gateway/web/logbook.py)."""
    covenant = context.covenants["rijswijk-woonoverlast"]
    reader = LogReader.of(covenant, partner, covenant_wide=True)
    with context.session_factory() as session:
        return reports.entry_window(
            session, reader=reader, search=EntrySearch(caseId=case_id, limit=2)
        )


def _all_window_entries(context: GatewayContext, case_id: str, partner: str) -> list[Any]:
    covenant = context.covenants["rijswijk-woonoverlast"]
    reader = LogReader.of(covenant, partner, covenant_wide=True)
    with context.session_factory() as session:
        return list(
            reports.iter_entries(
                session,
                reader=reader,
                search=EntrySearch(caseId=case_id),
                subject_pseudonym=None,
            )
        )


def test_the_coordinating_officer_not_shown_the_measure_finds_no_case_event_entry(
    client: TestClient, auth: Auth, context: GatewayContext, browser: TestClient
) -> None:
    """Failed before: the search, the three exports, the access report and its page gave
    the coordinating officer a ``case-event`` entry of the case, and its receipt answered."""
    case_id = rijswijk_case_led_by_the_landlord(
        client, auth, team=("gemeente-rijswijk", "ggd-haaglanden")
    )
    _record_measure(client, auth, case_id)
    # The case's retention withholds the open case's dates from this officer: the measure
    # is one it may not be shown (sanctions.sanctions_hidden).
    state = client.get(f"/v1/cases/{case_id}/retention", headers=auth(*COORDINATOR))
    assert state.status_code == 200, state.text
    assert (state.json()["sourceDate"], state.json()["dueOn"]) == (None, None), state.json()

    # Control: the landlord's officer (the recorder) finds its entry whole, on every channel.
    [own] = channels.search(client, auth, LANDLORD_OFFICER, caseId=case_id, activity=CASE_EVENT)
    assert own["attributes"]["event"] == "last-chance-contract"
    assert own["attributes"]["phase"] == "intake"
    landlords = _activities(client, auth, LANDLORD_OFFICER, case_id)
    for channel, activities in landlords.items():
        assert CASE_EVENT in activities, (channel, landlords)
    assert channels.receipt_status(client, auth, LANDLORD_OFFICER, own["index"]) == 200

    # The coordinating officer finds the case's other entries (its intake, the team), not it.
    seen = _activities(client, auth, COORDINATOR, case_id)
    for channel, activities in seen.items():
        assert CASE_EVENT not in activities, (channel, seen)
    assert seen["search"], seen
    assert channels.search(client, auth, COORDINATOR, caseId=case_id, activity=CASE_EVENT) == []
    assert channels.receipt_status(client, auth, COORDINATOR, own["index"]) == 404
    # The list's pages and count agree with what it shows (none counted and not shown).
    shown = _all_window_entries(context, case_id, "gemeente-rijswijk")
    assert CASE_EVENT not in [e["activity"] for e in shown]
    assert _window(context, case_id, "gemeente-rijswijk").total == len(shown)
    # The access report's page.
    page = channels.access_report_page(browser, COORDINATOR, BSN_CAUSER)
    assert CASE_EVENT_LABEL not in page
    assert (
        channels.access_report_page(browser, LANDLORD_OFFICER, BSN_CAUSER).count(CASE_EVENT_LABEL)
        == 1
    )


def test_control_the_municipalitys_officer_shown_the_measure_finds_the_entry(
    client: TestClient, auth: Auth, context: GatewayContext, browser: TestClient
) -> None:
    """In the integrated approach R-A-corporatie-meldingen gives the municipality the
    landlord's measures: its officer finds the entry, with the measure, on every channel."""
    case_id = rijswijk_case_led_by_the_landlord(
        client, auth, team=("gemeente-rijswijk", "politie-den-haag", "ggd-haaglanden")
    )
    rijswijk_to_integrated_approach(client, auth, case_id)
    _record_measure(client, auth, case_id)
    [entry] = channels.search(client, auth, COORDINATOR, caseId=case_id, activity=CASE_EVENT)
    assert entry["attributes"]["event"] == "last-chance-contract"
    assert entry["attributes"]["phase"] == "integrated-approach"
    seen = _activities(client, auth, COORDINATOR, case_id)
    for channel, activities in seen.items():
        assert CASE_EVENT in activities, (channel, seen)
    assert channels.receipt_status(client, auth, COORDINATOR, entry["index"]) == 200
    shown = _all_window_entries(context, case_id, "gemeente-rijswijk")
    assert CASE_EVENT in [e["activity"] for e in shown]
    assert _window(context, case_id, "gemeente-rijswijk").total == len(shown)
    assert (
        channels.access_report_page(browser, COORDINATOR, BSN_CAUSER).count(CASE_EVENT_LABEL) == 1
    )


def test_the_sql_condition_and_the_shown_measure_agree(context: GatewayContext) -> None:
    """One rule in two forms: every reader of every covenant finds a ``case-event`` entry
    it is no party to (``LogReader.conditions``) exactly when it reads its measure
    (``LogReader.shown``), for each event in each phase, with and without leading, and for
    an entry without a phase (found by none). Run against the stored bodies, so the
    condition's spelling of the canonical JSON is checked, not assumed."""
    log = context.audit
    now = datetime.now(UTC)
    checked = 0
    for covenant in context.covenants.values():
        partners = [p.id for p in covenant.partners]
        expected: dict[int, dict[str, Any]] = {}
        with transaction(context.session_factory) as session:
            for event in covenant.events:
                for phase in [*(p.id for p in covenant.phases), None]:
                    for lead in partners:
                        attributes: dict[str, str | int | bool] = {
                            "event": event.id,
                            "occurredOn": "2026-11-30",
                            "lead": lead,
                        }
                        if phase is not None:
                            attributes["phase"] = phase
                        receipt = log.append(
                            session=session,
                            entry=AuditEntry(
                                activity=CASE_EVENT,
                                outcome="recorded",
                                started_at=now,
                                ended_at=now,
                                processing=ProcessingActivity(covenant_id=covenant.id),
                                case_id="case-1",
                                requester=Actor(partner_id="landlord-x", role="r"),
                                attributes=attributes,
                            ),
                        )
                        expected[receipt.index] = attributes
        with context.session_factory() as session:
            bodies = {
                index: json.loads(body)
                for index, body in session.execute(
                    select(AuditRecord.index, AuditRecord.body).where(
                        AuditRecord.index.in_(list(expected))
                    )
                )
            }
            for partner in partners:
                plain = LogReader.of(covenant, partner, covenant_wide=True)
                # No shipped clause binds a recipient to the lead: the same pairs as read
                # only while leading check the condition's ``lead`` branch.
                as_lead = replace(plain, measures=frozenset(), lead_measures=plain.measures)
                for reader in (plain, as_lead):
                    checked += _agree(session, reader, bodies, expected)
    assert checked > 0


def _agree(
    session: Session,
    reader: LogReader,
    bodies: dict[int, dict[str, Any]],
    expected: dict[int, dict[str, Any]],
) -> int:
    """Whether the reader's conditions find exactly the entries whose measure it reads;
    how many it reads."""
    found = set(
        session.scalars(
            select(AuditRecord.index).where(
                AuditRecord.index.in_(list(bodies)), *reader.conditions()
            )
        )
    )
    reads = 0
    for index, body in bodies.items():
        measure = reader.shown(body)["attributes"].keys() >= MEASURE_ATTRIBUTES
        assert (index in found) == measure, (
            reader.partner_id,
            reader.lead_measures,
            expected[index],
        )
        reads += measure
    return reads
