"""Who learns which records a case's dossier holds (``GET /v1/cases/{id}/retention/records``).

A record is listed by its table and its key, and its being listed says that it exists. The
U §2 criteria the lead recorded are ``case_criterion`` rows keyed ``(case, criterion)``, so
before (review2 finding 4) every team member, and every privacy officer of the covenant,
read ``"<case>:complex-problems"`` (criterion 4: psychiatry, addiction, crime) while the
same reader's summary had ``criteria: []`` (F3). Now each table says who may learn of its
records, in the terms of the summary's readers (``record_readers``, targets.py); a table
withheld from the reader is left out and named in ``withheld``, whether the case has such
records or not. Every refusal has its control: the lead reads its criteria."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.cases.models import CaseCriterion
from gateway.context import GatewayContext
from gateway.retention.targets import discover_targets
from tests.exchange.conftest import (
    ANTECEDENTS,
    CASE_MANAGER,
    MITROS,
    POLICE,
    WIJKAGENT,
    UtrechtCase,
    open_utrecht_case,
)

Auth = Callable[..., dict[str, str]]
BUURTTEAM_WORKER = ("buurtteam-sociaal", "buurtteam-medewerker")
TEAM_OFFICER = ("mitros", "privacy-officer")
COORDINATING_OFFICER = ("gemeente-utrecht", "privacy-officer")
NOT_THE_LEADS = [MITROS, BUURTTEAM_WORKER, WIJKAGENT, TEAM_OFFICER, COORDINATING_OFFICER]


@pytest.fixture
def utrecht_case(client: TestClient, auth: Auth) -> UtrechtCase:
    return open_utrecht_case(client, auth)


def _team(case: UtrechtCase) -> None:
    for partner in ("buurtteam-sociaal", "mitros"):
        team = case.client.post(
            f"/v1/cases/{case.case_id}/team",
            json={"partnerId": partner},
            headers=case.as_(CASE_MANAGER),
        )
        assert team.status_code in (200, 201), team.text


def _criteria_recorded(case: UtrechtCase) -> None:
    recorded = case.client.post(
        f"/v1/cases/{case.case_id}/criteria",
        json={
            "criteria": [
                {"criterion": "dwelling-related", "holds": True},
                {"criterion": "complex-problems", "holds": True},
            ]
        },
        headers=case.as_(CASE_MANAGER),
    )
    assert recorded.status_code == 200, recorded.text
    _team(case)


def _records(case: UtrechtCase, who: tuple[str, str]) -> Any:
    response = case.client.get(f"/v1/cases/{case.case_id}/retention/records", headers=case.as_(who))
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("who", NOT_THE_LEADS, ids=lambda w: "/".join(w))
def test_the_criteria_the_lead_recorded_are_not_listed_to_whom_the_summary_withholds_them(
    utrecht_case: UtrechtCase, who: tuple[str, str]
) -> None:
    _criteria_recorded(utrecht_case)
    summary = utrecht_case.client.get(
        f"/v1/cases/{utrecht_case.case_id}", headers=utrecht_case.as_(who)
    )
    if who == COORDINATING_OFFICER:  # outside the team it audits, without the summary
        assert summary.status_code == 404, summary.text
    else:
        assert summary.json()["criteria"] == [], summary.text  # the summary withholds them (F3)
    body = _records(utrecht_case, who)
    kinds = {r["kind"] for r in body["records"]}
    assert "case_file" in kinds  # the list answers: the rest of the dossier is there
    assert "case_criterion" not in kinds
    assert not [r["id"] for r in body["records"] if "complex-problems" in r["id"]]
    assert body["withheld"] == ["case_criterion"]


def test_control_the_lead_reads_the_criteria_it_recorded(utrecht_case: UtrechtCase) -> None:
    _criteria_recorded(utrecht_case)
    body = _records(utrecht_case, CASE_MANAGER)
    criteria = sorted(r["id"] for r in body["records"] if r["kind"] == "case_criterion")
    case_id = utrecht_case.case_id
    assert criteria == [f"{case_id}:complex-problems", f"{case_id}:dwelling-related"]
    assert body["withheld"] == []


def test_withheld_is_the_same_whether_or_not_the_lead_recorded_criteria(
    utrecht_case: UtrechtCase,
) -> None:
    """No oracle: a reader cannot tell a case with criteria from one without."""
    _team(utrecht_case)
    before = _records(utrecht_case, MITROS)
    _criteria_recorded(utrecht_case)
    after = _records(utrecht_case, MITROS)
    assert before["withheld"] == after["withheld"] == ["case_criterion"]
    assert sorted((r["kind"], r["id"]) for r in before["records"]) == sorted(
        (r["kind"], r["id"]) for r in after["records"]
    )
    lead = _records(utrecht_case, CASE_MANAGER)  # the control: the lead's list has grown
    assert len(lead["records"]) == len(after["records"]) + 2


def test_every_table_the_sweep_erases_says_who_may_learn_of_its_records(
    context: GatewayContext,
) -> None:
    """A new table with a case's sealed values is listed by the records list on its own
    (targets.py finds it), so it must say who may learn of its rows."""
    from gateway.retention.targets import RECORD_READERS

    with context.session_factory() as session:
        targets = discover_targets(session.connection())
    assert {t.name: t.table.info.get("record_readers") for t in targets if t.readers is None} == {}
    assert {t.readers for t in targets} <= set(RECORD_READERS)
    assert {t.name for t in targets if t.readers != "case"} == {"case_criterion", "case_fact"}


def test_a_table_that_does_not_say_is_listed_to_nobody(
    utrecht_case: UtrechtCase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unknown is not no: without ``record_readers`` even the lead does not get the rows."""
    _criteria_recorded(utrecht_case)
    monkeypatch.delitem(CaseCriterion.__table__.info, "record_readers")
    body = _records(utrecht_case, CASE_MANAGER)
    assert "case_criterion" not in {r["kind"] for r in body["records"]}
    assert body["withheld"] == ["case_criterion"]


def test_records_of_a_rijswijk_case_are_listed_to_its_lead_as_before(
    client: TestClient, auth: Auth, seed: Any
) -> None:
    case = seed()
    lead = auth("gemeente-rijswijk", "casemanager")
    response = client.get(f"/v1/cases/{case.case_id}/retention/records", headers=lead)
    assert response.status_code == 200, response.text
    assert {r["kind"] for r in response.json()["records"]} >= {"case_file", "case_report"}
    assert response.json()["withheld"] == []


# --- stored facts: listed to the readers of the fact (review3 finding 10) ---------------------

POLICE_OFFICER = ("politie-midden-nederland", "privacy-officer")
PORTAAL = ("portaal", "woonconsulent")
ATMOSPHERE_REPORT = "police-atmosphere-report"


def _facts(case: UtrechtCase, who: tuple[str, str]) -> list[str]:
    body = _records(case, who)
    assert "case_fact" not in body["withheld"]  # rows are left out, the table is not named
    return sorted(r["id"] for r in body["records"] if r["kind"] == "case_fact")


def _antecedents_answered(case: UtrechtCase) -> None:
    case.investigation(True)
    case.om_consent()
    request = case.request([ANTECEDENTS])
    answered = case.answer(request["id"], [{"category": ANTECEDENTS, "yesNo": True}])
    assert answered.status_code == 200, answered.text


def _redacted_for(case: UtrechtCase, who: tuple[str, str], category: str) -> bool:
    query = case.client.post(
        "/v1/case-facts/queries",
        json={"caseId": case.case_id, "purpose": "case-handling", "categories": [category]},
        headers=case.as_(who),
    )
    assert query.status_code == 200, query.text
    return [v["outcome"] for v in query.json()["values"]] == ["redacted"]


def test_a_police_answer_is_not_listed_to_a_team_member_that_may_not_read_it(
    utrecht_case: UtrechtCase,
) -> None:
    """Before, Mitros (in the team; U §5.3 gives the antecedents to the case manager only)
    saw a ``case_fact`` record appear once the police answered the lead: that they did,
    after the OM consented. Its list is now the same before and after."""
    before = _records(utrecht_case, MITROS)
    _antecedents_answered(utrecht_case)
    after = _records(utrecht_case, MITROS)
    assert _facts(utrecht_case, MITROS) == []
    assert sorted((r["kind"], r["id"]) for r in before["records"]) == sorted(
        (r["kind"], r["id"]) for r in after["records"]
    )
    assert _redacted_for(utrecht_case, MITROS, ANTECEDENTS)  # what the list agrees with
    # Nor to a privacy officer that is not the police's: an audit role receives nothing.
    assert _facts(utrecht_case, COORDINATING_OFFICER) == []


def test_control_the_lead_that_asked_and_the_police_that_answered_see_the_answer(
    utrecht_case: UtrechtCase,
) -> None:
    _antecedents_answered(utrecht_case)
    (fact,) = _facts(utrecht_case, CASE_MANAGER)  # the recipient, which asked
    # The provider, whatever its role: its casework, its system and its privacy officer.
    for police in (WIJKAGENT, POLICE, POLICE_OFFICER):
        assert _facts(utrecht_case, police) == [fact], police


def test_a_pushed_fact_is_listed_to_its_category_s_recipients_and_its_provider_only(
    utrecht_case: UtrechtCase,
) -> None:
    """U §5.6: whether the neighbourhood team knows the causer is for the case manager."""
    _team(utrecht_case)
    pushed = utrecht_case.client.post(
        "/v1/case-facts",
        json={
            "caseId": utrecht_case.case_id,
            "category": "neighbourhood-team-known",
            "yesNo": True,
        },
        headers=utrecht_case.as_(("buurtteam-sociaal", "adapter")),
    )
    assert pushed.status_code == 201, pushed.text
    (fact,) = _facts(utrecht_case, CASE_MANAGER)
    assert _facts(utrecht_case, BUURTTEAM_WORKER) == [fact]
    for other in (MITROS, WIJKAGENT):
        assert _facts(utrecht_case, other) == [], other


def test_a_recipient_bound_to_a_relation_is_listed_the_fact_only_with_the_relation(
    utrecht_case: UtrechtCase,
) -> None:
    """U §5.3 gives the sfeerverslag to "de verhuurder": a woonconsulent as the dwelling's
    landlord (Mitros), not another corporation in the team (Portaal), as the policy decides."""
    joined = utrecht_case.client.post(
        f"/v1/cases/{utrecht_case.case_id}/team",
        json={"partnerId": "portaal"},
        headers=utrecht_case.as_(CASE_MANAGER),
    )
    assert joined.status_code in (200, 201), joined.text
    pushed = utrecht_case.client.post(
        "/v1/case-facts",
        json={"caseId": utrecht_case.case_id, "category": ATMOSPHERE_REPORT, "value": "Rustig."},
        headers=utrecht_case.as_(POLICE),
    )
    assert pushed.status_code == 201, pushed.text
    (fact,) = _facts(utrecht_case, MITROS)
    assert _facts(utrecht_case, CASE_MANAGER) == [fact]  # the lead: casemanager (case-lead)
    assert _facts(utrecht_case, PORTAAL) == []
    assert _redacted_for(utrecht_case, PORTAAL, ATMOSPHERE_REPORT)


@pytest.mark.parametrize("who", [POLICE_OFFICER, COORDINATING_OFFICER], ids=lambda w: w[0])
def test_the_dry_run_counts_no_criteria_and_no_stored_facts_for_an_officer(
    utrecht_case: UtrechtCase, who: tuple[str, str]
) -> None:
    """The dry run (``GET /v1/retention/due``) counted the rows per table each due case
    would lose: ``case_criterion: 2`` told an officer how many criteria the lead recorded,
    ``case_fact: 1`` that the police answered. It counts the tables every reader may learn
    of; the control: the case and its report are counted."""
    _criteria_recorded(utrecht_case)
    _antecedents_answered(utrecht_case)
    response = utrecht_case.client.get(
        "/v1/retention/due", params={"asOf": "2100-01-01"}, headers=utrecht_case.as_(who)
    )
    assert response.status_code == 200, response.text
    (item,) = [i for i in response.json()["items"] if i["caseId"] == utrecht_case.case_id]
    assert "case_criterion" not in item["values"]
    assert "case_fact" not in item["values"]
    assert item["values"]["case_file"] == 1
    assert item["values"]["case_report"] == 1
