"""A dated fact a partner records (``POST /v1/cases/{caseId}/retention/facts``) is a fact: it
happened on or before today in the Netherlands and not before the case began, a closure is
the one the cases domain recorded, and every recorded fact is audited with the fact, in the
same transaction. Before (review F8), any date was taken and nothing was audited: a landlord
could move an open case's erasure to 2101, or make it due at once. Each refusal is a 422
problem+json naming the field, and stores nothing; each has its control that is taken."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from gateway.audit.models import AuditRecord
from gateway.audit.testing import failing_audit_writes
from gateway.cases.models import CaseFile, CaseTransition
from gateway.context import GatewayContext
from gateway.core.dutch_date import dutch_today
from gateway.db import transaction
from gateway.retention.models import RetentionFact
from tests.dutch_midnight import AFTER_DUTCH_MIDNIGHT
from tests.exchange.conftest import CASE_MANAGER, MITROS, open_utrecht_case
from tests.retention.conftest import Seeder, audit_verifies

Auth = Callable[..., dict[str, str]]
LEAD = ("gemeente-rijswijk", "casemanager")
#: A seeded case began on 2 January 2024 (its report came in and it was opened).
BEGAN = date(2024, 1, 2)
#: The kinds the API takes as the partner knows them (a closure and a mediation's end only
#: as the workflow recorded them: tests below), each with the detail it needs.
KINDS = [
    ("resident-moved-out", None),
    ("recorded-date", "court-date"),
]


def _post(
    client: TestClient, auth: Auth, case_id: str, kind: str, on: date, detail: str | None = None
) -> Any:
    body: dict[str, str] = {"kind": kind, "occurredOn": on.isoformat()}
    if detail is not None:
        body["detail"] = detail
    return client.post(f"/v1/cases/{case_id}/retention/facts", json=body, headers=auth(*LEAD))


def _stored(context: GatewayContext, case_id: str) -> list[tuple[int, str, date]]:
    """The facts a partner recorded on the case (not those imported from the cases domain)."""
    with context.session_factory() as session:
        rows = session.execute(
            select(RetentionFact.id, RetentionFact.kind, RetentionFact.occurred_on)
            .where(RetentionFact.case_id == case_id, RetentionFact.source_ref.is_(None))
            .order_by(RetentionFact.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def _fact_entries(context: GatewayContext, case_id: str) -> list[dict[str, Any]]:
    with context.session_factory() as session:
        records = session.scalars(
            select(AuditRecord)
            .where(AuditRecord.case_id == case_id, AuditRecord.activity == "retention-fact")
            .order_by(AuditRecord.index)
        )
        return [json.loads(record.body) for record in records]


def _refused(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [p["name"] for p in response.json()["invalidParams"]] == [field]


def _close(context: GatewayContext, case_id: str, at: datetime) -> None:
    """The cases domain closes the case (its own tables; the workflow is not under test)."""
    with transaction(context.session_factory) as session:
        session.execute(
            update(CaseFile).where(CaseFile.id == case_id).values(closed_at=at, state="closed")
        )


def _end_mediation(context: GatewayContext, case_id: str, at: datetime, to_state: str) -> None:
    """The workflow ends the case's mediation: a transition out of Rijswijk's ``mediation``
    state (the cases domain's own table; the workflow is not under test)."""
    with transaction(context.session_factory) as session:
        session.add(
            CaseTransition(
                id=str(uuid.uuid4()),
                case_id=case_id,
                covenant_id="rijswijk-woonoverlast",
                transition="evaluate-mediation",
                from_state="mediation",
                to_state=to_state,
                at=at,
                actor_partner_id=LEAD[0],
                actor_role=LEAD[1],
                actor_user=None,
                facts={},
                reason_sealed=None,
            )
        )


@pytest.mark.parametrize(("kind", "detail"), KINDS)
def test_a_fact_dated_after_the_dutch_today_is_refused_and_stores_nothing(
    client: TestClient, auth: Auth, seed: Seeder, context: GatewayContext, kind: str, detail: str
) -> None:
    case = seed()
    tomorrow = dutch_today() + timedelta(days=1)
    _refused(_post(client, auth, case.case_id, kind, tomorrow, detail), "occurredOn")
    _refused(_post(client, auth, case.case_id, kind, date(2099, 12, 31), detail), "occurredOn")
    assert _stored(context, case.case_id) == []
    assert _fact_entries(context, case.case_id) == []
    # The control: the same fact dated today is taken.
    taken = _post(client, auth, case.case_id, kind, dutch_today(), detail)
    assert taken.status_code == 201, taken.text
    assert [k for _, k, _ in _stored(context, case.case_id)] == [kind]


@pytest.mark.parametrize(("now", "today"), AFTER_DUTCH_MIDNIGHT)
def test_today_is_the_dutch_today_after_midnight(
    client: TestClient,
    auth: Auth,
    seed: Seeder,
    monkeypatch: pytest.MonkeyPatch,
    now: datetime,
    today: date,
) -> None:
    """At 00:30 in Amsterdam the UTC date is still yesterday's: a fact of the Dutch today is
    taken, one of the Dutch tomorrow is not."""
    case = seed()
    monkeypatch.setattr("gateway.db.utcnow", lambda: now)
    later = _post(client, auth, case.case_id, "resident-moved-out", today + timedelta(days=1))
    _refused(later, "occurredOn")
    taken = _post(client, auth, case.case_id, "resident-moved-out", today)
    assert taken.status_code == 201, taken.text


@pytest.mark.parametrize(("kind", "detail"), KINDS)
def test_a_fact_dated_before_the_case_began_is_refused(
    client: TestClient, auth: Auth, seed: Seeder, context: GatewayContext, kind: str, detail: str
) -> None:
    case = seed()
    for before in (BEGAN - timedelta(days=1), date(2000, 1, 1)):
        _refused(_post(client, auth, case.case_id, kind, before, detail), "occurredOn")
    assert _stored(context, case.case_id) == []
    taken = _post(client, auth, case.case_id, kind, BEGAN, detail)  # the control: its first day
    assert taken.status_code == 201, taken.text


def test_a_case_begins_with_its_first_report_when_that_came_in_before_it_was_opened(
    client: TestClient, auth: Auth, seed: Seeder, context: GatewayContext
) -> None:
    case = seed()
    with transaction(context.session_factory) as session:
        session.execute(
            update(CaseFile)
            .where(CaseFile.id == case.case_id)
            .values(first_report_at=datetime(2023, 12, 20, 9, 0, tzinfo=UTC))
        )
    earlier = date(2023, 12, 20)
    _refused(
        _post(client, auth, case.case_id, "resident-moved-out", earlier - timedelta(1)),
        "occurredOn",
    )
    assert _post(client, auth, case.case_id, "resident-moved-out", earlier).status_code == 201


def test_a_closure_of_a_case_the_cases_domain_has_open_is_refused_and_changes_nothing(
    client: TestClient, auth: Auth, seed: Seeder, context: GatewayContext
) -> None:
    case = seed()
    state = f"/v1/cases/{case.case_id}/retention"
    before = client.get(state, headers=auth(*LEAD)).json()
    for on in (date(2024, 6, 1), dutch_today()):
        _refused(_post(client, auth, case.case_id, "case-closed", on), "kind")
    after = client.get(state, headers=auth(*LEAD)).json()
    assert (after["ruleId"], after["dueOn"]) == (before["ruleId"], before["dueOn"])
    assert _stored(context, case.case_id) == []
    assert _fact_entries(context, case.case_id) == []
    # The control: once the cases domain closed it, the closure on its closing day is taken.
    _close(context, case.case_id, datetime(2024, 6, 1, 10, 0, tzinfo=UTC))
    taken = _post(client, auth, case.case_id, "case-closed", date(2024, 6, 1))
    assert taken.status_code == 201, taken.text


def test_a_closure_on_another_day_than_the_case_closed_is_refused(
    client: TestClient, auth: Auth, seed: Seeder, context: GatewayContext
) -> None:
    """A later day would postpone the erasure (up to today), an earlier one advance it: the
    closing day is the cases domain's, which retention reads already (casefacts)."""
    case = seed()
    # 23:30 UTC on 31 May is 1 June in Amsterdam: the closing day is the Dutch date.
    _close(context, case.case_id, datetime(2024, 5, 31, 23, 30, tzinfo=UTC))
    for on in (date(2024, 5, 31), date(2024, 6, 2), dutch_today()):
        _refused(_post(client, auth, case.case_id, "case-closed", on), "occurredOn")
    assert _stored(context, case.case_id) == []
    taken = _post(client, auth, case.case_id, "case-closed", date(2024, 6, 1))
    assert taken.status_code == 201, taken.text


def test_each_recorded_fact_is_audited_with_its_kind_and_id_and_no_more(
    client: TestClient, auth: Auth, seed: Seeder, context: GatewayContext
) -> None:
    case = seed()
    first = _post(client, auth, case.case_id, "recorded-date", date(2024, 3, 1), "court-date")
    second = _post(client, auth, case.case_id, "resident-moved-out", date(2024, 4, 1))
    assert (first.status_code, second.status_code) == (201, 201), (first.text, second.text)
    stored = _stored(context, case.case_id)
    entries = _fact_entries(context, case.case_id)
    assert [(e["attributes"]["kind"], e["attributes"]["fact-id"]) for e in entries] == [
        (kind, fact_id) for fact_id, kind, _ in stored
    ]
    for entry in entries:
        assert entry["outcome"] == "recorded"
        assert entry["requester"]["partnerId"] == "gemeente-rijswijk"
        assert entry["requester"]["role"] == "casemanager"
        assert (entry["processing"]["covenantId"], entry["processing"]["purpose"]) == (
            "rijswijk-woonoverlast",
            "retention",
        )
        # The date and the date's name stay out of the log (a move-out date is about the
        # resident; a name is the partner's words): the fact's id leads to them.
        assert set(entry["attributes"]) == {"kind", "fact-id"}
    assert audit_verifies(context)


def test_a_fact_whose_audit_entry_cannot_be_written_is_not_recorded(
    client: TestClient, auth: Auth, seed: Seeder, context: GatewayContext
) -> None:
    case = seed()
    with failing_audit_writes(context.audit) as attempted:
        failed = _post(client, auth, case.case_id, "resident-moved-out", date(2024, 4, 1))
    assert failed.status_code == 503, failed.text
    assert [entry.activity for entry in attempted] == ["retention-fact"]
    assert _stored(context, case.case_id) == []
    # The control: with the log writable again the same fact is recorded.
    assert (
        _post(client, auth, case.case_id, "resident-moved-out", date(2024, 4, 1)).status_code == 201
    )


def test_a_landlord_cannot_move_an_open_cases_erasure_with_a_closure_of_its_own(
    client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    """The review's case (F8): Mitros records that an open Utrecht case closed in 2099
    (erasure moved from 2027 to 2101) or in 2000 (erased at the next sweep). Both refused;
    the move-out of today, the control, is taken and audited."""
    case = open_utrecht_case(client, auth)
    state = f"/v1/cases/{case.case_id}/retention"
    before = client.get(state, headers=auth(*CASE_MANAGER)).json()
    for on in ("2099-12-31", "2000-01-01"):
        response = client.post(
            f"{state}/facts", json={"kind": "case-closed", "occurredOn": on}, headers=auth(*MITROS)
        )
        assert response.status_code == 422, response.text
    after = client.get(state, headers=auth(*CASE_MANAGER)).json()
    assert (after["ruleId"], after["dueOn"], after["status"]) == (
        before["ruleId"],
        before["dueOn"],
        before["status"],
    )
    taken = client.post(
        f"{state}/facts",
        json={"kind": "resident-moved-out", "occurredOn": dutch_today().isoformat()},
        headers=auth(*MITROS),
    )
    assert taken.status_code == 201, taken.text
    with context.session_factory() as session:
        count = session.scalar(
            select(func.count())
            .select_from(AuditRecord)
            .where(AuditRecord.case_id == case.case_id, AuditRecord.activity == "retention-fact")
        )
    assert count == 1


def test_a_mediation_the_workflow_did_not_end_is_refused_and_changes_nothing(
    client: TestClient, auth: Auth, seed: Seeder, context: GatewayContext
) -> None:
    """A "solved" mediation dated the day an open case began put it under Rijswijk's
    one-year rule (R §3.4), due a year later: the case, open and active, was erased at the
    next sweep on a partner's word. The workflow records a mediation's end (the case leaves
    its mediation state); until it did, the fact is refused."""
    case = seed(facts=[("case-activity", dutch_today() - timedelta(days=30), None)])
    state = f"/v1/cases/{case.case_id}/retention"
    before = client.get(state, headers=auth(*LEAD)).json()
    assert before["status"] != "due"  # open and active: kept
    seeded = _stored(context, case.case_id)
    for on, outcome in ((BEGAN, "solved"), (date(2024, 6, 1), "failed"), (dutch_today(), "solved")):
        _refused(_post(client, auth, case.case_id, "mediation-ended", on, outcome), "kind")
    after = client.get(state, headers=auth(*LEAD)).json()
    assert (after["ruleId"], after["dueOn"], after["status"]) == (
        before["ruleId"],
        before["dueOn"],
        before["status"],
    )
    assert _stored(context, case.case_id) == seeded
    assert _fact_entries(context, case.case_id) == []
    # The control: once the workflow ended the mediation (solved: into aftercare), the same
    # fact on that day is taken.
    _end_mediation(
        context, case.case_id, datetime(2024, 1, 2, 10, 0, tzinfo=UTC), "aftercare-evaluation"
    )
    taken = _post(client, auth, case.case_id, "mediation-ended", BEGAN, "solved")
    assert taken.status_code == 201, taken.text
    assert [k for _, k, _ in _stored(context, case.case_id)] == ["case-activity", "mediation-ended"]
    assert len(_fact_entries(context, case.case_id)) == 1


def test_a_mediation_end_on_another_day_or_with_another_outcome_is_refused(
    client: TestClient, auth: Auth, seed: Seeder, context: GatewayContext
) -> None:
    """The day is the Dutch date of the workflow's transition, the outcome where the case
    went: it escalated, so the mediation failed."""
    case = seed()
    # 23:30 UTC on 31 May is 1 June in Amsterdam.
    _end_mediation(context, case.case_id, datetime(2024, 5, 31, 23, 30, tzinfo=UTC), "warning")
    for on, outcome, field in (
        (date(2024, 5, 31), "failed", "occurredOn"),
        (date(2024, 6, 2), "failed", "occurredOn"),
        (date(2024, 6, 1), "solved", "detail"),
    ):
        _refused(_post(client, auth, case.case_id, "mediation-ended", on, outcome), field)
    assert _stored(context, case.case_id) == []
    taken = _post(client, auth, case.case_id, "mediation-ended", date(2024, 6, 1), "failed")
    assert taken.status_code == 201, taken.text


def test_a_mediation_end_is_still_refused_in_the_future_or_before_the_case_began(
    client: TestClient, auth: Auth, seed: Seeder, context: GatewayContext
) -> None:
    case = seed()
    _end_mediation(context, case.case_id, datetime(2024, 3, 1, 10, 0, tzinfo=UTC), "closed")
    for on in (dutch_today() + timedelta(days=1), BEGAN - timedelta(days=1)):
        _refused(_post(client, auth, case.case_id, "mediation-ended", on, "solved"), "occurredOn")
    taken = _post(client, auth, case.case_id, "mediation-ended", date(2024, 3, 1), "solved")
    assert taken.status_code == 201, taken.text
