"""A partner that is only a data owner of an audit entry reads it as it concerns its own data
(review4 F1).

One request addressed to several partners is one entry, and so is the requester's read of
the answers. Each addressed partner's privacy officer finds it (it is a data owner). Until
review4 it read all of it: the clauses of every category asked, the counts, which of the
police's items were refused and why (the antecedents refused ``om-consent-condition-not-met``
tells that an investigation runs; allowed tells that none does or the OM consented), and
every category the read disclosed. The police share these items with the case manager only
(U §5.3); the buurtteam answers the case manager whether it knows the causer and is told
nothing of what the police were asked (U §5.6).

Now the buurtteam's officer reads its own category, the clause governing it, itself as data
owner and no counts, in the search, the exports (JSON Lines, CSV, LDV), the access report and
the per-partner activity; a search by a clause, a refusal or an outcome finds the entry only
as the officer reads it. The controls: the requester's officer and the coordinating officer
read the entry whole, the police's officer reads its own items (with the reason as told), and
the stored entry is unchanged and verifies."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from sqlalchemy import select

from gateway.audit.export import verify_database
from gateway.audit.models import AuditRecord
from gateway.context import GatewayContext
from gateway.policy.compiler import OM_CONDITION_UNMET
from tests.exchange.conftest import (
    ANTECEDENTS,
    POLICE,
    REPORTS,
    UtrechtCase,
    audit_entry,
    audit_search,
)

BUURTTEAM = "buurtteam-sociaal"
KNOWN = "neighbourhood-team-known"  # U §5.6: "desgevraagd of een overlastveroorzaker ... bekend is"
BUURTTEAM_OFFICER = (BUURTTEAM, "privacy-officer")
POLICE_OFFICER = ("politie-midden-nederland", "privacy-officer")
REQUESTER_OFFICER = ("u-centraal", "privacy-officer")
COORDINATOR = ("gemeente-utrecht", "privacy-officer")
POLICE_CLAUSES = {"U-5.3-antecedenten", "U-5.3-meldingen"}
BUURTTEAM_CLAUSE = "U-5.6-bekend-buurtteam"


def _ask_police_and_buurtteam(case: UtrechtCase) -> str:
    """The case manager asks, in one request, the police for antecedents and reports and the
    buurtteam whether it knows the causer."""
    return case.ask("case-handling", [(POLICE[0], [ANTECEDENTS, REPORTS]), (BUURTTEAM, [KNOWN])])


def _answer_and_read(case: UtrechtCase, request_id: str, *, police_answers: bool) -> None:
    if police_answers:
        police = case.answer(
            request_id,
            [{"category": ANTECEDENTS, "yesNo": True}, {"category": REPORTS, "value": "2"}],
        )
        assert police.status_code == 200, police.text
    known = case.answer(
        request_id, [{"category": KNOWN, "yesNo": True}], who=(BUURTTEAM, "adapter")
    )
    assert known.status_code == 200, known.text
    case.read(request_id)


def _seen(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "clauses": set(entry["processing"].get("clauseIds", [])),
        "dataOwners": entry["dataOwners"],
        "disclosed": entry["disclosed"],
        "redacted": [(r["category"], r["reason"]) for r in entry["redacted"]],
        "outcome": entry["outcome"],
        "counts": sorted(k for k in entry["attributes"] if k != "request-id"),
    }


def test_the_buurtteam_reads_the_request_as_it_concerns_its_own_item(
    utrecht_case: UtrechtCase,
) -> None:
    utrecht_case.investigation(False)  # the antecedents are asked (allowed)
    request_id = _ask_police_and_buurtteam(utrecht_case)
    entry = audit_entry(utrecht_case, BUURTTEAM_OFFICER, "information-request")
    assert _seen(entry) == {
        "clauses": {BUURTTEAM_CLAUSE},
        "dataOwners": [BUURTTEAM],
        "disclosed": [],
        "redacted": [],
        "outcome": "recorded",
        "counts": [],
    }
    assert entry["attributes"] == {"request-id": request_id}
    # Controls: the requester's officer and the police's read what they were party to.
    whole = _seen(audit_entry(utrecht_case, REQUESTER_OFFICER, "information-request"))
    assert whole["clauses"] == POLICE_CLAUSES | {BUURTTEAM_CLAUSE}
    assert whole["dataOwners"] == [BUURTTEAM, POLICE[0]]
    assert whole["counts"] == ["asked", "denied"]
    police = _seen(audit_entry(utrecht_case, POLICE_OFFICER, "information-request"))
    assert police["clauses"] == POLICE_CLAUSES
    assert police["dataOwners"] == [POLICE[0]]


def test_the_buurtteam_is_not_told_the_antecedents_were_refused(
    utrecht_case: UtrechtCase,
) -> None:
    utrecht_case.investigation(True)  # no OM consent: the antecedents are denied
    _ask_police_and_buurtteam(utrecht_case)
    entry = audit_entry(utrecht_case, BUURTTEAM_OFFICER, "information-request")
    assert _seen(entry)["redacted"] == []
    assert _seen(entry)["clauses"] == {BUURTTEAM_CLAUSE}
    # Nor does a search by what the entry holds tell it: not found as refused, nor by the
    # police's clause; found by its own clause (the control).
    assert audit_search(utrecht_case, BUURTTEAM_OFFICER, refused=True) == []
    assert audit_search(utrecht_case, BUURTTEAM_OFFICER, clauseId="U-5.3-antecedenten") == []
    assert len(audit_search(utrecht_case, BUURTTEAM_OFFICER, clauseId=BUURTTEAM_CLAUSE)) == 1
    # Controls: the requester's and the police's officers read the reason as told; the
    # coordinating officer reads the refusal with the one reason (review3 finding 1).
    refusal = (ANTECEDENTS, "om-consent-missing")
    for who in (REQUESTER_OFFICER, POLICE_OFFICER):
        [entry] = audit_search(utrecht_case, who, refused=True)
        assert _seen(entry)["redacted"] == [refusal], who
    [entry] = audit_search(utrecht_case, COORDINATOR, refused=True)
    assert _seen(entry)["redacted"] == [(ANTECEDENTS, OM_CONDITION_UNMET)]


def test_the_buurtteam_reads_only_its_own_category_of_the_read(
    utrecht_case: UtrechtCase,
) -> None:
    utrecht_case.investigation(False)
    request_id = _ask_police_and_buurtteam(utrecht_case)
    _answer_and_read(utrecht_case, request_id, police_answers=True)
    entry = audit_entry(utrecht_case, BUURTTEAM_OFFICER, "disclosure")
    assert _seen(entry) == {
        "clauses": {BUURTTEAM_CLAUSE},
        "dataOwners": [BUURTTEAM],
        "disclosed": [KNOWN],
        "redacted": [],
        "outcome": "disclosed",
        "counts": [],
    }
    # Control: the police's officer reads its own two categories, not the buurtteam's.
    police = _seen(audit_entry(utrecht_case, POLICE_OFFICER, "disclosure"))
    assert (police["disclosed"], police["clauses"]) == ([ANTECEDENTS, REPORTS], POLICE_CLAUSES)
    whole = _seen(audit_entry(utrecht_case, REQUESTER_OFFICER, "disclosure"))
    assert whole["disclosed"] == [KNOWN, ANTECEDENTS, REPORTS]


def test_a_read_refused_in_part_for_the_others_reads_disclosed_to_the_buurtteam(
    utrecht_case: UtrechtCase,
) -> None:
    """The police's antecedents refused (an investigation runs): the read is stored
    ``partially-disclosed``; to the buurtteam, whose item was disclosed, it is a disclosure,
    and a search by outcome finds it as that."""
    utrecht_case.investigation(True)
    request_id = _ask_police_and_buurtteam(utrecht_case)
    _answer_and_read(utrecht_case, request_id, police_answers=False)
    entry = audit_entry(utrecht_case, BUURTTEAM_OFFICER, "disclosure")
    assert (_seen(entry)["outcome"], _seen(entry)["redacted"]) == ("disclosed", [])
    assert _seen(entry)["counts"] == []
    assert audit_search(utrecht_case, BUURTTEAM_OFFICER, outcome="partially-disclosed") == []
    assert len(audit_search(utrecht_case, BUURTTEAM_OFFICER, outcome="disclosed")) == 1
    # Control: the requester's officer reads it as stored.
    whole = audit_entry(utrecht_case, REQUESTER_OFFICER, "disclosure")
    assert whole["outcome"] == "partially-disclosed"
    assert (ANTECEDENTS, "om-consent-missing") in _seen(whole)["redacted"]
    assert len(audit_search(utrecht_case, REQUESTER_OFFICER, outcome="partially-disclosed")) == 1


@pytest.mark.parametrize("export_format", ["jsonl", "csv", "ldv"])
def test_the_buurtteams_export_names_none_of_the_polices_items(
    utrecht_case: UtrechtCase, export_format: str
) -> None:
    utrecht_case.investigation(True)
    request_id = _ask_police_and_buurtteam(utrecht_case)
    _answer_and_read(utrecht_case, request_id, police_answers=False)

    def export(who: tuple[str, str]) -> str:
        response = utrecht_case.client.post(
            f"/v1/audit/entries/export?format={export_format}",
            json={"caseId": utrecht_case.case_id},
            headers=utrecht_case.as_(who),
        )
        assert response.status_code == 200, response.text
        return response.text

    theirs = export(BUURTTEAM_OFFICER)
    assert BUURTTEAM_CLAUSE in theirs
    for told in (ANTECEDENTS, REPORTS, *POLICE_CLAUSES, "partially-disclosed", "om-consent"):
        assert told not in theirs, told
    if export_format == "csv":
        rows = list(csv.DictReader(io.StringIO(theirs)))
        assert {row["dataOwners"] for row in rows if row["dataOwners"]} == {BUURTTEAM}
    # Control: the requester's officer exports what it asked of the police (LDV names the
    # clauses only).
    assert "U-5.3-meldingen" in export(REQUESTER_OFFICER)


def test_the_buurtteams_access_report_names_none_of_the_polices_items(
    utrecht_case: UtrechtCase,
) -> None:
    utrecht_case.investigation(True)
    request_id = _ask_police_and_buurtteam(utrecht_case)
    _answer_and_read(utrecht_case, request_id, police_answers=False)

    def report(who: tuple[str, str]) -> list[dict[str, Any]]:
        response = utrecht_case.client.post(
            "/v1/audit/access-report",
            json={"identifierType": "bsn", "identifier": "111222333"},
            headers=utrecht_case.as_(who),
        )
        assert response.status_code == 200, response.text
        return response.json()["lines"]  # type: ignore[no-any-return]

    lines = [
        line
        for line in report(BUURTTEAM_OFFICER)
        if line["activity"] in ("information-request", "disclosure")
    ]
    assert [line["activity"] for line in lines] == ["information-request", "disclosure"]
    told = json.dumps(lines)
    for item in (ANTECEDENTS, REPORTS, *POLICE_CLAUSES):
        assert item not in told, item
    assert [line["outcome"] for line in lines] == ["recorded", "disclosed"]
    # Control: the requester's officer's report names the refused antecedents.
    assert ANTECEDENTS in json.dumps(report(REQUESTER_OFFICER))


def test_the_buurtteams_activity_counts_its_own_reads_and_no_denial(
    utrecht_case: UtrechtCase,
) -> None:
    """The per-partner activity counts the reads the officer finds: the buurtteam's, the
    read that disclosed its item (no denial: a denial disclosed nothing, so it has no data
    owner); the requester's officer also counts the reads the police's refusal made
    denials."""
    utrecht_case.investigation(True)
    request_id = _ask_police_and_buurtteam(utrecht_case)
    utrecht_case.read(request_id)  # nothing answered yet, the antecedents refused: a denial
    only_police = utrecht_case.request([ANTECEDENTS])
    utrecht_case.read(only_police["id"])  # a denial
    _answer_and_read(utrecht_case, request_id, police_answers=False)  # partially disclosed

    def counted(who: tuple[str, str]) -> tuple[int, int]:
        response = utrecht_case.client.get(
            "/v1/audit/partner-activity?period=month", headers=utrecht_case.as_(who)
        )
        assert response.status_code == 200, response.text
        rows = [r for r in response.json()["rows"] if r["partnerId"] == "u-centraal"]
        return sum(r["requests"] for r in rows), sum(r["denials"] for r in rows)

    assert counted(BUURTTEAM_OFFICER) == (1, 0)
    assert counted(REQUESTER_OFFICER) == (3, 2)


def test_the_stored_entries_are_unchanged_and_verify(
    utrecht_case: UtrechtCase, context: GatewayContext
) -> None:
    utrecht_case.investigation(True)
    request_id = _ask_police_and_buurtteam(utrecht_case)
    _answer_and_read(utrecht_case, request_id, police_answers=False)
    index = audit_entry(utrecht_case, BUURTTEAM_OFFICER, "information-request")["index"]
    with context.session_factory() as session:
        body = session.scalar(select(AuditRecord.body).where(AuditRecord.index == index))
    assert body is not None
    stored = json.loads(body)
    assert stored["redacted"] == [{"category": ANTECEDENTS, "reason": "om-consent-missing"}]
    assert stored["dataOwners"] == [BUURTTEAM, POLICE[0]]
    result = verify_database(context.session_factory, [context.audit.signer.public_key])
    assert result.problems == []
    assert result.entries >= index
