"""The sweep reads the workflow's own records: a case whose mediation solved the nuisance
is registered and erased a year later without anyone calling the retention API."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from gateway.cases.models import CaseFile, CaseTransition
from gateway.context import GatewayContext
from gateway.db import transaction
from gateway.retention.models import RetentionCase
from tests.retention.conftest import Seeder


def _transition(context: GatewayContext, case_id: str, to_state: str, at: datetime) -> None:
    with transaction(context.session_factory) as session:
        session.add(
            CaseTransition(
                id=str(uuid.uuid4()),
                case_id=case_id,
                covenant_id=session.get_one(CaseFile, case_id).covenant_id,
                transition="t",
                from_state="mediation",
                to_state=to_state,
                at=at,
                actor_partner_id="gemeente-rijswijk",
                actor_role="casemanager",
                actor_user=None,
                facts={},
                reason_sealed=None,
            )
        )


def test_mediation_recorded_by_the_workflow_starts_the_one_year_term(
    context: GatewayContext, seed: Seeder
) -> None:
    case = seed()
    # 23:30 UTC on 9 March is 10 March in Amsterdam: the covenant's calendar date counts.
    _transition(
        context, case.case_id, "aftercare-evaluation", datetime(2024, 3, 9, 23, 30, tzinfo=UTC)
    )
    service = context.require_retention()
    assert service.sweep(as_of=date(2025, 3, 9)).redacted == 0
    with context.session_factory() as session:
        row = session.get(RetentionCase, case.case_id)
        assert row is not None
        assert (row.rule_id, row.due_on) == ("R-3.4-licht-bemiddeld", date(2025, 3, 10))
    assert service.sweep(as_of=date(2025, 3, 10)).redacted == 1


def test_failed_mediation_recorded_by_the_workflow_does_not_start_the_light_term(
    context: GatewayContext, seed: Seeder
) -> None:
    case = seed()
    _transition(context, case.case_id, "integrated-approach", datetime(2024, 3, 10, 12, tzinfo=UTC))
    context.require_retention().sweep(as_of=date(2025, 3, 9))
    with context.session_factory() as session:
        row = session.get(RetentionCase, case.case_id)
        assert row is not None
        # Still open, and the escalation was its last activity: a year without any.
        assert (row.rule_id, row.due_on) == ("R-open-zonder-activiteit", date(2025, 3, 10))
