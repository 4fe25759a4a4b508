"""Owner-occupied and private dwellings go to the municipality (issue 16; Rijswijk, R §2.3).

R §2.3: "Bij koop- of particuliere woningen is de gemeente het eerste aanspreekpunt". A report
about such a dwelling opens a case the municipality leads, whoever received the report, and
the municipality is told (a notice in its inbox and on the case). Controls: a rented
corporation dwelling keeps the landlord-first path (the receiving partner holds the case until
the landlord takes it up); the municipality filing the report itself is told nothing; a
tenure that is not recorded opens no case.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from itertools import count
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from gateway.audit.models import AuditRecord
from gateway.cases.definition import Intake
from gateway.cases.errors import InvalidCaseData
from gateway.cases.intake import FIRST_CONTACT_NOTICE, _lead_for
from gateway.cases.models import CaseFile
from gateway.context import GatewayContext
from gateway.db import transaction
from tests.cases.builders import report_body

Auth = Callable[..., dict[str, str]]
MAYOR = ("gemeente-rijswijk", "casemanager")
MAYOR_ADAPTER = ("gemeente-rijswijk", "adapter")
RW = ("rijswijk-wonen", "woonconsulent")
POLICE = ("politie-den-haag", "wijkagent")
_numbers = count(1)


def _body(ownership: str) -> dict[str, Any]:
    return report_body(
        postcode="2284 FC",
        number=next(_numbers),
        ownership=ownership,
        corporation="rijswijk-wonen" if ownership == "corporation" else None,
        district="Rijswijk-Zuid",
        persons=[],
    )


def _report(client: TestClient, auth: Auth, who: tuple[str, str], ownership: str) -> str:
    created = client.post("/v1/reports", json=_body(ownership), headers=auth(*who))
    assert created.status_code == 201, created.text
    case_id: str = created.json()["caseId"]
    return case_id


def _notices(client: TestClient, auth: Auth, who: tuple[str, str]) -> list[dict[str, Any]]:
    inbox = client.get("/v1/inbox", headers=auth(*who))
    assert inbox.status_code == 200, inbox.text
    return [i for i in inbox.json()["items"] if i["kind"] == "notice"]


def _intake_audit(context: GatewayContext, case_id: str) -> dict[str, Any]:
    with transaction(context.session_factory) as session:
        body = session.scalars(
            select(AuditRecord.body).where(
                AuditRecord.case_id == case_id, AuditRecord.activity == "case-intake"
            )
        ).one()
    return _details(json.loads(body))


def _details(value: Any) -> dict[str, Any]:
    """The entry's case-intake details (the dict holding ``created``), wherever nested."""
    if isinstance(value, dict):
        if "created" in value and "channel" in value:
            return value
        for v in value.values():
            found = _details(v)
            if found:
                return found
    return {}


@pytest.mark.parametrize("ownership", ["owner-occupied", "private-rental"])
def test_a_police_report_about_an_owned_or_private_dwelling_is_led_by_the_municipality(
    client: TestClient, auth: Auth, context: GatewayContext, ownership: str
) -> None:
    case_id = _report(client, auth, POLICE, ownership)
    case = client.get(f"/v1/cases/{case_id}", headers=auth(*MAYOR))
    assert case.status_code == 200, case.text
    assert case.json()["leadPartnerId"] == "gemeente-rijswijk"
    # The police that received it stays in the team and sees the case.
    assert client.get(f"/v1/cases/{case_id}", headers=auth(*POLICE)).status_code == 200
    # The municipality is told: a notice in its people's inbox and on the case.
    told = [n for n in _notices(client, auth, MAYOR) if n["caseId"] == case_id]
    assert [n["notice"] for n in told] == [FIRST_CONTACT_NOTICE]
    assert [n["subject"] for n in case.json()["notices"]] == [FIRST_CONTACT_NOTICE]
    assert not [n for n in _notices(client, auth, POLICE) if n["caseId"] == case_id]
    details = _intake_audit(context, case_id)
    assert (details["lead"], details["informed"]) == ("gemeente-rijswijk", "gemeente-rijswijk")
    # Only the lead weighs it: the police is refused, the municipality goes ahead.
    refused = client.post(
        f"/v1/cases/{case_id}/transitions",
        headers=auth(*POLICE),
        json={"transition": "classify-simple"},
    )
    assert refused.status_code == 403, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    moved = client.post(
        f"/v1/cases/{case_id}/transitions",
        headers=auth(*MAYOR),
        json={"transition": "classify-simple"},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["leadPartnerId"] == "gemeente-rijswijk"


def test_the_municipality_filing_itself_leads_without_a_notice(
    client: TestClient, auth: Auth
) -> None:
    case_id = _report(client, auth, MAYOR, "owner-occupied")
    case = client.get(f"/v1/cases/{case_id}", headers=auth(*MAYOR)).json()
    assert case["leadPartnerId"] == "gemeente-rijswijk"
    assert case["notices"] == []


def test_a_rented_corporation_dwelling_keeps_the_landlord_first_path(
    client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    """Control: the municipality does not take a corporation tenant's report at intake."""
    case_id = _report(client, auth, POLICE, "corporation")
    case = client.get(f"/v1/cases/{case_id}", headers=auth(*POLICE)).json()
    assert case["leadPartnerId"] == "politie-den-haag"
    assert case["notices"] == []
    assert client.get(f"/v1/cases/{case_id}", headers=auth(*MAYOR)).status_code == 404
    assert "lead" not in _intake_audit(context, case_id)
    refused = client.post(
        f"/v1/cases/{case_id}/transitions",
        headers=auth(*POLICE),
        json={"transition": "classify-simple"},
    )
    assert refused.status_code == 409
    assert refused.json()["guard"] == "landlord-first"
    taken = client.post(
        f"/v1/cases/{case_id}/transitions",
        headers=auth(*RW),
        json={"transition": "landlord-takes-up"},
    )
    assert taken.status_code == 200, taken.text
    assert taken.json()["leadPartnerId"] == "rijswijk-wonen"


@pytest.mark.parametrize("ownership", ["unknown", None])
def test_a_report_without_a_recorded_tenure_opens_no_case(
    client: TestClient, auth: Auth, context: GatewayContext, ownership: str | None
) -> None:
    with transaction(context.session_factory) as session:
        before = session.scalar(select(func.count()).select_from(CaseFile))
    body = _body("owner-occupied")
    if ownership is None:
        del body["dwelling"]["ownership"]
    else:
        body["dwelling"]["ownership"] = ownership
    refused = client.post("/v1/reports", json=body, headers=auth(*POLICE))
    assert refused.status_code in (400, 422), refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    with transaction(context.session_factory) as session:
        assert session.scalar(select(func.count()).select_from(CaseFile)) == before
    # Positive control: the same report with its tenure on record opens a case.
    body["dwelling"]["ownership"] = "owner-occupied"
    assert client.post("/v1/reports", json=body, headers=auth(*POLICE)).status_code == 201


def _runtime(first_contact: dict[str, str]) -> Any:
    intake = Intake.model_validate(
        {
            "source": "test",
            "lead": "source-partner",
            "team": ["lead"],
            "firstContact": first_contact,
        }
    )
    return SimpleNamespace(
        workflow=lambda _covenant: SimpleNamespace(intake=intake),
        partners_of_kind=lambda _covenant, kind: ["gemeente-x"] if kind == "municipality" else [],
    )


def test_a_tenure_the_first_contact_map_does_not_name_is_refused() -> None:
    """Fail closed: with the map set, a tenure it does not know gets no lead at all (not the
    receiving partner's)."""
    principal = SimpleNamespace(partner_id="politie-x")
    runtime = _runtime({"owner-occupied": "municipality"})
    with pytest.raises(InvalidCaseData, match="tenure is not recorded"):
        _lead_for(runtime, "c", principal, "private-rental")  # type: ignore[arg-type]
    with pytest.raises(InvalidCaseData, match="tenure is not recorded"):
        _lead_for(runtime, "c", principal, "unknown")  # type: ignore[arg-type]
    # Controls: the named tenure goes to the municipality, a corporation's to the receiver.
    assert _lead_for(runtime, "c", principal, "owner-occupied") == "gemeente-x"  # type: ignore[arg-type]
    assert _lead_for(runtime, "c", principal, "corporation") == "politie-x"  # type: ignore[arg-type]
    # A kind the covenant has no partner of leads nobody.
    with pytest.raises(InvalidCaseData, match="no partner of kind"):
        _lead_for(_runtime({"owner-occupied": "care"}), "c", principal, "owner-occupied")  # type: ignore[arg-type]
