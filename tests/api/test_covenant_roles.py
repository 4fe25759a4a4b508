"""Every role a covenant grants works, and what a role may do comes from the covenant file
(issue 14 item 7): no list of roles in the code decides who gets in."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from fastapi.testclient import TestClient

from gateway.auth.dev import mint_dev_token
from gateway.config import Settings
from gateway.context import GatewayContext
from gateway.core.dutch_date import dutch_today
from gateway.policy.covenant import Covenant, load_covenants
from tests.exchange.conftest import CASE_MANAGER, MITROS, open_utrecht_case

Auth = Callable[..., dict[str, str]]

COVENANTS = load_covenants()
EVERY_GRANT = [
    (covenant.id, partner.id, partner.kind, role)
    for covenant in COVENANTS.values()
    for partner in covenant.partners
    for role in partner.roles
]


def _kind(covenant: Covenant, role: str) -> str:
    found = covenant.role(role)
    assert found is not None
    return found.kind


def test_every_role_of_every_partner_of_every_covenant_authenticates_and_works(
    client: TestClient, auth: Auth
) -> None:
    """Each partner in each of its roles: /v1/me names it, and the role's kind opens what
    it is for (case lists for casework and systems, the processing register for audit) and
    closes the rest (a privacy officer asks nothing; a case worker reads no audit report)."""
    tried = {"casework": 0, "audit": 0, "system": 0}
    for covenant_id, partner_id, partner_kind, role in EVERY_GRANT:
        me = client.get("/v1/me", headers=auth(partner_id, role, user="u-1"))
        assert me.status_code == 200, (partner_id, role, me.text)
        assert me.json() == {
            "partnerId": partner_id,
            "partnerKind": partner_kind,
            "covenantId": covenant_id,
            "role": role,
            "user": "u-1",
        }
        kind = _kind(COVENANTS[covenant_id], role)
        tried[kind] += 1
        register = client.get("/v1/audit/processing-register", headers=auth(partner_id, role))
        cases = client.get("/v1/cases", headers=auth(partner_id, role))
        if kind == "audit":
            assert register.status_code == 200, (partner_id, role, register.text)
            asked = client.post(
                "/v1/information-requests",
                json={"caseId": "no-case", "purpose": "x", "categories": ["y"]},
                headers=auth(partner_id, role),
            )
            assert asked.status_code == 403, (partner_id, role, asked.text)
        else:
            assert register.status_code == 403, (partner_id, role, register.text)
            assert cases.status_code == 200, (partner_id, role, cases.text)
    # The five roles a hand-written list used to refuse are among those tried.
    granted = {role for _, _, _, role in EVERY_GRANT}
    assert {
        "gebiedsmanager",
        "woonbegeleider",
        "zorgmedewerker",
        "bemiddelaar",
        "brandweer-medewerker",
    } <= granted
    assert all(tried.values()), tried


def test_a_role_no_covenant_grants_is_refused_and_a_granted_one_is_not(
    client: TestClient, auth: Auth, settings: Settings
) -> None:
    token = mint_dev_token(
        settings, partner_id="ggd-haaglanden", role="superuser", user=None, lifetime_seconds=60
    )
    refused = client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 403
    assert "no role the gateway knows" in refused.json()["detail"]
    # Granted to another partner only: refused for this one.
    token = mint_dev_token(
        settings, partner_id="ggd-haaglanden", role="wijkagent", user=None, lifetime_seconds=60
    )
    refused = client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 403
    assert "not granted to partner 'ggd-haaglanden'" in refused.json()["detail"]
    # Positive control: the GGD's own care worker role.
    allowed = client.get("/v1/me", headers=auth("ggd-haaglanden", "zorgmedewerker"))
    assert allowed.status_code == 200, allowed.text


@pytest.fixture
def registered_case(
    client: TestClient, auth: Auth, context: GatewayContext
) -> tuple[str, TestClient]:
    case = open_utrecht_case(client, auth)
    context.require_retention().sweep(as_of=date(2020, 1, 1))
    return case.case_id, client


def _hold_and_fact(
    client: TestClient, auth: Auth, case_id: str, who: tuple[str, str]
) -> tuple[int, int]:
    hold = client.post(
        f"/v1/cases/{case_id}/retention/legal-hold",
        json={"reason": "court procedure"},
        headers=auth(*who),
    )
    if hold.status_code == 201:
        lifted = client.post(
            f"/v1/cases/{case_id}/retention/legal-hold/lift",
            json={"reason": "procedure ended"},
            headers=auth(*who),
        )
        assert lifted.status_code in (200, 201), lifted.text
    fact = client.post(
        f"/v1/cases/{case_id}/retention/facts",
        json={
            "kind": "recorded-date",
            "occurredOn": dutch_today().isoformat(),
            "detail": "test-date",
        },
        headers=auth(*who),
    )
    return hold.status_code, fact.status_code


def test_legal_hold_and_retention_facts_follow_the_roles_the_covenant_file_names(
    registered_case: tuple[str, TestClient], auth: Auth
) -> None:
    """legalHold: the case manager and the privacy officer; recordsFacts: the case manager,
    the housing officer and the adapter. Each refusal next to a role that is allowed."""
    case_id, client = registered_case
    utrecht = COVENANTS["utrecht-extreme-woonoverlast"]
    assert [r.id for r in utrecht.roles if r.legal_hold] == ["casemanager", "privacy-officer"]
    assert [r.id for r in utrecht.roles if r.records_facts] == [
        "casemanager",
        "woonconsulent",
        "adapter",
    ]
    assert _hold_and_fact(client, auth, case_id, CASE_MANAGER) == (201, 201)
    hold, fact = _hold_and_fact(client, auth, case_id, MITROS)
    assert (hold, fact) == (403, 201)
    hold, fact = _hold_and_fact(client, auth, case_id, ("u-centraal", "privacy-officer"))
    assert (hold, fact) == (201, 403)
    hold, fact = _hold_and_fact(client, auth, case_id, ("politie-midden-nederland", "wijkagent"))
    assert (hold, fact) == (403, 403)
    hold, fact = _hold_and_fact(client, auth, case_id, ("mitros", "adapter"))
    assert (hold, fact) == (403, 201)
