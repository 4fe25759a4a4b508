"""The access report (GDPR art. 15) after review13: what a line is about is read from the
stored entry and the covenant, and a line whose subject is unknown is left out.

F1: a landlord's measure (``case-event``) is information of its event's category
(corporation-case-information: the causer's and the dwelling's), not the complainant's.
F2: a request that concerned the complainant (the buurtteam asked whether it knows them) is
listed to them though the police's item in it was refused. F3: the buurtteam's care worker
is the causer's (named only "zo ja"). F5: a clause id the covenant does not know names an
unknown subject.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.audit.reports import Concerns, _concerning
from gateway.policy.covenant import parse_covenant
from gateway.policy.layout import default_package_dir

from .concerning_case import (
    ADDRESS,
    ANTECEDENTS,
    BUURTTEAM,
    CAUSER,
    COMPLAINANT,
    KNOWN,
    MITROS,
    POLICE,
    api_report,
    ask,
    manager,
    team_case,
)

Auth = Callable[..., dict[str, str]]
COVENANT = "utrecht-extreme-woonoverlast"
CARE_WORKER = "neighbourhood-team-care-worker"
KNOWN_CLAUSE = "U-5.6-bekend-buurtteam"
CARE_CLAUSE = "U-5.6-hulpverlener"


def _report(
    client: TestClient, auth: Auth, identifier: str, kind: str = "bsn", officer: str = ""
) -> dict[str, Any]:
    """The access report by the coordinating officer, or by ``officer``'s partner's."""
    if not officer:
        return api_report(client, auth, identifier, kind)
    response = client.post(
        "/v1/audit/access-report",
        json={"identifierType": kind, "identifier": identifier},
        headers=auth(officer, "privacy-officer"),
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _lines(report: dict[str, Any], activity: str) -> list[dict[str, Any]]:
    return [line for line in report["lines"] if line["activity"] == activity]


# --- F1: the landlord's measure ----------------------------------------------------------


@pytest.mark.parametrize("officer", ["", "mitros"])
def test_the_complainants_report_does_not_list_the_landlords_measure(
    client: TestClient, auth: Auth, officer: str
) -> None:
    case_id = team_case(client, auth)
    recorded = client.post(
        f"/v1/cases/{case_id}/events",
        json={"event": "eviction-procedure", "occurredOn": "2026-11-30"},
        headers=auth(*MITROS),
    )
    assert recorded.status_code == 201, recorded.text
    complainant = _report(client, auth, COMPLAINANT, officer=officer)
    assert _lines(complainant, "case-event") == []
    assert _lines(complainant, "case-intake")  # the report is there, and lists the intake
    # Positive control: the causer's and the address's reports list it (the tenant's
    # measure, corporation-case-information: [causer, dwelling]) to an officer who finds the
    # entry: the landlord's. The coordinating officer, whose partner is not shown the measure
    # in this phase, finds no case-event entry at all (review13 F4, LogReader.conditions), so
    # its reports of the causer and the address list none either.
    for identifier, kind in ((CAUSER, "bsn"), (ADDRESS, "address")):
        lines = _lines(_report(client, auth, identifier, kind, officer), "case-event")
        if officer == "mitros":
            [line] = lines
            assert line["requester"] == "mitros"
        else:
            assert lines == []


def _event_entry(**attributes: Any) -> dict[str, Any]:
    return {
        "activity": "case-event",
        "outcome": "recorded",
        "caseId": "c-1",
        "processing": {"covenantId": COVENANT},
        "attributes": attributes,
    }


def _concerns() -> Concerns:
    text = (default_package_dir() / COVENANT / "covenant.yaml").read_text(encoding="utf-8")
    return Concerns.of(parse_covenant(text), ["U-default-na-afsluiting"])


def test_a_measure_is_read_from_the_stored_entry_and_an_unknown_one_is_listed_to_nobody() -> None:
    concerns = _concerns()
    stored = _event_entry(event="eviction-procedure", occurredOn="2026-11-30", phase="execution")
    # The reader's view without the measure (LogReader._without_measure): still the causer's.
    shown = _event_entry(phase="execution")
    assert _concerning(shown, stored, frozenset({"causer"}), concerns) is not None
    assert _concerning(shown, stored, frozenset({"dwelling"}), concerns) is not None
    assert _concerning(shown, stored, frozenset({"complainant"}), concerns) is None
    assert _concerning(shown, stored, frozenset({"neighbour"}), concerns) is None
    # A measure the covenant does not know (an older revision's), or none: unknown subject.
    for unknown in (_event_entry(event="renamed-measure"), _event_entry()):
        assert _concerning(unknown, unknown, frozenset({"causer", "dwelling"}), concerns) is None


# --- F2: a request about the complainant, another part of it refused ---------------------


def test_a_request_about_the_complainant_is_listed_though_the_polices_part_was_refused(
    client: TestClient, auth: Auth
) -> None:
    case_id = team_case(client, auth)
    ask(client, auth, case_id, {POLICE: [ANTECEDENTS], BUURTTEAM: [KNOWN]})
    [mixed] = _lines(_report(client, auth, COMPLAINANT), "information-request")
    assert mixed["clauseIds"] == [KNOWN_CLAUSE]
    assert mixed["categoriesDisclosed"] == mixed["categoriesRedacted"] == []
    assert mixed["outcome"] == "recorded"
    # Positive control: the same request asked alone gives the same line.
    ask(client, auth, case_id, {BUURTTEAM: [KNOWN]})
    alone = [
        line
        for line in _lines(_report(client, auth, COMPLAINANT), "information-request")
        if line["index"] != mixed["index"]
    ]
    assert len(alone) == 1
    fields = ("activity", "outcome", "clauseIds", "categoriesDisclosed", "categoriesRedacted")
    assert {f: alone[0][f] for f in fields} == {f: mixed[f] for f in fields}
    # The causer's line still shows the antecedents refused.
    causer = [
        line
        for line in _lines(_report(client, auth, CAUSER), "information-request")
        if line["index"] == mixed["index"]
    ]
    assert [line["categoriesRedacted"] for line in causer] == [[ANTECEDENTS]]


def test_a_read_refusing_the_causers_item_is_to_the_complainant_a_read_with_nothing_yet() -> None:
    """A read that refused the antecedents while the buurtteam's answer is awaited (entry
    ``denial``, the awaited item's clause cited): to the complainant, a read of their item
    alone, which the exchange records as ``information-read``, not a denial of theirs."""
    concerns = _concerns()
    read = {
        "activity": "denial",
        "outcome": "denied",
        "caseId": "c-1",
        "processing": {"covenantId": COVENANT, "clauseIds": [KNOWN_CLAUSE]},
        "disclosed": [],
        "redacted": [{"category": ANTECEDENTS, "reason": "om-consent-required"}],
    }
    shown = _concerning(read, read, frozenset({"complainant"}), concerns)
    assert shown is not None
    assert (shown["activity"], shown["outcome"]) == ("information-read", "recorded")
    assert shown["redacted"] == []
    assert shown["processing"]["clauseIds"] == [KNOWN_CLAUSE]
    # Positive control: to the causer it is the denial it was.
    causer = _concerning(read, read, frozenset({"causer"}), concerns)
    assert causer is not None
    assert (causer["activity"], causer["outcome"], causer["redacted"]) == (
        "denial",
        "denied",
        read["redacted"],
    )


# --- F3: the care worker ------------------------------------------------------------------


def test_the_complainants_report_names_no_care_worker(client: TestClient, auth: Auth) -> None:
    case_id = team_case(client, auth)
    request_id = ask(client, auth, case_id, {BUURTTEAM: [KNOWN, CARE_WORKER]})
    answered = client.post(
        f"/v1/information-requests/{request_id}/answers",
        json={
            "answers": [
                {"category": KNOWN, "yesNo": True},
                {"category": CARE_WORKER, "value": "M. Jansen (fictief)"},
            ]
        },
        headers=auth(BUURTTEAM, "adapter"),
    )
    assert answered.status_code == 200, answered.text
    read = client.get(f"/v1/information-requests/{request_id}/answers", headers=manager(auth))
    assert read.status_code == 200, read.text

    complainant = _report(client, auth, COMPLAINANT)
    named = {
        item
        for line in complainant["lines"]
        for item in (*line["categoriesDisclosed"], *line["categoriesRedacted"], *line["clauseIds"])
    }
    assert CARE_WORKER not in named
    assert CARE_CLAUSE not in named
    # Being known to the buurtteam stays theirs (asked about both).
    [disclosure] = _lines(complainant, "disclosure")
    assert disclosure["categoriesDisclosed"] == [KNOWN]
    # Positive control: the causer's report names the care worker.
    [causer_read] = _lines(_report(client, auth, CAUSER), "disclosure")
    assert causer_read["categoriesDisclosed"] == [CARE_WORKER, KNOWN]
    assert CARE_CLAUSE in causer_read["clauseIds"]


# --- F5: a clause id the covenant does not know -------------------------------------------


def test_a_clause_id_the_covenant_does_not_know_makes_the_line_unknown() -> None:
    concerns = _concerns()
    renamed = {
        "activity": "information-answer",
        "outcome": "recorded",
        "caseId": "c-1",
        "processing": {"covenantId": COVENANT, "clauseIds": ["U-5.3-antecedenten-oud"]},
    }
    everyone = frozenset({"causer", "complainant", "neighbour", "dwelling"})
    assert _concerning(renamed, renamed, everyone, concerns) is None
    # Beside a known clause of the subject's too: the unknown id would be listed with it.
    both = {
        **renamed,
        "processing": {"covenantId": COVENANT, "clauseIds": [KNOWN_CLAUSE, "U-5.3-oud"]},
    }
    assert _concerning(both, both, frozenset({"complainant"}), concerns) is None
    # Positive control: a retention rule's id names no category and stays, for anyone.
    erased = {
        "activity": "retention-redaction",
        "outcome": "recorded",
        "caseId": "c-1",
        "processing": {"covenantId": COVENANT, "clauseIds": ["U-default-na-afsluiting"]},
    }
    assert _concerning(erased, erased, frozenset(), concerns) == erased
    known = {**renamed, "processing": {"covenantId": COVENANT, "clauseIds": [KNOWN_CLAUSE]}}
    assert _concerning(known, known, frozenset({"complainant"}), concerns) == known
