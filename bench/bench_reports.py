"""Benchmark of the reports that read a covenant's history: the steering report and a
partner's deadlines, at 1,000 and 50,000 cases, against the former Python computation and a
bare indexed select in the same run.

A history is seeded in bulk (tests/cases/history.py: Core inserts, no sealing) into a
temporary SQLite file and, when reachable, a PostgreSQL database made for the run; both are
deleted afterwards. Two shapes:

- ``history``: cases over six years, the newest 5% (and a few stuck old ones) still open;
  what a covenant looks like after years. The steering report covers the last month that has
  ended (its default window).
- ``all-open``: every case open, the deadlines' worst case (the issue's 30,000 deadlines in
  one response); a page must not cost more there.

Measured (min/median/max over ``--runs`` runs, each a fresh session committed at its end as
a request's is, gateway/auth/deps.get_session: psycopg keeps the statements it prepared on a
connection across committed transactions, and a rollback deallocates them all):
the steering report; the first page of 100 deadlines of the lead partner; the tenth page
(through the cursors); the former computations (tests/cases/overview_oracle.py, word for word
the code before: every case loaded, filtered in Python) of both, which the new must equal;
the lead's cases a page at a time (``GET /v1/cases``: first and tenth page of 100) against
the whole list as it was served before (``service.list_cases``); the lead's own reports
(``GET /v1/reports``) and the covenant's meetings (``GET /v1/meetings``; one meeting per ten
cases is added to the seeded history, so the list grows with it, each with an agenda of up to
``--agenda-cases`` of its district's open cases and a few actions, as ``_more_meetings`` says)
a page at a time (first and tenth page of 100), as the lead and as the police read them (each
is shown its own cases and counts the others), against the list as served before (the former
code's statements: the newest 500 reports with two team lookups each; every meeting with two
statements each); and a baseline: one indexed select of 100 case rows. Goals (issue 20, rows
via bench/goals.py): at 50,000 cases the report within 100 ms, the first and the tenth
deadlines page and a cases, reports or meetings page within 50 ms.

The report is timed over the last ended month, quarter and year twice: first as the seed
leaves the database (no month's state figures kept: each report replays the cases that moved
since its period's end, gateway/cases/state_at.py), then, after every other measure, with the
month ends since the last ended year's end kept by the retention sweep's own code
(gateway/cases/snapshots.py ``keep_state_figures``), as a running gateway has them: the
``*_months_kept`` figures, which must publish the same figures as the replay.

PostgreSQL is measured after ``VACUUM ANALYZE``, the state autovacuum keeps a database in
(statistics, and the visibility map that lets the report read covering indexes only); a
freshly bulk-loaded table without it is not what a running covenant looks like. SQLite is
measured as the gateway leaves it (no ANALYZE).

Writes reports.json to bench/results (``$KETENPOORT_BENCH_RESULTS``). Run (about 15 minutes on a
shared 2-core machine):
flock /tmp/bench.lock .venv/bin/python bench/bench_reports.py [--sizes ...] [--shapes ...]
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import random
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, func, insert, make_url, select, text  # noqa: E402

from gateway.auth.principal import Principal, RoleGrant  # noqa: E402
from gateway.cases import meetings as case_meetings  # noqa: E402
from gateway.cases import overview  # noqa: E402
from gateway.cases import reports as case_reports  # noqa: E402
from gateway.cases import service as case_service  # noqa: E402
from gateway.cases.calendar import add_months  # noqa: E402
from gateway.cases.deadline_pages import decode_cursor  # noqa: E402
from gateway.cases.definition import WorkflowDefinition, load_workflows  # noqa: E402
from gateway.cases.models import (  # noqa: E402
    CaseFile,
    CaseMeeting,
    CaseReport,
    MeetingAction,
    MeetingAgendaItem,
)
from gateway.cases.runtime import CaseRuntime  # noqa: E402
from gateway.cases.seams import UnavailableAudit, UnavailableSealer  # noqa: E402
from gateway.cases.snapshots import keep_state_figures  # noqa: E402
from gateway.cases.steering import day_start, report_window  # noqa: E402
from gateway.core import pagination  # noqa: E402
from gateway.db import make_engine, make_sessionmaker, transaction, upgrade_database  # noqa: E402
from gateway.policy.covenant import load_covenants  # noqa: E402
from gateway.retention.rules import load_rules  # noqa: E402
from gateway.retention.service import erasure_warnings  # noqa: E402
from tests.cases import overview_oracle  # noqa: E402
from tests.cases.history import PARTNERS, seed_history  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from goals import database_name, goal, host, results_path, spread  # noqa: E402

COVENANT = "rijswijk-woonoverlast"
LEAD, LEAD_KIND = "gemeente-rijswijk", "municipality"
POLICE = "politie-den-haag"
PG_URL = os.environ.get(
    "KETENPOORT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
GOAL_REPORT_MS = 100.0
GOAL_PAGE_MS = 50.0
PAGE = 100


def _runtime() -> CaseRuntime:
    runtime = CaseRuntime(
        workflows=load_workflows(),
        covenants=load_covenants(),
        sealer=UnavailableSealer(),
        audit=UnavailableAudit(),
    )
    runtime.erasure_warnings = partial(erasure_warnings, rules=load_rules())
    # The lists and counts leave out an open case erased under retention by its own column,
    # case_file.erased_at (gateway/cases/live.py), always: nothing to wire.
    return runtime


def _agenda_rows(engine: Any, meeting_ids: list[str]) -> int:
    """How many agenda rows the meetings of ``meeting_ids`` have."""
    with engine.connect() as connection:
        return int(
            connection.execute(
                select(func.count()).where(MeetingAgendaItem.meeting_id.in_(meeting_ids))
            ).scalar_one()
        )


def _register(engine: Any) -> None:
    """Every seeded case in the retention register (the history registers some of the open
    ones), none erased, as the sweep leaves a running gateway's: the erasure warnings read
    it."""
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO retention_case (case_id, covenant_id, scope, reason, rules_revision,"
                " stale, on_hold) SELECT id, covenant_id, 'case:' || id, '', '', false, false"
                " FROM case_file WHERE NOT EXISTS"
                " (SELECT 1 FROM retention_case r WHERE r.case_id = case_file.id)"
            )
        )


def _key(d: Any) -> tuple[Any, ...]:
    return (d.due_at, d.kind, d.deadline, d.case_id or "", d.district or "")


def _stats(times: list[float]) -> dict[str, float]:
    ms = [t * 1000 for t in times]
    return {
        "min_ms": round(min(ms), 2),
        "median_ms": round(statistics.median(ms), 2),
        "max_ms": round(max(ms), 2),
    }


def _timed(operation: Callable[[], Any], runs: int) -> tuple[list[float], Any]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = operation()
        times.append(time.perf_counter() - start)
    return times, result


@contextmanager
def _sqlite() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="kp-bench-reports-") as tmp:
        yield f"sqlite:///{tmp}/reports.db"


@contextmanager
def _postgres() -> Iterator[str | None]:
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    try:
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - not reachable: the run is SQLite only
        admin.dispose()
        yield None
        return
    name = database_name("reports")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _more_meetings(
    engine: Any,
    definition: WorkflowDefinition,
    count: int,
    now: datetime,
    *,
    agenda_cases: int,
    rng: random.Random,
) -> None:
    """``count`` more meetings of the covenant, one every six days per district back from
    ``now``, each with an agenda and a few actions as a meeting has them.

    The agenda is what ``meetings.plan_meeting`` draws (DOMAIN.md: the case meeting of a
    district, its agenda from the district's open cases): the district's cases open on the
    meeting's day, by first report, the oldest ``agenda_cases`` of them. The cap is the part a
    meeting goes through (tens of cases): at 50,000 cases of history a district has ~300
    open at once, more than one meeting discusses; at 1,000 cases it has a handful, all on
    the agenda. Each meeting gets 0 to 4 actions, most about a case on its agenda, owned by
    any partner, due two to six weeks after the meeting and mostly done when past."""
    lead, others = PARTNERS[COVENANT]
    open_state = next(s.id for s in definition.states if not s.final)
    meetings = [
        {
            "id": f"00000000-0000-4000-8000-{n:012d}",
            "covenant_id": COVENANT,
            "district": f"wijk-{n % 8}",
            "scheduled_on": (now - timedelta(days=6 * (n // 8) + n % 8)).date(),
            "organiser_partner_id": LEAD,
            "held_at": now,
            "attendance": {},
            "created_at": now,
        }
        for n in range(count)
    ]
    with engine.connect() as connection:
        cases = connection.execute(
            select(
                CaseFile.id,
                CaseFile.district,
                CaseFile.first_report_at,
                CaseFile.opened_at,
                CaseFile.closed_at,
                CaseFile.state,
            ).where(CaseFile.covenant_id == COVENANT)
        ).all()
    # Per district, sweep the meetings' days in order: the cases opened by the day's start
    # join the open set (by first report), the ones closed by then leave it.
    agenda, actions = [], []
    by_district: dict[str, list[Any]] = {}
    for case in cases:
        by_district.setdefault(case.district, []).append(case)
    for district, district_cases in by_district.items():
        opening = sorted(district_cases, key=lambda c: c.opened_at)
        closing = sorted(
            (c for c in district_cases if c.closed_at is not None), key=lambda c: c.closed_at
        )
        opened_n = closed_n = 0
        open_now: list[tuple[datetime, str]] = []
        states: dict[str, str] = {}
        for meeting in sorted(
            (m for m in meetings if m["district"] == district), key=lambda m: m["scheduled_on"]
        ):
            start = datetime.combine(meeting["scheduled_on"], datetime.min.time(), tzinfo=UTC)
            while opened_n < len(opening) and opening[opened_n].opened_at < start:
                case = opening[opened_n]
                if case.closed_at is None or case.closed_at >= start:
                    bisect.insort(open_now, (case.first_report_at, case.id))
                    states[case.id] = case.state if case.closed_at is None else open_state
                opened_n += 1
            while closed_n < len(closing) and closing[closed_n].closed_at < start:
                case = closing[closed_n]
                key = (case.first_report_at, case.id)
                at = bisect.bisect_left(open_now, key)
                if at < len(open_now) and open_now[at] == key:
                    del open_now[at]
                closed_n += 1
            on_agenda = [case_id for _, case_id in open_now[:agenda_cases]]
            agenda += [
                {
                    "meeting_id": meeting["id"],
                    "case_id": case_id,
                    "position": position,
                    "state_at_agenda": states[case_id],
                }
                for position, case_id in enumerate(on_agenda)
            ]
            for _ in range(rng.randrange(0, 5)):
                due = meeting["scheduled_on"] + timedelta(days=rng.randrange(14, 43))
                actions.append(
                    {
                        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                        "meeting_id": meeting["id"],
                        "case_id": rng.choice(on_agenda)
                        if on_agenda and rng.random() < 0.8
                        else None,
                        "owner_partner_id": rng.choice([lead, *others]),
                        "description_sealed": b"sealed",
                        "due_on": due,
                        "done_at": now if due < now.date() and rng.random() < 0.8 else None,
                    }
                )
    with engine.begin() as connection:
        for model, rows in (
            (CaseMeeting, meetings),
            (MeetingAgendaItem, agenda),
            (MeetingAction, actions),
        ):
            for start_at in range(0, len(rows), 5000):
                connection.execute(insert(model), rows[start_at : start_at + 5000])


def _keep_ended_months(
    sessions: Any, runtime: CaseRuntime, now: datetime, since: date
) -> list[datetime]:
    """The state figures of every month that ended from ``since`` on, kept as the retention
    sweep keeps them in production (gateway/cases/snapshots.py ``keep_state_figures``, the
    very call the sweep makes before it erases), by a sweep run an hour into each month's
    first day; returns the month ends kept for the bench's covenant.

    The seeded history has no sweep behind it, so without this every report replays the
    cases that moved since its period's end (gateway/cases/state_at.py). The figures are
    computed from today's rows, which is what the sweep computed then: the seed erases
    nothing, and the replay of a past moment is exact without erasures (docs/cases.md)."""
    calendar = runtime.calendar(COVENANT)
    kept, month = [], since
    while month <= now.astimezone(calendar.zone).date():
        run_at = min(day_start(calendar, month) + timedelta(hours=1), now)
        if COVENANT in keep_state_figures(sessions, runtime, now=run_at):
            kept.append(day_start(calendar, month))
        month = add_months(month, 1)
    return kept


def _pages(read: Callable[[str | None], Any], runs: int) -> tuple[list[float], list[float], Any]:
    """Times of the first page and of the tenth (through the cursors), and the first page."""
    first_times, first = _timed(partial(read, None), runs)
    cursor, walked = first.next_cursor, 1
    while cursor and walked < 9:
        cursor, walked = read(cursor).next_cursor, walked + 1
    tenth_times, _ = _timed(partial(read, cursor), runs) if cursor else ([], None)
    return first_times, tenth_times, first


def _measure(
    url: str, cases: int, shape: str, runs: int, old_runs: int, agenda_cases: int
) -> dict[str, Any]:
    runtime = _runtime()
    upgrade_database(url)
    engine = make_engine(url)
    now = datetime.now(UTC)
    try:
        seeding = time.perf_counter()
        seed_history(
            engine,
            runtime.workflow(COVENANT),
            cases=cases,
            now=now,
            years=6,
            open_share=0.05 if shape == "history" else 1.0,
        )
        _more_meetings(
            engine,
            runtime.workflow(COVENANT),
            cases // 10,
            now,
            agenda_cases=agenda_cases,
            rng=random.Random(cases),
        )
        _register(engine)
        seeded_s = time.perf_counter() - seeding
        if engine.dialect.name == "postgresql":
            # As autovacuum leaves a running database: statistics and the visibility map.
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE"))
        sessions = make_sessionmaker(engine)
        # The gateway derives the cursors' MAC key from its blind-index key; the bench has
        # no key store, and a fixed key costs the MAC the same.
        pagination.provide_cursor_key(sessions, lambda _session: b"bench cursor key")
        # The report's default window: the last month that has ended (review5a F1, review14:
        # a month, a quarter or a year, gateway/cases/steering.py report_window). A longer
        # window whose end lies months back replays the cases that moved since (state_at.py).
        first, last = report_window(runtime.calendar(COVENANT).local_date(now))
        period = {"period_from": first, "period_to": last}
        partner = {"partner_id": LEAD, "partner_kind": LEAD_KIND}

        def report(module: Any, **exact: bool) -> Any:
            with transaction(sessions) as session:
                return module.steering_report(
                    session, runtime=runtime, covenant_id=COVENANT, now=now, **period, **exact
                )

        # The longer windows a reader may ask for: the last ended quarter and year. Each
        # count is at least what its months (and a year's quarters) hold, so these count
        # every flow per month (gateway/cases/window_figures.py).
        today = runtime.calendar(COVENANT).local_date(now)
        this_quarter = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
        longer = {
            "quarter": (add_months(this_quarter, -3), this_quarter - timedelta(days=1)),
            "year": (date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)),
        }

        def report_over(window: str) -> Any:
            first, last = longer[window]
            with transaction(sessions) as session:
                return overview.steering_report(
                    session,
                    runtime=runtime,
                    covenant_id=COVENANT,
                    now=now,
                    period_from=first,
                    period_to=last,
                )

        def page(after: str | None) -> Any:
            with transaction(sessions) as session:
                return overview.deadlines_page(
                    session,
                    runtime=runtime,
                    covenant_id=COVENANT,
                    now=now,
                    after=(
                        decode_cursor(session, after, covenant_id=COVENANT, partner_id=LEAD)
                        if after
                        else None
                    ),
                    limit=PAGE,
                    **partner,
                )

        principal = Principal(
            partner_id=LEAD,
            partner_kind=LEAD_KIND,
            covenant_id=COVENANT,
            role="casemanager",
            user=None,
            token_id="bench",
            expires_at=now,
            grant=RoleGrant("casework"),
        )

        def cases_page(after: tuple[datetime, str] | None) -> Any:
            with transaction(sessions) as session:
                return case_service.cases_page(
                    session,
                    runtime=runtime,
                    principal=principal,
                    include_closed=True,
                    after=after,
                    limit=PAGE,
                )

        def old_cases() -> Any:
            with transaction(sessions) as session:
                return case_service.list_cases(
                    session, runtime=runtime, principal=principal, include_closed=True
                )

        def old_deadlines() -> Any:
            with transaction(sessions) as session:
                return overview_oracle.partner_deadlines(
                    session, runtime=runtime, covenant_id=COVENANT, now=now, **partner
                )

        def reports_page(cursor: str | None) -> Any:
            with transaction(sessions) as session:
                after = (
                    case_reports.decode_own_reports_cursor(session, cursor, principal=principal)
                    if cursor
                    else None
                )
                return case_reports.own_reports_page(
                    session, principal=principal, after=after, limit=PAGE
                )

        def old_reports() -> Any:
            # The former own_reports: the newest 500 (silently cut there), and for each the
            # reporter's team membership looked up twice (status, and whether the case shows).
            with transaction(sessions) as session:
                rows = session.execute(
                    select(CaseReport, CaseFile)
                    .join(CaseFile, CaseFile.id == CaseReport.case_id)
                    .where(CaseReport.source_partner_id == LEAD, CaseFile.covenant_id == COVENANT)
                    .order_by(CaseReport.registered_at.desc(), CaseReport.id)
                    .limit(500)
                ).all()
                return [
                    (
                        report.registered_at,
                        report.id,
                        case_reports.reporter_in_team(session, case, report.source_partner_id),
                        case_reports.reporter_in_team(session, case, report.source_partner_id),
                    )
                    for report, case in rows
                ]

        # The meetings list per reader (docs/cases.md): the lead, which leads most cases,
        # and the police, in the team of about three in ten; each reads the agenda items and
        # actions of its cases and a count of the others.
        police = Principal(
            partner_id=POLICE,
            partner_kind="police",
            covenant_id=COVENANT,
            role="wijkagent",
            user=None,
            token_id="bench",
            expires_at=now,
            grant=RoleGrant("casework"),
        )

        def meetings_page(reader: Principal, cursor: str | None) -> Any:
            with transaction(sessions) as session:
                after = (
                    case_meetings.decode_meetings_cursor(
                        session, cursor, principal=reader, district=None
                    )
                    if cursor
                    else None
                )
                return case_meetings.meetings_page(
                    session,
                    runtime=runtime,
                    principal=reader,
                    district=None,
                    after=after,
                    limit=PAGE,
                    now=now,
                )

        def old_meetings(reader: Principal) -> Any:
            # The former list_meetings: every meeting of the covenant, two statements each.
            with transaction(sessions) as session:
                found = session.scalars(
                    select(CaseMeeting)
                    .where(CaseMeeting.covenant_id == COVENANT)
                    .order_by(CaseMeeting.scheduled_on)
                ).all()
                return [
                    case_meetings.meeting_out(session, m, today=now.date(), reader=reader)
                    for m in found
                ]

        def baseline() -> Any:
            with engine.connect() as connection:
                return connection.execute(
                    text(
                        "SELECT id, reference, district, state, first_report_at FROM case_file "
                        "WHERE covenant_id = :c AND state = 'intake' "
                        "ORDER BY first_report_at, id LIMIT :n"
                    ),
                    {"c": COVENANT, "n": PAGE},
                ).all()

        page(None), report(overview), baseline()  # warm caches and connections alike
        report_times, new_report = _timed(partial(report, overview), runs)
        longer_times = {w: _timed(partial(report_over, w), runs)[0] for w in longer}
        first_times, first = _timed(partial(page, None), runs)
        cursor, pages_walked = first.next_cursor, 1
        while cursor and pages_walked < 9:
            cursor, pages_walked = page(cursor).next_cursor, pages_walked + 1
        tenth_times, _ = _timed(partial(page, cursor), runs) if cursor else ([], None)
        cases_first_times, cases_first = _timed(partial(cases_page, None), runs)
        # The tenth page through the cursors, as a client follows them.
        after_key: tuple[datetime, str] | None = None
        for _ in range(9):
            cursor_text = cases_page(after_key).next_cursor
            if cursor_text is None:
                after_key = None
                break
            with sessions() as session:
                after_key = case_service.decode_cases_cursor(
                    session, cursor_text, principal=principal, include_closed=True
                )
        cases_tenth_times, _ = (
            _timed(partial(cases_page, after_key), runs) if after_key else ([], None)
        )
        old_cases_times, old_case_list = _timed(old_cases, old_runs)
        same_cases = [c.id for c in cases_first.items] == [
            c.id for c in sorted(old_case_list, key=lambda c: (c.opened_at, c.id))[:PAGE]
        ]
        reports_first_times, reports_tenth_times, reports_first = _pages(reports_page, runs)
        old_reports_times, old_report_list = _timed(old_reports, old_runs)
        # The former list broke ties by id ascending, the page by id descending (the order
        # its index reads backwards): compare both in the page's order.
        same_reports = [r.id for r in reports_first.items] == [
            r[1] for r in sorted(old_report_list, reverse=True)[: len(reports_first.items)]
        ]
        today = runtime.calendar(COVENANT).local_date(now)
        meetings: dict[str, dict[str, Any]] = {}
        for name, reader in (("lead", principal), ("police", police)):
            first_m, tenth_m, meetings_first = _pages(partial(meetings_page, reader), runs)
            old_m, old_meeting_list = _timed(partial(old_meetings, reader), old_runs)
            # The former list was oldest first; the page lists from today on, soonest first,
            # then the earlier ones latest first: compare both in the page's order.
            old_in_page_order = sorted(
                (m for m in old_meeting_list if m.scheduled_on >= today),
                key=lambda m: (m.scheduled_on, m.id),
            ) + sorted(
                (m for m in old_meeting_list if m.scheduled_on < today),
                key=lambda m: (m.scheduled_on, m.id),
                reverse=True,
            )
            meetings[name] = {
                "first": first_m,
                "tenth": tenth_m,
                "before": old_m,
                "equal": meetings_first.items == old_in_page_order[: len(meetings_first.items)],
                "count": len(old_meeting_list),
                # The agenda rows the first page reads, the reader's and the others (which a
                # meeting neither names nor counts since 6 December 2026).
                "agenda_rows_first_page": _agenda_rows(
                    engine, [m.id for m in meetings_first.items]
                ),
                "shown_first_page": sum(len(m.agenda) for m in meetings_first.items),
            }
        base_times, _ = _timed(baseline, runs)
        old_report_times, old_report = _timed(partial(report, overview_oracle), old_runs)
        # Last, so that every figure above is read without them: the month ends since the
        # last ended year's end kept as the sweep keeps them, and the three windows again,
        # each of which now reads its state figures by key (gateway/cases/steering.py).
        # The same reports, so the same published figures (compared below).
        replayed = {"month": new_report, **{w: report_over(w) for w in longer}}
        keeping = time.perf_counter()
        kept_months = _keep_ended_months(sessions, runtime, now, date(today.year, 1, 1))
        kept_s = time.perf_counter() - keeping
        kept_times, kept_reports = {}, {}
        for window in ("month", *longer):
            read = partial(report, overview) if window == "month" else partial(report_over, window)
            kept_times[window], kept_reports[window] = _timed(read, runs)
        old_list_times, old_list = _timed(old_deadlines, old_runs)
        # Timed as the partners get it (perturbed, review14); compared exact, as the former
        # computation counted.
        exact_report = report(overview, perturb=False)
        same_report = exact_report.model_dump() == old_report.model_dump()
        # The former list breaks ties in the order cases came from the database; the page
        # by kind, deadline, case and district: compare both in the page's order.
        same_first_page = first.items == sorted(old_list, key=_key)[: len(first.items)]
        base_median = statistics.median(base_times)
        out: dict[str, Any] = {
            "cases": cases,
            "shape": shape,
            "seed_seconds": round(seeded_s, 1),
            "open_cases": new_report.open_cases,
            "deadlines_of_the_lead": len(old_list),
            "baseline_indexed_select_100_rows": _stats(base_times),
            "steering_report": _stats(report_times),
            "steering_report_before": _stats(old_report_times),
            "steering_report_equals_before": same_report,
            **{f"steering_report_{w}": _stats(times) for w, times in longer_times.items()},
            # The same three reports with the month ends kept by the retention sweep's own
            # code (as a running gateway has them since migration 0045), measured after the
            # rest of the run; the figures above are without any kept month (a replay).
            "kept_month_ends": [end.isoformat() for end in kept_months],
            "keeping_seconds": round(kept_s, 1),
            **{
                f"steering_report{'' if w == 'month' else '_' + w}_months_kept": _stats(times)
                for w, times in kept_times.items()
            },
            "steering_report_months_kept_equal_replayed": all(
                kept_reports[w].model_dump() == replayed[w].model_dump() for w in kept_reports
            ),
            "deadlines_first_page": _stats(first_times),
            "deadlines_tenth_page": _stats(tenth_times) if tenth_times else None,
            "deadlines_whole_list_before": _stats(old_list_times),
            "first_page_equals_before": same_first_page,
            "cases_first_page": _stats(cases_first_times),
            "cases_tenth_page": _stats(cases_tenth_times) if cases_tenth_times else None,
            "cases_whole_list_before": _stats(old_cases_times),
            "cases_of_the_lead": len(old_case_list),
            "cases_first_page_equals_before": same_cases,
            "reports_of_the_lead": len(old_report_list),
            "reports_first_page": _stats(reports_first_times),
            "reports_tenth_page": _stats(reports_tenth_times) if reports_tenth_times else None,
            "reports_list_before_newest_500": _stats(old_reports_times),
            "reports_first_page_equals_before": same_reports,
            "meetings_of_the_covenant": meetings["lead"]["count"],
            "agenda_cases_at_most": agenda_cases,
            **{
                f"meetings{suffix}_{key}": value
                for name, suffix in (("lead", ""), ("police", "_police"))
                for key, value in (
                    ("first_page", _stats(meetings[name]["first"])),
                    (
                        "tenth_page",
                        _stats(meetings[name]["tenth"]) if meetings[name]["tenth"] else None,
                    ),
                    ("whole_list_before", _stats(meetings[name]["before"])),
                    ("first_page_equals_before", meetings[name]["equal"]),
                    ("first_page_agenda_rows", meetings[name]["agenda_rows_first_page"]),
                    ("first_page_agenda_shown", meetings[name]["shown_first_page"]),
                )
            },
            "ratio_report_to_baseline": round(statistics.median(report_times) / base_median, 1),
            "ratio_page_to_baseline": round(statistics.median(first_times) / base_median, 1),
            "speedup_report": round(
                statistics.median(old_report_times) / statistics.median(report_times), 1
            ),
            "speedup_first_page": round(
                statistics.median(old_list_times) / statistics.median(first_times), 1
            ),
            "runs_ms": {
                "steering_report": spread([t * 1000 for t in report_times], 2),
                **{
                    f"steering_report_{w}": spread([t * 1000 for t in times], 2)
                    for w, times in longer_times.items()
                },
                **{
                    f"steering_report{'' if w == 'month' else '_' + w}_months_kept": spread(
                        [t * 1000 for t in times], 2
                    )
                    for w, times in kept_times.items()
                },
                "deadlines_first_page": spread([t * 1000 for t in first_times], 2),
                "deadlines_tenth_page": spread([t * 1000 for t in tenth_times], 2)
                if tenth_times
                else None,
                "cases_first_page": spread([t * 1000 for t in cases_first_times], 2),
                "cases_tenth_page": spread([t * 1000 for t in cases_tenth_times], 2)
                if cases_tenth_times
                else None,
                "reports_first_page": spread([t * 1000 for t in reports_first_times], 2),
                "meetings_first_page": spread([t * 1000 for t in meetings["lead"]["first"]], 2),
                "meetings_police_first_page": spread(
                    [t * 1000 for t in meetings["police"]["first"]], 2
                ),
            },
            "host_after": host(),
        }
        return out
    finally:
        engine.dispose()


def _median(figure: dict[str, float] | None) -> str:
    """A median as printed, or a dash when there was no such page."""
    return "-" if figure is None else f"{figure['median_ms']:.1f} ms"


def _goals(row: dict[str, Any]) -> str:
    report = row["steering_report"]["median_ms"]
    pages = [row["deadlines_first_page"]["median_ms"]]
    if row["deadlines_tenth_page"]:
        pages.append(row["deadlines_tenth_page"]["median_ms"])
    return (
        f"{row['backend']:10} {row['shape']:8} {row['cases']:>6} cases: report "
        f"{report:7.1f} ms (goal <= {GOAL_REPORT_MS:.0f} at 50k; before "
        f"{row['steering_report_before']['median_ms']:.0f} ms; a quarter "
        f"{row['steering_report_quarter']['median_ms']:.0f} ms, a year "
        f"{row['steering_report_year']['median_ms']:.0f} ms; with the months kept "
        f"{row['steering_report_months_kept']['median_ms']:.0f}, "
        f"{row['steering_report_quarter_months_kept']['median_ms']:.0f}, "
        f"{row['steering_report_year_months_kept']['median_ms']:.0f} ms, equal "
        f"{row['steering_report_months_kept_equal_replayed']}), page "
        f"{max(pages):6.1f} ms (goal <= {GOAL_PAGE_MS:.0f}; whole list before "
        f"{row['deadlines_whole_list_before']['median_ms']:.0f} ms), cases page "
        f"{row['cases_first_page']['median_ms']:.1f} ms (whole list before "
        f"{row['cases_whole_list_before']['median_ms']:.0f} ms), "
        f"baseline {row['baseline_indexed_select_100_rows']['median_ms']:.2f} ms, "
        f"equal {row['steering_report_equals_before'] and row['first_page_equals_before']}"
        f" {row['cases_first_page_equals_before']}"
        f"\n{'':30}reports page {row['reports_first_page']['median_ms']:.1f} ms (newest 500 "
        f"before {row['reports_list_before_newest_500']['median_ms']:.0f} ms), meetings page "
        f"{row['meetings_first_page']['median_ms']:.1f} ms (whole list of "
        f"{row['meetings_of_the_covenant']} before "
        f"{row['meetings_whole_list_before']['median_ms']:.0f} ms), equal "
        f"{row['reports_first_page_equals_before']} {row['meetings_first_page_equals_before']}"
        f"\n{'':30}meetings page of the police {row['meetings_police_first_page']['median_ms']:.1f}"
        f" ms (tenth {_median(row['meetings_police_tenth_page'])};"
        f" agenda rows on the first page {row['meetings_first_page_agenda_rows']}: shown to the"
        f" lead {row['meetings_first_page_agenda_shown']}, to the police"
        f" {row['meetings_police_first_page_agenda_shown']}), equal"
        f" {row['meetings_police_first_page_equals_before']}"
    )


def _goal_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """issue 20's goals, for every backend and shape measured at 50,000 cases."""
    goals = []
    for row in rows:
        if row["cases"] != 50000:
            continue
        where = f"{row['backend']}, {row['shape']}, 50k cases"
        base = row["baseline_indexed_select_100_rows"]["median_ms"]
        baseline = f"indexed select of 100 rows, {base} ms in the same run"
        measured = [
            ("steering report", row["steering_report"], GOAL_REPORT_MS),
            # The longer windows, replayed as the seed leaves them and with the month ends
            # kept by the retention sweep's code as a running gateway has them.
            (
                "steering report, a quarter, replayed",
                row["steering_report_quarter"],
                GOAL_REPORT_MS,
            ),
            ("steering report, a year, replayed", row["steering_report_year"], GOAL_REPORT_MS),
            (
                "steering report, a quarter, months kept by the sweep",
                row["steering_report_quarter_months_kept"],
                GOAL_REPORT_MS,
            ),
            (
                "steering report, a year, months kept by the sweep",
                row["steering_report_year_months_kept"],
                GOAL_REPORT_MS,
            ),
            ("deadlines first page", row["deadlines_first_page"], GOAL_PAGE_MS),
            ("deadlines tenth page", row["deadlines_tenth_page"], GOAL_PAGE_MS),
            ("/v1/cases first page", row["cases_first_page"], GOAL_PAGE_MS),
            ("/v1/cases tenth page", row["cases_tenth_page"], GOAL_PAGE_MS),
            ("/v1/reports first page", row["reports_first_page"], GOAL_PAGE_MS),
            ("/v1/reports tenth page", row["reports_tenth_page"], GOAL_PAGE_MS),
            ("/v1/meetings first page", row["meetings_first_page"], GOAL_PAGE_MS),
            ("/v1/meetings tenth page", row["meetings_tenth_page"], GOAL_PAGE_MS),
            ("/v1/meetings first page, police", row["meetings_police_first_page"], GOAL_PAGE_MS),
            ("/v1/meetings tenth page, police", row["meetings_police_tenth_page"], GOAL_PAGE_MS),
        ]
        for name, figure, target in measured:
            if figure is None:
                continue
            goals.append(
                goal(
                    f"{name} ({where})",
                    figure["median_ms"],
                    op="<=",
                    target=target,
                    unit="ms",
                    baseline=baseline,
                )
            )
    return goals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 50000])
    parser.add_argument("--shapes", nargs="+", default=["history", "all-open"])
    parser.add_argument("--runs", type=int, default=5, help="runs of each new measure (>= 3)")
    parser.add_argument("--old-runs", type=int, default=3, help="runs of the former code")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument(
        "--agenda-cases",
        type=int,
        default=40,
        help="at most this many open cases of its district on a meeting's agenda",
    )
    args = parser.parse_args()
    if args.runs < 3 or args.old_runs < 3:
        parser.error("at least 3 runs each")
    # SIGTERM (a CI timeout, `kill`) unwinds like Ctrl-C: the temporary database file and
    # the PostgreSQL database made for the run are still deleted.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    rows = []
    host_before = host()
    load_before = os.getloadavg()
    backends = [("sqlite", _sqlite)] + ([] if args.no_postgres else [("postgresql", _postgres)])
    for backend, database in backends:
        for shape in args.shapes:
            for cases in args.sizes:
                with database() as url:
                    if url is None:
                        print(f"{backend}: not reachable, skipped", file=sys.stderr)
                        break
                    measured = _measure(
                        url, cases, shape, args.runs, args.old_runs, args.agenda_cases
                    )
                    row = {"backend": backend, **measured}
                    row["load_average_1m_after"] = round(os.getloadavg()[0], 2)
                    rows.append(row)
                    print(_goals(row), flush=True)
    results = {
        "benchmark": "reports",
        "date": date.today().isoformat(),
        "cpus": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "goals_ms": {
            "steering_report_at_50k": GOAL_REPORT_MS,
            "deadlines_page": GOAL_PAGE_MS,
            "cases_page": GOAL_PAGE_MS,
            "reports_page": GOAL_PAGE_MS,
            "meetings_page": GOAL_PAGE_MS,
        },
        "page_size": PAGE,
        "runs": {"new": args.runs, "before": args.old_runs},
        "rows": rows,
        "host": {"before": host_before, "after": host()},
        "goals": _goal_rows(rows),
    }
    results_path("reports.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
