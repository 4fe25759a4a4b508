"""Privacy officers see what their organisation is accountable for (issue 14 item 9).

A partner's privacy officer sees the entries where its partner asked, received, or had its
data disclosed; only the covenant's coordinating privacy officer (``coordinatingPrivacyOfficer``
in the covenant file: the municipality) sees the whole covenant. So no officer learns
whether a person figures in another partner's cases. Every access report is itself audited.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from gateway.audit import Actor, ProcessingActivity
from gateway.audit.models import AuditRecord
from gateway.context import GatewayContext
from gateway.db import transaction
from gateway.policy.covenant import parse_covenant
from gateway.policy.errors import CovenantError

from .builders import disclosure

Auth = Callable[..., dict[str, str]]
BSN = "123456782"
COORDINATOR = ("gemeente-utrecht", "privacy-officer")
POLICE_OFFICER = ("politie-midden-nederland", "privacy-officer")
CASE_LEAD_OFFICER = ("u-centraal", "privacy-officer")
CORPORATION_OFFICER = ("mitros", "privacy-officer")
OTHER_CORPORATION_OFFICER = ("portaal", "privacy-officer")


def _record(context: GatewayContext) -> None:
    """Entry 0: the police disclosed to U Centraal. Entry 1: Mitros asked and was denied.
    Both about the same person. Without categories or clauses: of an entry's categories the
    access report names those that concern the person's role in the case (there is no case
    here; tests/audit/test_access_report_concerns.py), this file is about whose entries."""
    log = context.audit
    subject = log.data_subject(identifier_type="bsn", identifier=BSN)
    bare: dict[str, Any] = {
        "disclosed": (),
        "redacted": (),
        "processing": ProcessingActivity(covenant_id="utrecht-extreme-woonoverlast"),
    }
    with transaction(context.session_factory) as session:
        log.append(session=session, entry=disclosure(0, data_subject=subject, **bare))
        log.append(
            session=session,
            entry=disclosure(
                1,
                data_subject=subject,
                outcome="denied",
                requester=Actor(partner_id="mitros", role="woonconsulent"),
                recipient=None,
                data_owners=(),
                **bare,
            ),
        )


def _report(client: TestClient, auth: Auth, who: tuple[str, str]) -> dict[str, Any]:
    response = client.post(
        "/v1/audit/access-report",
        json={"identifierType": "bsn", "identifier": BSN},
        headers=auth(*who),
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _disclosure_lines(report: dict[str, Any]) -> list[int]:
    return [line["index"] for line in report["lines"] if line["activity"] != "access-report"]


def test_an_uninvolved_partners_officer_learns_nothing_of_the_person_and_involved_ones_do(
    client: TestClient, context: GatewayContext, auth: Auth
) -> None:
    _record(context)
    # Portaal neither asked, received nor disclosed: its officer sees no line at all.
    portaal = _report(client, auth, OTHER_CORPORATION_OFFICER)
    assert portaal["lines"] == []
    assert portaal["partnerId"] == "portaal"
    # Positive controls: the source (police), the recipient (U Centraal), the asker (Mitros).
    assert _disclosure_lines(_report(client, auth, POLICE_OFFICER)) == [0]
    assert _disclosure_lines(_report(client, auth, CASE_LEAD_OFFICER)) == [0]
    assert _disclosure_lines(_report(client, auth, CORPORATION_OFFICER)) == [1]


def test_the_coordinating_privacy_officer_sees_the_whole_covenant(
    client: TestClient, context: GatewayContext, auth: Auth
) -> None:
    _record(context)
    report = _report(client, auth, COORDINATOR)
    assert report["partnerId"] is None
    assert _disclosure_lines(report) == [0, 1]


def test_every_access_report_is_audited_with_who_asked_and_about_whom(
    client: TestClient, context: GatewayContext, auth: Auth
) -> None:
    _record(context)
    _report(client, auth, OTHER_CORPORATION_OFFICER)
    with context.session_factory() as session:
        rows = session.execute(
            select(AuditRecord.activity, AuditRecord.requester_partner, AuditRecord.body).where(
                AuditRecord.activity == "access-report"
            )
        ).all()
    assert len(rows) == 1
    activity, requester, body = rows[0]
    assert (activity, requester) == ("access-report", "portaal")
    assert BSN not in body
    subject = context.audit.data_subject(identifier_type="bsn", identifier=BSN)
    assert subject.pseudonym in body
    # The coordinating officer sees who looked the person up; the police's officer does not
    # see Portaal's look-up (Portaal's own officer does).
    seen = _report(client, auth, COORDINATOR)["lines"]
    assert ("access-report", "portaal") in [(line["activity"], line["requester"]) for line in seen]
    police = _report(client, auth, POLICE_OFFICER)["lines"]
    assert "portaal" not in [line["requester"] for line in police]
    own = _report(client, auth, OTHER_CORPORATION_OFFICER)["lines"]
    assert [(line["activity"], line["requester"]) for line in own] == [("access-report", "portaal")]


def test_search_export_and_activity_are_scoped_like_the_access_report(
    client: TestClient, context: GatewayContext, auth: Auth
) -> None:
    _record(context)

    def search(who: tuple[str, str]) -> list[int]:
        response = client.post(
            "/v1/audit/entries/search",
            json={"dataSubject": {"identifierType": "bsn", "identifier": BSN}},
            headers=auth(*who),
        )
        assert response.status_code == 200, response.text
        return [entry["index"] for entry in response.json()["entries"]]

    assert search(OTHER_CORPORATION_OFFICER) == []
    assert search(CORPORATION_OFFICER) == [1]
    assert search(COORDINATOR) == [0, 1]
    export = client.post("/v1/audit/entries/export", json={}, headers=auth(*POLICE_OFFICER))
    assert len(export.text.splitlines()) == 1
    activity = client.get(
        "/v1/audit/partner-activity?period=day", headers=auth(*OTHER_CORPORATION_OFFICER)
    )
    assert activity.json()["rows"] == []
    activity = client.get("/v1/audit/partner-activity?period=day", headers=auth(*COORDINATOR))
    assert {row["partnerId"] for row in activity.json()["rows"]} == {"u-centraal", "mitros"}


def test_receipts_follow_the_same_scope(
    client: TestClient, context: GatewayContext, auth: Auth
) -> None:
    _record(context)
    refused = client.get("/v1/audit/receipts/0", headers=auth(*OTHER_CORPORATION_OFFICER))
    assert refused.status_code == 404
    assert client.get("/v1/audit/receipts/0", headers=auth(*COORDINATOR)).status_code == 200
    assert client.get("/v1/audit/receipts/0", headers=auth(*POLICE_OFFICER)).status_code == 200


def _covenant_with(coordinating: str) -> str:
    text = Path(__file__).parents[2] / "policies/utrecht-extreme-woonoverlast/covenant.yaml"
    return text.read_text(encoding="utf-8").replace(
        "coordinatingPrivacyOfficer: gemeente-utrecht",
        f"coordinatingPrivacyOfficer: {coordinating}",
    )


def test_the_coordinating_privacy_officer_must_be_a_partner_of_the_covenant() -> None:
    with pytest.raises(CovenantError, match="unknown partner 'het-vierde-huis'"):
        parse_covenant(_covenant_with("het-vierde-huis"))
    assert parse_covenant(_covenant_with("u-centraal")).coordinating_privacy_officer == (
        "u-centraal"
    )
