"""What the audit log calls a refusal (issue 23): a category withheld by a decision. A
category the partner has not answered yet, or answered with "we hold nothing", is no
refusal: not in the entry's ``redacted`` list, not a denial, not counted as one in the
per-partner report."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from gateway.audit.models import AuditRecord
from gateway.audit.readers import LogReader
from gateway.audit.reports import partner_activity
from gateway.context import GatewayContext
from tests.exchange.conftest import ANTECEDENTS, REPORTS, VIOLENCE, UtrechtCase

#: The whole covenant's log as stored (the operator's view).
WHOLE_LOG = LogReader("utrecht-extreme-woonoverlast", None, covenant_wide=True, police=frozenset())


def _entry(context: GatewayContext, index: int) -> dict[str, Any]:
    with context.session_factory() as session:
        body = session.scalar(select(AuditRecord.body).where(AuditRecord.index == index))
    assert body is not None
    return json.loads(body)  # type: ignore[no-any-return]


def _denials_counted(context: GatewayContext) -> tuple[int, int]:
    with context.session_factory() as session:
        report = partner_activity(
            session,
            reader=WHOLE_LOG,
            period="month",
            since=None,
            until=None,
        )
    rows = [r for r in report.rows if r.partner_id == "u-centraal"]
    return sum(r.requests for r in rows), sum(r.denials for r in rows)


def test_reading_answers_before_the_partner_answered_logs_no_refusal(
    utrecht_case: UtrechtCase, context: GatewayContext
) -> None:
    request = utrecht_case.request([VIOLENCE, REPORTS])

    read = utrecht_case.read(request["id"])

    assert {v["state"] for v in read["values"]} == {"asked"}
    entry = _entry(context, read["receipt"]["index"])
    assert entry["activity"] == "information-read"
    assert entry["outcome"] == "recorded"
    assert entry["redacted"] == []
    assert entry["disclosed"] == []
    assert entry["attributes"]["awaiting-answer"] == 2
    assert _denials_counted(context) == (0, 0)


def test_a_category_refused_by_the_policy_is_a_refusal_when_the_rest_waits(
    utrecht_case: UtrechtCase, context: GatewayContext
) -> None:
    # Positive control of the test above: the same early read, with one category the
    # policy refuses (an investigation runs without the OM's consent, U §5.3).
    utrecht_case.investigation(True)
    request = utrecht_case.request([ANTECEDENTS, REPORTS])

    read = utrecht_case.read(request["id"])

    entry = _entry(context, read["receipt"]["index"])
    assert entry["activity"] == "denial"
    assert entry["outcome"] == "denied"
    assert entry["redacted"] == [{"category": ANTECEDENTS, "reason": "om-consent-missing"}]
    assert entry["attributes"]["awaiting-answer"] == 1
    assert _denials_counted(context) == (1, 1)


def test_a_partial_refusal_names_only_the_refused_category(
    utrecht_case: UtrechtCase, context: GatewayContext
) -> None:
    utrecht_case.investigation(True)
    request = utrecht_case.request([ANTECEDENTS, REPORTS, VIOLENCE])
    answered = utrecht_case.answer(request["id"], [{"category": REPORTS, "value": "2 meldingen"}])
    assert answered.status_code == 200, answered.text

    read = utrecht_case.read(request["id"])

    entry = _entry(context, read["receipt"]["index"])
    assert entry["activity"] == "disclosure"
    assert entry["outcome"] == "partially-disclosed"
    assert entry["disclosed"] == [REPORTS]
    assert entry["redacted"] == [{"category": ANTECEDENTS, "reason": "om-consent-missing"}]
    assert entry["attributes"]["awaiting-answer"] == 1  # violence: not answered yet


def test_an_answer_that_the_partner_holds_nothing_is_no_refusal(
    utrecht_case: UtrechtCase, context: GatewayContext
) -> None:
    request = utrecht_case.request([REPORTS])
    answered = utrecht_case.answer(request["id"], [{"category": REPORTS, "notAvailable": True}])
    assert answered.status_code == 200, answered.text
    assert answered.json()["items"][0]["state"] == "not-available"

    answer_entry = _entry(context, answered.json()["receipt"]["index"])
    assert answer_entry["outcome"] == "recorded"
    assert answer_entry["redacted"] == []
    read = utrecht_case.read(request["id"])
    entry = _entry(context, read["receipt"]["index"])
    assert entry["activity"] == "information-read"
    assert entry["redacted"] == []
    assert entry["attributes"]["not-available"] == 1


def test_an_answer_withheld_on_delivery_is_a_refusal(
    utrecht_case: UtrechtCase, context: GatewayContext
) -> None:
    # Positive control of the test above: the policy withholds the answer when it arrives
    # (the OM's consent was withdrawn meanwhile), so the answer's entry is a denial.
    utrecht_case.investigation(True)
    consent_id = utrecht_case.om_consent()
    request = utrecht_case.request([ANTECEDENTS])
    withdrawn = utrecht_case.client.post(
        f"/v1/cases/{utrecht_case.case_id}/consents/{consent_id}/withdrawal",
        headers=utrecht_case.as_(("politie-midden-nederland", "wijkagent")),
    )
    assert withdrawn.status_code in (200, 201), withdrawn.text
    answered = utrecht_case.answer(request["id"], [{"category": ANTECEDENTS, "yesNo": True}])

    answer_entry = _entry(context, answered.json()["receipt"]["index"])
    assert answer_entry["outcome"] == "denied"
    assert answer_entry["redacted"] == [{"category": ANTECEDENTS, "reason": "om-consent-missing"}]


def _found(context: GatewayContext, **search: Any) -> set[int]:
    from gateway.audit.reports import iter_entries
    from gateway.audit.schemas import EntrySearch

    with context.session_factory() as session:
        return {
            int(entry["index"])
            for entry in iter_entries(
                session,
                reader=WHOLE_LOG,
                search=EntrySearch.model_validate(search),
                subject_pseudonym=None,
            )
        }


def test_a_search_for_refusals_finds_partial_ones_and_no_unanswered_read(
    utrecht_case: UtrechtCase, context: GatewayContext
) -> None:
    """`audit search --refused` / {"refused": true}: outcome=denied misses a partial
    refusal (its outcome is partially-disclosed), and an unanswered category is none."""
    waiting = utrecht_case.request([VIOLENCE])
    unanswered_read = utrecht_case.read(waiting["id"])["receipt"]["index"]
    utrecht_case.investigation(True)
    request = utrecht_case.request([ANTECEDENTS, REPORTS])
    answered = utrecht_case.answer(request["id"], [{"category": REPORTS, "value": "2 meldingen"}])
    assert answered.status_code == 200, answered.text
    partial_read = utrecht_case.read(request["id"])["receipt"]["index"]
    assert _entry(context, partial_read)["outcome"] == "partially-disclosed"

    refused = _found(context, refused=True)
    assert partial_read in refused
    assert unanswered_read not in refused
    assert partial_read not in _found(context, outcome="denied")  # why the filter exists
    assert unanswered_read in _found(context)  # control: the read is logged, just no refusal
