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
from tests.exchange.conftest import CASE_MANAGER, MITROS, WIJKAGENT, UtrechtCase, open_utrecht_case

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
    assert {t.name for t in targets if t.readers != "case"} == {"case_criterion"}


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
