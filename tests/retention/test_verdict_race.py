"""A fact recorded while the sweep computes a batch of verdicts: the batch must not write
back a verdict computed before the fact (which would mark the case fresh on an old
verdict, and the erasure act on it). The batch's rows are locked FOR NO KEY UPDATE
(SQLAlchemy's ``with_for_update(key_share=True)``), as the fact's lock_cases locks them, so
the fact waits for the batch and its verdict lands after it; with a weaker lock (FOR KEY
SHARE: ``read=True, key_share=True``) the fact commits in between and this test fails."""

from __future__ import annotations

import threading
from datetime import date
from typing import Any

import pytest
from sqlalchemy import update

from gateway.context import GatewayContext
from gateway.db import transaction
from gateway.retention import service as retention_service
from gateway.retention.models import RetentionCase
from gateway.retention.service import record_fact, refresh_cases, refresh_stale
from tests.retention.conftest import Seeder

SOLVED = ("mediation-ended", date(2024, 3, 10), "solved")
LATER = date(2024, 9, 1)


def _stored(context: GatewayContext, case_id: str) -> tuple[Any, ...]:
    with context.session_factory() as session:
        row = session.get(RetentionCase, case_id)
        assert row is not None
        return (row.rule_id, row.source_date, row.due_on, row.stale)


def _expected(context: GatewayContext, case_id: str) -> tuple[Any, ...]:
    """The verdict computed now from every committed fact (in a transaction rolled back)."""
    rules = context.require_retention().rules
    session = context.session_factory()
    try:
        verdict = refresh_cases(session=session, rules=rules, case_ids=[case_id])[case_id]
        return (verdict.rule_id, verdict.source_date, verdict.due_on, False)
    finally:
        session.rollback()
        session.close()


@pytest.mark.parametrize("fact_during_batch", [True, False])
def test_a_fact_recorded_while_a_verdict_batch_is_computed_is_not_overwritten(
    context: GatewayContext,
    seed: Seeder,
    monkeypatch: pytest.MonkeyPatch,
    fact_during_batch: bool,
) -> None:
    if context.engine.dialect.name != "postgresql":
        pytest.skip("concurrent writers are PostgreSQL's (SQLite has one writer)")
    case_id = seed(facts=[SOLVED]).case_id
    rules = context.require_retention().rules
    with transaction(context.session_factory) as session:
        session.execute(update(RetentionCase).values(stale=True))
    before = _expected(context, case_id)

    def later_mediation() -> None:
        with transaction(context.session_factory) as session:
            record_fact(
                session=session,
                rules=rules,
                case_id=case_id,
                kind="mediation-ended",
                occurred_on=LATER,
                recorded_by="another request",
                detail="solved",
            )

    original = retention_service.evaluate
    fired: list[threading.Thread] = []

    def evaluate(*args: Any, **kwargs: Any) -> Any:
        verdict = original(*args, **kwargs)
        if fact_during_batch and not fired and threading.current_thread() is main:
            # The batch has read its facts; another request records one and commits (or,
            # should it wait for the batch's locks, the batch goes on after 3 s).
            request = threading.Thread(target=later_mediation)
            fired.append(request)
            request.start()
            request.join(timeout=3)
        return verdict

    main = threading.current_thread()
    monkeypatch.setattr(retention_service, "evaluate", evaluate)
    last: str | None = ""
    while last is not None:
        with transaction(context.session_factory) as session:
            last = refresh_stale(session=session, rules=rules, after=last, limit=10)
    monkeypatch.setattr(retention_service, "evaluate", original)
    for request in fired:
        request.join(timeout=30)
        assert not request.is_alive()
    assert len(fired) == int(fact_during_batch)
    if not fact_during_batch:
        later_mediation()
    # The control (no race): the later mediation moves the verdict; so must it in the race.
    after = _expected(context, case_id)
    assert after != before
    stored = _stored(context, case_id)
    assert stored in (after, (*after[:3], True)), (stored, before, after)
