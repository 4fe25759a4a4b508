"""No case is kept without an end, and none is erased unannounced (issue 16): a case has a
retention state from the moment it exists (not from the next sweep), an open case without
activity is due after the configurable inactivity period, and its lead sees a deadline
before the erasure. Through the API, on both covenants."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from gateway.auth.principal import Principal
from gateway.auth.service import PartnerDirectory
from gateway.context import GatewayContext
from gateway.core.dutch_date import dutch_date
from gateway.policy.covenant import load_covenants
from gateway.retention.models import RetentionCase
from gateway.retention.service import retention_overview
from tests.cases.builders import listed_deadlines, report_body
from tests.retention.test_overview import officer as _officer
from tests.web.conftest import sign_in

Auth = Callable[..., dict[str, str]]
UTRECHT_CM = ("u-centraal", "casemanager")
UTRECHT_POLICE = ("politie-midden-nederland", "wijkagent")
RIJSWIJK_CORPORATION = ("rijswijk-wonen", "woonconsulent")


def _landlords_officer() -> Principal:
    return PartnerDirectory.from_covenants(load_covenants().values()).principal(
        partner_id="rijswijk-wonen",
        role="privacy-officer",
        user=None,
        token_id="t",
        expires_at=datetime.now(UTC) + timedelta(hours=1),
    )


def _report(client: TestClient, auth: Auth, who: tuple[str, str], **kw: Any) -> str:
    response = client.post("/v1/reports", json=report_body(**kw), headers=auth(*who))
    assert response.status_code == 201, response.text
    case_id: str = response.json()["caseId"]
    return case_id


def _rijswijk(client: TestClient, auth: Auth, **kw: Any) -> str:
    return _report(
        client,
        auth,
        RIJSWIJK_CORPORATION,
        postcode="2281 AA",
        corporation="rijswijk-wonen",
        district="Te Werve",
        **kw,
    )


class TestStateFromTheStart:
    @pytest.mark.parametrize("covenant", ["utrecht", "rijswijk"])
    def test_a_new_case_has_a_retention_state_before_any_sweep(
        self, client: TestClient, auth: Auth, covenant: str
    ) -> None:
        if covenant == "utrecht":
            case_id, who, rule = _report(client, auth, UTRECHT_POLICE), UTRECHT_CM, "U-open"
        else:
            case_id, who, rule = _rijswijk(client, auth), RIJSWIJK_CORPORATION, "R-open"
        response = client.get(f"/v1/cases/{case_id}/retention", headers=auth(*who))
        assert response.status_code == 200, response.text
        body = response.json()
        today = datetime.now(UTC).date()
        assert body["status"] == "retained"
        assert body["ruleId"] == f"{rule}-zonder-activiteit"
        # Reported today: a year without activity from today (KETENPOORT_RETENTION_INACTIVE_
        # PERIOD_MONTHS, 12 unless configured); the Amsterdam date may be tomorrow's at night.
        assert date.fromisoformat(body["sourceDate"]) in {today, today + timedelta(days=1)}
        assert body["dueOn"] is not None
        records = client.get(f"/v1/cases/{case_id}/retention/records", headers=auth(*who))
        assert records.status_code == 200
        assert {r["kind"] for r in records.json()["records"]} >= {"case_file", "case_report"}

    def test_a_new_case_is_on_the_overview_without_any_read_or_sweep(
        self, client: TestClient, auth: Auth, context: GatewayContext
    ) -> None:
        """Registered in the transaction that opened the case: no page, API read or sweep
        has touched it when the privacy officer's overview lists it."""
        case_id = _rijswijk(client, auth)
        with context.session_factory() as session:
            row = session.get(RetentionCase, case_id)
            assert row is not None
            assert (row.stale, row.rules_revision) == (
                False,
                context.require_retention().rules.revision,
            )
            overview = retention_overview(
                session=session,
                rules=context.require_retention().rules,
                runtime=context.cases,
                principal=_officer(),
            )
            landlords = retention_overview(
                session=session,
                rules=context.require_retention().rules,
                runtime=context.cases,
                principal=_landlords_officer(),
            )
        listed = {c.case_id: c for c in overview.due}
        assert case_id in listed
        assert listed[case_id].rule == "R-open-zonder-activiteit"
        # The case is in intake, where no one but the landlord could be shown its measures,
        # and its last activity could be one: the municipality's officer reads the rule, not
        # the date (docs/retention.md, residual (b)); the landlord's officer reads both.
        assert (listed[case_id].due_on, listed[case_id].due_withheld) == (None, True)
        assert listed[case_id].reason
        told = {c.case_id: c for c in landlords.due}[case_id]
        assert (told.rule, told.due_on) == ("R-open-zonder-activiteit", row.due_on)
        browser = TestClient(client.app, base_url="https://testserver")
        with browser:
            sign_in(browser, "gemeente-rijswijk", "privacy-officer")
            page = browser.get("/privacy/bewaartermijnen")
        assert page.status_code == 200, page.text
        assert listed[case_id].reference in page.text
        # The API says the same as the overview.
        state = client.get(f"/v1/cases/{case_id}/retention", headers=auth(*RIJSWIJK_CORPORATION))
        assert state.status_code == 200, state.text
        assert (state.json()["ruleId"], state.json()["dueOn"]) == (
            "R-open-zonder-activiteit",
            row.due_on.isoformat() if row.due_on else None,
        )

    def test_a_report_that_is_refused_registers_nothing(
        self, client: TestClient, auth: Auth, context: GatewayContext
    ) -> None:
        """The registration is part of the case's transaction: no case, no retention row."""
        with context.session_factory() as session:
            before = session.scalar(select(func.count()).select_from(RetentionCase))
        body = report_body(postcode="2281 AC", corporation="rijswijk-wonen", district="Te Werve")
        body["report"]["receivedAt"] = "2999-01-01T00:00:00+01:00"  # in the future: refused
        refused = client.post("/v1/reports", json=body, headers=auth(*RIJSWIJK_CORPORATION))
        assert refused.status_code in (400, 422), refused.text
        with context.session_factory() as session:
            assert session.scalar(select(func.count()).select_from(RetentionCase)) == before
        # Positive control: the same report received now registers one case.
        del body["report"]["receivedAt"]
        assert (
            client.post("/v1/reports", json=body, headers=auth(*RIJSWIJK_CORPORATION)).status_code
            == 201
        )
        with context.session_factory() as session:
            assert session.scalar(select(func.count()).select_from(RetentionCase)) == before + 1

    def test_a_new_case_stays_invisible_outside_its_team_and_covenant(
        self, client: TestClient, auth: Auth
    ) -> None:
        case_id = _report(client, auth, UTRECHT_POLICE)
        outside = client.get(
            f"/v1/cases/{case_id}/retention", headers=auth("portaal", "woonconsulent")
        )
        assert outside.status_code == 404
        other = client.get(
            f"/v1/cases/{case_id}/retention", headers=auth("gemeente-rijswijk", "privacy-officer")
        )
        assert other.status_code == 404
        # Positive control: the case's own team sees it.
        assert (
            client.get(f"/v1/cases/{case_id}/retention", headers=auth(*UTRECHT_CM)).status_code
            == 200
        )

    def test_a_transition_is_seen_at_once_as_the_case_closing(
        self, client: TestClient, auth: Auth
    ) -> None:
        case_id = _report(client, auth, UTRECHT_POLICE)
        assert (
            client.get(f"/v1/cases/{case_id}/retention", headers=auth(*UTRECHT_CM)).json()["ruleId"]
            == "U-open-zonder-activiteit"
        )
        declined = client.post(
            f"/v1/cases/{case_id}/transitions",
            json={"transition": "decline", "reason": "Geen extreme overlast."},
            headers=auth(*UTRECHT_CM),
        )
        assert declined.status_code == 200
        body = client.get(f"/v1/cases/{case_id}/retention", headers=auth(*UTRECHT_CM)).json()
        assert body["ruleId"] == "U-default-na-afsluiting"
        assert "case-closed on" in body["reason"]
        assert "24 months" in body["reason"]

    def test_a_closing_step_moves_the_stored_rule_in_its_own_transaction(
        self, client: TestClient, auth: Auth, context: GatewayContext
    ) -> None:
        """Not only at the next sweep or read: the privacy officer's overview reads the
        stored state, which the workflow step itself brings up to date."""
        case_id = _report(client, auth, UTRECHT_POLICE)
        with context.session_factory() as session:
            row = session.get(RetentionCase, case_id)
            assert row is not None
            assert row.rule_id == "U-open-zonder-activiteit"  # control
        declined = client.post(
            f"/v1/cases/{case_id}/transitions",
            json={"transition": "decline", "reason": "Geen extreme overlast."},
            headers=auth(*UTRECHT_CM),
        )
        assert declined.status_code == 200, declined.text
        with context.session_factory() as session:
            row = session.get(RetentionCase, case_id)
            assert row is not None
            assert row.rule_id == "U-default-na-afsluiting"
            # The Dutch date, as the register keeps it: the UTC date is yesterday's between
            # midnight in Amsterdam and midnight UTC (this failed in CI at 23:25 UTC).
            assert row.source_date == dutch_date(datetime.now(UTC))


def _registered(monkeypatch: pytest.MonkeyPatch, days_ago: int) -> datetime:
    """Let the intake register the next reports ``days_ago`` days back (its clock), as a
    case opened then: a report's activity is its registration (review8a F1)."""
    then = datetime.now(UTC) - timedelta(days=days_ago)
    monkeypatch.setattr("gateway.cases.intake.utcnow", lambda: then)
    return then


class TestOpenCasesEnd:
    def test_an_open_case_without_activity_for_a_year_is_due_and_erased(
        self,
        client: TestClient,
        auth: Auth,
        context: GatewayContext,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        old = _registered(monkeypatch, 400)
        stale = _rijswijk(client, auth, received_at=old)
        monkeypatch.undo()
        fresh = _report(
            client,
            auth,
            RIJSWIJK_CORPORATION,
            postcode="2282 BB",
            corporation="rijswijk-wonen",
            district="Oud",
            persons=[],
        )
        state = client.get(f"/v1/cases/{stale}/retention", headers=auth(*RIJSWIJK_CORPORATION))
        assert state.json()["status"] == "due"
        assert state.json()["ruleId"] == "R-open-zonder-activiteit"
        report = context.require_retention().sweep()
        assert report.redacted == 1
        assert (
            client.get(f"/v1/cases/{stale}/retention", headers=auth(*RIJSWIJK_CORPORATION)).json()[
                "status"
            ]
            == "erased"
        )
        # Positive control: the case reported today is kept.
        kept = client.get(f"/v1/cases/{fresh}/retention", headers=auth(*RIJSWIJK_CORPORATION))
        assert kept.json()["status"] == "retained"

    @pytest.mark.parametrize("covenant", ["utrecht", "rijswijk"])
    def test_a_new_case_whose_report_was_received_long_ago_is_kept(
        self, client: TestClient, auth: Auth, context: GatewayContext, covenant: str
    ) -> None:
        """review8a F1: a report registered today with ``receivedAt`` 400 days back (a
        complaint the partner first tried to solve itself) opened a case that was due at
        once and erased by the next sweep, its lead's warning overdue on arrival.
        Registering the report is the case's activity: the year runs from today."""
        old = datetime.now(UTC) - timedelta(days=400)
        if covenant == "utrecht":
            case_id, who, rule = (
                _report(client, auth, UTRECHT_POLICE, received_at=old),
                UTRECHT_CM,
                "U-open-zonder-activiteit",
            )
        else:
            case_id, who, rule = (
                _rijswijk(client, auth, received_at=old),
                RIJSWIJK_CORPORATION,
                "R-open-zonder-activiteit",
            )
        today = datetime.now(UTC).date()
        body = client.get(f"/v1/cases/{case_id}/retention", headers=auth(*who)).json()
        assert (body["status"], body["ruleId"]) == ("retained", rule)
        assert date.fromisoformat(body["sourceDate"]) in {today, today + timedelta(days=1)}
        assert date.fromisoformat(body["dueOn"]) > today + timedelta(days=360)
        assert context.require_retention().sweep().redacted == 0
        after = client.get(f"/v1/cases/{case_id}/retention", headers=auth(*who)).json()
        assert after["status"] == "retained"
        summary = client.get(f"/v1/cases/{case_id}", headers=auth(*who)).json()
        assert summary["erased"] is False
        assert [d for d in summary["deadlines"] if d["deadline"] == "retention-erasure"] == []

    def test_control_a_case_whose_last_registered_activity_is_13_months_old_is_due(
        self,
        client: TestClient,
        auth: Auth,
        context: GatewayContext,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """Positive control of F1: the report registered (and received) 13 months ago,
        nothing since: due, and the sweep erases it."""
        old = _registered(monkeypatch, 400)
        case_id = _report(client, auth, UTRECHT_POLICE, received_at=old)
        monkeypatch.undo()
        body = client.get(f"/v1/cases/{case_id}/retention", headers=auth(*UTRECHT_CM)).json()
        assert (body["status"], body["ruleId"]) == ("due", "U-open-zonder-activiteit")
        assert context.require_retention().sweep().redacted == 1
        erased = client.get(f"/v1/cases/{case_id}/retention", headers=auth(*UTRECHT_CM)).json()
        assert erased["status"] == "erased"


class TestTheLeadIsWarnedFirst:
    def _warnings(self, body: Any) -> list[Any]:
        return [d for d in body if d["deadline"] == "retention-erasure"]

    def test_the_lead_sees_a_deadline_the_day_before_the_erasure(
        self, client: TestClient, auth: Auth, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Registered 350 days ago: due 12 months after the report, within 30 days.
        old = _registered(monkeypatch, 350)
        case_id = _report(client, auth, UTRECHT_POLICE, received_at=old)
        monkeypatch.undo()
        state = client.get(f"/v1/cases/{case_id}/retention", headers=auth(*UTRECHT_CM)).json()
        erased_on = date.fromisoformat(state["dueOn"])
        summary = client.get(f"/v1/cases/{case_id}", headers=auth(*UTRECHT_CM)).json()
        (warning,) = self._warnings(summary["deadlines"])
        assert warning["kind"] == "retention"
        assert warning["dueOn"] == (erased_on - timedelta(days=1)).isoformat()
        assert warning["responsiblePartnerId"] == "u-centraal"
        assert "U-open-zonder-activiteit" in warning["description"]
        listed = listed_deadlines(client, auth(*UTRECHT_CM))
        assert [d["caseId"] for d in self._warnings(listed)] == [case_id]
        # The police reported it but does not lead it: no warning in its list.
        police = listed_deadlines(client, auth(*UTRECHT_POLICE))
        assert self._warnings(police) == []

    def test_no_warning_for_a_case_far_from_its_end(self, client: TestClient, auth: Auth) -> None:
        case_id = _report(client, auth, UTRECHT_POLICE)
        client.get(f"/v1/cases/{case_id}/retention", headers=auth(*UTRECHT_CM))
        summary = client.get(f"/v1/cases/{case_id}", headers=auth(*UTRECHT_CM)).json()
        assert self._warnings(summary["deadlines"]) == []
