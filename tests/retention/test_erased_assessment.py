"""The lead's assessment of the causer goes with the erased dossier (review4 F4).

The U §2 criteria (criterion 4 names psychiatry, addiction and crime), the OGGZ check (U §5.1,
public mental health), whether pollution of the dwelling is part of the nuisance (U §5.4,
review5b P3), the police investigation status (U §5.3) and the screening facts of
the transitions (the OGGZ check; R Bijlage D 2a: crime, serious psychosocial, multi-problem)
are plain columns. Before, the sweep overwrote only sealed values and blind indexes, so they
outlived the erasure and the erased case's summary and page (which says "de
persoonsgegevens zijn verwijderd") still showed them to the lead. Now the columns carry
``erasure_null`` / ``erasure_keep_keys`` markers (gateway/retention/targets.py) and both the
PostgreSQL bulk path and the SQLite path clear them. Every refusal has its control: before
the erasure the lead reads its assessment, and the facts the figures need stay.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from gateway.cases.models import CaseCriterion, CaseFile, CaseTransition
from gateway.cases.schemas import FACTS_KEPT_AFTER_ERASURE, TransitionFacts
from gateway.context import GatewayContext
from gateway.db import transaction
from gateway.retention.targets import discover_targets
from tests.exchange.conftest import CASE_MANAGER, UtrechtCase, open_utrecht_case
from tests.retention.conftest import RIJSWIJK, seed_case
from tests.web.conftest import sign_in

SCREENED = {
    "oggzCheck": {"targetGroup": True, "referred": True},
    "mediationScreening": {"crime": True, "seriousPsychosocial": True, "multiProblem": False},
    "breachEstablished": True,
    "adult": True,
}
#: The page's line for the lead's recorded pollution (gateway/web/templates/zaak.html).
POLLUTION_ON_THE_PAGE = "Vervuiling van de woning is onderdeel van de overlast (U §5.4): ja"
KEPT = {
    "bothSidesHeard": True,
    "result": {"neighboursJudgement": "improved", "partnersJudgement": "resolved"},
    "measure": "last-chance-contract",
    "amountEur": 5000,
    "days": 10,
}


@pytest.fixture
def browser(app: FastAPI) -> Iterator[TestClient]:
    """As the pages' tests: https, so the Secure session cookie is sent."""
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as client:
        yield client


def _assessed(client: TestClient, auth: Any) -> UtrechtCase:
    case = open_utrecht_case(client, auth)
    criteria = [
        {"criterion": "dwelling-related", "holds": True},
        {"criterion": "complex-problems", "holds": True},
    ]
    assessment = {"criteria": criteria, "dwellingPollution": True}
    take_on = {"transition": "take-on", "oggzCheck": {"targetGroup": True, "referred": True}}
    for path, body in (("criteria", assessment), ("transitions", take_on)):
        response = client.post(
            f"/v1/cases/{case.case_id}/{path}", json=body, headers=case.as_(CASE_MANAGER)
        )
        assert response.status_code == 200, response.text
    case.investigation(True)
    return case


def _erase(context: GatewayContext, case_id: str) -> None:
    retention = context.require_retention()
    retention.sweep(as_of=date(2020, 1, 1))
    with transaction(context.session_factory) as session:
        from gateway.retention.service import record_fact

        record_fact(
            session=session,
            rules=retention.rules,
            case_id=case_id,
            kind="case-closed",
            occurred_on=date(2020, 1, 6),
            recorded_by="test",
        )
    assert retention.sweep(as_of=date(2030, 1, 1)).redacted >= 1


def _summary(case: UtrechtCase) -> dict[str, Any]:
    response = case.client.get(f"/v1/cases/{case.case_id}", headers=case.as_(CASE_MANAGER))
    assert response.status_code == 200, response.text
    seen: dict[str, Any] = response.json()
    return seen


def _assessment(seen: dict[str, Any]) -> dict[str, Any]:
    keys = ("criteria", "criteriaHolding", "oggzTargetGroup", "oggzReferred", "dwellingPollution")
    return {k: seen[k] for k in (*keys, "investigationRunning")}


def test_control_before_erasure_the_lead_reads_its_assessment(
    browser: TestClient, auth: Any
) -> None:
    case = _assessed(browser, auth)
    seen = _assessment(_summary(case))
    assert {c["criterion"]: c["holds"] for c in seen["criteria"]}["complex-problems"] is True
    assert (seen["criteriaHolding"], seen["oggzTargetGroup"], seen["oggzReferred"]) == (
        2,
        True,
        True,
    )
    assert seen["investigationRunning"] is True
    assert seen["dwellingPollution"] is True
    sign_in(browser, *CASE_MANAGER)
    page = browser.get(f"/zaken/{case.case_id}").text
    assert "Politieonderzoek loopt" in page
    assert "Geldt" in page
    assert POLLUTION_ON_THE_PAGE in page


def test_the_erased_case_shows_no_assessment_to_its_lead(
    browser: TestClient, auth: Any, context: GatewayContext
) -> None:
    case = _assessed(browser, auth)
    _erase(context, case.case_id)
    seen = _summary(case)
    assert seen["erased"] is True
    assert _assessment(seen) == {
        "criteria": [],
        "criteriaHolding": None,
        "oggzTargetGroup": None,
        "oggzReferred": None,
        "dwellingPollution": None,
        "investigationRunning": None,
    }
    sign_in(browser, *CASE_MANAGER)
    page = browser.get(f"/zaken/{case.case_id}")
    assert page.status_code == 200, page.text
    assert "Deze zaak is gewist" in page.text
    assert "Politieonderzoek loopt" not in page.text
    assert "Geldt" not in page.text
    assert POLLUTION_ON_THE_PAGE not in page.text
    assert "met het dossier gewist" in page.text


def test_the_sweep_clears_the_assessment_columns(
    client: TestClient, auth: Any, context: GatewayContext
) -> None:
    """What the summary no longer shows is gone from the tables too, on both backends (the
    PostgreSQL bulk path and the SQLite path)."""
    case = _assessed(client, auth)
    _erase(context, case.case_id)
    with context.session_factory() as session:
        holds = session.scalars(
            select(CaseCriterion.holds).where(CaseCriterion.case_id == case.case_id)
        ).all()
        row = session.execute(
            select(
                CaseFile.oggz_target_group,
                CaseFile.oggz_referred,
                CaseFile.investigation_running,
                CaseFile.dwelling_pollution,
            ).where(CaseFile.id == case.case_id)
        ).one()
        facts = session.scalars(
            select(CaseTransition.facts).where(CaseTransition.case_id == case.case_id)
        ).all()
    assert list(holds) == [None, None]
    assert tuple(row) == (None, None, None, None)
    assert not any("oggzCheck" in f for f in facts), facts


def _transition(context: GatewayContext, case_id: str, facts: dict[str, Any]) -> str:
    transition_id = str(uuid.uuid4())
    with transaction(context.session_factory) as session:
        session.add(
            CaseTransition(
                id=transition_id,
                case_id=case_id,
                covenant_id=RIJSWIJK,
                transition="test",
                from_state="intake",
                to_state="intake",
                at=datetime(2024, 1, 2, tzinfo=UTC),
                actor_partner_id="gemeente-rijswijk",
                actor_role="casemanager",
                facts=facts,
            )
        )
    return transition_id


def test_transitions_keep_only_the_facts_the_figures_need(context: GatewayContext) -> None:
    """The screening of the causer goes; the sanction's days and amount, the result and the
    other facts of FACTS_KEPT_AFTER_ERASURE stay as they were, and so do a transition
    without facts and another case's transitions."""
    # R-3.4-licht-bemiddeld: the first is due a year after its mediation, the second not yet.
    erased = seed_case(context, facts=[("mediation-ended", date(2024, 3, 1), "solved")])
    kept = seed_case(context, facts=[("mediation-ended", date(2024, 9, 1), "solved")])
    screened = _transition(context, erased.case_id, {**SCREENED, **KEPT})
    only_screened = _transition(context, erased.case_id, SCREENED)
    plain = _transition(context, erased.case_id, {})
    other = _transition(context, kept.case_id, {**SCREENED, **KEPT})
    assert context.require_retention().sweep(as_of=date(2025, 3, 10)).redacted == 1
    with context.session_factory() as session:
        facts = {
            row.id: row.facts
            for row in session.execute(select(CaseTransition.id, CaseTransition.facts))
        }
    assert facts[screened] == KEPT
    assert facts[only_screened] == {}
    assert facts[plain] == {}
    assert facts[other] == {**SCREENED, **KEPT}


def test_the_kept_facts_are_facts_a_transition_can_carry() -> None:
    """The allow-list names TransitionFacts' stored keys (a typo would drop a fact)."""
    stored = {f.alias or name for name, f in TransitionFacts.model_fields.items()}
    assert set(FACTS_KEPT_AFTER_ERASURE) <= stored - {"reason", "oggzCheck", "mediationScreening"}


def test_the_sweep_finds_the_assessment_columns_by_their_markers(
    context: GatewayContext,
) -> None:
    """One source of truth: the columns say what the sweep clears, no list in the sweep."""
    with context.engine.connect() as connection:
        targets = {t.name: t for t in discover_targets(connection)}
    assert {c.name for c in targets["case_file"].nulls} == {
        "oggz_target_group",
        "oggz_referred",
        "investigation_running",
        "dwelling_pollution",
    }
    assert [c.name for c in targets["case_criterion"].nulls] == ["holds"]
    assert [c.name for c in targets["case_transition"].pruned] == ["facts"]
