"""Every record of a case's dossier shows its retention state: the rule, the due date and
why (it is kept and erased with its case), and after erasure that its values were erased."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from fastapi.testclient import TestClient

from audit.entry import Actor
from gateway.context import GatewayContext
from gateway.db import transaction
from gateway.retention.service import set_legal_hold
from tests.retention.conftest import Seeder

Auth = Callable[..., dict[str, str]]
MUNI = "gemeente-rijswijk"


def _records(client: TestClient, auth: Auth, case_id: str, role: str = "casemanager") -> dict:  # type: ignore[type-arg]
    response = client.get(f"/v1/cases/{case_id}/retention/records", headers=auth(MUNI, role))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _by_kind(body: dict) -> dict[str, list[dict]]:  # type: ignore[type-arg]
    kinds: dict[str, list[dict]] = {}  # type: ignore[type-arg]
    for record in body["records"]:
        kinds.setdefault(record["kind"], []).append(record)
    return kinds


def test_each_record_shows_its_cases_rule_due_date_and_why(
    client: TestClient, auth: Auth, seed: Seeder
) -> None:
    case = seed(facts=[("mediation-ended", date(2024, 3, 10), "solved")])
    body = _records(client, auth, case.case_id)
    kinds = _by_kind(body)
    assert [r["id"] for r in kinds["case_file"]] == [case.case_id]
    assert [r["id"] for r in kinds["case_report"]] == case.report_ids
    assert len(kinds["case_person"]) == 1
    for record in body["records"]:
        assert record["ruleId"] == "R-3.4-licht-bemiddeld"
        assert record["dueOn"] == "2025-03-10"
        assert record["status"] == body["status"]
        assert record["reason"].startswith("Kept and erased with its case's dossier.")
        assert "mediation-ended on 2024-03-10 + 1 year" in record["reason"]
        assert record["erasedValues"] is None


def test_after_erasure_each_record_says_erased_under_rule_and_counts_its_values(
    context: GatewayContext, client: TestClient, auth: Auth, seed: Seeder
) -> None:
    case = seed(facts=[("mediation-ended", date(2024, 3, 10), "solved")])
    context.require_retention().sweep(as_of=date(2025, 3, 10))
    body = _records(client, auth, case.case_id)
    assert body["status"] == "erased"
    kinds = _by_kind(body)
    assert [r["erasedValues"] for r in kinds["case_file"]] == [1]  # the sealed address
    assert [r["erasedValues"] for r in kinds["case_report"]] == [1]  # the description
    for record in body["records"]:
        assert record["status"] == "erased"
        assert record["reason"].startswith("Erased under rule R-3.4-licht-bemiddeld on ")
        assert record["reason"].endswith("With its case's dossier.")


def test_records_of_a_held_case_say_so(
    context: GatewayContext, client: TestClient, auth: Auth, seed: Seeder
) -> None:
    case = seed(facts=[("mediation-ended", date(2024, 3, 10), "solved")])
    with transaction(context.session_factory) as session:
        set_legal_hold(
            session=session,
            audit=context.audit,
            case_id=case.case_id,
            reason="court procedure",
            actor=Actor(partner_id=MUNI, role="privacy-officer"),
            set_by=f"{MUNI}/privacy-officer",
        )
    body = _records(client, auth, case.case_id, role="privacy-officer")
    assert body["status"] == "on-hold"
    assert body["records"]
    assert all(r["status"] == "on-hold" for r in body["records"])
    assert all("legal hold" in r["reason"] for r in body["records"])


def test_partner_outside_the_team_sees_404(client: TestClient, auth: Auth, seed: Seeder) -> None:
    response = client.get(
        f"/v1/cases/{seed().case_id}/retention/records", headers=auth("vidomes", "woonconsulent")
    )
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
