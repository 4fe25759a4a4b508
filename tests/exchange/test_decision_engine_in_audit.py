"""The audit entry of a disclosure names the policy engine that decided it, so a privacy
officer can tell a decision of the embedded engine (regorus) from one of an OPA server.

End to end: the case manager reads the police's answers; the covenant's privacy officer
searches the audit log and exports it as CSV. Once with the gateway's embedded engine, once
with ``KETENPOORT_OPA_URL`` pointing at an OPA server on 127.0.0.1 (deciding with OPA's own
Go evaluator, tests/policy/opa_stand_in.py).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.config import Settings
from tests.exchange.conftest import REPORTS, VIOLENCE, UtrechtCase
from tests.policy.opa_stand_in import OpaStandIn, opa_stand_in

OFFICER = ("u-centraal", "privacy-officer")


def _read_disclosure(case: UtrechtCase) -> dict[str, Any]:
    request = case.request([VIOLENCE, REPORTS])
    answered = case.answer(
        request["id"],
        [{"category": VIOLENCE, "yesNo": True}, {"category": REPORTS, "value": "3 meldingen"}],
    )
    assert answered.status_code == 200, answered.text
    return case.read(request["id"])


def _disclosure_entry(case: UtrechtCase, index: int) -> dict[str, Any]:
    response = case.client.post(
        "/v1/audit/entries/search",
        json={"caseId": case.case_id, "activity": "disclosure"},
        headers=case.as_(OFFICER),
    )
    assert response.status_code == 200, response.text
    entries = [e for e in response.json()["entries"] if e["index"] == index]
    assert len(entries) == 1
    return entries[0]  # type: ignore[no-any-return]


def _csv_engines(case: UtrechtCase) -> list[str]:
    response = case.client.post(
        "/v1/audit/entries/export?format=csv",
        json={"caseId": case.case_id, "activity": "disclosure"},
        headers=case.as_(OFFICER),
    )
    assert response.status_code == 200, response.text
    return [row["policyEngine"] for row in csv.DictReader(io.StringIO(response.text))]


def test_disclosure_entry_names_the_embedded_engine(utrecht_case: UtrechtCase) -> None:
    disclosure = _read_disclosure(utrecht_case)
    entry = _disclosure_entry(utrecht_case, disclosure["receipt"]["index"])
    assert entry["decision"]["engine"] == "regorus"
    assert entry["decision"]["decisionId"] == disclosure["decisionId"]
    assert _csv_engines(utrecht_case) == ["regorus"]


class TestWithAnOpaServer:
    @pytest.fixture
    def opa(self) -> Iterator[OpaStandIn]:
        with opa_stand_in("answer") as server:
            yield server

    @pytest.fixture
    def settings(self, tmp_path: Path, database_url: str, opa: OpaStandIn) -> Settings:
        return Settings(
            data_dir=tmp_path / "data",
            database_url=database_url,
            demo_mode=True,
            auto_migrate=False,
            opa_url=opa.url,
        )

    def test_disclosure_entry_names_the_opa_server(
        self, utrecht_case: UtrechtCase, opa: OpaStandIn
    ) -> None:
        disclosure = _read_disclosure(utrecht_case)
        assert sorted(v["category"] for v in disclosure["values"]) == sorted([VIOLENCE, REPORTS])
        entry = _disclosure_entry(utrecht_case, disclosure["receipt"]["index"])
        assert entry["decision"]["engine"] == "opa"
        assert opa.requests >= 1  # the OPA server decided
        assert _csv_engines(utrecht_case) == ["opa"]
