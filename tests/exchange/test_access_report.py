"""The privacy officer's data-subject access report (GDPR art. 15) over real disclosures.

End to end through the API: a report names a causer by BSN, the case manager asks the police,
the police answer, the case manager reads; then the covenant's privacy officer asks for
everything recorded about that BSN and finds the disclosure, while the BSN itself is nowhere
in the audit log.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from gateway.audit.models import AuditRecord
from gateway.context import GatewayContext
from tests.exchange.conftest import CASE_MANAGER, MITROS, REPORTS, VIOLENCE, UtrechtCase

CAUSER_BSN = "111222333"  # the causer named by open_utrecht_case
COMPLAINANT_BSN = "123456782"
STRANGER_BSN = "999999990"
#: The covenant's coordinating privacy officer (coordinatingPrivacyOfficer): the whole
#: covenant's entries (tests/audit/test_privacy_officer_scope.py has the partners' own view).
OFFICER = ("gemeente-utrecht", "privacy-officer")


def _report(case: UtrechtCase, identifier: str, identifier_type: str = "bsn") -> dict:  # type: ignore[type-arg]
    response = case.client.post(
        "/v1/audit/access-report",
        json={"identifierType": identifier_type, "identifier": identifier},
        headers=case.as_(OFFICER),
    )
    assert response.status_code == 200, response.text
    assert identifier not in response.text
    return response.json()  # type: ignore[no-any-return]


def _read_disclosure(case: UtrechtCase) -> dict:  # type: ignore[type-arg]
    request = case.request([VIOLENCE, REPORTS])
    answered = case.answer(
        request["id"],
        [{"category": VIOLENCE, "yesNo": True}, {"category": REPORTS, "value": "3 meldingen"}],
    )
    assert answered.status_code == 200, answered.text
    return case.read(request["id"])


def test_access_report_lists_the_disclosure_about_the_causer(utrecht_case: UtrechtCase) -> None:
    disclosure = _read_disclosure(utrecht_case)

    report = _report(utrecht_case, CAUSER_BSN)

    reads = [line for line in report["lines"] if line["activity"] == "disclosure"]
    assert [line["index"] for line in reads] == [disclosure["receipt"]["index"]]
    line = reads[0]
    assert line["recipient"] == CASE_MANAGER[0]
    assert sorted(line["categoriesDisclosed"]) == sorted([VIOLENCE, REPORTS])
    assert "U-5.3-meldingen" in line["clauseIds"]
    assert line["purpose"] == "case-handling"
    assert line["covenantId"] == "utrecht-extreme-woonoverlast"
    assert line["when"]
    # The intake and the case's other recorded processings are about the causer too.
    assert "case-intake" in {line["activity"] for line in report["lines"]}
    # The BSN may be written as people write it; the first report was audited, so the second
    # lists it too.
    again = _report(utrecht_case, "111 222 333")["lines"]
    assert again[:-1] == report["lines"]
    assert again[-1]["activity"] == "access-report"


def test_access_report_for_another_bsn_is_empty(utrecht_case: UtrechtCase) -> None:
    _read_disclosure(utrecht_case)
    assert _report(utrecht_case, STRANGER_BSN)["lines"] == []


def test_every_person_of_the_case_and_its_address_is_a_subject_of_the_disclosure(
    utrecht_case: UtrechtCase,
) -> None:
    # A second report at the same dwelling joins the open dossier and names a complainant.
    second = utrecht_case.client.post(
        "/v1/reports",
        json={
            "dwelling": {
                "address": {"postcode": "3511 AB", "houseNumber": 12},
                "ownership": "corporation",
                "corporationId": "mitros",
                "district": "binnenstad",
            },
            "persons": [{"role": "complainant", "bsn": COMPLAINANT_BSN}],
            "report": {"channel": "phone", "description": "Weer geluidsoverlast."},
        },
        headers=utrecht_case.as_(MITROS),
    )
    assert second.status_code == 200, second.text  # joined the open dossier
    assert second.json()["caseId"] == utrecht_case.case_id
    disclosure = _read_disclosure(utrecht_case)
    index = disclosure["receipt"]["index"]

    # Every person and the dwelling are data subjects of the read: the officer's search by
    # subject finds it for each.
    for identifier, kind in (
        (CAUSER_BSN, "bsn"),
        (COMPLAINANT_BSN, "bsn"),
        ("3511AB 12", "address"),
    ):
        found = utrecht_case.client.post(
            "/v1/audit/entries/search",
            json={"dataSubject": {"identifierType": kind, "identifier": identifier}},
            headers=utrecht_case.as_(OFFICER),
        )
        assert found.status_code == 200, found.text
        assert index in [entry["index"] for entry in found.json()["entries"]], kind
    # But the access report, made to be handed to the person, names the police's items
    # (U §5.3: the causer's) to the causer alone (review12 F1;
    # tests/audit/test_access_report_concerns.py).
    assert index in [line["index"] for line in _report(utrecht_case, CAUSER_BSN)["lines"]]
    for identifier, kind in ((COMPLAINANT_BSN, "bsn"), ("3511AB 12", "address")):
        lines = _report(utrecht_case, identifier, kind)["lines"]
        assert index not in [line["index"] for line in lines], (kind, lines)
        assert "case-intake" in {line["activity"] for line in lines}


def test_a_denial_is_in_the_access_report(utrecht_case: UtrechtCase) -> None:
    # The corporation asks for a police category no clause gives it: the read is denied.
    response = utrecht_case.client.post(
        "/v1/case-facts/queries",
        json={"caseId": utrecht_case.case_id, "purpose": "case-handling", "categories": [VIOLENCE]},
        headers=utrecht_case.as_(("mitros", "woonconsulent"), "wc-1"),
    )
    assert response.status_code == 200, response.text
    assert response.json()["disclosureId"] is None
    denials = [
        line for line in _report(utrecht_case, CAUSER_BSN)["lines"] if line["activity"] == "denial"
    ]
    assert len(denials) == 1
    assert denials[0]["requester"] == "mitros"
    assert denials[0]["outcome"] == "denied"
    assert denials[0]["categoriesRedacted"] == [VIOLENCE]


def test_the_bsn_is_nowhere_in_the_audit_log(
    utrecht_case: UtrechtCase, context: GatewayContext
) -> None:
    _read_disclosure(utrecht_case)
    assert _report(utrecht_case, CAUSER_BSN)["lines"]

    with context.session_factory() as session:
        bodies = session.scalars(select(AuditRecord.body)).all()
        columns = session.scalars(select(AuditRecord.subject_pseudonym)).all()
    assert bodies
    for text in [*bodies, *(c for c in columns if c)]:
        assert CAUSER_BSN not in text
    exported = utrecht_case.client.post(
        "/v1/audit/entries/export?format=csv",
        json={"dataSubject": {"identifierType": "bsn", "identifier": CAUSER_BSN}},
        headers=utrecht_case.as_(OFFICER),
    )
    assert exported.status_code == 200, exported.text
    assert "dataSubjects" in exported.text.splitlines()[0]
    assert len(exported.text.splitlines()) > 2  # the header and the entries about the causer
    assert CAUSER_BSN not in exported.text
    url = context.engine.url
    if url.get_backend_name() == "sqlite":
        assert url.database
        context.engine.dispose()  # flush the WAL, if any, into the file
        raw = Path(url.database).read_bytes()
        assert CAUSER_BSN.encode() not in raw
        assert b"111 222 333" not in raw
