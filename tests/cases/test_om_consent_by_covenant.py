"""The police register the OM's consent only in a covenant where a clause depends on the
police investigation (``om-consent-if-investigation``): the OM is asked only "indien er een
onderzoek loopt" (U §5.3), so a consent on file says that an investigation runs or ran.

Rijswijk has no such clause. Since acbf06b the police cannot record the investigation status
there (422 ``not-in-covenant``), but they could still register OM consents, and with them
the criminal-law fact the refusal keeps out. Now the same refusal: problem+json, nothing
stored, no audit entry. The positive control is Utrecht, where U-5.3-antecedenten has it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from gateway.context import GatewayContext
from tests.cases.builders import (
    RIJSWIJK_LANDLORD,
    audit_activities,
    rijswijk_case_led_by_the_landlord,
)
from tests.exchange.conftest import ANTECEDENTS, CASE_MANAGER, WIJKAGENT, open_utrecht_case

Auth = Callable[..., dict[str, str]]
RIJSWIJK_POLICE = [("politie-den-haag", "wijkagent"), ("politie-den-haag", "adapter")]
OM_CONSENT = {
    "kind": "om-consent",
    "scope": ["police-registrations"],
    "expiresAt": "2099-01-01T00:00:00Z",
}


def _consent_kinds(context: GatewayContext, case_id: str) -> list[str]:
    from gateway.cases.models import CaseConsent

    with context.session_factory() as session:
        return list(session.scalars(select(CaseConsent.kind).where(CaseConsent.case_id == case_id)))


@pytest.mark.parametrize("body", [OM_CONSENT, {**OM_CONSENT, "granted": False}])
def test_rijswijk_police_cannot_register_an_om_consent_no_clause_depends_on(
    client: TestClient, auth: Auth, context: GatewayContext, body: dict[str, Any]
) -> None:
    case_id = rijswijk_case_led_by_the_landlord(client, auth, team=("politie-den-haag",))
    before = audit_activities(context)
    kinds = _consent_kinds(context, case_id)
    for police in RIJSWIJK_POLICE:
        refused = client.post(
            f"/v1/cases/{case_id}/consents",
            json=body,
            headers={**auth(*police), "Idempotency-Key": f"om-{police[1]}"},
        )
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["type"].endswith("/not-in-covenant")
    assert _consent_kinds(context, case_id) == kinds  # nothing stored
    assert audit_activities(context) == before  # nothing audited
    # Who asks is checked first: a corporation is told that the police register it.
    other = client.post(
        f"/v1/cases/{case_id}/consents", json=body, headers=auth(*RIJSWIJK_LANDLORD)
    )
    assert other.status_code == 403, other.text


def test_rijswijk_police_are_refused_before_the_consent_itself_is_judged(
    client: TestClient, auth: Auth
) -> None:
    """An OM consent without scope or expiry is a 422 invalid-case-data in Utrecht; in
    Rijswijk the covenant answers first, whatever the body says."""
    case_id = rijswijk_case_led_by_the_landlord(client, auth, team=("politie-den-haag",))
    refused = client.post(
        f"/v1/cases/{case_id}/consents",
        json={"kind": "om-consent"},
        headers=auth(*RIJSWIJK_POLICE[0]),
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["type"].endswith("/not-in-covenant")


def test_utrecht_police_register_the_om_consent_and_the_case_manager_reads_it(
    client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    """The positive control: U-5.3-antecedenten (om-consent-if-investigation) is a clause of
    Utrecht, so its police register the OM's consent, stored and audited."""
    case = open_utrecht_case(client, auth)
    before = audit_activities(context, case.case_id)
    recorded = client.post(
        f"/v1/cases/{case.case_id}/consents",
        json={**OM_CONSENT, "scope": [ANTECEDENTS]},
        headers=auth(*WIJKAGENT),
    )
    assert recorded.status_code == 201, recorded.text
    assert _consent_kinds(context, case.case_id).count("om-consent") == 1
    assert audit_activities(context, case.case_id) == [*before, "consent-change"]
    summary = client.get(f"/v1/cases/{case.case_id}", headers=auth(*CASE_MANAGER)).json()
    assert [c["kind"] for c in summary["consents"]].count("om-consent") == 1
