"""Who reads a legal hold's reason, setter and moment (review5 F2): the partner that set it,
each of its roles; every other reader of the case's retention (the team, the lead, the
covenant's coordinating privacy officer) reads only that the case is on hold.

The police's privacy officer may set a hold on a case its partner is in the team of. Before,
its reason ("Strafrechtelijk onderzoek loopt") and its setter reached the neighbourhood team
on ``GET /v1/cases/{id}/retention``, the privacy officers' page and the lift's answer, while
the case summary withholds from the team whether an investigation runs (U §5.3,
``investigationRunning``). Each refusal has its control: the police read their own hold."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.exchange.conftest import CASE_MANAGER, UtrechtCase, open_utrecht_case
from tests.web.conftest import sign_in

Auth = Callable[..., dict[str, str]]
POLICE_OFFICER = ("politie-midden-nederland", "privacy-officer")
WIJKAGENT = ("politie-midden-nederland", "wijkagent")
BUURTTEAM = ("buurtteam-sociaal", "buurtteam-medewerker")
BUURTTEAM_OFFICER = ("buurtteam-sociaal", "privacy-officer")
LEAD_OFFICER = ("u-centraal", "privacy-officer")
COORDINATING = ("gemeente-utrecht", "privacy-officer")
REASON = "Strafrechtelijk onderzoek loopt (OM-zaak)"
OTHERS = [CASE_MANAGER, LEAD_OFFICER, BUURTTEAM, BUURTTEAM_OFFICER, COORDINATING]


@pytest.fixture
def browser(app: FastAPI) -> Iterator[TestClient]:
    """As the pages' tests: https, so the Secure session cookie is sent."""
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as client:
        yield client


def _held_by_the_police(client: TestClient, auth: Auth) -> UtrechtCase:
    case = open_utrecht_case(client, auth)
    joined = client.post(
        f"/v1/cases/{case.case_id}/team",
        json={"partnerId": BUURTTEAM[0]},
        headers=auth(*CASE_MANAGER),
    )
    assert joined.status_code in (200, 201), joined.text
    held = client.post(
        f"/v1/cases/{case.case_id}/retention/legal-hold",
        json={"reason": REASON},
        headers=auth(*POLICE_OFFICER, user="po-1"),
    )
    assert held.status_code == 201, held.text
    # The setter is told its own hold in the answer (control).
    assert (held.json()["reason"], held.json()["withheld"]) == (REASON, False)
    return case


def _state(client: TestClient, auth: Auth, case: UtrechtCase, who: tuple[str, str]) -> dict:  # type: ignore[type-arg]
    state = client.get(f"/v1/cases/{case.case_id}/retention", headers=auth(*who, user="u-1"))
    assert state.status_code == 200, (who, state.text)
    assert state.json()["status"] == "on-hold"
    return state.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize("who", OTHERS, ids=lambda w: "/".join(w))
def test_another_partner_reads_only_that_the_case_is_on_hold(
    client: TestClient, auth: Auth, who: tuple[str, str]
) -> None:
    case = _held_by_the_police(client, auth)
    state = _state(client, auth, case, who)
    hold = state["legalHold"]
    assert hold["withheld"] is True
    assert (hold["reason"], hold["setBy"], hold["setAt"]) == (None, None, None)
    text = str(state)
    assert "onderzoek" not in text
    assert POLICE_OFFICER[0] not in text


@pytest.mark.parametrize("who", [POLICE_OFFICER, WIJKAGENT], ids=lambda w: "/".join(w))
def test_control_the_setting_partner_reads_its_reason_and_setter(
    client: TestClient, auth: Auth, who: tuple[str, str]
) -> None:
    case = _held_by_the_police(client, auth)
    hold = _state(client, auth, case, who)["legalHold"]
    assert hold["withheld"] is False
    assert hold["reason"] == REASON
    assert hold["setBy"] == "politie-midden-nederland/privacy-officer/po-1"
    assert hold["setAt"] is not None


def test_the_lead_lifting_the_polices_hold_is_not_told_its_reason(
    client: TestClient, auth: Auth
) -> None:
    """Since then the lead may not lift it at all (tests/retention/test_hold_lifter.py): the
    refusal names neither reason nor setter."""
    case = _held_by_the_police(client, auth)
    lifted = client.post(
        f"/v1/cases/{case.case_id}/retention/legal-hold/lift",
        json={"reason": "Zaak is afgerond"},
        headers=auth(*CASE_MANAGER, user="cm-1"),
    )
    assert lifted.status_code == 403, lifted.text
    assert "onderzoek" not in lifted.text
    assert POLICE_OFFICER[0] not in lifted.text
    # The police's own lift it is told (control).
    own = client.post(
        f"/v1/cases/{case.case_id}/retention/legal-hold/lift",
        json={"reason": "Zaak is afgerond"},
        headers=auth(*POLICE_OFFICER, user="po-2"),
    )
    assert own.status_code == 200, own.text
    assert own.json()["liftedBy"] == "politie-midden-nederland/privacy-officer/po-2"
    assert (own.json()["reason"], own.json()["liftReason"]) == (REASON, "Zaak is afgerond")


def _page(browser: TestClient, who: tuple[str, str]) -> str:
    sign_in(browser, *who)
    page = browser.get("/privacy/bewaartermijnen")
    assert page.status_code == 200, page.text
    return page.text


@pytest.mark.parametrize("who", [BUURTTEAM_OFFICER, COORDINATING], ids=lambda w: w[0])
def test_the_privacy_page_shows_another_officer_the_hold_without_reason_or_setter(
    browser: TestClient, auth: Auth, who: tuple[str, str]
) -> None:
    case = _held_by_the_police(browser, auth)
    reference = browser.get(f"/v1/cases/{case.case_id}", headers=auth(*CASE_MANAGER)).json()[
        "reference"
    ]
    page = _page(browser, who)
    assert reference in page
    assert "staat onder een bewaarplicht" in page
    assert "onderzoek" not in page
    assert "Politie" not in page


def test_control_the_privacy_page_shows_the_police_officer_its_reason(
    browser: TestClient, auth: Auth
) -> None:
    _held_by_the_police(browser, auth)
    page = _page(browser, POLICE_OFFICER)
    assert REASON in page


def _hold_entries(client: TestClient, auth: Auth, who: tuple[str, str], case_id: str) -> list[Any]:
    found = client.post("/v1/audit/entries/search", json={"caseId": case_id}, headers=auth(*who))
    assert found.status_code == 200, found.text
    return [
        e["requester"]["partnerId"]
        for e in found.json()["entries"]
        if e["activity"] == "legal-hold-set"
    ]


def test_the_audit_log_names_the_polices_hold_to_the_police_only(
    client: TestClient, auth: Auth
) -> None:
    """The audit entry names its setter: the police's hold is one of their entries about an
    investigation (audit.readers.investigation_condition), which the coordinating officer
    does not find either."""
    case = _held_by_the_police(client, auth)
    assert _hold_entries(client, auth, COORDINATING, case.case_id) == []
    # Controls: the police's officer finds it; a hold by the case manager the coordinating
    # officer finds, as before.
    assert _hold_entries(client, auth, POLICE_OFFICER, case.case_id) == [POLICE_OFFICER[0]]
    lifted = client.post(
        f"/v1/cases/{case.case_id}/retention/legal-hold/lift",
        json={"reason": "Zaak is afgerond"},
        headers=auth(*POLICE_OFFICER),
    )
    assert lifted.status_code == 200, lifted.text
    held = client.post(
        f"/v1/cases/{case.case_id}/retention/legal-hold",
        json={"reason": "Rechtszaak over de huurovereenkomst"},
        headers=auth(*CASE_MANAGER),
    )
    assert held.status_code == 201, held.text
    assert _hold_entries(client, auth, COORDINATING, case.case_id) == [CASE_MANAGER[0]]
