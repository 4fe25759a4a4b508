"""A deadlines page builds its statements once per shape and binds its own values
(gateway/cases/deadline_pages.py, ``_statements_for``): the partners of a covenant taking
turns, page by page, each see their own deadlines and no other's; a reloaded workflow is
read with statements of its own, never with those built for the workflow before it; and a
cached statement run without a partner fails rather than answering for none. The oracle is
the former Python computation (tests/cases/overview_oracle.py)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from gateway.cases import overview
from gateway.cases.deadline_pages import (
    _statements_for,
    case_streams,
    decode_cursor,
)
from gateway.cases.definition import WorkflowDefinition
from gateway.cases.runtime import CaseRuntime
from gateway.cases.schemas import DeadlineOut
from gateway.context import GatewayContext
from tests.cases import overview_oracle
from tests.cases.history import PARTNERS, seed_history

RIJSWIJK = "rijswijk-woonoverlast"
NOW = datetime(2026, 11, 16, 9, 30, tzinfo=UTC)
PAGE = 7


def _as_json(items: list[DeadlineOut]) -> list[str]:
    return [json.dumps(i.model_dump(mode="json"), sort_keys=True) for i in items]


def _args(runtime: CaseRuntime, partner: str) -> dict[str, Any]:
    return {
        "runtime": runtime,
        "covenant_id": RIJSWIJK,
        "partner_id": partner,
        "partner_kind": runtime.partner_kind(RIJSWIJK, partner) or "",
        "now": NOW,
    }


def _expected(session: Session, args: dict[str, Any]) -> list[str]:
    """The oracle's deadlines in page order (the pages' own order is tested elsewhere:
    tests/cases/test_report_at_any_size.py)."""
    return sorted(_as_json(overview_oracle.partner_deadlines(session, **args)))


def _page(session: Session, args: dict[str, Any], cursor: str | None) -> Any:
    after = (
        decode_cursor(session, cursor, covenant_id=RIJSWIJK, partner_id=args["partner_id"])
        if cursor
        else None
    )
    return overview.deadlines_page(session, **args, after=after, limit=PAGE)


@pytest.fixture
def seeded(context: GatewayContext, runtime: CaseRuntime) -> None:
    seed_history(
        context.engine, runtime.workflow(RIJSWIJK), cases=300, now=NOW, years=2, open_share=0.4
    )


@pytest.mark.usefixtures("seeded")
def test_partners_taking_turns_each_page_through_their_own_deadlines(
    context: GatewayContext, runtime: CaseRuntime
) -> None:
    lead, others = PARTNERS[RIJSWIJK]
    partners = [lead, *others]
    with context.session_factory() as session:
        expected = {p: _expected(session, _args(runtime, p)) for p in partners}
        # Different lists, or the test would not tell one partner's from another's.
        assert len({tuple(e) for e in expected.values()}) == len(partners)
        assert all(len(e) > PAGE for e in expected.values())
        seen: dict[str, list[DeadlineOut]] = {p: [] for p in partners}
        cursors: dict[str, str | None] = dict.fromkeys(partners)
        open_ = set(partners)
        while open_:
            # One page of each partner in turn: every page after the first reuses the
            # statements the partner before it read with.
            for partner in partners:
                if partner not in open_:
                    continue
                page = _page(session, _args(runtime, partner), cursors[partner])
                seen[partner] += page.items
                cursors[partner] = page.next_cursor
                if page.next_cursor is None:
                    open_.discard(partner)
        for partner in partners:
            assert sorted(_as_json(seen[partner])) == expected[partner], partner


def _reloaded(definition: WorkflowDefinition) -> WorkflowDefinition:
    """The workflow as reloaded after an edit: the mediation's evaluation runs from the first
    report instead of from entering the state (another column of the case: other rows, in
    another order). The same deadline ids, states and days: only the loaded definition tells
    the statements apart."""
    deadlines = [
        d.model_copy(update={"start": "first-report"}) if d.id == "mediation-evaluation" else d
        for d in definition.deadlines
    ]
    return definition.model_copy(update={"deadlines": deadlines})


@pytest.mark.usefixtures("seeded")
def test_a_reloaded_workflow_is_read_with_statements_of_its_own(
    context: GatewayContext, runtime: CaseRuntime
) -> None:
    lead = PARTNERS[RIJSWIJK][0]
    reloaded = replace(
        runtime, workflows={**runtime.workflows, RIJSWIJK: _reloaded(runtime.workflow(RIJSWIJK))}
    )
    with context.session_factory() as session:
        before, after = _args(runtime, lead), _args(reloaded, lead)
        # The edit changes the lead's deadlines, or the test would tell nothing.
        assert _expected(session, before) != _expected(session, after)
        for args in (before, after, before):
            items: list[DeadlineOut] = []
            cursor: str | None = None
            while True:
                page = _page(session, args, cursor)
                items += page.items
                cursor = page.next_cursor
                if cursor is None:
                    break
            assert sorted(_as_json(items)) == _expected(session, args)


@pytest.mark.usefixtures("seeded")
def test_a_cached_statement_without_the_partner_bound_fails(
    context: GatewayContext, runtime: CaseRuntime
) -> None:
    definition = runtime.workflow(RIJSWIJK)
    with context.session_factory() as session:
        streams = case_streams(
            session,
            definition=definition,
            calendar=runtime.calendar(RIJSWIJK),
            covenant_id=RIJSWIJK,
        )
        overview.deadlines_page(session, **_args(runtime, PARTNERS[RIJSWIJK][0]), limit=PAGE)
        cached = _statements_for(definition, RIJSWIJK, streams, ["all"] * len(streams), False)
        with pytest.raises(StatementError, match="partner"):
            session.execute(cached.first_reads, {"covenant": RIJSWIJK, "limit": PAGE})
