"""Deadlines as the sources count them, seen through the API: U §5.1 "binnen vijf dagen"
and U §5.2 "binnen drie dagen" are calendar days, moved by the Algemene termijnenwet when
they end on a weekend or holiday; and a deadline shows one date everywhere."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from gateway.cases.models import CaseFile, CaseTransition
from gateway.context import GatewayContext
from gateway.db import transaction
from tests.cases.builders import listed_deadlines, report_body

Auth = Callable[..., dict[str, str]]
AMS = ZoneInfo("Europe/Amsterdam")
CM = ("u-centraal", "casemanager")
POLICE = ("politie-midden-nederland", "wijkagent")


def _intake_deadline(
    client: TestClient,
    auth: Auth,
    monkeypatch: pytest.MonkeyPatch,
    registered: datetime,
    received: datetime | None = None,
    **kw: Any,
) -> Any:
    """The intake decision of a police report registered at ``registered`` (received then,
    or at ``received``)."""
    body = report_body(received_at=received or registered, **kw)
    with monkeypatch.context() as pinned:
        pinned.setattr("gateway.cases.intake.utcnow", lambda: registered.astimezone(UTC))
        created = client.post("/v1/reports", json=body, headers=auth(*POLICE))
    assert created.status_code == 201, created.text
    summary = client.get(f"/v1/cases/{created.json()['caseId']}", headers=auth(*CM)).json()
    (deadline,) = [d for d in summary["deadlines"] if d["deadline"] == "intake-decision"]
    return deadline


class TestCalendarDays:
    def test_five_days_ending_on_a_saturday_move_to_monday(
        self, client: TestClient, auth: Auth, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Monday 9 March 2026 + 5 calendar days = Saturday 14 March -> Monday 16 March.
        deadline = _intake_deadline(client, auth, monkeypatch, datetime(2026, 3, 9, 10, tzinfo=AMS))
        assert deadline["dueOn"] == "2026-03-16"
        assert deadline["source"].startswith('U §5.1 ("binnen vijf dagen")')

    def test_five_days_that_end_on_a_working_day_are_not_working_days(
        self, client: TestClient, auth: Auth, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Positive control: Thursday 5 March + 5 = Tuesday 10 March (working days would
        # have given Thursday 12 March).
        deadline = _intake_deadline(client, auth, monkeypatch, datetime(2026, 3, 5, 10, tzinfo=AMS))
        assert deadline["dueOn"] == "2026-03-10"

    def test_five_days_ending_on_easter_monday_move_to_tuesday(
        self, client: TestClient, auth: Auth, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        deadline = _intake_deadline(client, auth, monkeypatch, datetime(2026, 4, 1, 10, tzinfo=AMS))
        assert deadline["dueOn"] == "2026-04-07"

    def test_five_days_ending_on_kings_day_move_to_the_next_day(
        self, client: TestClient, auth: Auth, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        deadline = _intake_deadline(
            client, auth, monkeypatch, datetime(2026, 4, 22, 10, tzinfo=AMS)
        )
        assert deadline["dueOn"] == "2026-04-28"


U_CENTRAAL_REPORTER = ("u-centraal", "casemanager")


class TestFromTheRegistration:
    """Review8a F3: U §5.1 "Op het moment dat een aanmelding binnen komt, voert U Centraal ...
    Binnen vijf dagen een besluit": the five days run from the aanmelding reaching U Centraal
    (its registration, the case's opening), not from the day the reporter received the
    complaint (``receivedAt``), and a joining report does not move them."""

    def test_received_six_days_before_it_is_due_five_days_after_the_registration(
        self, client: TestClient, auth: Auth, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        registered = datetime(2026, 3, 9, 10, tzinfo=AMS)  # Monday
        received = registered - timedelta(days=6)  # Tuesday 3 March
        deadline = _intake_deadline(client, auth, monkeypatch, registered, received)
        # 9 March + 5 = Saturday 14 March -> Monday 16 March (from the receipt: Sunday 8
        # March -> Monday 9 March, the day it came in).
        assert deadline["dueOn"] == "2026-03-16"
        # A report on the same dwelling from U Centraal itself, received a month before,
        # registered a day later: it joins the dossier and moves nothing.
        with monkeypatch.context() as pinned:
            pinned.setattr(
                "gateway.cases.intake.utcnow",
                lambda: (registered + timedelta(days=1)).astimezone(UTC),
            )
            body = report_body(received_at=registered - timedelta(days=30))
            joined = client.post("/v1/reports", json=body, headers=auth(*U_CENTRAAL_REPORTER))
        assert joined.status_code == 200, joined.text
        assert joined.json()["caseId"] == deadline["caseId"]
        summary = client.get(f"/v1/cases/{deadline['caseId']}", headers=auth(*CM)).json()
        (after,) = [d for d in summary["deadlines"] if d["deadline"] == "intake-decision"]
        assert after["dueOn"] == "2026-03-16"

    def test_a_receipt_after_the_registration_is_refused_and_stores_nothing(
        self,
        client: TestClient,
        auth: Auth,
        monkeypatch: pytest.MonkeyPatch,
        context: GatewayContext,
    ) -> None:
        """A case's first report is never received after the case opened: the steering
        report's state as of a past day counts on it (state_at.moved_since skips the reports
        received since that day). The control: the same report received at the minute of its
        registration is taken."""
        registered = datetime(2026, 3, 9, 10, tzinfo=AMS)

        def post(received: datetime) -> Any:
            with monkeypatch.context() as pinned:
                pinned.setattr("gateway.cases.intake.utcnow", lambda: registered.astimezone(UTC))
                body = report_body(received_at=received)
                return client.post("/v1/reports", json=body, headers=auth(*POLICE))

        def cases() -> int:
            with context.session_factory() as session:
                return len(session.scalars(select(CaseFile.id)).all())

        before = cases()
        refused = post(registered + timedelta(minutes=1))
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert "receivedAt lies in the future" in refused.json()["detail"]
        assert cases() == before
        taken = post(registered)
        assert taken.status_code == 201, taken.text
        assert cases() == before + 1

    def test_a_report_registered_now_with_an_old_receipt_is_not_overdue(
        self, client: TestClient, auth: Auth, context: GatewayContext
    ) -> None:
        now = datetime.now(UTC)
        body = report_body(received_at=now - timedelta(days=6))
        created = client.post("/v1/reports", json=body, headers=auth(*POLICE))
        assert created.status_code == 201, created.text
        case_id = created.json()["caseId"]
        summary = client.get(f"/v1/cases/{case_id}", headers=auth(*CM)).json()
        (deadline,) = [d for d in summary["deadlines"] if d["deadline"] == "intake-decision"]
        covenant = "utrecht-extreme-woonoverlast"
        with context.session_factory() as session:
            opened = session.get_one(CaseFile, case_id).opened_at
        (spec,) = [
            d for d in context.cases.workflow(covenant).all_deadlines if d.id == "intake-decision"
        ]
        expected = context.cases.calendar(covenant).due(opened, spec.period)
        assert deadline["dueOn"] == expected.on.isoformat()
        assert deadline["overdue"] is False
        # The deadlines list (the SQL streams) says the same.
        items = listed_deadlines(client, auth(*CM))
        (item,) = [d for d in items if d.get("caseId") == case_id]
        assert (item["dueOn"], item["overdue"]) == (deadline["dueOn"], False)

    def test_rijswijk_weighs_within_48_hours_of_the_receipt(
        self, client: TestClient, auth: Auth
    ) -> None:
        """Control: R Bijlage D fase 1 "Zodra een melding ... wordt ontvangen door politie,
        gemeente of woningcorporatie ... binnen 48 uur": from the receipt."""
        received = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=30)
        body = report_body(
            postcode="2281 AA",
            corporation="rijswijk-wonen",
            district="Te Werve",
            received_at=received,
        )
        created = client.post(
            "/v1/reports", json=body, headers=auth("rijswijk-wonen", "woonconsulent")
        )
        assert created.status_code == 201, created.text
        summary = client.get(
            f"/v1/cases/{created.json()['caseId']}", headers=auth("rijswijk-wonen", "woonconsulent")
        ).json()
        (weigh,) = [d for d in summary["deadlines"] if d["deadline"] == "weigh-report"]
        assert datetime.fromisoformat(weigh["dueAt"]) == received + timedelta(hours=48)


RIJSWIJK_MAYOR = ("gemeente-rijswijk", "casemanager")


def _evicted_yesterday(client: TestClient, auth: Auth, context: GatewayContext) -> str:
    """A Rijswijk case whose temporary eviction of 10 days started yesterday (R Bijlage E)."""
    body = report_body(postcode="2281 AA", corporation="rijswijk-wonen", district="Te Werve")
    created = client.post("/v1/reports", json=body, headers=auth("rijswijk-wonen", "woonconsulent"))
    case_id: str = created.json()["caseId"]
    with transaction(context.session_factory) as session:
        case = session.get_one(CaseFile, case_id)
        case.state, case.lead_partner_id = "behavioural-order", "gemeente-rijswijk"
    for step in (
        {"transition": "apply-administrative-enforcement", "breachEstablished": True},
        {"transition": "evict-temporarily", "days": 10, "adult": True},
    ):
        moved = client.post(
            f"/v1/cases/{case_id}/transitions", json=step, headers=auth(*RIJSWIJK_MAYOR)
        )
        assert moved.status_code == 200, moved.text
    with transaction(context.session_factory) as session:
        case = session.get_one(CaseFile, case_id)
        case.state_entered_at = case.state_entered_at - timedelta(days=1)
    return case_id


def _eviction_ends(client: TestClient, auth: Auth, case_id: str) -> date:
    summary = client.get(f"/v1/cases/{case_id}", headers=auth(*RIJSWIJK_MAYOR)).json()
    (ends,) = [d for d in summary["deadlines"] if d["deadline"] == "temporary-eviction-ends"]
    return date.fromisoformat(ends["dueOn"])


class TestTemporaryEviction:
    """R Bijlage D fase 4c / Bijlage E: "10 dagen en aanvullend met maximaal 18 dagen"."""

    def _extend(self, client: TestClient, auth: Auth, case_id: str, days: int) -> Any:
        return client.post(
            f"/v1/cases/{case_id}/transitions",
            json={"transition": "extend-temporary-eviction", "days": days},
            headers=auth(*RIJSWIJK_MAYOR),
        )

    def test_an_extension_decided_on_day_one_ends_28_days_after_the_start(
        self, client: TestClient, auth: Auth, context: GatewayContext
    ) -> None:
        case_id = _evicted_yesterday(client, auth, context)
        started = datetime.now(AMS).date() - timedelta(days=1)
        assert _eviction_ends(client, auth, case_id) == started + timedelta(days=10)
        assert self._extend(client, auth, case_id, 18).status_code == 200
        assert _eviction_ends(client, auth, case_id) == started + timedelta(days=28)

    def test_extensions_add_up_from_the_start_and_stop_at_28_days(
        self, client: TestClient, auth: Auth, context: GatewayContext
    ) -> None:
        case_id = _evicted_yesterday(client, auth, context)
        started = datetime.now(AMS).date() - timedelta(days=1)
        assert self._extend(client, auth, case_id, 10).status_code == 200
        assert _eviction_ends(client, auth, case_id) == started + timedelta(days=20)
        refused = self._extend(client, auth, case_id, 9)
        assert refused.status_code == 409
        assert refused.json()["guard"] == "extension-within-limits"
        assert _eviction_ends(client, auth, case_id) == started + timedelta(days=20)
        assert self._extend(client, auth, case_id, 8).status_code == 200
        assert _eviction_ends(client, auth, case_id) == started + timedelta(days=28)

    def test_the_eviction_records_that_the_person_is_an_adult(
        self, client: TestClient, auth: Auth, context: GatewayContext
    ) -> None:
        body = report_body(postcode="2282 BB", corporation="rijswijk-wonen", district="Oud")
        created = client.post(
            "/v1/reports", json=body, headers=auth("rijswijk-wonen", "woonconsulent")
        )
        case_id = created.json()["caseId"]
        with transaction(context.session_factory) as session:
            case = session.get_one(CaseFile, case_id)
            case.state, case.lead_partner_id = "behavioural-order", "gemeente-rijswijk"
        url = f"/v1/cases/{case_id}/transitions"
        enforce = {"transition": "apply-administrative-enforcement", "breachEstablished": True}
        assert client.post(url, json=enforce, headers=auth(*RIJSWIJK_MAYOR)).status_code == 200
        evict = {"transition": "evict-temporarily", "days": 10}
        missing = client.post(url, json=evict, headers=auth(*RIJSWIJK_MAYOR))
        assert missing.status_code == 422
        assert {"name": "adult", "reason": "required"} in missing.json()["invalidParams"]
        minor = client.post(url, json={**evict, "adult": False}, headers=auth(*RIJSWIJK_MAYOR))
        assert minor.status_code == 409
        assert minor.json()["guard"] == "evictee-adult"
        adult = client.post(url, json={**evict, "adult": True}, headers=auth(*RIJSWIJK_MAYOR))
        assert adult.status_code == 200
        assert adult.json()["state"] == "temporary-eviction"
        with transaction(context.session_factory) as session:
            recorded = session.scalars(
                select(CaseTransition.facts).where(
                    CaseTransition.case_id == case_id,
                    CaseTransition.transition == "evict-temporarily",
                )
            ).one()
        assert recorded["adult"] is True
