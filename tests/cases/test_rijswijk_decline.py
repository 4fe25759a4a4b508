"""Rijswijk's lead declines a report outside the covenant's scope (review8a F7).

R §2.1: "Deze aanpak woonoverlast is gericht op overlast tussen buren. Andere vormen van
overlast, zoals overlast van jeugdgroepen of geluidsoverlast van bedrijven e.d. vallen hier
niet onder." Bijlage C: "Melding afhandelen en dossier sluiten". Before, such a report had to
be classified (simple or complex, which it is not) and closed with a U §7 judgement, or left
open for a year holding a BSN and an address: ``decline`` was "not a transition of this
covenant" (422). Now the lead declines it with a reason, as Utrecht's ``decline``; others are
refused, and a corporation dwelling waits for its landlord first, as on the classifying steps.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from itertools import count
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from gateway.cases.calendar import add_months
from gateway.context import GatewayContext
from gateway.retention.models import RetentionCase
from gateway.retention.sanctions import SANCTION_WITHHELD_REASON
from tests.cases.builders import report_body

Auth = Callable[..., dict[str, str]]
MAYOR = ("gemeente-rijswijk", "casemanager")
RW = ("rijswijk-wonen", "woonconsulent")
POLICE = ("politie-den-haag", "wijkagent")
AMS = ZoneInfo("Europe/Amsterdam")
OUT_OF_SCOPE = "Jongeren hangen rond op straat: overlast van een jeugdgroep, geen burenoverlast."
_numbers = count(1)


def _report(client: TestClient, auth: Auth, who: tuple[str, str], ownership: str) -> str:
    body = report_body(
        postcode="2284 FC",
        number=next(_numbers),
        ownership=ownership,
        corporation="rijswijk-wonen" if ownership == "corporation" else None,
        district="Rijswijk-Zuid",
        persons=[],
        description=OUT_OF_SCOPE,
    )
    created = client.post("/v1/reports", json=body, headers=auth(*who))
    assert created.status_code == 201, created.text
    case_id: str = created.json()["caseId"]
    return case_id


def _decline(
    client: TestClient, auth: Auth, case_id: str, who: tuple[str, str], **facts: Any
) -> Any:
    return client.post(
        f"/v1/cases/{case_id}/transitions",
        headers=auth(*who),
        json={"transition": "decline", **facts},
    )


def test_the_lead_declines_an_out_of_scope_report_and_the_dossier_closes(
    client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    case_id = _report(client, auth, MAYOR, "owner-occupied")
    case = client.get(f"/v1/cases/{case_id}", headers=auth(*MAYOR)).json()
    assert "decline" in [t["id"] for t in case["allowedTransitions"]]
    # A reason is required (what the decision rests on), and a blank one is none.
    for facts, status in (({}, 422), ({"reason": "  "}, 400)):
        refused = _decline(client, auth, case_id, MAYOR, **facts)
        assert refused.status_code == status, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
    assert client.get(f"/v1/cases/{case_id}", headers=auth(*MAYOR)).json()["state"] == "intake"
    declined = _decline(client, auth, case_id, MAYOR, reason="Valt buiten de aanpak (R §2.1).")
    assert declined.status_code == 200, declined.text
    assert declined.json()["state"] == "closed"
    # Closed, with a closing moment, no U §7 judgement, and retention dated from the closure:
    # the unsanctioned rule (closure + the configurable 12 months), not the open-case rule.
    # The lead's case manager reads neither: the closed-case rules choose by sanctions, and
    # in a case declined at intake no clause ever showed it the landlord's measures (review11
    # N1, docs/retention.md); the register holds the rule and its dates.
    retention = client.get(f"/v1/cases/{case_id}/retention", headers=auth(*MAYOR))
    assert retention.status_code == 200, retention.text
    body = retention.json()
    assert (body["ruleId"], body["sourceDate"], body["dueOn"]) == (None, None, None)
    assert body["reason"] == SANCTION_WITHHELD_REASON
    today = datetime.now(AMS).date()
    with context.session_factory() as session:
        kept = session.get(RetentionCase, case_id)
        assert kept is not None
        assert kept.rule_id == "R-3.4-zonder-sancties"
        assert kept.source_date == today
        assert kept.due_on == add_months(today, 12)
    # Nothing more happens to it.
    again = client.post(
        f"/v1/cases/{case_id}/transitions",
        headers=auth(*MAYOR),
        json={"transition": "classify-simple"},
    )
    assert again.status_code == 409, again.text


def test_only_the_lead_declines(client: TestClient, auth: Auth) -> None:
    # The police received it; the municipality leads (R §2.3, owner-occupied). The police is
    # in the team and sees the case, but does not decide on it.
    case_id = _report(client, auth, POLICE, "owner-occupied")
    refused = _decline(client, auth, case_id, POLICE, reason="Geen burenoverlast.")
    assert refused.status_code == 403, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert client.get(f"/v1/cases/{case_id}", headers=auth(*MAYOR)).json()["state"] == "intake"
    # Positive control: the lead.
    moved = _decline(client, auth, case_id, MAYOR, reason="Geen burenoverlast.")
    assert moved.status_code == 200, moved.text
    assert moved.json()["state"] == "closed"


def test_a_corporation_dwelling_waits_for_its_landlord_first(
    client: TestClient, auth: Auth
) -> None:
    # R §2.3: for a rented corporation dwelling the landlord is the first point of contact;
    # the police that received the report does not decline it before the landlord has it.
    case_id = _report(client, auth, POLICE, "corporation")
    refused = _decline(client, auth, case_id, POLICE, reason="Geen burenoverlast.")
    assert refused.status_code == 409, refused.text
    assert refused.json()["guard"] == "landlord-first"
    taken = client.post(
        f"/v1/cases/{case_id}/transitions",
        headers=auth(*RW),
        json={"transition": "landlord-takes-up"},
    )
    assert taken.status_code == 200, taken.text
    moved = _decline(client, auth, case_id, RW, reason="Geen burenoverlast.")
    assert moved.status_code == 200, moved.text
    assert moved.json()["state"] == "closed"
