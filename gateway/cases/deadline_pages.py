"""A partner's deadlines a page at a time, and the count of overdue ones, at any history size.

A covenant's history grows without end; what a partner has to do does not page well when it
is computed for every open case and then sorted (30,000 deadlines in one response at 50,000
cases). Here each deadline of the workflow, in each state it runs in, is a *stream*: the
cases in that state ordered by the deadline's start column, read in keyset order from an
index on ``(covenant_id, state, start column)``. A due moment follows from the start column
(:mod:`gateway.cases.due_ranges`), so every stream knows a *horizon*: no row it has not read
yet falls due before it. The streams are read until enough items fall due before every
stream's horizon; those are final, in order, and the page.

The order is the one the deadlines list always had: overdue first, then by due moment (the
same thing, as a deadline is overdue exactly when its due moment has passed), ties broken by
kind, deadline, case, district and item, so that a cursor (the last item's sort key) lands in
the same place whatever ``now`` is.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    exists,
    func,
    literal,
    null,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter

from gateway.cases.awaiting import awaiting_the_lead
from gateway.cases.calendar import WorkingCalendar
from gateway.cases.deadlines import erasure_deadline
from gateway.cases.definition import Deadline, WorkflowDefinition
from gateway.cases.districts import district_openings, partner_cases
from gateway.cases.due_ranges import DueRule, StartRange
from gateway.cases.live import not_erased
from gateway.cases.models import (
    CaseConsent,
    CaseFile,
    CaseMeeting,
    CaseReport,
    Dwelling,
    MeetingAction,
)
from gateway.cases.reports import DECISION_SOURCE, REPORTER_DECISION_DAYS
from gateway.cases.runtime import CaseRuntime
from gateway.cases.schemas import DeadlineOut
from gateway.cases.state_at import moved_since, unmoved_in_open_state
from gateway.core import pagination
from gateway.core.errors import BadRequest

#: The sort key of a deadline: due moment, kind, deadline, case, district, item.
SortKey = tuple[datetime, str, str, str, str, str]
#: What a stream has not read yet sorts after this: a due moment, and for a stream whose
#: items share due moments (the erasure warnings: one per day) the rest of its last key.
Horizon = tuple[Any, ...]
MAX_PAGE = pagination.MAX_PAGE
DEFAULT_PAGE = pagination.DEFAULT_PAGE


@dataclass(frozen=True)
class Item:
    key: SortKey
    make: Callable[[datetime], DeadlineOut]
    #: A case whose reference and district the item still needs: read only for the items a
    #: page shows (the key has the district as "": the case id before it decides the order).
    needs_case: str | None = None


@dataclass(frozen=True)
class DeadlinePage:
    items: list[DeadlineOut]
    #: The cursor of the next page; None on the last.
    next_cursor: str | None


# -- the cursor ---------------------------------------------------------------------------


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _cursor_query(covenant_id: str, partner_id: str) -> str:
    """What a deadlines cursor is checked against (gateway/core/pagination.py): a cursor of
    another list or of another partner is refused."""
    return f"deadlines|{covenant_id}|{partner_id}"


def encode_cursor(session: Session, key: SortKey, *, covenant_id: str, partner_id: str) -> str:
    # The due moment as whole microseconds since the epoch: exact, and shorter than ISO.
    micros = (key[0] - _EPOCH) // timedelta(microseconds=1)
    query = _cursor_query(covenant_id, partner_id)
    return pagination.encode_cursor(session, query, [str(micros), *key[1:]])


def decode_cursor(session: Session, cursor: str, *, covenant_id: str, partner_id: str) -> SortKey:
    raw = pagination.decode_cursor(session, _cursor_query(covenant_id, partner_id), cursor, 6)
    try:
        due = _EPOCH + timedelta(microseconds=int(raw[0]))
    except (ValueError, OverflowError) as error:
        raise BadRequest("'cursor' is not a cursor this list gave out.") from error
    return (due, raw[1], raw[2], raw[3], raw[4], raw[5])


# -- case deadlines as streams --------------------------------------------------------------


@dataclass(frozen=True)
class Stream:
    """One deadline in one state (and, for a period from ``days``, one number of days)."""

    deadline: Deadline
    state: str
    rule: DueRule
    state_days: int | None = None

    @property
    def column(self) -> ColumnElement[datetime]:
        # As gateway.cases.deadlines.start_of has it.
        if self.deadline.start == "first-report":
            return CaseFile.first_report_at.expression
        if self.deadline.start == "first-registration":
            return CaseFile.opened_at.expression
        return CaseFile.state_entered_at.expression

    def conditions(
        self,
        covenant_id: str | ColumnElement[str],
        partner_id: str | ColumnElement[str] | None,
        *,
        consents_before: datetime | None = None,
    ) -> list[ColumnElement[bool]]:
        """The cases of the stream, optionally those a partner leads or is involved in (not
        those whose lead only consulted it: it does nothing of its own there, review10 F2)
        (values, or the parameters a page binds: :func:`_page_statements`); with
        ``consents_before``, a consent meets the deadline only when recorded before it (the
        steering report's state as of a moment, gateway/cases/state_at.py)."""
        where: list[ColumnElement[bool]] = [
            CaseFile.covenant_id == covenant_id,
            CaseFile.state == self.state,
        ]
        if self.state_days is not None:
            where.append(CaseFile.state_days == self.state_days)
        if partner_id is not None:
            where.append(partner_cases(partner_id, involved=True))
        if self.deadline.met_by_consent is not None:
            # Met by a consent of the kind recorded since the state was entered (as
            # gateway.cases.deadlines._met_by_consent): withdrawn or not, it answered.
            answered = [
                CaseConsent.case_id == CaseFile.id,
                CaseConsent.kind == self.deadline.met_by_consent,
                CaseConsent.recorded_at >= CaseFile.state_entered_at,
            ]
            if consents_before is not None:
                answered.append(CaseConsent.recorded_at < consents_before)
            where.append(~exists().where(*answered))
        return where

    def in_ranges(self, ranges: Sequence[StartRange]) -> ColumnElement[bool]:
        column = self.column
        parts = []
        for r in ranges:
            bounds = [
                *([column >= r.low] if r.low is not None else []),
                *([column < r.high] if r.high is not None else []),
            ]
            parts.append(and_(*bounds) if bounds else column.is_not(None))
        return or_(*parts) if parts else column.is_(None)


@dataclass(frozen=True)
class _Keyset:
    """A stream's reads in keyset order (its query ordered by ``order``, then ``tiebreak``):
    the first ``:limit`` rows, and the ``:limit`` rows after the row at (``:last``,
    ``:last_id``), so a page costs the same at any depth. Built once for a page's shape
    (:func:`_page_statements`); each read binds its values."""

    first: Select[*tuple[Any, ...]]
    after: Select[*tuple[Any, ...]]

    @classmethod
    def of(cls, query: Select[*tuple[Any, ...]], order: Any, tiebreak: Any) -> _Keyset:
        limit = bindparam("limit", type_=Integer(), required=True)
        last: BindParameter[Any] = bindparam("last", required=True)
        after = query.where(
            or_(order > last, and_(order == last, tiebreak > bindparam("last_id", required=True)))
        )
        return cls(first=query.limit(limit), after=after.limit(limit))

    def fetcher(
        self, session: Session, values: dict[str, Any]
    ) -> Callable[[tuple[Any, str] | None, int], list[Any]]:
        """Reads with the page's ``values`` bound: at most ``limit`` rows after ``last``."""

        def fetch(last: tuple[Any, str] | None, limit: int) -> list[Any]:
            if last is None:
                return list(session.execute(self.first, {**values, "limit": limit}).all())
            keyset = {**values, "last": last[0], "last_id": last[1], "limit": limit}
            return list(session.execute(self.after, keyset).all())

        return fetch


def case_streams(
    session: Session,
    *,
    definition: WorkflowDefinition,
    calendar: WorkingCalendar,
    covenant_id: str,
) -> list[Stream]:
    """Every (deadline, open state) of the workflow; a period from ``days`` once per number
    of days a case in that state has (unknown days: no deadline, as case_deadlines has it)."""
    finals = definition.final_states
    by_days = sorted(
        {
            state
            for deadline in definition.all_deadlines
            if deadline.period.amount_from_days
            for state in deadline.open_in
            if state not in finals
        }
    )
    days_of: dict[str, list[int]] = {state: [] for state in by_days}
    if by_days:
        # One statement for every state whose period comes from the case's days.
        for state, days in session.execute(
            select(CaseFile.state, CaseFile.state_days)
            .where(
                CaseFile.covenant_id == covenant_id,
                CaseFile.state.in_(by_days),
                CaseFile.state_days.is_not(None),
            )
            .distinct()
        ):
            if days is not None:
                days_of[state].append(days)
    streams = []
    for deadline in definition.all_deadlines:
        for state in deadline.open_in:
            if state in finals:
                continue
            if not deadline.period.amount_from_days:
                streams.append(Stream(deadline, state, DueRule.of(calendar, deadline.period)))
                continue
            for days in sorted(days_of[state]):
                rule = DueRule.of(calendar, deadline.period, days)
                streams.append(Stream(deadline, state, rule, state_days=days))
    return streams


def overdue_count(session: Session, *, runtime: CaseRuntime, covenant_id: str, at: datetime) -> int:
    """How many deadlines of the covenant's cases open at ``at`` had fallen due before it,
    for the cases as their row has them (gateway/cases/state_at.py ``unmoved_open_at``; the
    others are the caller's): a COUNT per stream over the start instants whose due moment
    is before ``at``, all in one statement. An erased case has none (it is one of the
    others when it was erased since ``at``)."""
    definition = runtime.workflow(covenant_id)
    calendar = runtime.calendar(covenant_id)
    passed = at.astimezone(UTC)  # due_at < at
    moved = moved_since(covenant_id, passed)
    counts = [
        select(func.count())
        .select_from(CaseFile)
        .where(
            *stream.conditions(covenant_id, None, consents_before=passed),
            stream.in_ranges(stream.rule.start_ranges(None, passed)),
            *unmoved_in_open_state(passed, moved),
        )
        .scalar_subquery()
        for stream in case_streams(
            session, definition=definition, calendar=calendar, covenant_id=covenant_id
        )
    ]
    if not counts:
        return 0
    # One statement: each count is an index range scan; on PostgreSQL each separate
    # statement would be a round trip.
    return sum(int(n or 0) for n in session.execute(select(*counts)).one())


# -- the statements of a page: built once for its shape, bound for each page ----------------


#: How a page after a cursor starts a stream: every row, the rows from a start on (the
#: parameter ``from_<n>``), or only the rows without a start (no start is due after it).
StartBound = Literal["all", "from", "none"]
ALL: StartBound = "all"
FROM: StartBound = "from"
NONE: StartBound = "none"


def _bound(name: str) -> BindParameter[str]:
    """The page's covenant or partner: a parameter without a value, so that a statement
    built once never carries a page's own; executed without it, the statement fails."""
    return bindparam(name, type_=String(), required=True)


def _start_bound(stream: Stream, after: SortKey | None) -> tuple[StartBound, datetime | None]:
    """The earliest start whose due moment is not before the cursor's: exact, so a page far
    down the list reads no rows the pages before it showed (beyond ties)."""
    if after is None:
        return ALL, None
    ranges = stream.rule.start_ranges(after[0], None)
    lows = [r.low for r in ranges]
    if ranges and None not in lows:
        return FROM, min(low for low in lows if low is not None)
    return (NONE, None) if not ranges else (ALL, None)


def _case_query(stream: Stream, n: int, bound: StartBound) -> Select[*tuple[Any, ...]]:
    """The ``n``-th case stream's rows, in start order; the covenant, the partner and the
    start bound are parameters."""
    column = stream.column
    by_corporation = stream.deadline.responsible == "dwelling-corporation"
    # The same columns for every stream (the corporation's or NULL), so that the first reads
    # of all streams go to the database as one UNION ALL.
    corporation = (
        Dwelling.corporation_id if by_corporation else null().cast(Dwelling.corporation_id.type)
    )
    query = select(
        CaseFile.id.label("id"),
        CaseFile.reference.label("reference"),
        CaseFile.district.label("district"),
        column.label("start"),
        CaseFile.lead_partner_id.label("lead"),
        corporation.label("corporation"),
    )
    if by_corporation:
        query = query.join(Dwelling, Dwelling.id == CaseFile.dwelling_id)
    covenant, partner = _bound("covenant"), _bound("partner")
    # An open case erased under retention takes no more steps (410): not work.
    query = query.where(*stream.conditions(covenant, partner), not_erased(CaseFile.id))
    if bound == FROM:
        query = query.where(column >= bindparam(f"from_{n}", required=True))
    elif bound == NONE:
        query = query.where(column.is_(None))
    return query.order_by(column, CaseFile.id)


def _reporter_query(after_cursor: bool) -> Select[*tuple[Any, ...]]:
    """U §6: one decision for the lead per report from a partner outside the team that the
    lead has not decided on (as reports.pending_reports, for all the lead's cases at once),
    by registration: the decision is due a fixed number of days after it. The reports that
    await a lead come from their stored flag's index (gateway/cases/awaiting.py) in
    registration order, each one's case looked up by its key: a page reads about as many
    reports as it shows, however many the covenant ever had.

    The columns of a case stream (:func:`_case_query`), so that the first read goes with
    theirs in one statement: the report as ``id``, its registration as ``start``, its partner
    as ``lead`` and its case as ``corporation``."""
    covenant, partner = _bound("covenant"), _bound("partner")
    query = (
        select(
            CaseReport.id.label("id"),
            CaseFile.reference.label("reference"),
            CaseFile.district.label("district"),
            CaseReport.registered_at.label("start"),
            CaseReport.source_partner_id.label("lead"),
            CaseFile.id.label("corporation"),
        )
        .join(CaseFile, CaseFile.id == CaseReport.case_id)
        # The reader joins the report's case: not erased by its own column.
        .where(*awaiting_the_lead(partner, covenant), not_erased(CaseFile.id))
    )
    if after_cursor:
        query = query.where(CaseReport.registered_at >= bindparam("reported_from", required=True))
    return query.order_by(CaseReport.registered_at, CaseReport.id)


def _action_query(after_cursor: bool) -> Select[*tuple[Any, ...]]:
    """The partner's open meeting actions, by due day (not those about an erased case, nor
    those of a meeting retention erased: gateway/retention/minutes.py). An action about a
    case only while the partner leads the case or is in its team (districts.partner_cases,
    the rule of gateway/cases/access.py): removed from the team, the case does not exist
    for it (404), so its deadlines name it no more (review5 F5; the organiser completes
    the action). A probe of the case's key, as the meetings' own look-up."""
    partner = _bound("partner")
    owners_case = (
        select(CaseFile.id)
        .where(CaseFile.id == MeetingAction.case_id, partner_cases(partner))
        .scalar_subquery()
    )
    query = (
        select(MeetingAction.id, MeetingAction.case_id, MeetingAction.due_on)
        .join(CaseMeeting, CaseMeeting.id == MeetingAction.meeting_id)
        .where(
            CaseMeeting.covenant_id == _bound("covenant"),
            MeetingAction.owner_partner_id == partner,
            MeetingAction.done_at.is_(None),
            not_erased(MeetingAction.case_id),
            or_(MeetingAction.case_id.is_(None), owners_case.is_not(None)),
            CaseMeeting.erased_at.is_(None),
        )
    )
    if after_cursor:
        query = query.where(MeetingAction.due_on >= bindparam("actions_from", required=True))
    return query.order_by(MeetingAction.due_on, MeetingAction.id)


@dataclass(frozen=True)
class _PageStatements:
    """A page's statements for one shape: the workflow's streams and how a page starts each.
    Every value (covenant, partner, bounds, limits, keyset) is a parameter the page binds,
    none is part of the statement: a page of another partner or covenant, reusing it, binds
    its own, and a statement executed without one of them fails."""

    #: Held, so that its ``id()`` in the cache key is not reused while the entry lives.
    definition: WorkflowDefinition
    cases: tuple[_Keyset, ...]
    reporter: _Keyset
    actions: _Keyset
    #: The first read of every case stream and of the reporter decisions in one statement:
    #: each a subquery with its order and limit, UNION ALL, numbered (on PostgreSQL every
    #: statement is a round trip, and a page starts with one read per (deadline, state)).
    first_reads: Select[*tuple[Any, ...]]


def _page_statements(
    definition: WorkflowDefinition,
    streams: Sequence[Stream],
    bounds: Sequence[StartBound],
    after_cursor: bool,
) -> _PageStatements:
    cases = tuple(
        _Keyset.of(_case_query(stream, n, bound), stream.column, CaseFile.id)
        for n, (stream, bound) in enumerate(zip(streams, bounds, strict=True))
    )
    reporter = _Keyset.of(_reporter_query(after_cursor), CaseReport.registered_at, CaseReport.id)
    actions = _Keyset.of(_action_query(after_cursor), MeetingAction.due_on, MeetingAction.id)
    parts = []
    for n, keyset in enumerate((*cases, reporter)):
        sub = keyset.first.subquery()
        parts.append(select(literal(n).label("stream"), *sub.c))
    merged = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery()
    first_reads = select(*merged.c).order_by(merged.c.stream, merged.c.start, merged.c.id)
    return _PageStatements(definition, cases, reporter, actions, first_reads)


class _StatementCache:
    """The statements of the pages by shape, the least recently used dropped beyond
    ``size``. Building one (~20 SQLAlchemy selects) and finding its compiled form cost a page
    more Python than all its rows; reused, the statement's compiled form is SQLAlchemy's
    cached one and its text the same, which psycopg prepares on a connection after a few
    executions (:func:`_read_first_together`)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[Any, ...], _PageStatements] = OrderedDict()
        self._lock = threading.Lock()

    def get(
        self,
        key: tuple[Any, ...],
        definition: WorkflowDefinition,
        build: Callable[[], _PageStatements],
    ) -> _PageStatements:
        with self._lock:
            found = self._entries.get(key)
            if found is not None and found.definition is definition:
                self._entries.move_to_end(key)
                return found
        built = build()
        with self._lock:
            self._entries[key] = built
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return built


_STATEMENTS = _StatementCache(64)


def _statements_for(
    definition: WorkflowDefinition,
    covenant_id: str,
    streams: Sequence[Stream],
    bounds: Sequence[StartBound],
    after_cursor: bool,
) -> _PageStatements:
    """The page's statements, from the cache. The key is everything the statements' text
    depends on: the loaded workflow (a reloaded one is another object: new statements), the
    streams (each deadline, state and number of days), how a page starts each, and whether
    it follows a cursor. The partner and the covenant's id are bound, not part of it."""
    key = (
        id(definition),
        covenant_id,
        tuple((s.deadline.id, s.state, s.state_days) for s in streams),
        tuple(bounds),
        after_cursor,
    )
    return _STATEMENTS.get(
        key,
        definition,
        lambda: _page_statements(definition, streams, bounds, after_cursor),
    )


# -- reading streams until the page is certain ----------------------------------------------


@dataclass
class _Reader:
    """Reads one stream in keyset order; ``horizon`` bounds what it has not read yet."""

    fetch: Callable[[Any, int], list[Any]]
    position: Callable[[Any], Any]
    horizon_of: Callable[[Any], Horizon]
    to_items: Callable[[Any], Iterator[Item]]
    batch: int
    #: Its first read is part of the page's one statement (``first_reads``).
    together: bool = False
    last: Any = None
    done: bool = False
    horizon: Horizon | None = None
    items: list[Item] = field(default_factory=list)

    def read(self) -> None:
        self.accept(self.fetch(self.last, self.batch + 1))

    def accept(self, rows: Sequence[Any]) -> None:
        """Take the rows of a read of ``batch + 1`` rows (after ``last``)."""
        for row in rows[: self.batch]:
            self.items.extend(self.to_items(row))
        if len(rows) <= self.batch:
            self.done, self.horizon = True, None
        else:
            self.last = self.position(rows[self.batch - 1])
            self.horizon = self.horizon_of(rows[self.batch - 1])
        self.batch *= 2


def _read_first_together(
    session: Session,
    statement: Select[*tuple[Any, ...]],
    values: dict[str, Any],
    readers: Sequence[_Reader],
) -> None:
    """The first read of every reader ``together`` (in the order of ``statement``'s parts),
    in one statement. On PostgreSQL with a generic plan: the statement is the same text for
    every page of its shape, and planning its ~20 subqueries for each page's values took
    longer than running it (EXPLAIN ANALYZE at 50,000 cases: 5-12 ms planning, 3-7 ms
    execution), while the values change nothing in its plan (each part an index range in
    start order, as far as its limit). The generic plan saves only once prepared: psycopg
    prepares a statement at its fifth execution on a connection, and keeps it while the
    connection's transactions end in a commit, as a request's does (a rollback deallocates
    every prepared statement); from then on a page is not planned (2.6-3 ms for the
    statement, against 7-10 planned each time; 50,000 cases, measured alone)."""
    together = [r for r in readers if r.together]
    postgresql = session.get_bind().dialect.name == "postgresql"
    if postgresql:
        # For this statement only, and undone with the transaction if it fails.
        session.execute(text("SET LOCAL plan_cache_mode = force_generic_plan"))
    rows: list[list[Any]] = [[] for _ in together]
    for row in session.execute(statement, values):
        rows[row[0]].append(tuple(row[1:]))
    if postgresql:
        session.execute(text("SET LOCAL plan_cache_mode = DEFAULT"))
    for reader, own in zip(together, rows, strict=True):
        reader.accept(own)


def _case_reader(
    session: Session, stream: Stream, keyset: _Keyset, values: dict[str, Any], batch: int
) -> _Reader:
    by_corporation = stream.deadline.responsible == "dwelling-corporation"
    deadline = stream.deadline

    def to_items(row: Any) -> Iterator[Item]:
        case_id, reference, district, start, lead = row[:5]
        due_at = stream.rule.due_at(start)
        due_on = (
            None
            if stream.rule.unit == "hours"
            else stream.rule.calendar.local_date(due_at - timedelta(microseconds=1))
        )
        responsible = row[5] if by_corporation else lead

        def make(now: datetime) -> DeadlineOut:
            return DeadlineOut(
                kind="case",
                deadline=deadline.id,
                description=deadline.description,
                source=deadline.source,
                case_id=case_id,
                reference=reference,
                district=district,
                due_at=due_at,
                due_on=due_on,
                overdue=now >= due_at,
                responsible_partner_id=responsible,
            )

        yield Item((due_at, "case", deadline.id, case_id, district or "", ""), make)

    return _Reader(
        fetch=keyset.fetcher(session, values),
        position=lambda row: (row[3], row[0]),
        horizon_of=lambda row: (stream.rule.horizon(row[3]),),
        to_items=to_items,
        batch=batch,
        together=True,
    )


def _action_reader(
    session: Session,
    *,
    definition: WorkflowDefinition,
    calendar: WorkingCalendar,
    partner_id: str,
    keyset: _Keyset,
    values: dict[str, Any],
    batch: int,
) -> _Reader:
    """The partner's open meeting actions, by due day (not those about an erased case, nor
    those of a meeting retention erased: gateway/retention/minutes.py)."""

    def to_items(row: Any) -> Iterator[Item]:
        action_id, case_id, due_on = row
        due_at = calendar.end_of_day(due_on)

        def make(now: datetime) -> DeadlineOut:
            return DeadlineOut(
                kind="meeting-action",
                deadline=f"action:{action_id}",
                description="Action agreed in a case meeting.",
                source=definition.meetings.source,
                case_id=case_id,
                reference=None,
                district=None,
                due_at=due_at,
                due_on=due_on,
                # As meetings.action_out: overdue once its day has passed.
                overdue=due_on < calendar.local_date(now),
                responsible_partner_id=partner_id,
            )

        yield Item((due_at, "meeting-action", f"action:{action_id}", case_id or "", "", ""), make)

    return _Reader(
        fetch=keyset.fetcher(session, values),
        position=lambda row: (row[2], row[0]),
        horizon_of=lambda row: (calendar.end_of_day(row[2]),),
        to_items=to_items,
        batch=batch,
    )


# -- the few items computed whole: reporter decisions, erasures, district meetings ----------


def open_in(definition: WorkflowDefinition, covenant_id: str) -> list[ColumnElement[bool]]:
    """The covenant's open cases: in one of the workflow's states that is not final. Named
    states rather than ``NOT IN`` the final ones, so the index on (covenant, state) reads
    only the open cases and not the covenant's whole history."""
    states = sorted(s.id for s in definition.states if not s.final)
    return [CaseFile.covenant_id == covenant_id, CaseFile.state.in_(states)]


def _reporter_reader(
    session: Session,
    *,
    calendar: WorkingCalendar,
    partner_id: str,
    keyset: _Keyset,
    values: dict[str, Any],
    batch: int,
) -> _Reader:
    """The lead's decisions on reports from outside the team (:func:`_reporter_query`)."""

    def due(registered_at: datetime) -> tuple[date, datetime]:
        due_on = calendar.local_date(registered_at) + timedelta(days=REPORTER_DECISION_DAYS)
        return due_on, calendar.end_of_day(due_on)

    def to_items(row: Any) -> Iterator[Item]:
        report_id, reference, district, registered_at, reporter, case_id = row
        due_on, due_at = due(registered_at)

        def make(now: datetime) -> DeadlineOut:
            return DeadlineOut(
                kind="case",
                deadline="reporter-decision",
                description=(
                    f"Decide whether the reporting partner '{reporter}' joins the case team."
                ),
                source=DECISION_SOURCE,
                case_id=case_id,
                reference=reference,
                district=district,
                due_at=due_at,
                due_on=due_on,
                overdue=due_at <= now,
                responsible_partner_id=partner_id,
            )

        key = (due_at, "case", "reporter-decision", case_id, district or "", report_id)
        yield Item(key, make)

    return _Reader(
        fetch=keyset.fetcher(session, values),
        position=lambda row: (row[3], row[0]),
        horizon_of=lambda row: (due(row[3])[1],),
        to_items=to_items,
        batch=batch,
        together=True,
    )


def _erasure_reader(
    session: Session,
    *,
    runtime: CaseRuntime,
    definition: WorkflowDefinition,
    calendar: WorkingCalendar,
    covenant_id: str,
    partner_id: str,
    now: datetime,
    after: SortKey | None,
    batch: int,
    cases: dict[str, Any],
) -> _Reader | None:
    """The lead's warnings before an open case's dossier is erased (cases.service
    .erasure_deadlines) as a stream: the retention domain's verdicts of the lead's open cases
    in (erasure day, case) order, read from their index a batch at a time, each one's case
    checked by its key. Each case's reference and district come from ``cases``, which
    :func:`_read_cases` fills for the items shown. None without the retention domain."""
    warnings_of = runtime.erasure_warnings
    if warnings_of is None:
        return None
    lead_open = select(CaseFile.id).where(
        *open_in(definition, covenant_id),
        CaseFile.lead_partner_id == partner_id,
        CaseFile.closed_at.is_(None),
    )
    today = calendar.local_date(now)

    def key_of(warning: Any) -> SortKey:
        # Due at the end of the day before the erasure day (as erasure_deadline): the first
        # instant of the erasure day.
        due_at = calendar.end_of_day(warning.erased_on - timedelta(days=1))
        return (due_at, "retention", "retention-erasure", warning.case_id, "", "")

    def fetch(last: tuple[date, str] | None, limit: int) -> list[Any]:
        return list(
            warnings_of(
                session,
                case_ids=lead_open,
                today=today,
                covenant_id=covenant_id,
                after=last,
                limit=limit,
            )
        )

    def to_items(warning: Any) -> Iterator[Item]:
        def make(now: datetime) -> DeadlineOut:
            case = cases[warning.case_id]
            return erasure_deadline(
                warning,
                case_id=case.id,
                reference=case.reference,
                district=case.district,
                calendar=calendar,
                responsible_partner_id=partner_id,
                now=now,
            )

        yield Item(key_of(warning), make, needs_case=warning.case_id)

    reader = _Reader(
        fetch=fetch,
        position=lambda warning: (warning.erased_on, warning.case_id),
        # A day's warnings share a due moment: a page takes them up to the last one read,
        # not only once the whole day is read.
        horizon_of=lambda warning: (*key_of(warning)[:4],),
        to_items=to_items,
        batch=batch,
    )
    if after is not None:
        # A warning is due at the first instant of its erasure day, so none before the
        # cursor's day is after it; after the cursor's own warning when it is one.
        day = calendar.local_date(after[0])
        own = after[1:3] == ("retention", "retention-erasure")
        reader.last = (day, after[3] if own else "")
    return reader


def _read_cases(session: Session, cases: dict[str, Any], items: Sequence[Item]) -> None:
    """The reference and district of the cases ``items`` still need, in one statement."""
    wanted = sorted({i.needs_case for i in items if i.needs_case and i.needs_case not in cases})
    if wanted:
        for row in session.execute(
            select(CaseFile.id, CaseFile.reference, CaseFile.district).where(
                CaseFile.id.in_(wanted)
            )
        ):
            cases[row.id] = row


def _final_key(item: Item, cases: dict[str, Any]) -> SortKey:
    """The item's key with its case's district, as the cursor has always carried it."""
    if item.needs_case is None:
        return item.key
    due_at, kind, deadline, case_id, _, rest = item.key
    return (due_at, kind, deadline, case_id, cases[case_id].district or "", rest)


def _district_meeting_items(
    session: Session,
    *,
    definition: WorkflowDefinition,
    calendar: WorkingCalendar,
    covenant_id: str,
    partner_id: str,
    live: ColumnElement[bool],
) -> list[Item]:
    """For the organiser: each district's next case meeting, from its last meeting held (or
    the first opening of a case of the partner's in it that ``live`` holds for: an open case
    erased under retention is on no agenda, so it asks for no meeting)."""
    items = []
    for found in district_openings(
        session,
        covenant_id=covenant_id,
        partner_id=partner_id,
        live=live,
        states=[state.id for state in definition.states if not state.final],
        with_last_meeting=True,
        # A case whose lead only consulted the organiser (U §5.6) is no work of its own:
        # it asks for no meeting (review10 F2).
        involved=True,
    ):
        district = found.district
        held, since = found.last_held_at, found.first_opened_at
        start = held if held is not None else since
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        due = calendar.due(start, definition.meetings.interval)
        out = DeadlineOut(
            kind="district-meeting",
            deadline="district-meeting",
            description="The district's next case meeting.",
            source=definition.meetings.source,
            case_id=None,
            reference=None,
            district=district,
            due_at=due.at,
            due_on=due.on,
            overdue=False,
            responsible_partner_id=partner_id,
        )
        key = (due.at, "district-meeting", "district-meeting", "", district, "")
        items.append(Item(key, _with_overdue(out)))
    return items


def _with_overdue(out: DeadlineOut) -> Callable[[datetime], DeadlineOut]:
    return lambda now: out.model_copy(update={"overdue": now >= out.due_at})


# -- the page -------------------------------------------------------------------------------


def deadlines_page(
    session: Session,
    *,
    runtime: CaseRuntime,
    covenant_id: str,
    partner_id: str,
    partner_kind: str,
    now: datetime,
    after: SortKey | None = None,
    limit: int | None = DEFAULT_PAGE,
) -> DeadlinePage:
    """The partner's deadlines after ``after`` (a page's last sort key), at most ``limit``
    (None: all of them), overdue first, then by due moment."""
    definition = runtime.workflow(covenant_id)
    calendar = runtime.calendar(covenant_id)
    want = None if limit is None else limit + 1
    # Small first reads: most streams contribute little to one page; a stream read again
    # reads twice as many rows as the time before.
    batch = 256 if want is None else max(8, want // 4)
    streams = case_streams(
        session, definition=definition, calendar=calendar, covenant_id=covenant_id
    )
    starts = [_start_bound(stream, after) for stream in streams]
    statements = _statements_for(
        definition, covenant_id, streams, [bound for bound, _ in starts], after is not None
    )
    # Every value the statements take, bound here for this page alone.
    values: dict[str, Any] = {"covenant": covenant_id, "partner": partner_id}
    values.update({f"from_{n}": low for n, (_, low) in enumerate(starts) if low is not None})
    if after is not None:
        day = calendar.local_date(after[0])
        first = day - timedelta(days=REPORTER_DECISION_DAYS + 2)
        values["reported_from"] = datetime.combine(first, time(0), tzinfo=calendar.zone)
        values["actions_from"] = day - timedelta(days=2)
    readers = [
        _case_reader(session, stream, keyset, values, batch)
        for stream, keyset in zip(streams, statements.cases, strict=True)
    ]
    readers.append(
        _action_reader(
            session,
            definition=definition,
            calendar=calendar,
            partner_id=partner_id,
            keyset=statements.actions,
            values=values,
            batch=batch,
        )
    )
    readers.append(
        _reporter_reader(
            session,
            calendar=calendar,
            partner_id=partner_id,
            keyset=statements.reporter,
            values=values,
            batch=batch,
        )
    )
    cases: dict[str, Any] = {}
    warnings = _erasure_reader(
        session,
        runtime=runtime,
        definition=definition,
        calendar=calendar,
        covenant_id=covenant_id,
        partner_id=partner_id,
        now=now,
        after=after,
        batch=batch,
        cases=cases,
    )
    if warnings is not None:
        readers.append(warnings)
    whole: list[Item] = []
    if partner_kind == definition.meetings.organiser_kind:
        whole.extend(
            _district_meeting_items(
                session,
                definition=definition,
                calendar=calendar,
                covenant_id=covenant_id,
                partner_id=partner_id,
                live=not_erased(CaseFile.id),
            )
        )
    _read_first_together(session, statements.first_reads, {**values, "limit": batch + 1}, readers)
    for reader in readers:
        if not reader.together:
            reader.read()
    while True:
        waiting = [r for r in readers if not r.done]
        horizon = min((r.horizon for r in waiting if r.horizon is not None), default=None)
        certain = [
            item
            for item in (*whole, *(i for r in readers for i in r.items))
            if (after is None or item.key > after) and (horizon is None or item.key < horizon)
        ]
        if not waiting or (want is not None and len(certain) >= want):
            break
        min(waiting, key=lambda r: r.horizon or (datetime.max.replace(tzinfo=UTC),)).read()
    certain.sort(key=lambda item: item.key)
    shown = certain if limit is None else certain[:limit]
    more = limit is not None and len(certain) > limit
    _read_cases(session, cases, shown)
    return DeadlinePage(
        items=[item.make(now) for item in shown],
        next_cursor=(
            encode_cursor(
                session,
                _final_key(shown[-1], cases),
                covenant_id=covenant_id,
                partner_id=partner_id,
            )
            if more and shown
            else None
        ),
    )


def all_deadlines(
    session: Session,
    *,
    runtime: CaseRuntime,
    covenant_id: str,
    partner_id: str,
    partner_kind: str,
    now: datetime,
) -> list[DeadlineOut]:
    """Every deadline of the partner (the command line's list), in page order."""
    return deadlines_page(
        session,
        runtime=runtime,
        covenant_id=covenant_id,
        partner_id=partner_id,
        partner_kind=partner_kind,
        now=now,
        limit=None,
    ).items
