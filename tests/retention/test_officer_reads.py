"""Whose retention a privacy officer reads: the covenant's coordinating privacy officer
(``coordinatingPrivacyOfficer``) every case of the covenant, any other partner's officer the
cases its partner leads or is in the team of, as the audit reports limit it to what its
partner is accountable for ("so a partner's privacy officer cannot learn whether a person
figures in another partner's cases", gateway/audit/reports.py). On the state and the
records (API), the overview (``/privacy/bewaartermijnen``) and the dry run
(``GET /v1/retention/due``) alike; an officer outside the case gets the answer of an unknown
case. Before (review2 finding 12), every officer of the covenant read every case's due date,
records and legal-hold reason. Each refusal has its control."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from audit.entry import Actor
from gateway.auth.principal import Principal
from gateway.auth.service import PartnerDirectory
from gateway.context import GatewayContext
from gateway.db import transaction
from gateway.policy.covenant import load_covenants
from gateway.retention.models import RetentionHold
from gateway.retention.service import lift_legal_hold, retention_overview, set_legal_hold
from gateway.retention.sweeper import ERASED_HOLD_REASON
from tests.exchange.conftest import CASE_MANAGER, UtrechtCase, open_utrecht_case
from tests.retention.conftest import Seeder
from tests.web.conftest import sign_in

Auth = Callable[..., dict[str, str]]
HOLD_REASON = "Rechtszaak huurder tegen verhuurder"
OUTSIDER = ("portaal", "privacy-officer")
TEAM = ("politie-midden-nederland", "privacy-officer")
COORDINATING = ("gemeente-utrecht", "privacy-officer")
DUE = {"asOf": "2100-01-01"}  # an open case is due a year after its last activity


@pytest.fixture
def browser(app: FastAPI) -> Iterator[TestClient]:
    """As the pages' tests: https, so the Secure session cookie is sent."""
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as client:
        yield client


def _case(client: TestClient, auth: Auth, *, hold: bool = True) -> tuple[UtrechtCase, str]:
    case = open_utrecht_case(client, auth)
    summary = client.get(f"/v1/cases/{case.case_id}", headers=auth(*CASE_MANAGER)).json()
    assert TEAM[0] in summary["team"]
    assert OUTSIDER[0] not in summary["team"]
    assert COORDINATING[0] not in summary["team"]
    if hold:
        held = client.post(
            f"/v1/cases/{case.case_id}/retention/legal-hold",
            json={"reason": HOLD_REASON},
            headers=auth(*CASE_MANAGER),
        )
        assert held.status_code == 201, held.text
    return case, str(summary["reference"])


def _page(browser: TestClient, who: tuple[str, str]) -> str:
    sign_in(browser, *who)
    page = browser.get("/privacy/bewaartermijnen")
    assert page.status_code == 200, page.text
    return page.text


def test_the_page_does_not_show_an_officer_a_case_its_partner_has_no_part_in(
    browser: TestClient, auth: Auth
) -> None:
    _, reference = _case(browser, auth)
    page = _page(browser, OUTSIDER)
    assert reference not in page
    assert HOLD_REASON not in page
    assert "Er staan geen bewaarplichten." in page


@pytest.mark.parametrize("who", [TEAM, COORDINATING], ids=lambda w: w[0])
def test_control_the_page_shows_it_to_a_team_partners_and_the_coordinating_officer(
    browser: TestClient, auth: Auth, who: tuple[str, str]
) -> None:
    _, reference = _case(browser, auth)
    page = _page(browser, who)
    assert reference in page
    # The hold is the case manager's: the others read that there is one (review5 F2).
    assert "staat onder een bewaarplicht" in page
    assert HOLD_REASON not in page


@pytest.mark.parametrize("path", ["/retention", "/retention/records"])
def test_an_officer_outside_the_case_gets_the_answer_of_an_unknown_case(
    client: TestClient, auth: Auth, path: str
) -> None:
    case, _ = _case(client, auth)
    known = client.get(f"/v1/cases/{case.case_id}{path}", headers=auth(*OUTSIDER))
    unknown = client.get(f"/v1/cases/{uuid.uuid4()}{path}", headers=auth(*OUTSIDER))
    assert known.status_code == unknown.status_code == 404
    assert known.headers["content-type"].startswith("application/problem+json")
    assert known.json() == unknown.json()
    assert HOLD_REASON not in known.text
    for who in (TEAM, COORDINATING):  # the controls
        shown = client.get(f"/v1/cases/{case.case_id}{path}", headers=auth(*who))
        assert shown.status_code == 200, (who, shown.text)
    state = client.get(f"/v1/cases/{case.case_id}/retention", headers=auth(*COORDINATING))
    assert state.json()["status"] == "on-hold"
    # The reason is the setter's (the case manager's partner) only (review5 F2).
    assert state.json()["legalHold"]["reason"] is None
    own = client.get(
        f"/v1/cases/{case.case_id}/retention", headers=auth("u-centraal", "privacy-officer")
    )
    assert own.json()["legalHold"]["reason"] == HOLD_REASON


def _due(client: TestClient, auth: Auth, who: tuple[str, str]) -> Any:
    response = client.get("/v1/retention/due", params=DUE, headers=auth(*who))
    assert response.status_code == 200, response.text
    return response.json()


def test_the_dry_run_names_an_officer_only_its_partners_cases(
    client: TestClient, auth: Auth
) -> None:
    case, _ = _case(client, auth, hold=False)
    outsider = _due(client, auth, OUTSIDER)
    assert (outsider["due"], outsider["items"]) == (0, [])
    for who in (TEAM, COORDINATING):  # the controls
        body = _due(client, auth, who)
        assert body["due"] == 1, who
        assert [i["caseId"] for i in body["items"]] == [case.case_id]


def test_the_dry_run_counts_an_officer_only_its_partners_cases_on_hold(
    client: TestClient, auth: Auth
) -> None:
    _case(client, auth)
    assert _due(client, auth, OUTSIDER)["onHold"] == 0
    for who in (TEAM, COORDINATING):  # the controls
        assert _due(client, auth, who)["onHold"] == 1, who


def _officer(partner_id: str) -> Principal:
    return PartnerDirectory.from_covenants(load_covenants().values()).principal(
        partner_id=partner_id,
        role="privacy-officer",
        user=None,
        token_id="t",
        expires_at=datetime.now(UTC) + timedelta(hours=1),
    )


def test_the_overviews_counts_are_of_the_partners_cases_too(
    context: GatewayContext, seed: Seeder
) -> None:
    """Rijswijk: the seeded cases are led by the municipality, the coordinating partner."""
    case = seed(facts=[("mediation-ended", date(2024, 3, 10), "solved")])
    with context.session_factory() as session:
        outsider = retention_overview(
            session=session,
            rules=context.require_retention().rules,
            runtime=context.cases,
            principal=_officer("vidomes"),
        )
        coordinating = retention_overview(
            session=session,
            rules=context.require_retention().rules,
            runtime=context.cases,
            principal=_officer("gemeente-rijswijk"),
        )
    assert (outsider.due, outsider.holds, outsider.with_due_date, outsider.erased) == ([], [], 0, 0)
    assert [row.case_id for row in coordinating.due] == [case.case_id]  # the control
    assert coordinating.with_due_date == 1


def test_an_erased_cases_legal_hold_reasons_go_with_its_dossier(
    context: GatewayContext, seed: Seeder
) -> None:
    """A hold's reason is a partner's free text about the case (it may name the parties):
    once the dossier is erased it is overwritten, while who set and lifted the hold, and
    when, stay (as in the audit log). The control: a held case keeps its reasons."""
    erased = seed(facts=[("mediation-ended", date(2024, 3, 10), "solved")])
    held = seed(facts=[("mediation-ended", date(2024, 3, 10), "solved")])
    actor = Actor(partner_id="gemeente-rijswijk", role="casemanager")
    by = "gemeente-rijswijk/casemanager"
    with transaction(context.session_factory) as session:
        for case in (erased, held):
            hold = {"session": session, "audit": context.audit, "case_id": case.case_id}
            set_legal_hold(**hold, reason=HOLD_REASON, actor=actor, set_by=by)
            lift_legal_hold(**hold, reason="Rechtszaak afgerond", actor=actor, lifted_by=by)
        set_legal_hold(
            session=session,
            audit=context.audit,
            case_id=held.case_id,
            reason=HOLD_REASON,
            actor=actor,
            set_by=by,
        )
    report = context.require_retention().sweep(as_of=date(2025, 3, 10))
    assert report.redacted == 1
    with context.session_factory() as session:
        holds = session.scalars(select(RetentionHold).order_by(RetentionHold.set_at)).all()
        reasons = {
            (h.case_id, h.reason, h.lift_reason, h.set_by, h.lifted_by is not None) for h in holds
        }
    assert reasons == {
        (erased.case_id, ERASED_HOLD_REASON, ERASED_HOLD_REASON, by, True),
        (held.case_id, HOLD_REASON, "Rechtszaak afgerond", by, True),
        (held.case_id, HOLD_REASON, None, by, False),
    }
