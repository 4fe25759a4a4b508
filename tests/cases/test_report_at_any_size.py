"""The steering report in SQL and the deadlines a page at a time give what the former Python
computation gave (kept word for word in overview_oracle.py as the oracle), on a varied
history: two covenants, most cases closed, open cases in every state, consents before and
after a state was entered, reports awaiting the lead, meeting actions, retention verdicts,
and cases opened, closed and moved exactly at a period's first and last local midnight (and
the microsecond before)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from gateway.cases import overview
from gateway.cases.deadline_pages import decode_cursor
from gateway.cases.models import CaseFile, SteeringSnapshot
from gateway.cases.runtime import CaseRuntime
from gateway.cases.schemas import DeadlineOut, SteeringReport
from gateway.context import GatewayContext
from gateway.db import transaction
from gateway.retention.models import RetentionCase
from tests.cases import overview_oracle
from tests.cases.history import History, seed_history

NOW = datetime(2026, 11, 16, 9, 30, tzinfo=UTC)
COVENANTS = ("rijswijk-woonoverlast", "utrecht-extreme-woonoverlast")


@pytest.fixture
def histories(context: GatewayContext, runtime: CaseRuntime) -> dict[str, History]:
    return {
        covenant: seed_history(
            context.engine,
            runtime.workflow(covenant),
            cases=900,
            now=NOW,
            years=3,
            open_share=0.25,
            seed=n,
            period=(date(2026, 1, 1), date(2026, 6, 30)),
        )
        for n, covenant in enumerate(COVENANTS)
    }


def _periods(history: History) -> list[tuple[date, date]]:
    return [
        (history.period_from, history.period_to),
        (date(2024, 11, 16), date(2026, 11, 16)),  # several evaluation periods
        (date(2026, 3, 29), date(2026, 3, 29)),  # one day, the switch to summer time
        (date(2019, 1, 1), date(2019, 12, 31)),  # before the history: all zero
    ]


def test_the_sql_steering_report_equals_the_python_one(
    context: GatewayContext, runtime: CaseRuntime, histories: dict[str, History]
) -> None:
    compared = 0
    with context.session_factory() as session:
        for covenant, history in histories.items():
            for period_from, period_to in _periods(history):
                args = {
                    "runtime": runtime,
                    "covenant_id": covenant,
                    "period_from": period_from,
                    "period_to": period_to,
                    "now": NOW,
                    "perturb": False,  # the exact figures, as the oracle counts them
                }
                new = overview.steering_report(session, **args)  # type: ignore[arg-type]
                old = overview_oracle.steering_report(session, **args)  # type: ignore[arg-type]
                assert new.model_dump() == old.model_dump(), (covenant, period_from, period_to)
                compared += 1
            first = overview.steering_report(
                session,
                runtime=runtime,
                covenant_id=covenant,
                period_from=history.period_from,
                period_to=history.period_to,
                now=NOW,
                perturb=False,
            )
            # The fixture is varied enough for the comparison to mean something.
            assert first.cases_opened > 50
            assert first.cases_closed > 50
            assert first.overdue_deadlines > 10
            assert first.open_cases > 100
            assert first.suppressed_districts >= 1
            assert len(first.transitions) >= 3
    assert compared == 8


def _as_set(items: list[DeadlineOut]) -> list[str]:
    return sorted(json.dumps(i.model_dump(mode="json"), sort_keys=True) for i in items)


def _partners(runtime: CaseRuntime, covenant: str, history: History) -> list[tuple[str, str]]:
    return [
        (partner, runtime.partner_kind(covenant, partner) or "")
        for partner in [history.lead, *history.partners]
    ]


def _walk(
    session: Session, args: dict[str, Any], size: int, *, start: str | None, pages: int | None
) -> tuple[list[DeadlineOut], list[str]]:
    """Up to ``pages`` pages of ``size`` (None: to the end) from the cursor ``start``, through
    their cursors; every page full but the last. The items, and the cursor of each page that
    has one."""
    items: list[DeadlineOut] = []
    cursors: list[str] = []
    cursor = start
    read = 0
    while pages is None or read < pages:
        after = None
        if cursor is not None:
            after = decode_cursor(
                session, cursor, covenant_id=args["covenant_id"], partner_id=args["partner_id"]
            )
        page = overview.deadlines_page(session, **args, after=after, limit=size)
        read += 1
        assert len(page.items) <= size
        items += page.items
        cursor = page.next_cursor
        if cursor is None:
            break
        assert len(page.items) == size
        cursors.append(cursor)
    return items, cursors


def _paged_equals_the_list(session: Session, args: dict[str, Any]) -> list[DeadlineOut]:
    """The partner's deadlines equal the oracle's, and pages of 7 and 100 followed through
    their cursors are that list once, in order; so are the first 25 pages of 1, and a page of
    1 from every cursor the pages of 7 gave (every boundary of the walk of 7 read again with
    the smallest batch; pages of 1 through the whole list cost a minute of the suite).
    Returns the list."""
    old = overview_oracle.partner_deadlines(session, **args)
    new = overview.partner_deadlines(session, **args)
    assert _as_set(new) == _as_set(old), args["partner_id"]
    assert [(not d.overdue, d.due_at) for d in new] == sorted(
        (not d.overdue, d.due_at) for d in old
    )
    sevens: list[str] = []
    for size in (7, 100):
        paged, cursors = _walk(session, args, size, start=None, pages=None)
        assert paged == new, (args["partner_id"], size)
        assert len(cursors) == max(1, -(-len(new) // size)) - 1
        sevens = sevens or cursors
    first, _ = _walk(session, args, 1, start=None, pages=25)
    assert first == new[:25], args["partner_id"]
    for n, cursor in enumerate(sevens, start=1):
        one, _ = _walk(session, args, 1, start=cursor, pages=1)
        assert one == new[7 * n : 7 * n + 1], (args["partner_id"], n)
    return new


def test_the_paged_deadlines_equal_the_python_list(
    context: GatewayContext, runtime: CaseRuntime, histories: dict[str, History]
) -> None:
    checked = 0
    with context.session_factory() as session:
        for covenant, history in histories.items():
            for partner, kind in _partners(runtime, covenant, history):
                args = {
                    "runtime": runtime,
                    "covenant_id": covenant,
                    "partner_id": partner,
                    "partner_kind": kind,
                    "now": NOW,
                }
                checked += len(_paged_equals_the_list(session, args))
    # Every kind of deadline took part.
    assert checked > 1000
    # On the same histories (seeding them again for a test of its own cost a minute).
    _many_erasure_warnings_page_in_order(context, runtime, histories)


def _many_erasure_warnings_page_in_order(
    context: GatewayContext, runtime: CaseRuntime, histories: dict[str, History]
) -> None:
    """The erasure warnings are a stream read a batch at a time (8 for the small pages) in
    (erasure day, case) order: with many of them, on few days (ties across the batches'
    edges), the pages still equal the oracle's list. In a transaction rolled back after."""
    covenant = COVENANTS[0]
    history = histories[covenant]
    with context.session_factory() as session:
        open_cases = select(CaseFile.id).where(
            CaseFile.covenant_id == covenant, CaseFile.closed_at.is_(None)
        )
        # Three erasure days, by the case id's first character (ids are random UUIDs).
        first = func.substr(RetentionCase.case_id, 1, 1)
        for days, (low, high) in ((2, ("0", "5")), (3, ("5", "a")), (9, ("a", "g"))):
            session.execute(
                update(RetentionCase)
                .where(RetentionCase.case_id.in_(open_cases), first >= low, first < high)
                .values(due_on=(NOW + timedelta(days=days)).date(), on_hold=False)
            )
        args = {
            "runtime": runtime,
            "covenant_id": covenant,
            "partner_id": history.lead,
            "partner_kind": runtime.partner_kind(covenant, history.lead) or "",
            "now": NOW,
        }
        # The warnings read, counted: a page takes a day's warnings up to the last one read;
        # it does not read the whole day (one due moment) before it can show any of them.
        read = 0
        warnings_of = runtime.erasure_warnings
        assert warnings_of is not None

        def counted(*a: Any, **k: Any) -> Any:
            nonlocal read
            found = warnings_of(*a, **k)
            read += len(found)
            return found

        listed = _paged_equals_the_list(session, args)
        warned = [d for d in listed if d.deadline == "retention-erasure"]
        assert len(warned) > 40, len(warned)  # several batches, and ties on each day
        assert len({d.due_on for d in warned}) == 3

        # All on one day (one due moment): a page of 7 from the day's start reads a batch
        # (8 + 1, then 16 + 1: the last row read is not yet certain), not the whole day.
        day = (NOW + timedelta(days=2)).date()
        session.execute(
            update(RetentionCase)
            .where(RetentionCase.case_id.in_({d.case_id for d in warned}))
            .values(due_on=day)
        )
        start = runtime.calendar(covenant).end_of_day(day - timedelta(days=1))
        runtime.erasure_warnings = counted
        try:
            page = overview.deadlines_page(
                session,
                **args,
                after=(start, "retention", "retention-erasure", "", "", ""),
                limit=7,
            )
        finally:
            runtime.erasure_warnings = warnings_of
        assert [d.deadline for d in page.items] == ["retention-erasure"] * 7
        assert read <= 9 + 17 < len(warned), read  # two batches (8 and 16, each + 1)
        session.rollback()


def test_an_overdue_deadline_stops_counting_once_its_case_left_the_state_in_the_period(
    context: GatewayContext, runtime: CaseRuntime, histories: dict[str, History]
) -> None:
    """Positive control of the overdue count: the count moves with the data, in step with
    the Python computation (a count that never changed would also compare equal). The count
    is as of the end of the period: cases closed before it leave it; the same cases closed
    by a step after it do not (gateway/cases/state_at.py)."""
    from sqlalchemy import select, update

    from gateway.cases.models import CaseFile, CaseTransition

    covenant = COVENANTS[0]
    history = histories[covenant]
    args = {
        "runtime": runtime,
        "covenant_id": covenant,
        "period_from": history.period_from,
        "period_to": history.period_to,
        "now": NOW,
        "perturb": False,  # the exact figures, as the oracle counts them
    }
    with context.session_factory() as session:
        before = overview.steering_report(session, **args)  # type: ignore[arg-type]
        end = before.as_of
        stuck = session.scalars(
            select(CaseFile.id).where(
                CaseFile.covenant_id == covenant,
                CaseFile.state == "intake",
                CaseFile.first_report_at < end - timedelta(days=3),
                CaseFile.opened_at < end,
                CaseFile.closed_at.is_(None),
                CaseFile.id.not_in(select(CaseTransition.case_id).where(CaseTransition.at >= end)),
            )
        ).all()
        assert stuck

        def close(at: datetime) -> None:
            session.execute(
                update(CaseFile)
                .where(CaseFile.id.in_(stuck))
                .values(state="closed", closed_at=at, state_entered_at=at)
            )
            session.add_all(
                CaseTransition(
                    id=f"oracle-{n}-{at.timestamp()}",
                    case_id=case_id,
                    covenant_id=covenant,
                    transition="close",
                    from_state="intake",
                    to_state="closed",
                    at=at,
                    actor_partner_id=history.lead,
                    actor_role="casemanager",
                    facts={},
                )
                for n, case_id in enumerate(stuck)
            )
            session.flush()

        close(end + timedelta(days=3))  # after the period: as it stood at its end
        later = overview.steering_report(session, **args)  # type: ignore[arg-type]
        assert later.model_dump() == before.model_dump()
        session.rollback()
        close(end - timedelta(days=3))  # within it
        after = overview.steering_report(session, **args)  # type: ignore[arg-type]
        oracle = overview_oracle.steering_report(session, **args)  # type: ignore[arg-type]
        session.rollback()
    # Each stuck intake case had the 48-hour weighing and the three-month target overdue.
    assert before.overdue_deadlines - after.overdue_deadlines >= len(stuck)
    assert before.open_cases - after.open_cases == len(stuck)
    assert after.overdue_deadlines == oracle.overdue_deadlines


def test_a_page_and_the_report_take_a_few_statements_whatever_the_streams(
    context: GatewayContext, runtime: CaseRuntime, histories: dict[str, History]
) -> None:
    """On PostgreSQL each statement is a round trip: a deadlines page reads the first rows of
    every (deadline, state) stream and of the lead's reporter decisions in one statement, each
    district's first opening and last meeting in one, and a case's reference for an erasure
    warning only when the page shows one; the report's counts by group are one statement and,
    on PostgreSQL, its closed cases one read (SQLite, without round trips, reads them four
    times: faster there). Fails if the streams are read one statement each again, or with the
    former eight statements of a page and (PostgreSQL) seven of the report (five since the
    state figures are as of the period's end: gateway/cases/state_at.py)."""
    from sqlalchemy import event

    from gateway.cases.deadline_pages import case_streams

    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    covenant = COVENANTS[0]
    history = histories[covenant]
    with context.session_factory() as session:
        # The page cursors' key (review8c F2): loaded once per process from the blind-index
        # key, then kept; not a statement of every page.
        context.require_keys().keys.cursor_key(session)
        session.commit()
        streams = case_streams(
            session,
            definition=runtime.workflow(covenant),
            calendar=runtime.calendar(covenant),
            covenant_id=covenant,
        )
        event.listen(context.engine, "before_cursor_execute", count)
        try:
            page = overview.deadlines_page(
                session,
                runtime=runtime,
                covenant_id=covenant,
                partner_id=history.lead,
                partner_kind="municipality",
                now=NOW,
                limit=100,
            )
            on_page, page_statements = len(statements), list(statements)
            statements.clear()
            overview.steering_report(
                session,
                runtime=runtime,
                covenant_id=covenant,
                period_from=history.period_from,
                period_to=history.period_to,
                now=NOW,
                perturb=False,
            )
            in_report = len(statements)
        finally:
            event.remove(context.engine, "before_cursor_execute", count)
    assert len(page.items) == 100
    assert len(streams) > 10  # one statement each would be more than the bound below
    # The streams' days; the erasure warnings (and their cases' references when one is
    # shown); the districts; the streams and reporter decisions; the meeting actions. On
    # PostgreSQL besides those the two that set the streams' statement's plan mode and set
    # it back (SET LOCAL: no reads).
    postgresql = context.engine.dialect.name == "postgresql"
    plan_mode = sum("plan_cache_mode" in text for text in page_statements)
    assert plan_mode == (2 if postgresql else 0)
    assert on_page - plan_mode <= 6, on_page
    # The period's end's kept state figures, if a sweep kept them (1, by primary key; none
    # here); opened, open, transitions and judgements in one; the closed cases' figures (1
    # on PostgreSQL, 4 on SQLite); the overdue counts (2: the streams' days, then the
    # counts); the cases that moved since the period's end with their steps (1; their
    # consents besides where a consent meets a deadline, Utrecht's: not this covenant's).
    assert in_report <= (6 if postgresql else 9), in_report


def test_a_kept_month_takes_the_report_fewer_statements(
    context: GatewayContext, runtime: CaseRuntime, histories: dict[str, History]
) -> None:
    """With the period's end's state figures kept by a sweep (gateway/cases/snapshots.py),
    the report reads them by key instead of counting and replaying: no overdue counts, no
    moved cases, no open count in the union."""
    from sqlalchemy import event

    from gateway.cases.snapshots import snapshot_of
    from gateway.cases.steering import day_start, state_figures_at

    covenant = COVENANTS[0]
    history = histories[covenant]
    end = day_start(runtime.calendar(covenant), history.period_to + timedelta(days=1))
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    def report() -> tuple[SteeringReport, int]:
        statements.clear()
        event.listen(context.engine, "before_cursor_execute", count)
        try:
            with context.session_factory() as session:
                figures = overview.steering_report(
                    session,
                    runtime=runtime,
                    covenant_id=covenant,
                    period_from=history.period_from,
                    period_to=history.period_to,
                    now=NOW,
                )
        finally:
            event.remove(context.engine, "before_cursor_execute", count)
        return figures, len(statements)

    replayed, replaying = report()
    with transaction(context.session_factory) as session:
        session.add(
            snapshot_of(state_figures_at(session, runtime, covenant, end), covenant, end, NOW)
        )
    try:
        kept, reading = report()
    finally:
        with transaction(context.session_factory) as session:
            session.execute(delete(SteeringSnapshot))
    assert kept.model_dump(exclude={"generated_at"}) == replayed.model_dump(
        exclude={"generated_at"}
    )
    # The kept month's key probe; the union without the open count; the closed cases'
    # figures (1 on PostgreSQL, 4 on SQLite): three statements fewer (the overdue counts'
    # two and the moved cases').
    assert reading <= replaying - 3, (reading, replaying)


def test_the_open_districts_are_those_of_the_partners_open_cases(
    context: GatewayContext, runtime: CaseRuntime, histories: dict[str, History]
) -> None:
    """The plan-a-meeting form's districts, read district by district, equal the districts
    of the partner's open cases as the case list gives them (the former read), for every
    partner; and a district leaves the list when the partner's last open case in it closes."""
    from sqlalchemy import update

    from gateway.auth.principal import Principal, RoleGrant
    from gateway.cases import service
    from gateway.cases.models import CaseFile

    def principal(covenant: str, partner: str, kind: str) -> Principal:
        return Principal(
            partner_id=partner,
            partner_kind=kind,
            covenant_id=covenant,
            role="casemanager",
            user=None,
            token_id="test",
            expires_at=NOW,
            grant=RoleGrant("casework"),
        )

    def former(session: object, who: Principal) -> list[str]:
        cases = service.list_cases(session, runtime=runtime, principal=who, include_closed=False)  # type: ignore[arg-type]
        return sorted({case.district for case in cases})

    compared = 0
    with context.session_factory() as session:
        for covenant, history in histories.items():
            for partner, kind in _partners(runtime, covenant, history):
                who = principal(covenant, partner, kind)
                expected = former(session, who)
                found = service.open_districts(session, runtime=runtime, principal=who)
                assert found == expected, partner
                compared += len(expected)
        # Control: close every open case of one district; it leaves the list (as it leaves
        # the former read), the others stay.
        covenant, history = COVENANTS[0], histories[COVENANTS[0]]
        lead = principal(covenant, history.lead, "municipality")
        before = service.open_districts(session, runtime=runtime, principal=lead)
        district = before[0]
        session.execute(
            update(CaseFile)
            .where(
                CaseFile.covenant_id == covenant,
                CaseFile.district == district,
                CaseFile.closed_at.is_(None),
            )
            .values(state="closed", closed_at=NOW)
        )
        after = service.open_districts(session, runtime=runtime, principal=lead)
        assert after == former(session, lead)
        session.rollback()
    assert compared > 20
    assert len(before) > 2
    assert after == before[1:]
