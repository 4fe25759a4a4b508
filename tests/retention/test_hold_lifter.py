"""Who lifts a legal hold: only the partner that set it (review5 F2's open end).

Since review5 F2 a hold's reason and setter are told only to the partner that set it. The
case lead, or a team partner's privacy officer, could still lift a hold another partner set
(the police's, kept for a criminal procedure) without knowing why, and the next sweep could
erase a dossier the police need. Now anyone else gets a 403 problem+json that names neither
the reason nor the setter, and nothing stored changes: the hold, the case's hold flag (the
sweep skips a case by it) and the audit log. Each refusal has its control: the setting
partner's own legalHold roles lift it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from gateway.audit.models import AuditRecord
from gateway.context import GatewayContext
from gateway.retention.models import RetentionCase, RetentionHold
from tests.exchange.conftest import CASE_MANAGER, UtrechtCase, open_utrecht_case

Auth = Callable[..., dict[str, str]]
POLICE_OFFICER = ("politie-midden-nederland", "privacy-officer")
WIJKAGENT = ("politie-midden-nederland", "wijkagent")
LEAD_OFFICER = ("u-centraal", "privacy-officer")
BUURTTEAM_OFFICER = ("buurtteam-sociaal", "privacy-officer")
REASON = "Strafrechtelijk onderzoek loopt (OM-zaak)"
REFUSED = "This legal hold can be lifted only by the partner that set it; it stays in force."


def _case(client: TestClient, auth: Auth) -> UtrechtCase:
    case = open_utrecht_case(client, auth)  # the police are in its team
    joined = client.post(
        f"/v1/cases/{case.case_id}/team",
        json={"partnerId": BUURTTEAM_OFFICER[0]},
        headers=auth(*CASE_MANAGER),
    )
    assert joined.status_code in (200, 201), joined.text
    return case


def _set(client: TestClient, auth: Auth, case: UtrechtCase, who: tuple[str, str]) -> None:
    held = client.post(
        f"/v1/cases/{case.case_id}/retention/legal-hold",
        json={"reason": REASON},
        headers=auth(*who, user="setter-1"),
    )
    assert held.status_code == 201, held.text


def _lift(client: TestClient, auth: Auth, case: UtrechtCase, who: tuple[str, str]) -> Any:
    return client.post(
        f"/v1/cases/{case.case_id}/retention/legal-hold/lift",
        json={"reason": "Zaak is afgerond"},
        headers=auth(*who, user="lifter-1"),
    )


def _stored(context: GatewayContext, case_id: str) -> tuple[bool, list[tuple[str, bool]], int]:
    """The case's hold flag, its holds (setter, lifted) and its lift audit entries."""
    with context.session_factory() as session:
        flag = session.scalars(
            select(RetentionCase.on_hold).where(RetentionCase.case_id == case_id)
        ).one()
        holds = [
            (h.set_by, h.lifted_at is not None)
            for h in session.scalars(select(RetentionHold).where(RetentionHold.case_id == case_id))
        ]
        lifts = session.scalars(
            select(AuditRecord.activity).where(
                AuditRecord.case_id == case_id, AuditRecord.activity == "legal-hold-lifted"
            )
        ).all()
    return flag, holds, len(lifts)


@pytest.mark.parametrize(
    "who", [CASE_MANAGER, LEAD_OFFICER, BUURTTEAM_OFFICER], ids=lambda w: "/".join(w)
)
def test_another_partner_may_not_lift_the_polices_hold(
    client: TestClient, auth: Auth, context: GatewayContext, who: tuple[str, str]
) -> None:
    case = _case(client, auth)
    _set(client, auth, case, POLICE_OFFICER)
    before = _stored(context, case.case_id)
    assert before == (True, [(f"{POLICE_OFFICER[0]}/privacy-officer/setter-1", False)], 0)
    refused = _lift(client, auth, case, who)
    assert refused.status_code == 403, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["detail"] == REFUSED
    assert "politie" not in refused.text.lower()
    assert "onderzoek" not in refused.text
    # Nothing stored changed: the hold, the flag the sweep reads, the audit log.
    assert _stored(context, case.case_id) == before
    state = client.get(f"/v1/cases/{case.case_id}/retention", headers=auth(*POLICE_OFFICER))
    assert state.json()["status"] == "on-hold"
    assert state.json()["legalHold"]["reason"] == REASON


def test_control_the_polices_privacy_officer_lifts_its_hold(
    client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    case = _case(client, auth)
    _set(client, auth, case, POLICE_OFFICER)
    assert _lift(client, auth, case, CASE_MANAGER).status_code == 403
    lifted = _lift(client, auth, case, POLICE_OFFICER)
    assert lifted.status_code == 200, lifted.text
    assert lifted.json()["liftedBy"] == "politie-midden-nederland/privacy-officer/lifter-1"
    assert _stored(context, case.case_id)[0::2] == (False, 1)
    state = client.get(f"/v1/cases/{case.case_id}/retention", headers=auth(*CASE_MANAGER))
    assert state.json()["status"] != "on-hold"
    assert state.json()["legalHold"] is None


def test_a_role_of_the_setting_partner_without_legal_hold_may_not_lift_it(
    client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    """The setting partner lifts it with the roles that may set one (legalHold): the
    wijkagent may not, as before."""
    case = _case(client, auth)
    _set(client, auth, case, POLICE_OFFICER)
    refused = _lift(client, auth, case, WIJKAGENT)
    assert refused.status_code == 403, refused.text
    assert "legalHold" in refused.json()["detail"]
    assert _stored(context, case.case_id)[0::2] == (True, 0)


@pytest.mark.parametrize("lifter", [CASE_MANAGER, LEAD_OFFICER], ids=lambda w: "/".join(w))
def test_the_leads_hold_is_lifted_by_the_lead_and_not_by_the_police(
    client: TestClient, auth: Auth, context: GatewayContext, lifter: tuple[str, str]
) -> None:
    """The other way round: the police's officer may not lift the lead's hold; each of the
    lead partner's legalHold roles may (control)."""
    case = _case(client, auth)
    _set(client, auth, case, CASE_MANAGER)
    refused = _lift(client, auth, case, POLICE_OFFICER)
    assert refused.status_code == 403, refused.text
    assert refused.json()["detail"] == REFUSED
    assert _stored(context, case.case_id)[0::2] == (True, 0)
    lifted = _lift(client, auth, case, lifter)
    assert lifted.status_code == 200, lifted.text
    assert _stored(context, case.case_id)[0::2] == (False, 1)
