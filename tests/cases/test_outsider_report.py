"""A report filed by a partner outside the team of the open case it matches (review3 findings
4, 5 and 6).

The report joins the dossier (R Bijlage B/C), but the case does not exist for its reporter
until the lead accepts it (U §6; tests/cases/test_reporter_and_team.py). So:

- the persons the report names wait with the report, and join the case only when the lead
  accepts the reporter; declined, they never join (finding 6);
- the reporter's own ``case-intake`` entry is about what the report named, and its privacy
  officer cannot resolve the case's number (finding 5);
- a person is matched across addresses only in a case the reporter is involved in: at a new
  address an outsider is answered as at any new address (finding 4).

Each denial has its positive control: the same for a team member, or after the lead's
acceptance.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from gateway.cases import references
from gateway.cases.models import CaseReportPerson
from gateway.context import GatewayContext
from tests.exchange.conftest import CASE_MANAGER, MITROS, UtrechtCase, open_utrecht_case

Auth = Callable[..., dict[str, str]]
PORTAAL = ("portaal", "woonconsulent")
BOEX = ("bo-ex", "woonconsulent")
COORDINATING_OFFICER = ("gemeente-utrecht", "privacy-officer")
CAUSER_BSN = "111222333"  # open_utrecht_case's causer, at 3511 AB 12
INJECTED_BSN = "123456782"
COMPLAINANT_BSN = "200000007"


def _report(
    client: TestClient,
    who: dict[str, str],
    *,
    corporation: str,
    postcode: str = "3511 AB",
    number: int = 12,
    persons: list[dict[str, Any]] | None = None,
) -> Any:
    return client.post(
        "/v1/reports",
        json={
            "dwelling": {
                "address": {"postcode": postcode, "houseNumber": number},
                "ownership": "corporation",
                "corporationId": corporation,
                "district": "binnenstad",
            },
            "persons": persons or [],
            "report": {"channel": "form", "description": "Overlast."},
        },
        headers=who,
    )


def _outsider_names_two(client: TestClient, auth: Auth) -> str:
    """Portaal, outside the team, reports the case's dwelling and names two new persons."""
    joined = _report(
        client,
        auth(*PORTAAL),
        corporation="portaal",
        persons=[
            {"role": "causer", "bsn": INJECTED_BSN, "name": "Iemand"},
            {"role": "complainant", "bsn": COMPLAINANT_BSN},
        ],
    )
    assert joined.status_code == 202, joined.text
    return str(joined.json()["reportId"])


def _person_roles(case: UtrechtCase) -> dict[str, int]:
    summary = case.client.get(f"/v1/cases/{case.case_id}", headers=case.as_(CASE_MANAGER))
    assert summary.status_code == 200, summary.text
    return summary.json()["personRoles"]  # type: ignore[no-any-return]


def _decide(case: UtrechtCase, report_id: str, *, add: bool) -> None:
    decided = case.client.post(
        f"/v1/cases/{case.case_id}/reports/{report_id}/reporter-decision",
        json={"addToTeam": add},
        headers=case.as_(CASE_MANAGER),
    )
    assert decided.status_code == 200, decided.text


def _access_lines(client: TestClient, who: dict[str, str], bsn: str) -> set[tuple[str, str]]:
    report = client.post(
        "/v1/audit/access-report",
        json={"identifierType": "bsn", "identifier": bsn},
        headers=who,
    )
    assert report.status_code == 200, report.text
    return {(line["activity"], line["requester"]) for line in report.json()["lines"]}


def _mitros_names_injected_elsewhere(client: TestClient, auth: Auth) -> Any:
    """A team member reports another dwelling and names the outsider's causer."""
    return _report(
        client,
        auth(*MITROS),
        corporation="mitros",
        postcode="3600 AA",
        number=1,
        persons=[{"role": "causer", "bsn": INJECTED_BSN}],
    )


def _later_case_entry(case: UtrechtCase) -> None:
    """A later entry about the case: the lead adds the buurtteam (case-team-change). (The
    review's probe used the police's investigation status, which since review3 finding 1 is
    in no access report.)"""
    added = case.client.post(
        f"/v1/cases/{case.case_id}/team",
        json={"partnerId": "buurtteam-sociaal"},
        headers=case.as_(CASE_MANAGER),
    )
    assert added.status_code in (200, 201), added.text


# --- finding 6: the outsider's persons wait for the lead -------------------------------------


@pytest.mark.parametrize("decided", ["undecided", "declined"])
def test_an_outsiders_persons_stay_out_of_the_case_until_the_lead_accepts_the_reporter(
    client: TestClient, auth: Auth, decided: str
) -> None:
    case = open_utrecht_case(client, auth)
    report_id = _outsider_names_two(client, auth)
    if decided == "declined":
        _decide(case, report_id, add=False)
    # Neither person is in the case: the summary counts the causer the team reported only.
    assert _person_roles(case) == {"causer": 1}
    # The injected BSN pulls no report into the case: a team member's report naming it at
    # another address opens a case of its own, as for any unknown person.
    elsewhere = _mitros_names_injected_elsewhere(client, auth)
    assert elsewhere.status_code == 201, elsewhere.text
    assert elsewhere.json()["caseId"] != case.case_id
    # ... and it is no data subject of the case's later entries: its access report lists the
    # reports that named it, not the case's processing.
    _later_case_entry(case)
    lines = _access_lines(client, auth(*COORDINATING_OFFICER), INJECTED_BSN)
    assert ("case-team-change", "u-centraal") not in lines
    # Portaal's report, and the case the team member's report opened.
    assert lines == {("case-intake", "portaal"), ("case-intake", "mitros")}


def test_the_outsiders_persons_join_the_case_when_the_lead_accepts_the_reporter(
    client: TestClient, auth: Auth
) -> None:
    # Positive control of the test above.
    case = open_utrecht_case(client, auth)
    report_id = _outsider_names_two(client, auth)
    _decide(case, report_id, add=True)
    assert _person_roles(case) == {"causer": 2, "complainant": 1}
    elsewhere = _mitros_names_injected_elsewhere(client, auth)
    assert elsewhere.status_code == 200, elsewhere.text
    assert elsewhere.json()["caseId"] == case.case_id
    _later_case_entry(case)
    lines = _access_lines(client, auth(*COORDINATING_OFFICER), INJECTED_BSN)
    assert ("case-team-change", "u-centraal") in lines


def test_the_outsiders_persons_join_when_the_lead_adds_its_partner_to_the_team(
    client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    case = open_utrecht_case(client, auth)
    _outsider_names_two(client, auth)
    added = client.post(
        f"/v1/cases/{case.case_id}/team",
        json={"partnerId": "portaal"},
        headers=auth(*CASE_MANAGER),
    )
    assert added.status_code in (200, 201), added.text
    assert _person_roles(case) == {"causer": 2, "complainant": 1}
    with context.session_factory() as session:  # nothing stays held
        assert session.scalars(select(CaseReportPerson)).all() == []


def test_a_declined_reports_persons_stay_out_when_its_partner_joins_later(
    client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    case = open_utrecht_case(client, auth)
    declined = _outsider_names_two(client, auth)
    _decide(case, declined, add=False)
    accepted = _report(
        client,
        auth(*PORTAAL),
        corporation="portaal",
        persons=[{"role": "neighbour", "bsn": "300000005"}],
    )
    assert accepted.status_code == 202, accepted.text
    _decide(case, accepted.json()["reportId"], add=True)
    # The accepted report's neighbour joins; the declined report's persons never do ...
    assert _person_roles(case) == {"causer": 1, "neighbour": 1}
    # ... and stay sealed with their report, erased with the dossier (docs/cases.md).
    with context.session_factory() as session:
        held = session.scalars(select(CaseReportPerson)).all()
    assert {(p.report_id, p.role) for p in held} == {
        (declined, "causer"),
        (declined, "complainant"),
    }
    assert all(p.identifier_sealed and b"123456782" not in p.identifier_sealed for p in held)


def test_a_team_members_persons_join_the_case_at_once(client: TestClient, auth: Auth) -> None:
    # Control: a report by a partner in the team adds its persons straight away.
    case = open_utrecht_case(client, auth)
    again = _report(
        client,
        auth(*MITROS),
        corporation="mitros",
        persons=[{"role": "complainant", "bsn": COMPLAINANT_BSN}],
    )
    assert again.status_code == 200, again.text
    assert _person_roles(case) == {"causer": 1, "complainant": 1}


# --- finding 5: the outsider's own entry is about what it reported ---------------------------


def test_the_outsiders_intake_entry_names_only_what_its_report_named(
    client: TestClient, auth: Auth
) -> None:
    case = open_utrecht_case(client, auth)
    joined = _report(
        client,
        auth(*PORTAAL),
        corporation="portaal",
        persons=[{"role": "complainant", "bsn": COMPLAINANT_BSN}],
    )
    assert joined.status_code == 202, joined.text
    officer = ("portaal", "privacy-officer")  # not coordinating, not in the team
    # The entry keeps the case id (the log's own record), which opens nothing for Portaal.
    searched = client.post("/v1/audit/entries/search", json={}, headers=auth(*officer))
    assert searched.status_code == 200, searched.text
    intake = [e for e in searched.json()["entries"] if e["activity"] == "case-intake"]
    assert [e["caseId"] for e in intake] == [case.case_id]
    assert client.get(f"/v1/cases/{case.case_id}", headers=auth(*PORTAAL)).status_code == 404
    # The causer, whom Portaal never named, is not among the entry's subjects ...
    assert _access_lines(client, auth(*officer), CAUSER_BSN) == set()
    # ... the person Portaal named is (positive control) ...
    assert _access_lines(client, auth(*officer), COMPLAINANT_BSN) == {("case-intake", "portaal")}
    # ... and a team member's entries are about every person of the case (control).
    team_lines = _access_lines(client, auth("mitros", "privacy-officer"), CAUSER_BSN)
    assert ("case-intake", "mitros") in team_lines


def test_the_outsiders_officer_cannot_resolve_the_hidden_cases_number(
    client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    # The web logbook's look-ups (gateway/web/logbook.py, privacy_pages.py) take the
    # officer's accountable partner: its own for Portaal's officer, None for the
    # coordinating officer, who reads the whole covenant's log.
    case = open_utrecht_case(client, auth)
    assert _report(client, auth(*PORTAAL), corporation="portaal").status_code == 202
    summary = client.get(f"/v1/cases/{case.case_id}", headers=auth(*CASE_MANAGER)).json()
    covenant, reference = summary["covenantId"], summary["reference"]
    with context.session_factory() as session:

        def numbers(partner: str | None) -> dict[str, str]:
            return references.case_numbers(
                session, covenant_id=covenant, partner_id=partner, case_ids=[case.case_id]
            )

        def by_number(partner: str | None) -> str | None:
            return references.case_id_of(
                session, covenant_id=covenant, partner_id=partner, number=reference.lower()
            )

        assert numbers("portaal") == {}
        assert by_number("portaal") is None
        # Controls: a team member, and the covenant-wide reader.
        assert numbers("mitros") == numbers(None) == {case.case_id: reference}
        assert by_number("mitros") == by_number(None) == case.case_id


# --- finding 4: no person match across addresses for an outsider -----------------------------


def test_an_outsider_naming_a_hidden_person_at_a_new_address_is_answered_as_anywhere_new(
    client: TestClient, auth: Auth
) -> None:
    case = open_utrecht_case(client, auth)
    by_bsn = _report(
        client,
        auth(*PORTAAL),
        corporation="portaal",
        postcode="3572 ZZ",
        number=3,
        persons=[{"role": "causer", "bsn": CAUSER_BSN}],
    )
    fresh = _report(client, auth(*PORTAAL), corporation="portaal", postcode="3572 ZZ", number=5)
    assert (by_bsn.status_code, fresh.status_code) == (201, 201), (by_bsn.text, fresh.text)
    assert by_bsn.json()["caseId"] not in (None, case.case_id)
    assert by_bsn.json().keys() == fresh.json().keys()
    # The hidden case got no report from it.
    summary = client.get(f"/v1/cases/{case.case_id}", headers=auth(*CASE_MANAGER)).json()
    assert summary["reportCount"] == 1


def test_a_team_member_naming_a_known_person_elsewhere_joins_that_case(
    client: TestClient, auth: Auth
) -> None:
    # Positive control: the person match across addresses holds for the case's own team.
    case = open_utrecht_case(client, auth)
    by_bsn = _report(
        client,
        auth(*MITROS),
        corporation="mitros",
        postcode="3572 ZZ",
        number=3,
        persons=[{"role": "causer", "bsn": CAUSER_BSN}],
    )
    assert by_bsn.status_code == 200, by_bsn.text
    assert by_bsn.json()["caseId"] == case.case_id


def test_an_outsider_at_the_known_dwelling_learns_nothing_beyond_the_status(
    client: TestClient, auth: Auth
) -> None:
    # The accepted residual (docs/cases.md): the dwelling match stays, and the 202 carries
    # no case id, reference, state or count; nor does the reporter's own report view.
    open_utrecht_case(client, auth)
    same = _report(client, auth(*PORTAAL), corporation="portaal")
    assert same.status_code == 202, same.text
    body = same.json()
    assert (body["caseId"], body["reference"], body["state"]) == (None, None, None)
    assert set(body) == {"caseId", "reference", "created", "state", "reportId", "awaitingLead"}
    own = client.get(f"/v1/reports/{body['reportId']}", headers=auth(*PORTAAL)).json()
    assert (own["caseId"], own["reference"], own["status"]) == (None, None, "awaiting-lead")
