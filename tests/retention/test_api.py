"""The retention API: every case shows its state (rule, due date, why); facts, legal holds
(audited), and after erasure "erased under rule X on date", never plaintext or a 500."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from gateway.audit.models import AuditRecord
from gateway.context import GatewayContext
from gateway.core.dutch_date import dutch_today
from tests.dutch_midnight import AFTER_DUTCH_MIDNIGHT
from tests.retention.conftest import Seeder, audit_verifies

Auth = Callable[..., dict[str, str]]
MUNI = "gemeente-rijswijk"


def url(case_id: str, tail: str = "") -> str:
    return f"/v1/cases/{case_id}/retention{tail}"


class TestGetRetentionState:
    def test_without_token_is_401(self, client: TestClient, seed: Seeder) -> None:
        assert client.get(url(seed().case_id)).status_code == 401

    def test_partner_outside_the_team_sees_404(
        self, client: TestClient, auth: Auth, seed: Seeder
    ) -> None:
        response = client.get(url(seed().case_id), headers=auth("vidomes", "woonconsulent"))
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/problem+json")

    def test_other_covenant_privacy_officer_sees_404(
        self, client: TestClient, auth: Auth, seed: Seeder
    ) -> None:
        assert (
            client.get(
                url(seed().case_id), headers=auth("u-centraal", "privacy-officer")
            ).status_code
            == 404
        )

    def test_a_case_id_outside_the_id_pattern_is_a_400_naming_it_like_every_case_path(
        self, client: TestClient, auth: Auth, seed: Seeder
    ) -> None:
        case = seed()
        assert client.get(url(case.case_id), headers=auth(MUNI, "casemanager")).status_code == 200
        for bad in ("a.b", "x" * 37):
            response = client.get(url(bad), headers=auth(MUNI, "casemanager"))
            assert response.status_code == 400, bad
            assert response.headers["content-type"].startswith("application/problem+json")
            assert [p["name"] for p in response.json()["invalidParams"]] == ["caseId"]

    def test_team_member_sees_rule_due_date_and_why(
        self, client: TestClient, auth: Auth, seed: Seeder
    ) -> None:
        case = seed(facts=[("mediation-ended", date(2024, 3, 10), "solved")])
        body = client.get(url(case.case_id), headers=auth(MUNI, "casemanager")).json()
        assert body["ruleId"] == "R-3.4-licht-bemiddeld"
        assert body["dueOn"] == "2025-03-10"
        assert body["sourceDate"] == "2024-03-10"
        assert "mediation-ended on 2024-03-10 + 1 year" in body["reason"]

    def test_an_open_case_without_activity_is_not_kept_without_an_end(
        self, client: TestClient, auth: Auth, seed: Seeder
    ) -> None:
        # Its only report came on 2 January 2024 and nothing happened since.
        body = client.get(url(seed().case_id), headers=auth(MUNI, "privacy-officer")).json()
        assert (body["ruleId"], body["dueOn"], body["status"]) == (
            "R-open-zonder-activiteit",
            "2025-01-02",
            "due",
        )
        assert "no activity since 2024-01-02 + 12 months" in body["reason"]

    def test_an_open_sanctioned_case_is_due_a_year_after_its_last_activity(
        self, client: TestClient, auth: Auth, seed: Seeder
    ) -> None:
        # The heavier rule would keep it two years after the sanction ("maximaal"); an open
        # case without any activity for a year comes first.
        case = seed(facts=[("sanction-imposed", date(2024, 3, 1), "penalty")])
        body = client.get(url(case.case_id), headers=auth(MUNI, "privacy-officer")).json()
        assert (body["ruleId"], body["dueOn"]) == ("R-open-zonder-activiteit", "2025-03-01")


class TestRecordFact:
    def test_move_out_sets_the_due_date(self, client: TestClient, auth: Auth, seed: Seeder) -> None:
        # A closed case: an open case's move-out term waits for its closure (review8a F5).
        case = seed(facts=[("case-closed", date(2025, 5, 1), None)])
        response = client.post(
            url(case.case_id, "/facts"),
            headers=auth(MUNI, "casemanager"),
            json={"kind": "resident-moved-out", "occurredOn": "2025-06-01"},
        )
        assert response.status_code == 201, response.text
        assert response.json()["dueOn"] == "2025-06-01"

    def test_privacy_officer_may_not_record_facts(
        self, client: TestClient, auth: Auth, seed: Seeder
    ) -> None:
        response = client.post(
            url(seed().case_id, "/facts"),
            headers=auth(MUNI, "privacy-officer"),
            json={"kind": "resident-moved-out", "occurredOn": "2025-06-01"},
        )
        assert response.status_code == 403


class TestLegalHold:
    def test_hold_is_shown_refused_twice_lifted_and_both_audited(
        self, client: TestClient, auth: Auth, seed: Seeder, context: GatewayContext
    ) -> None:
        case = seed(facts=[("mediation-ended", date(2024, 3, 10), "solved")])
        set_ = client.post(
            url(case.case_id, "/legal-hold"),
            headers=auth(MUNI, "privacy-officer"),
            json={"reason": "court procedure"},
        )
        assert set_.status_code == 201, set_.text
        assert set_.json()["setBy"] == "gemeente-rijswijk/privacy-officer"
        again = client.post(
            url(case.case_id, "/legal-hold"),
            headers=auth(MUNI, "privacy-officer"),
            json={"reason": "court procedure"},
        )
        assert again.status_code == 409
        state = client.get(url(case.case_id), headers=auth(MUNI, "casemanager")).json()
        assert state["status"] == "on-hold"
        assert state["legalHold"]["reason"] == "court procedure"
        lift = client.post(
            url(case.case_id, "/legal-hold/lift"),
            headers=auth(MUNI, "casemanager"),
            json={"reason": "ruling final"},
        )
        assert lift.status_code == 200
        assert lift.json()["liftedBy"] == "gemeente-rijswijk/casemanager"
        with context.session_factory() as session:
            activities = list(
                session.scalars(
                    select(AuditRecord.activity).where(AuditRecord.case_id == case.case_id)
                )
            )
        assert activities == ["legal-hold-set", "legal-hold-lifted"]
        assert audit_verifies(context)

    def test_adapter_may_not_set_a_hold(self, client: TestClient, auth: Auth, seed: Seeder) -> None:
        response = client.post(
            url(seed().case_id, "/legal-hold"),
            headers=auth(MUNI, "adapter"),
            json={"reason": "court procedure"},
        )
        assert response.status_code == 403


class TestAfterErasure:
    def test_state_says_erased_under_rule_on_date_and_writes_answer_410(
        self, client: TestClient, auth: Auth, seed: Seeder, context: GatewayContext
    ) -> None:
        case = seed(canary="CANARY-api", facts=[("mediation-ended", date(2024, 3, 10), "solved")])
        context.require_retention().sweep(as_of=date(2025, 3, 10))
        state = client.get(url(case.case_id), headers=auth(MUNI, "casemanager"))
        assert state.status_code == 200
        body = state.json()
        assert body["status"] == "erased"
        assert body["reason"].startswith("Erased under rule R-3.4-licht-bemiddeld on ")
        assert "CANARY" not in state.text
        write = client.post(
            url(case.case_id, "/facts"),
            headers=auth(MUNI, "casemanager"),
            json={"kind": "resident-moved-out", "occurredOn": "2025-06-01"},
        )
        assert write.status_code == 410
        assert "Erased under rule R-3.4-licht-bemiddeld on" in write.json()["detail"]

    @pytest.mark.parametrize(
        ("erased_at", "day"),
        [(instant, day.isoformat()) for instant, day in AFTER_DUTCH_MIDNIGHT],
    )
    def test_the_410_names_the_dutch_date_of_the_erasure_as_the_state_does(
        self,
        client: TestClient,
        auth: Auth,
        seed: Seeder,
        context: GatewayContext,
        monkeypatch: pytest.MonkeyPatch,
        erased_at: datetime,
        day: str,
    ) -> None:
        """An erasure just after midnight in the Netherlands: the state said the Dutch date,
        the 410 the UTC date, the day before. Both say the Dutch date; ``erasedAt`` stays
        the exact moment."""
        case = seed(facts=[("mediation-ended", date(2024, 3, 10), "solved")])
        monkeypatch.setattr("gateway.retention.sweeper.utcnow", lambda: erased_at)
        assert context.require_retention().sweep(as_of=date(2025, 3, 10)).redacted == 1
        sentence = f"Erased under rule R-3.4-licht-bemiddeld on {day}."
        state = client.get(url(case.case_id), headers=auth(MUNI, "casemanager"))
        assert state.json()["reason"] == sentence
        write = client.post(
            url(case.case_id, "/facts"),
            headers=auth(MUNI, "casemanager"),
            json={"kind": "resident-moved-out", "occurredOn": "2025-06-01"},
        )
        assert write.status_code == 410
        assert write.headers["content-type"].startswith("application/problem+json")
        assert write.json()["detail"] == sentence
        assert datetime.fromisoformat(write.json()["erasedAt"]) == erased_at


class TestDryRunPreview:
    def test_privacy_officer_sees_what_would_be_erased_and_nothing_changes(
        self, client: TestClient, auth: Auth, seed: Seeder
    ) -> None:
        case = seed(facts=[("mediation-ended", date(2024, 3, 10), "solved")])
        headers = auth(MUNI, "privacy-officer")
        response = client.get("/v1/retention/due", params={"asOf": "2025-03-10"}, headers=headers)
        assert response.status_code == 200, response.text
        assert [i["caseId"] for i in response.json()["items"]] == [case.case_id]
        assert response.json()["items"][0]["values"]["case_report"] == 1
        state = client.get(url(case.case_id), headers=auth(MUNI, "privacy-officer")).json()
        assert state["status"] == "due"

    def test_the_cases_on_hold_are_counted_for_the_officers_own_covenant_only(
        self, client: TestClient, auth: Auth, seed: Seeder
    ) -> None:
        case = seed(facts=[("mediation-ended", date(2024, 3, 10), "solved")])
        held = client.post(
            url(case.case_id, "/legal-hold"),
            headers=auth(MUNI, "privacy-officer"),
            json={"reason": "court procedure"},
        )
        assert held.status_code == 201, held.text
        params = {"asOf": "2025-03-10"}
        own = client.get("/v1/retention/due", params=params, headers=auth(MUNI, "privacy-officer"))
        assert (own.json()["due"], own.json()["onHold"]) == (0, 1)  # the control
        other = client.get(
            "/v1/retention/due", params=params, headers=auth("u-centraal", "privacy-officer")
        )
        assert other.status_code == 200, other.text
        assert (other.json()["due"], other.json()["onHold"]) == (0, 0)

    def test_case_manager_may_not_preview(self, client: TestClient, auth: Auth) -> None:
        assert client.get("/v1/retention/due", headers=auth(MUNI, "casemanager")).status_code == 403


def test_rules_are_listed_for_the_callers_covenant(client: TestClient, auth: Auth) -> None:
    body = client.get("/v1/retention/rules", headers=auth(MUNI, "casemanager")).json()
    assert [r["id"] for r in body["rules"]] == [
        "R-3.4-licht-bemiddeld",
        "R-3.4-zwaar",
        "R-3.4-zonder-sancties",
        "R-open-zonder-activiteit",
    ]
    unsanctioned = body["rules"][2]
    assert unsanctioned["terms"] == [
        "resident-moved-out + 0 days",
        "case-closed + unsanctioned-default (12 months)",
    ]


@pytest.mark.parametrize("blank", ["   ", "\t\n  "], ids=["spaces", "whitespace"])
def test_a_blank_legal_hold_reason_is_refused_to_set_and_to_lift(
    client: TestClient, auth: Auth, seed: Seeder, blank: str
) -> None:
    case = seed(facts=[("mediation-ended", date(2024, 3, 10), "solved")])

    def officer() -> dict[str, str]:
        return auth(MUNI, "privacy-officer")  # one token per request

    refused = client.post(
        url(case.case_id, "/legal-hold"), headers=officer(), json={"reason": blank}
    )
    assert refused.status_code == 400, refused.text
    assert [p["name"] for p in refused.json()["invalidParams"]] == ["reason"]
    placed = client.post(
        url(case.case_id, "/legal-hold"), headers=officer(), json={"reason": "court procedure"}
    )
    assert placed.status_code == 201, placed.text
    not_lifted = client.post(
        url(case.case_id, "/legal-hold/lift"), headers=officer(), json={"reason": blank}
    )
    assert not_lifted.status_code == 400, not_lifted.text
    lifted = client.post(
        url(case.case_id, "/legal-hold/lift"), headers=officer(), json={"reason": "court ruled"}
    )
    assert lifted.status_code == 200, lifted.text


class TestANewCase:
    """A case has a retention state from the moment it exists: a legal hold or a fact on a
    case that no sweep and no page has looked at yet is recorded, not refused with 404."""

    def _new_case(self, client: TestClient, auth: Auth) -> str:
        from tests.cases.builders import report_body

        opened = client.post(
            "/v1/reports",
            json=report_body(postcode="3581 ZZ"),
            headers=auth("mitros", "woonconsulent"),
        )
        assert opened.status_code == 201, opened.text
        return str(opened.json()["caseId"])

    def test_a_legal_hold_right_after_intake(self, client: TestClient, auth: Auth) -> None:
        case_id = self._new_case(client, auth)
        held = client.post(
            url(case_id, "/legal-hold"),
            headers=auth("u-centraal", "casemanager"),
            json={"reason": "court procedure"},
        )
        assert held.status_code == 201, held.text
        state = client.get(url(case_id), headers=auth("u-centraal", "casemanager")).json()
        assert state["legalHold"]["reason"] == "court procedure"
        # Denial controls: another covenant's case manager sees no such case; a role
        # without the legal hold in the case team is refused.
        for who, status in ((("gemeente-rijswijk", "casemanager"), 404),
                            (("mitros", "woonconsulent"), 403)):  # fmt: skip
            refused = client.post(
                url(case_id, "/legal-hold"), headers=auth(*who), json={"reason": "court procedure"}
            )
            assert refused.status_code == status, (who, refused.text)

    def test_a_fact_right_after_intake(self, client: TestClient, auth: Auth) -> None:
        case_id = self._new_case(client, auth)
        recorded = client.post(
            url(case_id, "/facts"),
            headers=auth("u-centraal", "casemanager"),
            # Not before the case began (today): a fact is of its case (review F8).
            json={"kind": "resident-moved-out", "occurredOn": dutch_today().isoformat()},
        )
        assert recorded.status_code == 201, recorded.text
        # Utrecht's rule runs from closure (a move-out does not end it): an open case with
        # activity today is kept; the state names its rule.
        assert recorded.json()["caseId"] == case_id
        assert recorded.json()["ruleId"] == "U-open-zonder-activiteit"
