"""The audit API as partners and privacy officers see it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from gateway.audit import Actor, AuditLog, ProcessingActivity
from gateway.context import GatewayContext
from gateway.db import transaction

from .builders import disclosure

Auth = Callable[..., dict[str, str]]
BSN = "123456782"


def record(context: GatewayContext, count: int, **overrides: object) -> AuditLog:
    log = context.audit
    subject = log.data_subject(identifier_type="bsn", identifier=BSN)
    values: dict[str, object] = {"data_subject": subject, **overrides}
    with transaction(context.session_factory) as session:
        for number in range(count):
            log.append(session=session, entry=disclosure(number, **values))
    return log


class TestReceipts:
    def test_requester_gets_a_receipt_with_proof_after_the_checkpoint(
        self, client: TestClient, context: GatewayContext, auth: Auth
    ) -> None:
        log = record(context, 5)
        response = client.get("/v1/audit/receipts/3", headers=auth("u-centraal", "casemanager"))
        assert response.status_code == 200
        assert response.json()["inclusionProof"] is None
        log.sign_checkpoint(context.session_factory)
        body = client.get("/v1/audit/receipts/3", headers=auth("u-centraal", "casemanager")).json()
        assert body["index"] == 3
        assert body["checkpoint"]["treeSize"] == 5
        assert len(body["inclusionProof"]) == 3

    def test_data_owner_may_fetch_but_an_uninvolved_partner_may_not(
        self, client: TestClient, context: GatewayContext, auth: Auth
    ) -> None:
        record(context, 1)
        owner = client.get(
            "/v1/audit/receipts/0", headers=auth("politie-midden-nederland", "wijkagent")
        )
        assert owner.status_code == 200
        stranger = client.get("/v1/audit/receipts/0", headers=auth("mitros", "woonconsulent"))
        assert stranger.status_code == 404
        assert stranger.headers["content-type"].startswith("application/problem+json")

    def test_without_a_token_there_is_no_receipt(self, client: TestClient) -> None:
        assert client.get("/v1/audit/receipts/0").status_code == 401


class TestPrivacyOfficerSearch:
    def test_search_by_data_subject_uses_the_body_never_the_url(
        self, client: TestClient, context: GatewayContext, auth: Auth
    ) -> None:
        record(context, 3)
        record(context, 2, data_subject=None)
        response = client.post(
            "/v1/audit/entries/search",
            json={"dataSubject": {"identifierType": "bsn", "identifier": BSN}},
            headers=auth("gemeente-utrecht", "privacy-officer"),
        )
        assert response.status_code == 200
        entries = response.json()["entries"]
        assert [e["index"] for e in entries] == [0, 1, 2]
        assert BSN not in response.text

    def test_search_by_clause_partner_and_outcome(
        self, client: TestClient, context: GatewayContext, auth: Auth
    ) -> None:
        record(context, 2)
        record(context, 1, outcome="denied", requester=Actor(partner_id="mitros"))
        response = client.post(
            "/v1/audit/entries/search",
            json={"clauseId": "U-5.3-geweld", "partnerId": "mitros", "outcome": "denied"},
            headers=auth("gemeente-utrecht", "privacy-officer"),
        )
        assert [e["index"] for e in response.json()["entries"]] == [2]

    def test_other_roles_may_not_search(self, client: TestClient, auth: Auth) -> None:
        response = client.post(
            "/v1/audit/entries/search", json={}, headers=auth("u-centraal", "casemanager")
        )
        assert response.status_code == 403

    def test_officers_see_only_their_own_covenant(
        self, client: TestClient, context: GatewayContext, auth: Auth
    ) -> None:
        record(context, 2)
        utrecht = "utrecht-extreme-woonoverlast"
        other = next(c for c in context.covenants.values() if c.id != utrecht)
        response = client.post(
            "/v1/audit/entries/search",
            json={},
            headers=auth(other.partners[0].id, "privacy-officer"),
        )
        assert response.json()["entries"] == []

    def test_exports_as_json_lines_and_csv(
        self, client: TestClient, context: GatewayContext, auth: Auth
    ) -> None:
        record(context, 3)
        jsonl = client.post(
            "/v1/audit/entries/export?format=jsonl",
            json={},
            headers=auth("gemeente-utrecht", "privacy-officer"),
        )
        assert len(jsonl.text.splitlines()) == 3
        csv = client.post(
            "/v1/audit/entries/export?format=csv",
            json={},
            headers=auth("gemeente-utrecht", "privacy-officer"),
        )
        lines = csv.text.splitlines()
        assert lines[0].startswith("index,recordedAt,activity")
        assert len(lines) == 4


class TestReports:
    def test_access_report_lists_every_disclosure_about_the_person(
        self, client: TestClient, context: GatewayContext, auth: Auth
    ) -> None:
        # Without categories or clauses: which of those a line names to the person is
        # tests/audit/test_access_report_concerns.py's (there is no case here).
        processing = ProcessingActivity(
            covenant_id="utrecht-extreme-woonoverlast", purpose="case-handling"
        )
        record(context, 2, disclosed=(), redacted=(), processing=processing)
        response = client.post(
            "/v1/audit/access-report",
            json={"identifierType": "bsn", "identifier": BSN},
            headers=auth("gemeente-utrecht", "privacy-officer"),
        )
        assert response.status_code == 200
        lines = response.json()["lines"]
        assert len(lines) == 2
        assert lines[0]["recipient"] == "u-centraal"
        assert lines[0]["purpose"] == "case-handling"

    def test_an_entry_whose_case_does_not_know_the_person_names_none_of_its_categories(
        self, client: TestClient, context: GatewayContext, auth: Auth
    ) -> None:
        """Unknown is not no: the entries name the person, but no case says what the person
        is in it (erased, or never one of its persons), so no category of them concerns the
        person, and a line whose categories are all left out is left out (review12 F1)."""
        record(context, 2)
        response = client.post(
            "/v1/audit/access-report",
            json={"identifierType": "bsn", "identifier": BSN},
            headers=auth("gemeente-utrecht", "privacy-officer"),
        )
        assert response.status_code == 200
        assert response.json()["lines"] == []
        # The entries are about the person: the officer's search finds them.
        found = client.post(
            "/v1/audit/entries/search",
            json={"dataSubject": {"identifierType": "bsn", "identifier": BSN}},
            headers=auth("gemeente-utrecht", "privacy-officer"),
        )
        entries = found.json()["entries"]
        assert [e["index"] for e in entries if e["activity"] != "access-report"] == [0, 1]

    def test_processing_register_comes_from_the_covenant(
        self, client: TestClient, context: GatewayContext, auth: Auth
    ) -> None:
        response = client.get(
            "/v1/audit/processing-register", headers=auth("gemeente-utrecht", "privacy-officer")
        )
        assert response.status_code == 200
        body = response.json()
        covenant = context.covenants["utrecht-extreme-woonoverlast"]
        assert body["covenantId"] == covenant.id
        assert {a["clauseId"] for a in body["activities"]} == {c.id for c in covenant.clauses}

    def test_partner_activity_flags_many_denials(
        self, client: TestClient, context: GatewayContext, auth: Auth
    ) -> None:
        record(context, 6, outcome="denied", requester=Actor(partner_id="mitros"))
        response = client.get(
            "/v1/audit/partner-activity?period=day",
            headers=auth("gemeente-utrecht", "privacy-officer"),
        )
        rows = response.json()["rows"]
        assert rows[0]["partnerId"] == "mitros"
        assert rows[0]["denials"] == 6
        assert rows[0]["unusual"] is True


@pytest.mark.parametrize(
    ("started", "day"),
    [
        # 00:30 on New Year's Day in Amsterdam, still 31 December in UTC.
        (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), "2027-01-01"),
        (datetime(2026, 7, 31, 22, 30, tzinfo=UTC), "2026-08-01"),  # 00:30, summer time
        # The control: at noon the UTC date and the Dutch date agree.
        (datetime(2026, 12, 31, 12, 0, tzinfo=UTC), "2026-12-31"),
    ],
)
def test_partner_activity_counts_a_request_on_its_dutch_day_and_month(
    client: TestClient, context: GatewayContext, auth: Auth, started: datetime, day: str
) -> None:
    requester = Actor(partner_id="mitros")
    ended = started + timedelta(milliseconds=40)
    record(context, 1, started_at=started, ended_at=ended, requester=requester)
    for period, bucket in (("day", day), ("month", day[:7])):
        response = client.get(
            f"/v1/audit/partner-activity?period={period}",
            headers=auth("gemeente-utrecht", "privacy-officer"),
        )
        assert response.status_code == 200, response.text
        assert [(r["partnerId"], r["period"]) for r in response.json()["rows"]] == [
            ("mitros", bucket)
        ]


def test_the_public_key_and_latest_checkpoint_are_published(
    client: TestClient, context: GatewayContext, auth: Auth
) -> None:
    log = record(context, 2)
    assert client.get("/v1/audit/public-key").json()["keyId"] == log.signer.key_id
    headers = auth("mitros", "woonconsulent")
    assert client.get("/v1/audit/checkpoints/latest", headers=headers).status_code == 404
    log.sign_checkpoint(context.session_factory)
    latest = client.get("/v1/audit/checkpoints/latest", headers=auth("mitros", "woonconsulent"))
    assert latest.json()["treeSize"] == 2
