"""GDPR art. 15: the privacy officer's access report shows that a person's data was erased,
when and under which rule, found by the person's BSN through the blind index the case
stored (nothing is decrypted; the BSN is nowhere in the audit log)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select

from gateway.audit.models import AuditRecord
from gateway.context import GatewayContext
from gateway.retention import erasure_of
from tests.retention.conftest import Seeder, audit_verifies

Auth = Callable[..., dict[str, str]]
OFFICER = ("gemeente-rijswijk", "privacy-officer")
CAUSER_BSN = "111222333"
STRANGER_BSN = "999999990"


def _blind_index(context: GatewayContext, bsn: str) -> str:
    indexer = context.audit.subject_indexer
    assert indexer is not None
    return indexer(session=None, identifier_type="bsn", identifier=bsn)


def _report(client: TestClient, auth: Auth, bsn: str) -> list[dict[str, object]]:
    response = client.post(
        "/v1/audit/access-report",
        json={"identifierType": "bsn", "identifier": bsn},
        headers=auth(*OFFICER),
    )
    assert response.status_code == 200, response.text
    lines: list[dict[str, object]] = response.json()["lines"]
    return lines


def test_access_report_shows_the_persons_data_erased_when_and_under_which_rule(
    context: GatewayContext, client: TestClient, auth: Auth, seed: Seeder
) -> None:
    case = seed(
        resident=_blind_index(context, CAUSER_BSN),
        facts=[("mediation-ended", date(2024, 3, 10), "solved")],
    )
    seed(facts=[("mediation-ended", date(2024, 3, 10), "solved")])  # someone else's case
    report = context.require_retention().sweep(as_of=date(2025, 3, 10))
    assert report.redacted == 2

    lines = _report(client, auth, CAUSER_BSN)
    erased = [line for line in lines if line["activity"] == "retention-redaction"]
    assert len(erased) == 1
    [line] = erased
    assert line["clauseIds"] == ["R-3.4-licht-bemiddeld"]
    assert line["purpose"] == "retention"
    assert line["covenantId"] == "rijswijk-woonoverlast"
    with context.session_factory() as session:
        erasure = erasure_of(session=session, case_id=case.case_id)
        assert erasure is not None
        assert datetime.fromisoformat(str(line["when"]).replace("Z", "+00:00")) == erasure.erased_at
        record = session.scalar(select(AuditRecord).where(AuditRecord.index == line["index"]))
        assert record is not None
        assert record.case_id == case.case_id
        assert CAUSER_BSN not in record.body
    # Another person's report does not show this erasure.
    assert not [
        line
        for line in _report(client, auth, STRANGER_BSN)
        if line["activity"] == "retention-redaction"
    ]
    assert audit_verifies(context)
