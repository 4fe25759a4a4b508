"""Small builders for case tests: request bodies, principals, facts that satisfy a guard."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from gateway.audit.models import AuditRecord
from gateway.auth.principal import Principal
from gateway.auth.service import PartnerDirectory
from gateway.cases.definition import Fact
from gateway.context import GatewayContext
from gateway.policy.covenant import load_covenants

# Valid BSNs (elfproef) used as test identities; never real people.
BSN_CAUSER = "111222333"
BSN_COMPLAINANT = "123456782"
CAUSER_NAME = "Jan Testpersoon"
STREET = "Teststraat"


def report_body(
    *,
    postcode: str = "3511 AB",
    number: int = 12,
    ownership: str = "corporation",
    corporation: str | None = "mitros",
    district: str = "Oost",
    persons: list[dict[str, Any]] | None = None,
    description: str = "Geluidsoverlast en bedreiging van de buren door Jan Testpersoon.",
    received_at: datetime | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "dwelling": {
            "address": {
                "postcode": postcode,
                "houseNumber": number,
                "street": STREET,
                "city": "Utrecht",
            },
            "ownership": ownership,
            "district": district,
        },
        "persons": persons
        if persons is not None
        else [
            {"role": "causer", "bsn": BSN_CAUSER, "name": CAUSER_NAME},
            {"role": "complainant", "bsn": BSN_COMPLAINANT},
        ],
        "report": {"channel": "form", "description": description},
    }
    if corporation is not None:
        body["dwelling"]["corporationId"] = corporation
    if received_at is not None:
        body["report"]["receivedAt"] = received_at.isoformat()
    return body


#: Rijswijk's causer's landlord, who leads the cases it files (R §3.2.2, ``lead: source-partner``).
RIJSWIJK_LANDLORD = ("rijswijk-wonen", "woonconsulent")
RIJSWIJK_MUNICIPALITY = ("gemeente-rijswijk", "casemanager")


def rijswijk_case_led_by_the_landlord(
    client: Any, auth: Any, *, team: tuple[str, ...] = (), causer: bool = True
) -> str:
    """A Rijswijk case the causer's landlord files, so it leads it, with ``team`` added by
    it; the causer named by BSN unless ``causer`` is false. Returns the case id."""
    filed = client.post(
        "/v1/reports",
        json={
            "dwelling": {
                "address": {"postcode": "2281 AA", "houseNumber": 4},
                "ownership": "corporation",
                "corporationId": "rijswijk-wonen",
                "district": "Te Werve",
            },
            "persons": [{"role": "causer", "bsn": BSN_CAUSER}] if causer else [],
            "report": {"channel": "form", "description": "Overlast."},
        },
        headers=auth(*RIJSWIJK_LANDLORD),
    )
    assert filed.status_code == 201, filed.text
    case_id: str = filed.json()["caseId"]
    for partner in team:
        added = client.post(
            f"/v1/cases/{case_id}/team",
            json={"partnerId": partner},
            headers=auth(*RIJSWIJK_LANDLORD),
        )
        assert added.status_code == 200, added.text
    return case_id


#: The packaged covenants' partners and roles: the one source principals are built from.
PARTNERS = PartnerDirectory.from_covenants(load_covenants().values())


def principal(partner: str, kind: str, role: str, covenant: str, user: str = "u-1") -> Principal:
    """The principal the gateway builds for ``partner`` in ``role``; ``kind`` and ``covenant``
    are checked against the covenant file, so a test cannot invent a grant."""
    built = PARTNERS.principal(
        partner_id=partner,
        role=role,
        user=user,
        token_id="test",
        expires_at=datetime.now(UTC) + timedelta(minutes=5),
    )
    assert (built.partner_kind, built.covenant_id) == (kind, covenant)
    return built


#: A value for each fact that satisfies the guards reading it.
VALID_FACTS: dict[Fact, tuple[str, Any]] = {
    "reason": ("reason", "Onherstelbare situatie."),
    "oggz-check": ("oggzCheck", {"targetGroup": False, "referred": False}),
    "both-sides-heard": ("bothSidesHeard", True),
    "mediation-screening": (
        "mediationScreening",
        {"crime": False, "seriousPsychosocial": False, "multiProblem": False},
    ),
    "breach-established": ("breachEstablished", True),
    "amount-eur": ("amountEur", 1000),
    "days": ("days", 5),
    "measure": ("measure", "behavioural-order"),
    "adult": ("adult", True),
    # At once by the source (R Bijlage D fase 4c); previous-steps-failed needs the
    # extension or the eviction's term ended (review8a F8).
    "ground": ("ground", "serious-offences"),
    "result": (
        "result",
        {
            "neighboursJudgement": "improved",
            "partnersJudgement": "resolved",
            "aftercare": "aftercare-plan",
        },
    ),
}


def valid_facts(requires: list[Fact]) -> dict[str, Any]:
    return dict(VALID_FACTS[f] for f in requires)


def audit_activities(context: GatewayContext, case_id: str | None = None) -> list[str]:
    """The activities recorded in the audit log (for one case), in log order."""
    statement = select(AuditRecord.activity).order_by(AuditRecord.index)
    if case_id is not None:
        statement = statement.where(AuditRecord.case_id == case_id)
    with context.session_factory() as session:
        return list(session.scalars(statement))


def listed_deadlines(client: Any, headers: dict[str, str]) -> list[dict[str, Any]]:
    """Every item of ``GET /v1/deadlines``, following ``_links.next`` page by page."""
    items: list[dict[str, Any]] = []
    href: str | None = "/v1/deadlines"
    while href is not None:
        response = client.get(href, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["_embedded"]["deadlines"]
        href = body["_links"].get("next", {}).get("href")
    return items


def file_report(client: Any, auth: Any, who: tuple[str, str]) -> Any:
    """One report about the same Rijswijk dwelling (a corporation's, no persons) by ``who``
    (partner, role) through the API; the response's JSON."""
    body = report_body(
        postcode="2281 AW",
        number=40,
        corporation="rijswijk-wonen",
        district="Rijswijk-Zuid",
        persons=[],
    )
    response = client.post("/v1/reports", json=body, headers=auth(*who))
    assert response.status_code in (200, 201, 202), response.text
    return response.json()


def rijswijk_to_integrated_approach(client: Any, auth: Any, case_id: str) -> None:
    """Move a Rijswijk case from intake into ``integrated-approach`` (R Bijlage D fase 2b):
    classified complex by its lead (the lead moves to the municipality, R §3.2.3), then the
    municipality's case manager forms the team and weighs it serious after hearing both
    sides. The case needs a team of more than one partner besides the municipality."""
    steps = [
        (RIJSWIJK_LANDLORD, {"transition": "classify-complex"}),
        (RIJSWIJK_MUNICIPALITY, {"transition": "form-team"}),
        (RIJSWIJK_MUNICIPALITY, {"transition": "weigh-serious", "bothSidesHeard": True}),
    ]
    for who, body in steps:
        moved = client.post(f"/v1/cases/{case_id}/transitions", json=body, headers=auth(*who))
        assert moved.status_code == 200, moved.text
    assert moved.json()["state"] == "integrated-approach"
