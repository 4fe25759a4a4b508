"""For a rented dwelling the lead returns to its corporation, and the landlord comes first
(issue 16; Rijswijk, R §2.3, Bijlage C, E).

R §2.3: "Bij huurwoningen is de verhuurder het eerste aanspreekpunt voor overlast en de partij
die met de overlast aan de slag gaat" and "Indien deze inzet niet succesvol is bij
huurwoningen, neemt de woningcorporatie de regie weer over en informeert ze de gemeente over
eventuele juridische maatregelen". Bijlage C: "Bij huurwoning overdracht naar
woningcorporatie voor sancties (gedragsaanwijzing of laatste kans beleid)".

Through the API: the hand-over (lead, state, audit entry, the municipality's inbox and case
notices, the policy reading the new lead), its controls (owner-occupied: no hand-over;
another corporation: no lead; unknown tenure: refused), and landlord first at intake with
its positive controls.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from itertools import count
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from gateway.audit.models import AuditRecord
from gateway.cases.models import CaseFile, CaseNotice, Dwelling
from gateway.cases.service import case_policy_facts
from gateway.context import GatewayContext
from gateway.db import transaction
from gateway.demo.clock import date_case_back
from tests.cases.builders import report_body

Auth = Callable[..., dict[str, str]]
MAYOR = ("gemeente-rijswijk", "casemanager")
MAYOR_ADAPTER = ("gemeente-rijswijk", "adapter")
RW = ("rijswijk-wonen", "woonconsulent")
VIDOMES = ("vidomes", "woonconsulent")
POLICE = ("politie-den-haag", "wijkagent")
HAND_OVER = "hand-over-to-corporation"
#: The begunstigingstermijn the mayor gives in these tests' warnings and intentions.
GRACE_DAYS = 14
ATMOSPHERE = "police-atmosphere-report"
_numbers = count(1)


def _move(client: TestClient, who: Any, case_id: str, transition: str, **facts: Any) -> Any:
    return client.post(
        f"/v1/cases/{case_id}/transitions", headers=who, json={"transition": transition, **facts}
    )


def _ok(response: Any) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def _report(
    client: TestClient, auth: Auth, who: tuple[str, str], *, ownership: str = "corporation"
) -> str:
    corporation = "rijswijk-wonen" if ownership == "corporation" else None
    body = report_body(
        postcode="2283 AC",
        number=next(_numbers),
        ownership=ownership,
        corporation=corporation,
        district="Rijswijk-Zuid",
        persons=[],  # each case its own dwelling and nobody known from another case
    )
    created = client.post("/v1/reports", json=body, headers=auth(*who))
    assert created.status_code == 201, created.text
    case_id: str = created.json()["caseId"]
    return case_id


def _case_at_intention(
    client: TestClient, auth: Auth, *, ownership: str = "corporation", police: bool = False
) -> str:
    """A complex case led by the municipality, warned and with the intention announced: the
    point where Bijlage C hands a rented dwelling over."""
    reporter = RW if ownership == "corporation" else MAYOR
    case_id = _report(client, auth, reporter, ownership=ownership)
    _ok(_move(client, auth(*reporter), case_id, "classify-complex"))
    if ownership != "corporation":
        _ok(
            client.post(
                f"/v1/cases/{case_id}/team",
                json={"partnerId": "rijswijk-wonen"},
                headers=auth(*MAYOR),
            )
        )
    if police:
        added = client.post(
            f"/v1/cases/{case_id}/team",
            json={"partnerId": "politie-den-haag"},
            headers=auth(*MAYOR),
        )
        assert added.status_code in (200, 201), added.text
    _ok(_move(client, auth(*MAYOR), case_id, "form-team"))
    _ok(_move(client, auth(*MAYOR), case_id, "weigh-serious", bothSidesHeard=True))
    _ok(_move(client, auth(*MAYOR), case_id, "issue-warning", days=GRACE_DAYS))
    past_the_term(client, case_id)
    case = _ok(_move(client, auth(*MAYOR), case_id, "announce-intention", days=GRACE_DAYS))
    assert (case["state"], case["leadPartnerId"]) == ("warning", "gemeente-rijswijk")
    # The intention's term has passed and the nuisance did not stop (R Bijlage C, E): the
    # hand-over and the behavioural order may follow (review8a F4, test_grace_period.py).
    past_the_term(client, case_id)
    return case_id


def past_the_term(client: TestClient, case_id: str, days: int = GRACE_DAYS + 1) -> None:
    """The case's history dated back past the warning's or the intention's term."""
    context: GatewayContext = client.app.state.context  # type: ignore[attr-defined]
    with transaction(context.session_factory) as session:
        date_case_back(session, case_id, days)


def _notices(client: TestClient, auth: Auth, who: tuple[str, str]) -> list[dict[str, Any]]:
    inbox = client.get("/v1/inbox", headers=auth(*who))
    assert inbox.status_code == 200, inbox.text
    return [i for i in inbox.json()["items"] if i["kind"] == "notice"]


def _audited(context: GatewayContext, case_id: str, activity: str) -> list[dict[str, Any]]:
    with transaction(context.session_factory) as session:
        bodies = session.scalars(
            select(AuditRecord.body).where(
                AuditRecord.case_id == case_id, AuditRecord.activity == activity
            )
        ).all()
    return [json.loads(b) for b in bodies]


def _find(value: Any, key: str) -> Any:
    """``key``'s value anywhere in a decoded audit entry body."""
    if isinstance(value, dict):
        if key in value:
            return value[key]
        for v in value.values():
            found = _find(v, key)
            if found is not None:
                return found
    if isinstance(value, list):
        for v in value:
            found = _find(v, key)
            if found is not None:
                return found
    return None


class TestTheLeadReturnsToTheCorporation:
    def test_the_corporation_takes_the_lead_back_and_the_municipality_is_told(
        self, client: TestClient, auth: Auth, context: GatewayContext
    ) -> None:
        case_id = _case_at_intention(client, auth)
        assert _notices(client, auth, MAYOR) == []
        case = _ok(_move(client, auth(*RW), case_id, HAND_OVER))
        assert (case["state"], case["leadPartnerId"]) == ("corporation-measures", "rijswijk-wonen")
        # An audited case event, naming the lead before and after and whom it told.
        entries = [
            e
            for e in _audited(context, case_id, "workflow-transition")
            if _find(e, "transition") == HAND_OVER
        ]
        assert len(entries) == 1
        assert _find(entries[0], "leadFrom") == "gemeente-rijswijk"
        assert _find(entries[0], "leadTo") == "rijswijk-wonen"
        assert _find(entries[0], "informed") == "gemeente-rijswijk"
        # The municipality is told: its people see it in the inbox (not its adapter, whose
        # long poll would return at once while a notice waits; it reads the case).
        items = _notices(client, auth, MAYOR)
        assert [(i["caseId"], i["notice"], i["requesterPartnerId"]) for i in items] == [
            (case_id, f"transition:{HAND_OVER}", "rijswijk-wonen")
        ]
        assert _notices(client, auth, MAYOR_ADAPTER) == []
        # ... and on the case, which the corporation sees without a notice of its own.
        summary = _ok(client.get(f"/v1/cases/{case_id}", headers=auth(*MAYOR)))
        assert [n["subject"] for n in summary["notices"]] == [f"transition:{HAND_OVER}"]
        assert summary["notices"][0]["readAt"] is None
        assert _ok(client.get(f"/v1/cases/{case_id}", headers=auth(*RW)))["notices"] == []
        # The policy input carries the new lead.
        with transaction(context.session_factory) as session:
            assert case_policy_facts(session, case_id)["case"]["lead"] == "rijswijk-wonen"

    def test_the_corporations_legal_measures_reach_the_municipality_until_read(
        self, client: TestClient, auth: Auth, context: GatewayContext
    ) -> None:
        case_id = _case_at_intention(client, auth)
        _ok(_move(client, auth(*RW), case_id, HAND_OVER))
        recorded = client.post(
            f"/v1/cases/{case_id}/events",
            json={"event": "eviction-procedure"},
            headers=auth(*RW),
        )
        assert recorded.status_code == 201, recorded.text
        subjects = [i["notice"] for i in _notices(client, auth, MAYOR)]
        assert subjects == [f"transition:{HAND_OVER}", "event:eviction-procedure"]
        event_entries = _audited(context, case_id, "case-event")
        assert [_find(e, "informed") for e in event_entries] == ["gemeente-rijswijk"]
        first = _notices(client, auth, MAYOR)[0]["requestId"]
        # Only the addressee marks it read: the corporation and the police get a 404.
        for other in (RW, POLICE):
            refused = client.post(
                f"/v1/cases/{case_id}/notices/{first}/acknowledgement", headers=auth(*other)
            )
            assert refused.status_code == 404, refused.text
            assert refused.headers["content-type"].startswith("application/problem+json")
        read = _ok(
            client.post(
                f"/v1/cases/{case_id}/notices/{first}/acknowledgement", headers=auth(*MAYOR)
            )
        )
        assert read["readAt"] is not None
        again = _ok(
            client.post(
                f"/v1/cases/{case_id}/notices/{first}/acknowledgement", headers=auth(*MAYOR)
            )
        )
        assert again["readAt"] == read["readAt"]
        assert [i["notice"] for i in _notices(client, auth, MAYOR)] == ["event:eviction-procedure"]
        assert len(_audited(context, case_id, "case-notice-read")) == 1

    def test_after_the_hand_over_the_corporation_leads_the_sanctions(
        self, client: TestClient, auth: Auth
    ) -> None:
        case_id = _case_at_intention(client, auth)
        _ok(_move(client, auth(*MAYOR), case_id, HAND_OVER))
        # The municipality handed it over itself: nobody else of its kind to tell.
        assert _notices(client, auth, MAYOR) == []
        refused = _move(
            client, auth(*MAYOR), case_id, "impose-behavioural-order", measure="behavioural-order"
        )
        assert refused.status_code == 403, refused.text
        imposed = _ok(
            _move(
                client,
                auth(*RW),
                case_id,
                "impose-behavioural-order",
                measure="last-chance-contract",
            )
        )
        assert imposed["state"] == "behavioural-order"
        assert imposed["leadPartnerId"] == "rijswijk-wonen"
        # R §2.3: the corporation's legal measure reaches the municipality (the hand-over,
        # its own step, did not: see above).
        assert [n["notice"] for n in _notices(client, auth, MAYOR)] == [
            "transition:impose-behavioural-order"
        ]
        # The mayor's penalty follows the mayor's own order, not the corporation's.
        penalty = _move(
            client, auth(*MAYOR), case_id, "impose-penalty", breachEstablished=True, amountEur=100
        )
        assert penalty.status_code == 403

    def test_what_is_shared_follows_the_new_lead(self, client: TestClient, auth: Auth) -> None:
        """The police's sfeerrapportage goes to the landlord and the case lead (R Bijlage A,
        clause R-A-politie-sfeerrapportage): after the hand-over the municipality no longer
        leads, so it no longer receives it; the corporation does."""

        def ask(case_id: str, who: tuple[str, str]) -> dict[str, Any]:
            response = client.post(
                "/v1/information-requests",
                json={
                    "caseId": case_id,
                    "purpose": "eviction-procedure",
                    "categories": [ATMOSPHERE],
                },
                headers=auth(*who),
            )
            assert response.status_code == 201, response.text
            item: dict[str, Any] = response.json()["items"][0]
            return item

        def eviction_procedure(case_id: str) -> None:
            recorded = client.post(
                f"/v1/cases/{case_id}/events",
                json={"event": "eviction-procedure"},
                headers=auth(*RW),
            )
            assert recorded.status_code == 201, recorded.text

        # Positive control: the mayor's own behavioural order, the municipality still leads.
        kept = _case_at_intention(client, auth, police=True)
        _ok(
            _move(
                client, auth(*MAYOR), kept, "impose-behavioural-order", measure="behavioural-order"
            )
        )
        eviction_procedure(kept)
        assert ask(kept, MAYOR)["state"] == "asked"

        handed = _case_at_intention(client, auth, police=True)
        _ok(_move(client, auth(*RW), handed, HAND_OVER))
        eviction_procedure(handed)
        denied = ask(handed, MAYOR)
        assert denied["state"] == "denied"
        assert denied["reasons"] == ["not-case-lead"], denied
        assert ask(handed, RW)["state"] == "asked"


class TestNoHandOverWithoutTheDwellingsCorporation:
    def test_an_owner_occupied_dwelling_is_not_handed_over(
        self, client: TestClient, auth: Auth
    ) -> None:
        case_id = _case_at_intention(client, auth, ownership="owner-occupied")
        refused = _move(client, auth(*MAYOR), case_id, HAND_OVER)
        assert refused.status_code == 409, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["guard"] == "rented-corporation-dwelling"
        case = _ok(client.get(f"/v1/cases/{case_id}", headers=auth(*MAYOR)))
        assert (case["state"], case["leadPartnerId"]) == ("warning", "gemeente-rijswijk")
        # Positive control of the same path: the mayor's behavioural order for an owner.
        ordered = _move(
            client, auth(*MAYOR), case_id, "impose-behavioural-order", measure="behavioural-order"
        )
        assert _ok(ordered)["state"] == "behavioural-order"

    def test_another_corporation_gets_no_lead(self, client: TestClient, auth: Auth) -> None:
        case_id = _case_at_intention(client, auth)
        # Outside the team the case does not exist for Vidomes.
        assert _move(client, auth(*VIDOMES), case_id, HAND_OVER).status_code == 404
        _ok(
            client.post(
                f"/v1/cases/{case_id}/team", json={"partnerId": "vidomes"}, headers=auth(*MAYOR)
            )
        )
        refused = _move(client, auth(*VIDOMES), case_id, HAND_OVER)
        assert refused.status_code == 409, refused.text
        assert refused.json()["guard"] == "corporation-acts-for-own-tenant"
        case = _ok(client.get(f"/v1/cases/{case_id}", headers=auth(*MAYOR)))
        assert case["leadPartnerId"] == "gemeente-rijswijk"
        # Positive control: the dwelling's own corporation, and the lead goes to it only.
        handed = _ok(_move(client, auth(*RW), case_id, HAND_OVER))
        assert handed["leadPartnerId"] == "rijswijk-wonen"

    def test_an_unknown_tenure_fails_closed(
        self, client: TestClient, auth: Auth, context: GatewayContext
    ) -> None:
        case_id = _case_at_intention(client, auth)
        with transaction(context.session_factory) as session:
            dwelling_id = session.get_one(CaseFile, case_id).dwelling_id
            # A dwelling whose tenure is not recorded (an imported or damaged row).
            session.execute(
                update(Dwelling).where(Dwelling.id == dwelling_id).values(ownership="unknown")
            )
        refused = _move(client, auth(*MAYOR), case_id, HAND_OVER)
        assert refused.status_code == 409, refused.text
        assert refused.json()["guard"] == "rented-corporation-dwelling"
        assert "tenure is not recorded" in refused.json()["detail"]
        case = _ok(client.get(f"/v1/cases/{case_id}", headers=auth(*MAYOR)))
        assert (case["ownership"], case["leadPartnerId"]) == ("unknown", "gemeente-rijswijk")
        with transaction(context.session_factory) as session:
            assert (
                session.scalars(select(CaseNotice).where(CaseNotice.case_id == case_id)).all() == []
            )
            session.execute(
                update(Dwelling).where(Dwelling.id == dwelling_id).values(ownership="corporation")
            )
        # Positive control: the tenure on record again, the same request hands over.
        assert _ok(_move(client, auth(*MAYOR), case_id, HAND_OVER))["leadPartnerId"] == (
            "rijswijk-wonen"
        )

    def test_the_hand_over_comes_after_the_intention(self, client: TestClient, auth: Auth) -> None:
        case_id = _report(client, auth, RW)
        _ok(_move(client, auth(*RW), case_id, "classify-complex"))
        _ok(_move(client, auth(*MAYOR), case_id, "form-team"))
        _ok(_move(client, auth(*MAYOR), case_id, "weigh-serious", bothSidesHeard=True))
        _ok(_move(client, auth(*MAYOR), case_id, "issue-warning", days=GRACE_DAYS))
        past_the_term(client, case_id)
        refused = _move(client, auth(*MAYOR), case_id, HAND_OVER)
        assert refused.status_code == 409
        assert refused.json()["guard"] == "previous-instrument-intention"
        _ok(_move(client, auth(*MAYOR), case_id, "announce-intention", days=GRACE_DAYS))
        past_the_term(client, case_id)
        assert _ok(_move(client, auth(*MAYOR), case_id, HAND_OVER))["state"] == (
            "corporation-measures"
        )


class TestLandlordFirst:
    def test_a_report_about_a_rented_dwelling_waits_for_its_landlord(
        self, client: TestClient, auth: Auth, context: GatewayContext
    ) -> None:
        case_id = _report(client, auth, POLICE)
        for step in ("classify-simple", "classify-complex"):
            refused = _move(client, auth(*POLICE), case_id, step)
            assert refused.status_code == 409, refused.text
            assert refused.headers["content-type"].startswith("application/problem+json")
            problem = refused.json()
            assert problem["guard"] == "landlord-first"
            assert "first point of contact" in problem["detail"]
            assert "landlord-takes-up" in problem["detail"]
        case = _ok(client.get(f"/v1/cases/{case_id}", headers=auth(*POLICE)))
        assert (case["state"], case["leadPartnerId"], case["complexity"]) == (
            "intake",
            "politie-den-haag",
            None,
        )
        # Another corporation cannot stand in for the landlord.
        assert _move(client, auth(*VIDOMES), case_id, "landlord-takes-up").status_code == 404
        # Positive control: the landlord takes the report up and leads; then it is weighed.
        taken = _ok(_move(client, auth(*RW), case_id, "landlord-takes-up"))
        assert (taken["state"], taken["leadPartnerId"]) == ("intake", "rijswijk-wonen")
        weighed = _ok(_move(client, auth(*RW), case_id, "classify-simple"))
        assert (weighed["state"], weighed["complexity"]) == ("own-approach", "simple")
        entries = [
            e
            for e in _audited(context, case_id, "workflow-transition")
            if _find(e, "transition") == "landlord-takes-up"
        ]
        assert [(_find(e, "leadFrom"), _find(e, "leadTo")) for e in entries] == [
            ("politie-den-haag", "rijswijk-wonen")
        ]

    def test_taking_up_keeps_the_48_hour_weighing_clock(
        self, client: TestClient, auth: Auth
    ) -> None:
        case_id = _report(client, auth, POLICE)
        before = _ok(client.get(f"/v1/cases/{case_id}", headers=auth(*POLICE)))
        _ok(_move(client, auth(*RW), case_id, "landlord-takes-up"))
        after = _ok(client.get(f"/v1/cases/{case_id}", headers=auth(*RW)))
        due = {d["deadline"]: d["dueAt"] for d in before["deadlines"]}
        assert {d["deadline"]: d["dueAt"] for d in after["deadlines"]}["weigh-report"] == (
            due["weigh-report"]
        )
        assert after["stateEnteredAt"] == before["stateEnteredAt"]

    def test_a_report_filed_by_the_landlord_needs_no_extra_step(
        self, client: TestClient, auth: Auth
    ) -> None:
        case_id = _report(client, auth, RW)
        assert _ok(_move(client, auth(*RW), case_id, "classify-simple"))["state"] == (
            "own-approach"
        )

    @pytest.mark.parametrize("ownership", ["owner-occupied", "private-rental"])
    def test_owner_occupied_and_private_dwellings_go_to_the_municipality_without_a_landlord(
        self, client: TestClient, auth: Auth, ownership: str
    ) -> None:
        case_id = _report(client, auth, POLICE, ownership=ownership)
        refused = _move(client, auth(*RW), case_id, "landlord-takes-up")
        assert refused.status_code == 404  # no landlord, so the corporation is not involved
        # R §2.3: the municipality is the first point of contact and leads from intake on.
        case = _ok(client.get(f"/v1/cases/{case_id}", headers=auth(*MAYOR)))
        assert case["leadPartnerId"] == "gemeente-rijswijk"
        assert _ok(_move(client, auth(*MAYOR), case_id, "classify-complex"))["state"] == (
            "multi-intake"
        )

    def test_an_unknown_tenure_is_not_weighed_until_it_is_known(
        self, client: TestClient, auth: Auth, context: GatewayContext
    ) -> None:
        case_id = _report(client, auth, POLICE)
        with transaction(context.session_factory) as session:
            dwelling_id = session.get_one(CaseFile, case_id).dwelling_id
            session.execute(
                update(Dwelling).where(Dwelling.id == dwelling_id).values(ownership="unknown")
            )
        refused = _move(client, auth(*POLICE), case_id, "classify-simple")
        assert refused.status_code == 409
        assert refused.json()["guard"] == "landlord-first"
        assert "tenure is not recorded" in refused.json()["detail"]
        taken = _move(client, auth(*RW), case_id, "landlord-takes-up")
        assert taken.status_code == 409
        assert taken.json()["guard"] == "rented-corporation-dwelling"
        # Positive control of that refusal, on a twin case: the corporation's tenure on
        # record, the same landlord's same step goes ahead.
        twin = _report(client, auth, POLICE)
        assert _move(client, auth(*RW), twin, "landlord-takes-up").status_code == 200
        with transaction(context.session_factory) as session:
            session.execute(
                update(Dwelling)
                .where(Dwelling.id == dwelling_id)
                .values(ownership="owner-occupied", corporation_id=None)
            )
        # Positive control: with the tenure on record the same step goes ahead.
        assert _ok(_move(client, auth(*POLICE), case_id, "classify-simple"))["state"] == (
            "own-approach"
        )
