"""The policy's reasons of a refusal go with the erased dossier (review8a F6).

``information_request_item.reasons`` holds, per category asked, why the policy refused it:
``om-consent-missing`` reads "an investigation is running and the OM has not consented"
(gateway/policy/reasons.py), the criminal-law fact (U §5.3) for which review4 F4 NULLs
``investigation_running`` and review5b P2 deletes the OM consents at erasure. The item has no
``case_id`` (it hangs off its ``information_request``), and the sweep found only tables with
one, so the reasons outlived the erasure. Now the table names its way to the case
(``erasure_via``) and the column what the erasure does (``erasure_empty``); on both backends
(the PostgreSQL bulk path and the SQLite path). The control: another case's reasons stay.
A table without a ``case_id`` that refers to one with a ``case_id`` must say which it is.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

import gateway.models  # noqa: F401 - every domain's tables on Base.metadata
from gateway.context import GatewayContext
from gateway.db import Base, transaction
from gateway.exchange.models import InformationRequest, RequestItem
from gateway.retention.targets import EXCLUDED_PREFIXES, discover_dependents
from tests.retention.conftest import UTRECHT
from tests.retention.test_erased_assessment import _assessed, _erase

ANTECEDENTS = "police-nuisance-antecedents"
#: Tables without a ``case_id`` that refer to a table with one and hold nothing of the case
#: beyond their parent's key (none today).
HOLD_NO_CASE_FACTS: dict[str, str] = {}


def _reasons(context: GatewayContext, case_id: str) -> list[Any]:
    with context.session_factory() as session:
        return list(
            session.scalars(
                select(RequestItem.reasons)
                .join(InformationRequest, InformationRequest.id == RequestItem.request_id)
                .where(InformationRequest.case_id == case_id, RequestItem.category == ANTECEDENTS)
            )
        )


def test_the_refusal_reasons_go_with_the_erased_dossier(
    client: TestClient, auth: Any, context: GatewayContext
) -> None:
    erased = _assessed(client, auth)  # an investigation runs; no OM consent
    erased.request([ANTECEDENTS])
    # Control: before the erasure the reasons are on record.
    assert _reasons(context, erased.case_id) == [["om-consent-missing"]]
    other = _other_request(context)
    _erase(context, erased.case_id)
    assert _reasons(context, erased.case_id) == [[]]
    # Control: another case's request keeps why it was refused.
    assert _reasons(context, other) == [["om-consent-missing"]]


def _other_request(context: GatewayContext) -> str:
    """A refused request of another case (its rows only: nothing of it is due)."""
    case_id, request_id = str(uuid.uuid4()), str(uuid.uuid4())
    with transaction(context.session_factory) as session:
        session.add(
            InformationRequest(
                id=request_id,
                case_id=case_id,
                covenant_id=UTRECHT,
                purpose="case-handling",
                requester_partner_id="u-centraal",
                requester_role="casemanager",
                requester_user=None,
                created_at=datetime.now(UTC),
                due_at=None,
                decision_id="d",
                bundle_revision=None,
                audit_index=0,
            )
        )
        session.flush()
        session.add(
            RequestItem(
                request_id=request_id,
                partner_id="politie-midden-nederland",
                category=ANTECEDENTS,
                answer_form="value",
                state="denied",
                reasons=["om-consent-missing"],
                clauses=[],
            )
        )
    return case_id


def test_every_table_that_reaches_a_case_through_another_says_how(
    context: GatewayContext,
) -> None:
    """The class of F6: a table without a ``case_id`` whose rows belong to a case through a
    foreign key is invisible to a sweep that looks for ``case_id``. Each must name its way
    (``erasure_via``) or be listed here as holding nothing of the case."""
    undeclared = []
    for table in Base.metadata.sorted_tables:
        if table.name.startswith(EXCLUDED_PREFIXES) or "case_id" in table.c:
            continue
        if table.name == "case_file":
            continue
        parents = {fk.column.table for fk in table.foreign_keys}
        refers = any("case_id" in p.c or p.name == "case_file" for p in parents)
        declared = table.info.get("erasure_via") or table.name in HOLD_NO_CASE_FACTS
        if refers and not declared:
            undeclared.append(table.name)
    assert undeclared == []
    with context.engine.connect() as connection:
        dependents = {d.name: d for d in discover_dependents(connection)}
    assert [c.name for c in dependents["information_request_item"].emptied] == ["reasons"]
