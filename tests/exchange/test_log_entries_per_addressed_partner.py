"""Two partners of the same kind asked in one request each read the audit entry as it
concerns their own items, not the other's.

Two neighbourhood teams (``buurtteam-sociaal``, ``buurtteam-jeugd-gezin``) own the same
categories. Until the entry named which partner each category concerns, a data owner read
every category of its partner's kind (review4 F1's rule): the buurtteam asked whether it
knows the causer read, in the request's entry, the clause of the care worker's name asked of
the other team, and in the read's entry that the other team's care worker's name was
disclosed; a team whose only item was refused was told so by the other's entry (U §5.6: a
team answers the case manager; what the other was asked is not its to know).

Now each exchange entry names, per category, the partner it concerns
(``ownerCategories``), and a data owner reads only its own: in ``disclosed``, ``redacted``,
``clauseIds``, ``ownerCategories``, and in the searches by clause, refusal and outcome.
Controls: each team reads its own item; the requester's officer reads the entry whole; an
entry written before the field (none) still reads as before, by the partner's kind."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from gateway.audit import reports
from gateway.audit.readers import LogReader
from gateway.context import GatewayContext
from tests.exchange.conftest import UtrechtCase, audit_entry, audit_search

SOCIAAL = "buurtteam-sociaal"
JEUGD = "buurtteam-jeugd-gezin"
KNOWN = "neighbourhood-team-known"
CARE_WORKER = "neighbourhood-team-care-worker"
KNOWN_CLAUSE = "U-5.6-bekend-buurtteam"
CARE_CLAUSE = "U-5.6-hulpverlener"
REQUESTER_OFFICER = ("u-centraal", "privacy-officer")


def officer(partner: str) -> tuple[str, str]:
    return (partner, "privacy-officer")


def _seen(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "clauses": sorted(entry["processing"].get("clauseIds", [])),
        "disclosed": entry["disclosed"],
        "redacted": [r["category"] for r in entry["redacted"]],
        "owners": [(o["partnerId"], o["category"]) for o in entry.get("ownerCategories", [])],
    }


def _each_asked_one(case: UtrechtCase) -> str:
    return case.ask("case-handling", [(SOCIAAL, [KNOWN]), (JEUGD, [CARE_WORKER])])


def _each_answered_and_read(case: UtrechtCase) -> None:
    """Each team answers its own item of ``_each_asked_one``'s request; the lead reads it."""
    request_id = _each_asked_one(case)
    answers = [
        (SOCIAAL, {"category": KNOWN, "yesNo": True}),
        (JEUGD, {"category": CARE_WORKER, "value": "J. de Vries"}),
    ]
    for partner, answer in answers:
        answered = case.answer(request_id, [answer], who=(partner, "adapter"))
        assert answered.status_code == 200, answered.text
    case.read(request_id)


def test_each_team_reads_the_request_as_asked_of_it(utrecht_case: UtrechtCase) -> None:
    _each_asked_one(utrecht_case)
    assert _seen(audit_entry(utrecht_case, officer(SOCIAAL), "information-request")) == {
        "clauses": [KNOWN_CLAUSE],
        "disclosed": [],
        "redacted": [],
        "owners": [(SOCIAAL, KNOWN)],
    }
    # Control: the other team reads its own item, the requester's officer both.
    assert _seen(audit_entry(utrecht_case, officer(JEUGD), "information-request")) == {
        "clauses": [CARE_CLAUSE],
        "disclosed": [],
        "redacted": [],
        "owners": [(JEUGD, CARE_WORKER)],
    }
    whole = _seen(audit_entry(utrecht_case, REQUESTER_OFFICER, "information-request"))
    assert whole["clauses"] == [KNOWN_CLAUSE, CARE_CLAUSE]
    assert whole["owners"] == [(JEUGD, CARE_WORKER), (SOCIAAL, KNOWN)]
    # A search by the other team's clause does not find the entry; by its own it does.
    assert audit_search(utrecht_case, officer(SOCIAAL), clauseId=CARE_CLAUSE) == []
    assert len(audit_search(utrecht_case, officer(SOCIAAL), clauseId=KNOWN_CLAUSE)) == 1
    assert len(audit_search(utrecht_case, officer(JEUGD), clauseId=CARE_CLAUSE)) == 1


def test_each_team_reads_only_its_own_item_of_the_read(utrecht_case: UtrechtCase) -> None:
    _each_answered_and_read(utrecht_case)
    mine = _seen(audit_entry(utrecht_case, officer(SOCIAAL), "disclosure"))
    assert (mine["disclosed"], mine["clauses"]) == ([KNOWN], [KNOWN_CLAUSE])
    assert mine["owners"] == [(SOCIAAL, KNOWN)]
    theirs = _seen(audit_entry(utrecht_case, officer(JEUGD), "disclosure"))
    assert (theirs["disclosed"], theirs["clauses"]) == ([CARE_WORKER], [CARE_CLAUSE])
    whole = _seen(audit_entry(utrecht_case, REQUESTER_OFFICER, "disclosure"))
    assert sorted(whole["disclosed"]) == [CARE_WORKER, KNOWN]


def test_a_team_is_not_told_the_other_teams_item_was_refused(utrecht_case: UtrechtCase) -> None:
    """For aftercare the covenant allows the care worker's name, not whether the team knows
    the causer: the sociaal team's item is refused, the other's asked. The other team reads
    no refusal and a search for refusals does not find the entry."""
    utrecht_case.ask("aftercare", [(SOCIAAL, [KNOWN]), (JEUGD, [CARE_WORKER])])
    entry = audit_entry(utrecht_case, officer(JEUGD), "information-request")
    assert _seen(entry)["redacted"] == []
    assert _seen(entry)["owners"] == [(JEUGD, CARE_WORKER)]
    assert audit_search(utrecht_case, officer(JEUGD), refused=True) == []
    # The refused team asked nothing else: it is no data owner and finds no entry (as before).
    assert audit_search(utrecht_case, officer(SOCIAAL), activity="information-request") == []
    # Control: the requester's officer finds the refusal.
    [refusal] = audit_search(utrecht_case, REQUESTER_OFFICER, refused=True)
    assert _seen(refusal)["redacted"] == [KNOWN]


def test_a_team_reads_its_own_refused_item(utrecht_case: UtrechtCase) -> None:
    """Control of the last: the refused item is the reader's own, so it reads it, and a
    search for refusals finds it."""
    utrecht_case.ask("aftercare", [(JEUGD, [KNOWN, CARE_WORKER])])
    entry = audit_entry(utrecht_case, officer(JEUGD), "information-request")
    assert _seen(entry)["redacted"] == [KNOWN]
    assert len(audit_search(utrecht_case, officer(JEUGD), refused=True)) == 1


@pytest.mark.parametrize("names_owners", [True, False])
def test_an_entry_without_owner_categories_reads_by_kind(
    context: GatewayContext, names_owners: bool
) -> None:
    """Entries written before ``ownerCategories`` keep the kind's rule: a neighbourhood team
    reads both teams' categories (what they still show, docs/audit.md); with the field, its
    own only."""
    covenant = context.covenants["utrecht-extreme-woonoverlast"]
    reader = LogReader.of(covenant, SOCIAAL, covenant_wide=False)
    entry: dict[str, Any] = {
        "activity": "disclosure",
        "outcome": "disclosed",
        "processing": {"covenantId": covenant.id, "clauseIds": [KNOWN_CLAUSE, CARE_CLAUSE]},
        "requester": {"partnerId": "u-centraal"},
        "recipient": {"partnerId": "u-centraal"},
        "dataOwners": [JEUGD, SOCIAAL],
        "disclosed": [CARE_WORKER, KNOWN],
        "redacted": [],
        "attributes": {"request-id": "r-1"},
    }
    if names_owners:
        entry["ownerCategories"] = [
            {"category": CARE_WORKER, "partnerId": JEUGD},
            {"category": KNOWN, "partnerId": SOCIAAL},
        ]
    shown = reader.shown(entry)
    if names_owners:
        assert (shown["disclosed"], shown["processing"]["clauseIds"]) == ([KNOWN], [KNOWN_CLAUSE])
    else:
        assert shown["disclosed"] == [CARE_WORKER, KNOWN]
        assert shown["processing"]["clauseIds"] == [KNOWN_CLAUSE, CARE_CLAUSE]


def _csv_owner_categories(case: UtrechtCase, who: tuple[str, str]) -> dict[str, str]:
    """The ``ownerCategories`` cell of each activity's row in ``who``'s CSV export."""
    response = case.client.post(
        "/v1/audit/entries/export?format=csv", json={"caseId": case.case_id}, headers=case.as_(who)
    )
    assert response.status_code == 200, response.text
    rows = csv.DictReader(io.StringIO(response.text))
    return {
        row["activity"]: row["ownerCategories"]
        for row in rows
        if row["activity"] in ("information-request", "disclosure")
    }


def test_the_csv_export_names_each_readers_own_categories(utrecht_case: UtrechtCase) -> None:
    """The CSV export carries ``ownerCategories`` as the JSONL export does (a spreadsheet
    reads ``category=partner;...``), and reads it through the same reader: each team's own
    item only, the other team's never."""
    _each_answered_and_read(utrecht_case)
    own = f"{KNOWN}={SOCIAAL}"
    assert _csv_owner_categories(utrecht_case, officer(SOCIAAL)) == {
        "information-request": own,
        "disclosure": own,
    }
    theirs = f"{CARE_WORKER}={JEUGD}"
    assert _csv_owner_categories(utrecht_case, officer(JEUGD)) == {
        "information-request": theirs,
        "disclosure": theirs,
    }
    # Control: the requester's officer reads both, in the entry's order (as the JSONL).
    both = f"{theirs};{own}"
    assert _csv_owner_categories(utrecht_case, REQUESTER_OFFICER) == {
        "information-request": both,
        "disclosure": both,
    }
    jsonl = audit_entry(utrecht_case, REQUESTER_OFFICER, "disclosure")["ownerCategories"]
    assert ";".join(f"{o['category']}={o['partnerId']}" for o in jsonl) == both


def test_an_entry_without_owner_categories_has_an_empty_csv_cell() -> None:
    """Entries written before the field (and the other activities) leave the cell empty,
    not a made-up list."""
    [row] = list(csv.DictReader(io.StringIO("".join(reports.as_csv([{"activity": "x"}])))))
    assert row["ownerCategories"] == ""
    named = {"activity": "x", "ownerCategories": [{"category": KNOWN, "partnerId": SOCIAAL}]}
    [row] = list(csv.DictReader(io.StringIO("".join(reports.as_csv([named])))))
    assert row["ownerCategories"] == f"{KNOWN}={SOCIAAL}"
