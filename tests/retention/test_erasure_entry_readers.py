"""The retention sweep's ``retention-redaction`` entry of an erased case is found only by the
officers the case's retention tells its rule and dates (review13 F4; docs/retention.md,
residual (c)).

The probe: two Rijswijk cases that never left intake, about the same causer, the landlord's
dwelling: one whose mediation solved it (erased under R-3.4-licht-bemiddeld, a rule chosen
by sanctions), one left open (erased under R-open-zonder-activiteit, whose dates may be a
measure's). In intake no clause shows the municipality the landlord's measures, so the
case's state and its 410 withhold from the covenant's coordinating officer (the
municipality's) the first case's rule and day and the second's day (sanctions.
erased_withheld). Before, the same officer's log search, exports, access report (API and
page) and receipts gave it both entries whole: the rule, ``due-on``, the clause cited and,
by the entry's moment, the erasure's day. Now no channel reading through ``LogReader``
finds them, and the lists' counts agree.

Positive controls: the same cases weighed (the municipality's case manager is shown the
measures from the weighing on, R-A-corporatie-meldingen): the coordinating officer finds
both entries whole on every channel. Utrecht counts no landlord's measure: its entries are
every officer's. The landlord's officer is named as a reader (its partner records the
measures), but it finds no such entry, as before: the entry names no requester, recipient
or data owner, and a partner's officer finds only what its partner is accountable for.

Fail closed: a case whose readers the sweep cannot establish (its covenant not loaded, the
case unknown, rules not loaded) names none: the operator alone reads its entry.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.entry import MAX_ATTRIBUTES, AuditEntry, ProcessingActivity
from gateway.audit import reports
from gateway.audit.models import AuditRecord
from gateway.audit.readers import ERASURE_ATTRIBUTES, LogReader, erasure_readers
from gateway.audit.schemas import EntrySearch
from gateway.cases.models import CaseFile, CaseTeamMember, Dwelling
from gateway.context import GatewayContext
from gateway.db import transaction
from gateway.policy.covenant import load_covenants, parse_covenant
from gateway.policy.errors import CovenantError
from gateway.retention.sanctions import officers_told
from gateway.retention.sweeper import SweepItem, _attributes, _entries
from tests.audit import channels
from tests.retention.conftest import UTRECHT, Seeder, weigh

Auth = Callable[..., dict[str, str]]
RIJSWIJK = "rijswijk-woonoverlast"
COORDINATOR = ("gemeente-rijswijk", "privacy-officer")
UTRECHT_COORDINATOR = ("gemeente-utrecht", "privacy-officer")
LANDLORD = "rijswijk-wonen"
LANDLORD_OFFICER = (LANDLORD, "privacy-officer")
GGD = "ggd-haaglanden"
GGD_OFFICER = (GGD, "privacy-officer")
ERASURE = "retention-redaction"
MEDIATED = "R-3.4-licht-bemiddeld"
OPEN = "R-open-zonder-activiteit"
BSN = "111222333"
#: How the page names the activity (gateway/web/texts.py), spelled out so the test fails,
#: rather than errs, on the code before it.
ERASURE_LABEL = "Vernietigd (bewaartermijn)"
SWEPT_ON = date(2025, 4, 1)


@pytest.fixture
def browser(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as client:
        yield client


def _blind_index(context: GatewayContext) -> str:
    indexer = context.audit.subject_indexer
    assert indexer is not None
    return indexer(session=None, identifier_type="bsn", identifier=BSN)


def _cases(context: GatewayContext, seed: Seeder, *, weighed: bool) -> dict[str, str]:
    """The two Rijswijk cases (opened 2024-01-02), the landlord's dwelling, the landlord and
    the GGD in the team: rule id to case id."""
    resident = _blind_index(context)
    cases = {
        MEDIATED: seed(
            resident=resident,
            weighed=weighed,
            facts=[("mediation-ended", date(2024, 3, 10), "solved")],
        ).case_id,
        OPEN: seed(resident=resident, weighed=weighed).case_id,
    }
    _landlords_dwelling(context, cases.values())
    return cases


def _landlords_dwelling(context: GatewayContext, case_ids: Iterable[str]) -> None:
    """The cases' dwellings the landlord's, the landlord and the GGD in their teams."""
    with transaction(context.session_factory) as session:
        for case_id in case_ids:
            case = session.get_one(CaseFile, case_id)
            session.get_one(Dwelling, case.dwelling_id).corporation_id = LANDLORD
            for partner in (LANDLORD, GGD):
                session.add(CaseTeamMember.of(case, partner, now=case.opened_at, by="t"))


def _sweep(context: GatewayContext, cases: dict[str, str]) -> None:
    assert context.require_retention().sweep(as_of=SWEPT_ON).redacted == len(cases)


def _erased_per_run(client: TestClient, auth: Auth, who: tuple[str, str]) -> list[int]:
    """``erased`` of each run ``GET /v1/retention/sweeps`` lists to ``who`` (latest first)."""
    response = client.get("/v1/retention/sweeps", headers=auth(*who))
    assert response.status_code == 200, response.text
    return [run["erased"] for run in response.json()["runs"]]


def _state(client: TestClient, auth: Auth, case_id: str, who: tuple[str, str]) -> Any:
    response = client.get(f"/v1/cases/{case_id}/retention", headers=auth(*who))
    assert response.status_code == 200, response.text
    return response.json()


def _erasures(
    client: TestClient, auth: Auth, who: tuple[str, str], case_id: str, index: int
) -> Any:
    """The case's ``retention-redaction`` entries as each channel gives them to ``who``: the
    search's and the exports' (rule attribute and clauses), the LDV's activity names, the
    access report's lines (clauses; the entry at ``index``: both cases are the causer's)."""
    jsonl, table, ldv = channels.exports(client, auth, who, case_id)
    lines = channels.access_report_lines(client, auth, who, BSN)
    return {
        "search": [
            (e["attributes"]["rule"], e["attributes"]["due-on"], e["processing"]["clauseIds"])
            for e in channels.search(client, auth, who, caseId=case_id, activity=ERASURE)
        ],
        "jsonl": [
            (e["attributes"]["rule"], e["attributes"]["due-on"], e["processing"]["clauseIds"])
            for e in jsonl
            if e["activity"] == ERASURE
        ],
        "csv": [row["activity"] for row in table if row["activity"] == ERASURE],
        "ldv": sorted({r["name"] for r in ldv} & {ERASURE}),
        "access-report": [
            line["clauseIds"]
            for line in lines
            if line["activity"] == ERASURE and line["index"] == index
        ],
    }


def _window(
    context: GatewayContext, reader: LogReader, case_id: str
) -> tuple[list[Any], reports.EntryWindow]:
    """Every entry of the case the reader's list gives, and its first page with its count
    (the privacy pages' list, gateway/web/logbook.py)."""
    with context.session_factory() as session:
        shown = list(
            reports.iter_entries(
                session, reader=reader, search=EntrySearch(caseId=case_id), subject_pseudonym=None
            )
        )
        window = reports.entry_window(
            session, reader=reader, search=EntrySearch(caseId=case_id, limit=2)
        )
    return shown, window


def _stored(context: GatewayContext, case_id: str) -> dict[str, Any]:
    """The case's entry as stored (the operator's export, ``ketenpoort audit export``)."""
    with context.session_factory() as session:
        [body] = session.scalars(
            select(AuditRecord.body).where(
                AuditRecord.case_id == case_id, AuditRecord.activity == ERASURE
            )
        )
    return json.loads(body)  # type: ignore[no-any-return]


def _readers(attributes: dict[str, Any]) -> tuple[Any, set[str]]:
    named = {key.removeprefix("reader:") for key in attributes if key.startswith("reader:")}
    return attributes.get("readers"), named


def _officer(context: GatewayContext, who: tuple[str, str]) -> LogReader:
    partner = who[0]
    covenant = next(c for c in context.covenants.values() if c.partner(partner) is not None)
    return LogReader.of(
        covenant, partner, covenant_wide=covenant.coordinating_privacy_officer == partner
    )


def test_the_coordinating_officer_not_shown_the_measures_finds_no_erasure_entry(
    client: TestClient, auth: Auth, context: GatewayContext, seed: Seeder, browser: TestClient
) -> None:
    """Failed before: the search, the three exports, the access report and its page gave
    the coordinating officer both cases' entries, rule and due date, and their receipts
    answered."""
    cases = _cases(context, seed, weighed=False)
    _sweep(context, cases)
    # What the retention views withhold from this officer: the first case's rule and day,
    # the second's day.
    mediated = _state(client, auth, cases[MEDIATED], COORDINATOR)
    assert (mediated["status"], mediated["ruleId"], mediated["erasedAt"]) == (
        "erased",
        None,
        None,
    ), mediated
    opened = _state(client, auth, cases[OPEN], COORDINATOR)
    assert (opened["status"], opened["ruleId"], opened["erasedAt"]) == ("erased", OPEN, None)

    coordinator = _officer(context, COORDINATOR)
    for rule, case_id in cases.items():
        # The entry is written, and names the landlord (its partner records the measures)
        # as the one reader: the operator's export holds it whole.
        stored = _stored(context, case_id)
        assert stored["attributes"]["rule"] == rule
        assert _readers(stored["attributes"]) == ("named", {LANDLORD})

        seen = _erasures(client, auth, COORDINATOR, case_id, stored["index"])
        assert seen == dict.fromkeys(seen, []), (rule, seen)
        assert channels.receipt_status(client, auth, COORDINATOR, stored["index"]) == 404
        # The list's pages and count agree (none counted; the control counts them).
        shown, window = _window(context, coordinator, case_id)
        assert ERASURE not in [e["activity"] for e in shown]
        assert window.total == len(shown)
    assert ERASURE_LABEL not in channels.access_report_page(browser, COORDINATOR, BSN)
    # Nor does the run's count tell the day: it counts neither (it counted both before);
    # the landlord's officer, told both rules and days, reads both (the control).
    assert _erased_per_run(client, auth, COORDINATOR) == [0]
    assert _erased_per_run(client, auth, LANDLORD_OFFICER) == [2]


def test_control_the_coordinating_officer_shown_the_measures_finds_the_entries_whole(
    client: TestClient, auth: Auth, context: GatewayContext, seed: Seeder, browser: TestClient
) -> None:
    """Weighed on the day they opened, the municipality's case manager could be shown the
    landlord's measures: its officer reads the rule and the day on the state, and finds
    both entries whole, with their receipts, on every channel."""
    cases = _cases(context, seed, weighed=True)
    _sweep(context, cases)
    coordinator = _officer(context, COORDINATOR)
    for rule, case_id in cases.items():
        state = _state(client, auth, case_id, COORDINATOR)
        assert (state["ruleId"], state["erasedAt"] is not None) == (rule, True), state
        stored = _stored(context, case_id)
        assert _readers(stored["attributes"]) == (
            "named",
            {"gemeente-rijswijk", "politie-den-haag", LANDLORD},
        )
        whole = (rule, stored["attributes"]["due-on"], [rule])
        seen = _erasures(client, auth, COORDINATOR, case_id, stored["index"])
        assert seen == {
            "search": [whole],
            "jsonl": [whole],
            "csv": [ERASURE],
            "ldv": [ERASURE],
            "access-report": [[rule]],
        }, seen
        assert channels.receipt_status(client, auth, COORDINATOR, stored["index"]) == 200
        shown, window = _window(context, coordinator, case_id)
        assert [e for e in shown if e["activity"] == ERASURE] == [stored]
        assert window.total == len(shown)
    assert channels.access_report_page(browser, COORDINATOR, BSN).count(ERASURE_LABEL) == 2
    assert _erased_per_run(client, auth, COORDINATOR) == [2]


def test_the_landlords_officer_is_named_and_finds_no_entry_of_no_partner(
    client: TestClient, auth: Auth, context: GatewayContext, seed: Seeder
) -> None:
    """The entry names the landlord as a reader (it could be shown, as it records, the
    measures), but its officer sees only what its partner is accountable for, and the entry
    names no requester, recipient or data owner: as before, it finds none. Its own log still
    answers (the control that the search itself works for it)."""
    cases = _cases(context, seed, weighed=False)
    _sweep(context, cases)
    for case_id in cases.values():
        assert LANDLORD in _readers(_stored(context, case_id)["attributes"])[1]
        assert (
            channels.search(client, auth, LANDLORD_OFFICER, caseId=case_id, activity=ERASURE) == []
        )
    # As the coordinating officer (a covenant where it were one) it would find them whole.
    landlord = dataclasses.replace(_officer(context, LANDLORD_OFFICER), covenant_wide=True)
    for rule, case_id in cases.items():
        shown, _ = _window(context, landlord, case_id)
        [entry] = [e for e in shown if e["activity"] == ERASURE]
        assert entry["attributes"]["rule"] == rule


def test_utrecht_counts_no_landlords_measure_and_its_entries_are_every_officers(
    client: TestClient, auth: Auth, context: GatewayContext, seed: Seeder
) -> None:
    """Utrecht's retention file counts no landlord's measure (``sanctionEvents: []``): its
    views withhold no rule and no day, and its entries name every officer (``all``)."""
    case_id = seed(covenant_id=UTRECHT, resident=_blind_index(context)).case_id
    assert context.require_retention().sweep(as_of=SWEPT_ON).redacted == 1
    stored = _stored(context, case_id)
    assert _readers(stored["attributes"]) == ("all", set())
    [entry] = channels.search(client, auth, UTRECHT_COORDINATOR, caseId=case_id, activity=ERASURE)
    assert entry["attributes"]["rule"] == stored["attributes"]["rule"]
    assert entry["attributes"]["due-on"] == stored["attributes"]["due-on"]
    assert channels.receipt_status(client, auth, UTRECHT_COORDINATOR, stored["index"]) == 200
    assert _erased_per_run(client, auth, UTRECHT_COORDINATOR) == [1]


def test_a_case_whose_readers_are_unknown_is_the_operators_alone(
    client: TestClient, auth: Auth, context: GatewayContext, seed: Seeder
) -> None:
    """Unknown is not no: a sweep that does not know the case's covenant (not given it)
    cannot ask who was shown the measures, and names no reader; the weighed case's
    coordinating officer, who finds such an entry from a sweep that knows it (the control
    above), finds none. A case the gateway does not know and rules that did not load name
    none either."""
    case_id = seed(resident=_blind_index(context), weighed=True).case_id
    service = dataclasses.replace(context.require_retention(), covenants={})
    assert service.sweep(as_of=SWEPT_ON).redacted == 1
    stored = _stored(context, case_id)
    assert _readers(stored["attributes"]) == ("named", set())
    assert channels.search(client, auth, COORDINATOR, caseId=case_id, activity=ERASURE) == []
    assert channels.receipt_status(client, auth, COORDINATOR, stored["index"]) == 404

    rules = context.require_retention().rules
    with context.session_factory() as session:
        verdict = {"no-such-case": (RIJSWIJK, MEDIATED)}
        told = officers_told(session, rules=rules, covenants=context.covenants, verdicts=verdict)
        assert told == {"no-such-case": frozenset()}
        known = {case_id: (RIJSWIJK, MEDIATED)}
        assert officers_told(session, rules=None, covenants=context.covenants, verdicts=known) == {
            case_id: frozenset()
        }
        # Control: the same case, rules and covenants given.
        told = officers_told(session, rules=rules, covenants=context.covenants, verdicts=known)
        assert told == {case_id: frozenset({"gemeente-rijswijk", "politie-den-haag"})}


def test_the_sql_condition_and_the_shown_rule_agree(context: GatewayContext) -> None:
    """One rule in two forms: every officer of every covenant finds a ``retention-redaction``
    entry (``LogReader.conditions``) exactly when it reads its rule and due date
    (``LogReader.shown``): entries for every officer, naming each partner, naming none, and
    one written before readers were recorded (found by none). Run against the stored
    bodies, so the condition's spelling of the canonical JSON is checked, not assumed."""
    log = context.audit
    now = datetime.now(UTC)
    checked = 0
    for covenant in context.covenants.values():
        partners = [p.id for p in covenant.partners]
        kinds: list[dict[str, str | int | bool]] = [
            {},
            dict(erasure_readers(None)),
            dict(erasure_readers(())),
            *(dict(erasure_readers({partner})) for partner in partners),
            dict(erasure_readers(partners[:2])),
        ]
        indexes: list[int] = []
        with transaction(context.session_factory) as session:
            for readers in kinds:
                receipt = log.append(
                    session=session,
                    entry=AuditEntry(
                        activity=ERASURE,
                        outcome="recorded",
                        started_at=now,
                        ended_at=now,
                        processing=ProcessingActivity(
                            covenant_id=covenant.id, clause_ids=("R-x",), purpose="retention"
                        ),
                        case_id="case-1",
                        attributes={"rule": "R-x", "due-on": "2025-01-01", **readers},
                    ),
                )
                indexes.append(receipt.index)
        with context.session_factory() as session:
            for partner in partners:
                reader = LogReader.of(covenant, partner, covenant_wide=True)
                checked += _agree(session, reader, indexes)
    assert checked > 0


def _agree(session: Session, reader: LogReader, indexes: list[int]) -> int:
    """Whether the reader's conditions find exactly the entries whose rule it reads; how
    many it reads."""
    bodies = {
        index: json.loads(body)
        for index, body in session.execute(
            select(AuditRecord.index, AuditRecord.body).where(AuditRecord.index.in_(indexes))
        )
    }
    found = set(
        session.scalars(
            select(AuditRecord.index).where(AuditRecord.index.in_(indexes), *reader.conditions())
        )
    )
    reads = 0
    for index, body in bodies.items():
        shown = reader.shown(body)
        whole = shown["attributes"].keys() >= ERASURE_ATTRIBUTES and shown["processing"][
            "clauseIds"
        ] == ["R-x"]
        assert (index in found) == whole, (reader.partner_id, body["attributes"])
        reads += whole
    return reads


def test_more_readers_than_an_entry_can_name_name_none() -> None:
    """An entry holds at most MAX_ATTRIBUTES attributes: a case with more readers than fit
    names none (fail closed: the operator's alone) rather than failing the erasure or naming
    some; the control names them all where they fit."""
    item = SweepItem("case-1", RIJSWIJK, MEDIATED, date(2025, 1, 1), "case:case-1", {"x": 1})
    many = frozenset(f"partner-{n:02}" for n in range(MAX_ATTRIBUTES))
    assert _readers(_attributes(item, "run-1", many)) == ("named", set())
    few = frozenset(sorted(many)[:3])
    assert _readers(_attributes(item, "run-1", few)) == ("named", set(few))
    assert _readers(_attributes(item, "run-1", None)) == ("all", set())


def test_a_run_tells_no_officer_the_day_of_an_erasure_withheld_from_it(
    client: TestClient, auth: Auth, context: GatewayContext, seed: Seeder
) -> None:
    """Review of c85d928, F1 and F2. One run erases three cases in case id order, the middle
    one never weighed: its state withholds from the coordinating officer its rule and the
    erasure's day. Before, the run's count told that officer 3, and the two entries it
    finds sat at indexes i and i+2 of the run: the case between them (by id) was erased
    that day. The GGD's officer, in the team of all three and told none of their days,
    read the run's moment with a count of 3. Now each officer's count is of the erasures
    whose day it is told, and the entries are appended grouped by who finds them, so none
    it does not find sits between two it does. Controls: the landlord's officer, told all
    three, counts 3; the coordinating officer counts and finds the two weighed ones."""
    mediated = [("mediation-ended", date(2024, 3, 10), "solved")]
    ids = sorted(seed(weighed=False, facts=mediated).case_id for _ in range(3))
    _landlords_dwelling(context, ids)
    first, hidden, last = ids
    weigh(context, first)
    weigh(context, last)
    assert context.require_retention().sweep(as_of=SWEPT_ON).redacted == 3

    withheld = _state(client, auth, hidden, COORDINATOR)
    assert (withheld["status"], withheld["ruleId"], withheld["erasedAt"]) == ("erased", None, None)
    for case_id in (first, last):
        told = _state(client, auth, case_id, COORDINATOR)
        assert (told["ruleId"], told["erasedAt"] is not None) == (MEDIATED, True), told
    assert _erased_per_run(client, auth, COORDINATOR) == [2]
    assert _erased_per_run(client, auth, LANDLORD_OFFICER) == [3]
    # The run is still listed to the GGD's officer (its moment and status are every
    # officer's), with none of its erasures.
    assert _erased_per_run(client, auth, GGD_OFFICER) == [0]

    index = {case_id: _stored(context, case_id)["index"] for case_id in ids}
    found = sorted(e["index"] for e in channels.search(client, auth, COORDINATOR, activity=ERASURE))
    assert found == sorted([index[first], index[last]])
    # Contiguous: the entry it does not find is not between them (it was, by case id).
    assert found[1] - found[0] == 1
    assert index[hidden] not in range(found[0], found[1] + 1)


def test_a_batchs_entries_are_grouped_by_who_finds_them() -> None:
    """The sweep appends a batch's entries grouped by their readers (every officer's, then
    each named set, the operator's alone last), each group in case id order; before, in case
    id order alone. The coordinating officer's entries (every officer's and those naming
    it) come first and together, whatever the case ids."""
    municipality, landlord = "gemeente-rijswijk", LANDLORD
    readers: dict[str, frozenset[str] | None] = {
        "case-1": frozenset({municipality, landlord}),
        "case-2": frozenset({landlord}),
        "case-3": frozenset({municipality, landlord}),
        "case-4": None,
        "case-5": frozenset(),
        "case-6": frozenset({landlord}),
    }
    items = [
        SweepItem(case_id, RIJSWIJK, MEDIATED, date(2025, 1, 1), f"case:{case_id}", {"x": 1})
        for case_id in sorted(readers)
    ]
    entries = _entries(items, "run-1", datetime.now(UTC), {}, readers)
    order = [entry.case_id for entry in entries]
    assert order == ["case-4", "case-1", "case-3", "case-2", "case-6", "case-5"]
    # Each entry keeps its own readers (the order moved the copies, not their attributes).
    for entry in entries:
        assert _readers(entry.attributes) == _readers(erasure_readers(readers[entry.case_id])), (
            entry.case_id
        )


@pytest.mark.parametrize(
    "spelled", ["Gemeente-Rijswijk", "gemeente rijswijk", "gemeente:rijswijk", "g" * 64]
)
def test_a_covenant_whose_partner_id_is_no_lowercase_slug_does_not_load(spelled: str) -> None:
    """Review of c85d928, F3: a partner id is spelled into the sweep's entry as an attribute
    key (``reader:<partner>``), which must be a lowercase slug (``erasure_readers`` left a
    partner that made none out without a word: its officer found nothing), and compared in
    SQL with ``LIKE``, case-insensitive on SQLite, where Python compares exactly. Such an id
    is now refused where the covenant loads, naming the line. Control: the file as it is
    loads, and every partner of both covenants makes a reader key."""
    path = Path("policies/rijswijk-woonoverlast/covenant.yaml")
    original = path.read_text()
    text = original.replace("  - id: gemeente-rijswijk\n", f"  - id: {spelled}\n", 1)
    assert text != original
    with pytest.raises(CovenantError) as refused:
        parse_covenant(text, path)
    assert "is not a lowercase slug" in refused.value.detail
    assert refused.value.line is not None
    assert parse_covenant(original, path).partner("gemeente-rijswijk") is not None
    for covenant in load_covenants().values():
        for partner in covenant.partners:
            assert erasure_readers({partner.id}) == {
                "readers": "named",
                f"reader:{partner.id}": True,
            }, partner.id
