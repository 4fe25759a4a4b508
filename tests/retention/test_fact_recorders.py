"""Who records a retention fact: the case's lead and the dwelling's landlord, the partners
that know when a resident moved out or a date fell, through their people or their back-office
systems. Review2 #10: the adapter role is every partner's, so the police's or the fire
brigade's system, in the team, recorded a move-out on a Rijswijk case (R §3.4 "zolang de
bewoner het pand bewoont": due the same day) and the next sweep erased the dossier."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from gateway.cases.models import CaseFile, CaseTeamMember, Dwelling
from gateway.context import GatewayContext
from gateway.db import transaction
from gateway.policy.covenant import load_covenants
from gateway.retention import erasure_of
from gateway.retention.models import RetentionFact
from tests.retention.conftest import MUNICIPALITY, RIJSWIJK, Seeder, close_case

Auth = Callable[..., dict[str, str]]
MOVED_OUT = {"kind": "resident-moved-out", "occurredOn": "2024-06-01"}
NEXT_DAY = date(2024, 6, 2)
PARTNERS = load_covenants()[RIJSWIJK].partners
#: Partners that neither lead the seeded case nor let its dwelling (the landlord is the
#: first corporation; the other corporation is not the landlord).
LANDLORD = next(p.id for p in PARTNERS if p.kind == "housing-corporation")
OTHERS = [p.id for p in PARTNERS if p.id not in (MUNICIPALITY, LANDLORD)]
PARTNERS_BY_ID = {p.id: p.kind for p in PARTNERS}


def _case_with_team(context: GatewayContext, seed: Seeder, *, closed: bool = True) -> str:
    """A case of the municipality (closed on 1 May 2024 unless ``closed`` is false) whose
    dwelling the landlord lets, with every partner of the covenant in its team."""
    case_id = seed().case_id
    with transaction(context.session_factory) as session:
        case = session.get_one(CaseFile, case_id)
        session.get_one(Dwelling, case.dwelling_id).corporation_id = LANDLORD
        for partner in [LANDLORD, *OTHERS]:
            session.add(CaseTeamMember.of(case, partner, now=case.opened_at, by="t"))
    # Closed before the move (an open case's move-out term waits for its closure, review8a
    # F5); due 12 months after the closure without a move.
    if closed:
        close_case(context, case_id, datetime(2024, 5, 1, 10, tzinfo=UTC))
    return case_id


def _facts(context: GatewayContext, case_id: str) -> list[str]:
    with context.session_factory() as session:
        return list(
            session.scalars(
                select(RetentionFact.kind).where(
                    RetentionFact.case_id == case_id, RetentionFact.source_ref.is_(None)
                )
            )
        )


def test_the_partners_other_than_lead_and_landlord_are_every_kind_but_those() -> None:
    """The parameters below cover the police, care, mediation, the fire brigade and the
    corporation that does not let the dwelling."""
    kinds = {p.kind for p in PARTNERS if p.id in OTHERS}
    assert {"police", "care", "mediation", "fire-brigade", "housing-corporation"} <= kinds


@pytest.mark.parametrize("partner", OTHERS)
def test_a_team_partner_neither_lead_nor_landlord_records_no_fact(
    client: TestClient, auth: Auth, context: GatewayContext, seed: Seeder, partner: str
) -> None:
    case_id = _case_with_team(context, seed)
    retention = context.require_retention()
    assert retention.sweep(as_of=NEXT_DAY, dry_run=True).items == []
    response = client.post(
        f"/v1/cases/{case_id}/retention/facts", json=MOVED_OUT, headers=auth(partner, "adapter")
    )
    assert response.status_code == 403, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "its lead or by the dwelling's landlord" in response.json()["detail"]
    assert _facts(context, case_id) == []
    retention.sweep(as_of=NEXT_DAY)
    with context.session_factory() as session:
        assert erasure_of(session=session, case_id=case_id) is None


@pytest.mark.parametrize(
    "who",
    [
        (MUNICIPALITY, "adapter"),
        (MUNICIPALITY, "casemanager"),
        (LANDLORD, "adapter"),
        (LANDLORD, "woonconsulent"),
    ],
)
def test_the_lead_and_the_landlord_record_it(
    client: TestClient, auth: Auth, context: GatewayContext, seed: Seeder, who: tuple[str, str]
) -> None:
    """The control: the same fact from the lead or the landlord is taken; the case is due
    that day (R §3.4), and the sweep erases it."""
    case_id = _case_with_team(context, seed)
    response = client.post(
        f"/v1/cases/{case_id}/retention/facts", json=MOVED_OUT, headers=auth(*who)
    )
    assert response.status_code == 201, response.text
    assert response.json()["dueOn"] == "2024-06-01"
    assert _facts(context, case_id) == ["resident-moved-out"]


def test_a_corporation_is_no_landlord_of_a_dwelling_of_unknown_tenure(
    client: TestClient, auth: Auth, context: GatewayContext, seed: Seeder
) -> None:
    """Tenure unknown (``ownership`` not a corporation's): the named corporation is nobody's
    landlord here, as for every other landlord relation of the workflow."""
    case_id = _case_with_team(context, seed)
    with transaction(context.session_factory) as session:
        case = session.get_one(CaseFile, case_id)
        session.get_one(Dwelling, case.dwelling_id).ownership = "unknown"
    refused = client.post(
        f"/v1/cases/{case_id}/retention/facts", json=MOVED_OUT, headers=auth(LANDLORD, "adapter")
    )
    assert refused.status_code == 403, refused.text
    taken = client.post(
        f"/v1/cases/{case_id}/retention/facts",
        json=MOVED_OUT,
        headers=auth(MUNICIPALITY, "adapter"),
    )
    assert taken.status_code == 201, taken.text


def test_the_landlord_the_lead_corrected_records_the_fact_and_the_claimant_not(
    client: TestClient, auth: Auth, context: GatewayContext, seed: Seeder
) -> None:
    """Review3 finding 3: the landlord is the first report's word until the lead corrects it
    (PUT /v1/cases/{caseId}/dwelling/landlord); the recorders follow the correction at once."""
    case_id = _case_with_team(context, seed, closed=False)  # a closed case's landlord stays
    other = next(p for p in OTHERS if PARTNERS_BY_ID[p] == "housing-corporation")
    corrected = client.put(
        f"/v1/cases/{case_id}/dwelling/landlord",
        json={"ownership": "corporation", "corporationId": other},
        headers=auth(MUNICIPALITY, "adapter"),
    )
    assert corrected.status_code == 200, corrected.text
    refused = client.post(
        f"/v1/cases/{case_id}/retention/facts", json=MOVED_OUT, headers=auth(LANDLORD, "adapter")
    )
    assert refused.status_code == 403, refused.text
    assert _facts(context, case_id) == []
    # Positive control: the corporation the lead named.
    taken = client.post(
        f"/v1/cases/{case_id}/retention/facts", json=MOVED_OUT, headers=auth(other, "adapter")
    )
    assert taken.status_code == 201, taken.text
    assert _facts(context, case_id) == ["resident-moved-out"]
