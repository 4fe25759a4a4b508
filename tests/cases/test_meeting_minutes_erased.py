"""A case meeting's minutes end with the cases they discuss (review2 finding 8;
docs/retention.md, "Case meetings").

The minutes and the actions' descriptions are sealed under the meeting's own key scope, which
no case's erasure shreds: minutes naming a causer were kept for ever (R §3.4; AVG art.
5(1)(e)). The sweep now erases a meeting once every case on its agenda is erased, and a
meeting without cases once its covenant's ``openCases`` period has passed since its day.
Controls: a meeting with a case still kept (a legal hold) keeps its minutes and takes writes;
a meeting without cases is kept within the period."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from gateway.audit.models import AuditRecord
from gateway.cases.models import CaseMeeting, MeetingAction
from gateway.context import GatewayContext
from gateway.crypto import Erased, record_scope
from gateway.crypto.models import DataKey
from tests.cases.builders import report_body

Auth = Callable[..., dict[str, str]]
CM = ("u-centraal", "casemanager")
POLICE = ("politie-midden-nederland", "wijkagent")
DISTRICT = "Oost"
MINUTES = "Besproken: Jan Testpersoon, Domstraat 12, dreigt de buren; politie kent hem."
#: Years later: every open case has been without activity for longer than its rule.
LATER = date(2030, 1, 1)


def _open(client: TestClient, auth: Auth, number: int) -> str:
    body = report_body(postcode="3511 AB", number=number, district=DISTRICT, persons=[])
    response = client.post("/v1/reports", json=body, headers=auth(*POLICE))
    assert response.status_code == 201, response.text
    return str(response.json()["caseId"])


def _meeting(client: TestClient, auth: Auth, day: str, district: str = DISTRICT) -> Any:
    planned = client.post(
        "/v1/meetings", headers=auth(*CM), json={"district": district, "scheduledOn": day}
    )
    assert planned.status_code == 201, planned.text
    return planned.json()


def _minutes(client: TestClient, auth: Auth, meeting_id: str, text: str = MINUTES) -> Any:
    return client.post(f"/v1/meetings/{meeting_id}/minutes", json={"text": text}, headers=auth(*CM))


def _action(client: TestClient, auth: Auth, meeting_id: str, case_id: str | None) -> Any:
    return client.post(
        f"/v1/meetings/{meeting_id}/actions",
        headers=auth(*CM),
        json={
            "caseId": case_id,
            "ownerPartnerId": "politie-midden-nederland",
            "description": "Jan Testpersoon aanspreken.",
            "dueOn": "2026-12-15",
        },
    )


def _hold(client: TestClient, auth: Auth, case_id: str, *, lift: bool = False) -> None:
    tail = "/lift" if lift else ""
    response = client.post(
        f"/v1/cases/{case_id}/retention/legal-hold{tail}",
        json={"reason": "court procedure"},
        headers=auth(*CM),
    )
    assert response.status_code == (200 if lift else 201), response.text


def _opened(context: GatewayContext, meeting_id: str) -> list[object]:
    """The meeting's minutes and its actions' descriptions, decrypted."""
    fields = context.require_keys().fields
    scope = record_scope("case_meeting", meeting_id)
    with context.session_factory() as session:
        meeting = session.get_one(CaseMeeting, meeting_id)
        assert meeting.minutes_sealed is not None
        values = [
            fields.decrypt(
                session=session,
                scope=scope,
                table="case_meeting",
                record_id=meeting_id,
                field="minutes",
                ciphertext=meeting.minutes_sealed,
            )
        ]
        for action in session.scalars(
            select(MeetingAction).where(MeetingAction.meeting_id == meeting_id)
        ):
            values.append(
                fields.decrypt(
                    session=session,
                    scope=scope,
                    table="meeting_action",
                    record_id=action.id,
                    field="description",
                    ciphertext=action.description_sealed,
                )
            )
    return values


def _redactions(context: GatewayContext) -> list[str]:
    with context.session_factory() as session:
        bodies = session.scalars(
            select(AuditRecord.body).where(AuditRecord.activity == "retention-meeting-redaction")
        ).all()
    return [str(body) for body in bodies]


def _key_shredded(context: GatewayContext, meeting_id: str) -> bool:
    with context.session_factory() as session:
        key = session.scalars(
            select(DataKey).where(DataKey.scope == record_scope("case_meeting", meeting_id))
        ).one()
    return key.wrapped_key is None and key.shredded_at is not None


def test_minutes_of_a_meeting_whose_cases_are_all_erased_are_erased_and_take_no_writes(
    client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    case_id = _open(client, auth, 1)
    meeting = _meeting(client, auth, "2026-12-10")
    assert [item["caseId"] for item in meeting["agenda"]] == [case_id]
    assert _minutes(client, auth, meeting["id"]).status_code == 200
    assert _action(client, auth, meeting["id"], case_id).status_code == 201
    assert _action(client, auth, meeting["id"], None).status_code == 201
    # Positive control: readable before the erasure.
    assert _opened(context, meeting["id"]) == [
        MINUTES,
        "Jan Testpersoon aanspreken.",
        "Jan Testpersoon aanspreken.",
    ]
    retention = context.require_retention()
    assert retention.sweep(as_of=LATER, dry_run=True).meetings == 1
    assert not any(isinstance(v, Erased) for v in _opened(context, meeting["id"]))

    report = retention.sweep(as_of=LATER)

    assert report.redacted == 1
    assert report.meetings == 1
    assert all(isinstance(v, Erased) for v in _opened(context, meeting["id"]))
    assert _key_shredded(context, meeting["id"])
    (entry,) = _redactions(context)
    assert meeting["id"] in entry
    assert "agenda-erased" in entry
    for write in (
        _minutes(client, auth, meeting["id"], "Nieuwe notulen."),
        _action(client, auth, meeting["id"], None),
    ):
        assert write.status_code == 410, write.text
        assert write.headers["content-type"].startswith("application/problem+json")
        assert write.json()["type"].endswith("meeting-erased")
    assert all(isinstance(v, Erased) for v in _opened(context, meeting["id"]))
    # Erased once: the next sweep passes it over.
    assert retention.sweep(as_of=LATER).meetings == 0
    assert len(_redactions(context)) == 1


def test_minutes_are_kept_while_a_case_on_the_agenda_is_kept(
    client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    erased, held = _open(client, auth, 1), _open(client, auth, 2)
    meeting = _meeting(client, auth, "2026-12-10")
    assert {item["caseId"] for item in meeting["agenda"]} == {erased, held}
    assert _minutes(client, auth, meeting["id"]).status_code == 200
    _hold(client, auth, held)
    retention = context.require_retention()

    report = retention.sweep(as_of=LATER)

    assert report.redacted == 1
    assert report.meetings == 0
    assert _opened(context, meeting["id"]) == [MINUTES]
    assert _minutes(client, auth, meeting["id"], "Aanvulling.").status_code == 200
    assert _redactions(context) == []
    # Once the last case goes, the minutes go with it.
    _hold(client, auth, held, lift=True)
    assert retention.sweep(as_of=LATER).meetings == 1
    assert all(isinstance(v, Erased) for v in _opened(context, meeting["id"]))


def test_minutes_of_a_meeting_without_cases_end_after_the_open_cases_period(
    client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    """No dossier to follow: the covenant's ``openCases`` period (12 months) from its day."""
    meeting = _meeting(client, auth, "2026-12-10", district="Noordwest")
    assert meeting["agenda"] == []
    assert _minutes(client, auth, meeting["id"]).status_code == 200
    retention = context.require_retention()

    assert retention.sweep(as_of=date(2027, 12, 9)).meetings == 0
    assert _opened(context, meeting["id"]) == [MINUTES]
    assert retention.sweep(as_of=date(2027, 12, 10)).meetings == 1
    assert all(isinstance(v, Erased) for v in _opened(context, meeting["id"]))
    (entry,) = _redactions(context)
    assert "no-agenda" in entry
