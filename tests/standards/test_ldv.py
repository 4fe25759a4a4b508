"""Logboek Dataverwerkingen: the audit log exported in the standard's record form.

The records of a real disclosure (made through the API with the partner's ``traceparent``)
are compared with the standard's record schema (ldv_record.schema.json, transcribed from the
Logius specification), and their links are followed: every processing activity URI and the
partner's entity URI resolve in the art. 30 register the gateway serves.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import jsonschema_rs
import pytest
from fastapi.testclient import TestClient

from audit import ldv
from gateway.config import Settings
from tests.exchange.conftest import CASE_MANAGER, REPORTS, VIOLENCE, open_utrecht_case

Auth = Callable[..., dict[str, str]]
SCHEMA = json.loads((Path(__file__).parent / "ldv_record.schema.json").read_text("utf-8"))
OFFICER = ("gemeente-utrecht", "privacy-officer")
PARTNER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARTNER_SPAN = "00f067aa0ba902b7"
COVENANT = "utrecht-extreme-woonoverlast"


def _schema_errors(record: dict[str, Any]) -> list[str]:
    validator = jsonschema_rs.Draft202012Validator(SCHEMA)
    return [
        f"{'/'.join(map(str, e.instance_path))}: {e.message}" for e in validator.iter_errors(record)
    ]


def _disclose(client: TestClient, auth: Auth) -> str:
    """A police answer read by the case manager, who calls with its own trace context."""
    case = open_utrecht_case(client, auth)
    traceparent = {"traceparent": f"00-{PARTNER_TRACE}-{PARTNER_SPAN}-01"}
    request = case.request([VIOLENCE, REPORTS], **traceparent)
    answered = case.answer(
        request["id"],
        [{"category": VIOLENCE, "yesNo": True}, {"category": REPORTS, "value": "3 meldingen"}],
    )
    assert answered.status_code == 200, answered.text
    read = client.get(
        f"/v1/information-requests/{request['id']}/answers",
        headers={**case.as_(CASE_MANAGER, "cm-1"), **traceparent},
    )
    assert read.status_code == 200, read.text
    return case.case_id


def _export(client: TestClient, auth: Auth, case_id: str) -> list[dict[str, Any]]:
    response = client.post(
        "/v1/audit/entries/export?format=ldv", json={"caseId": case_id}, headers=auth(*OFFICER)
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    return [json.loads(line) for line in response.text.splitlines()]


def _attribute(record: dict[str, Any], key: str) -> str | None:
    values = [a["value"] for a in record["attributes"] if a["key"] == key]
    return values[0] if values else None


def test_exported_records_match_the_standards_schema_and_link_into_the_register(
    client: TestClient, auth: Auth, settings: Settings
) -> None:
    case_id = _disclose(client, auth)
    records = _export(client, auth, case_id)
    disclosures = [r for r in records if r["name"] == "disclosure"]
    assert disclosures, [r["name"] for r in records]
    for record in records:
        assert _schema_errors(record) == [], record

    register = client.get("/v1/audit/processing-register", headers=auth(*OFFICER)).json()
    activities = {activity["id"] for activity in register["activities"]}
    partners = {f"{COVENANT}/partner:{p['id']}" for p in register["partners"]}
    for record in records:
        uri = urlsplit(_attribute(record, ldv.PROCESSING_ACTIVITY_ID) or "")
        assert f"{uri.scheme}://{uri.netloc}{uri.path}" == (
            settings.public_url + "/v1/audit/processing-register"
        )
        assert unquote(uri.fragment) in activities | {COVENANT}, uri.fragment

    # The partner's trace context is its foreign operation, in a trace of the gateway's own.
    read = [r for r in disclosures if "foreign_operation" in r]
    assert read, "the disclosure read with a traceparent keeps it"
    for record in read:
        foreign = record["foreign_operation"]
        assert (foreign["trace_id"], foreign["span_id"]) == (PARTNER_TRACE, PARTNER_SPAN)
        assert unquote(urlsplit(foreign["entity"]).fragment) in partners
        assert foreign["entity"].endswith("partner:u-centraal")
        assert record["trace_id"] != PARTNER_TRACE
        assert record.get("parent_span_id") != PARTNER_SPAN


def test_each_record_names_at_most_one_data_subject_as_a_pseudonym_and_no_user(
    client: TestClient, auth: Auth
) -> None:
    case_id = _disclose(client, auth)
    records = _export(client, auth, case_id)
    by_span = {r["span_id"]: r for r in records}
    subjects = [r for r in records if _attribute(r, ldv.DATA_SUBJECT_ID)]
    assert subjects, "the case's person and dwelling are named"
    for record in subjects:
        assert len(_attribute(record, ldv.DATA_SUBJECT_ID) or "") == 64  # HMAC, never the BSN
        assert _attribute(record, ldv.DATA_SUBJECT_ID_TYPE)
        # One action per data subject, under the processing's own action in the same trace.
        parent = by_span[record["parent_span_id"]]
        assert parent["trace_id"] == record["trace_id"]
        assert _attribute(parent, ldv.DATA_SUBJECT_ID) is None
    text = json.dumps(records)
    assert "111222333" not in text  # the case's BSN
    assert "cm-1" not in text  # users are left out, not even as a pseudonym:
    assert "user" not in text.lower()


def test_status_codes_follow_the_standard() -> None:
    assert ldv.status_code({"status": "ok", "outcome": "disclosed"}) == ldv.STATUS_OK
    assert ldv.status_code({"status": "ok", "outcome": "denied"}) == ldv.STATUS_UNSET
    assert ldv.status_code({"status": "error", "outcome": "failed"}) == ldv.STATUS_ERROR


def test_schema_refuses_a_record_with_two_data_subjects_or_a_short_span_id() -> None:
    """The comparison can fail: the forms the standard does not allow are refused."""
    good = {
        "trace_id": "a" * 32,
        "span_id": "b" * 16,
        "status_code": "STATUS_CODE_OK",
        "name": "disclosure",
        "start_time": "2026-12-02T10:00:00.000Z",
        "end_time": "2026-12-02T10:00:00.040Z",
        "attributes": [
            {"key": ldv.PROCESSING_ACTIVITY_ID, "value": "https://k.example/v1/r#c"},
            {"key": ldv.DATA_SUBJECT_ID, "value": "c" * 64},
            {"key": ldv.DATA_SUBJECT_ID_TYPE, "value": "bsn"},
        ],
    }
    assert _schema_errors(good) == []
    two = {**good, "attributes": [*good["attributes"], {"key": ldv.DATA_SUBJECT_ID, "value": "d"}]}
    assert _schema_errors(two)
    assert _schema_errors({**good, "span_id": "b" * 8})
    assert _schema_errors({**good, "status_code": "OK"})


def test_cli_export_writes_the_records_the_api_exports(
    client: TestClient, auth: Auth, settings: Settings, tmp_path: Path
) -> None:
    case_id = _disclose(client, auth)
    from_api = _export(client, auth, case_id)
    out = tmp_path / "ldv.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KETENPOORT_")}
    env["KETENPOORT_DATABASE_URL"] = settings.resolved_database_url
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "audit", "export", str(out), "--format", "ldv"]
        + ["--covenant", COVENANT, "--data-dir", str(settings.data_dir)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    from_cli = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert [r for r in from_api if r in from_cli] == from_api
    assert f"Wrote {len(from_cli)} Logboek Dataverwerkingen records" in result.stderr


@pytest.mark.parametrize("fmt", ["xml"])
def test_cli_export_refuses_an_unknown_format(tmp_path: Path, fmt: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "audit", "export", str(tmp_path / "x"), "--format", fmt]
        + ["--data-dir", str(tmp_path / "data")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "verification or ldv" in result.stderr
