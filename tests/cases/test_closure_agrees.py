"""The stored cases agree with their workflow on which states are final (``closed_at`` set
exactly when a case entered a final state; the reports read "unset" as "not final"): a
workflow whose final states changed after cases were stored stops the gateway's start, with
the cases counted per covenant and state. Control: the same start with the cases as the
workflow left them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from gateway.cases.closure import ClosureMismatch, closure_mismatches
from gateway.cases.definition import WorkflowError
from gateway.cases.models import CaseFile
from gateway.config import Settings
from gateway.context import GatewayContext, build_context
from gateway.db import transaction
from tests.cases.builders import report_body

POLICE = ("politie-midden-nederland", "wijkagent")
UTRECHT = "utrecht-extreme-woonoverlast"
CLOSED_AT = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _open(client: TestClient, auth: object, number: int) -> str:
    body = report_body(postcode="3511 AB", number=number, persons=[])
    response = client.post("/v1/reports", json=body, headers=auth(*POLICE))  # type: ignore[operator]
    assert response.status_code == 201, response.text
    return str(response.json()["caseId"])


def _starts(settings: Settings) -> None:
    build_context(settings).close()


@pytest.mark.parametrize(
    ("values", "message"),
    [
        # Closed in a state that is not final (as if 'intake' had been final before).
        ({"closed_at": CLOSED_AT}, "1 closed in 'intake', which is not final"),
        # In a final state without a closing moment (as if 'closed' had not been final).
        ({"state": "closed"}, "1 in 'closed', which is final, without a closing moment"),
        # In a state the workflow no longer has (renamed or removed): nothing moves it.
        ({"state": "afgesloten-oud"}, "1 in 'afgesloten-oud', which the workflow does not have"),
    ],
)
def test_cases_that_disagree_with_the_final_states_stop_the_start(
    client: TestClient,
    auth: object,
    context: GatewayContext,
    settings: Settings,
    values: dict[str, object],
    message: str,
) -> None:
    case_id = _open(client, auth, 1)
    _open(client, auth, 2)
    _starts(settings)  # the control: the cases as the workflow left them
    with transaction(context.session_factory) as session:
        session.execute(update(CaseFile).where(CaseFile.id == case_id).values(**values))
    with pytest.raises(WorkflowError) as refused:
        _starts(settings)
    assert f"{UTRECHT}: {message}" in refused.value.detail
    assert "Restore the former workflow" in refused.value.detail


def test_a_state_made_final_after_cases_were_stored_names_them(
    client: TestClient, auth: object, context: GatewayContext
) -> None:
    """The workflow changes, not the cases: 'intake' made final finds the two cases in it,
    without a closing moment; the workflow as it was finds none."""
    _open(client, auth, 1)
    _open(client, auth, 2)
    workflows = context.cases.workflows
    with context.session_factory() as session:
        assert closure_mismatches(session, workflows) == []
        workflow = workflows[UTRECHT]
        changed = workflow.model_copy(
            update={
                "states": [
                    s.model_copy(update={"final": True}) if s.id == "intake" else s
                    for s in workflow.states
                ]
            }
        )
        found = closure_mismatches(session, {**workflows, UTRECHT: changed})
    assert found == [ClosureMismatch(UTRECHT, "intake", closed=False, cases=2)]
