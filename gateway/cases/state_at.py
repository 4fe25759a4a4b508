"""The covenant's open cases as they stood at a past moment (the steering report's ``asOf``).

The steering report's state figures (``openCases``, ``openByPhase``, ``openByDistrict``,
``overdueDeadlines``) describe the end of the report's period, not the moment it is read:
live, two reads an hour apart told "one case entered temporary-eviction since" or "one case
in district X was closed", whatever the small-group suppression of each read did. As of the
end of the last whole ended month they change only when a month ends, and describe the same
period as the rest of the report (docs/cases.md, "The steering report's state figures").

A case's state at a moment ``at`` follows from its history (the workflow writes a
``case_transition`` row for every step, with the moment and the state entered, and sets
``closed_at`` on entering a final state):

- it was open at ``at`` when it was opened before it, not closed before it, and not erased
  under retention before it (an erased open case is no open work from its erasure on:
  gateway/cases/live.py). A case erased *after* ``at`` counts as it stood then: the figures
  of a moment are a function of what happened before it, so a later erasure moves none of
  them (and tells nothing about which case was erased);
- a case that made no transition since ``at``, was not erased since and got no report since
  that moved its first-report moment earlier is in the state it is in now, entered when its
  row says, with the days and first report its row says: the bulk, counted in SQL over the
  stored rows (:func:`moved_since` names the others);
- the few others (:func:`moved_cases_at`) are replayed from their transitions before ``at``:
  the initial state from the opening, then each step's state and moment; a step that keeps
  the state's clock changes nothing, one that extends the state adds its days (as
  gateway/cases/workflow.py applies them). Their first-report moment is the earliest
  ``received_at`` of their reports registered before ``at``: a report that joins an open
  dossier takes its first-report moment back to its own ``receivedAt`` when that is earlier
  (gateway/cases/intake.py), a change of the row without a transition (review7b finding 1:
  such a report, joined after ``at``, moved the overdue count of a past report). The reports
  (``case_report``) are no ``erasure_delete`` table: their rows and times survive erasure.

The corporation's permission (``case_consent``) meets its deadline when it was recorded
after the state was entered and before ``at``. The one fact the history needs that erasure
deletes is that permission (``case_consent`` is ``erasure_delete``): for a case erased since
``at`` that sat past a permission deadline at ``at``, the deadline counts as not met (no
permission on file), which it was if the corporation had not answered. The retention sweep
therefore keeps each covenant's figures of the last ended month before it erases anything
(gateway/cases/snapshots.py), and the report reads a kept month from there.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import CTE, ColumnElement, and_, any_, func, or_, select, union
from sqlalchemy.orm import Session

from gateway.cases.calendar import WorkingCalendar
from gateway.cases.deadlines import start_of
from gateway.cases.definition import Deadline, WorkflowDefinition
from gateway.cases.due_ranges import DueRule, StartRange
from gateway.cases.models import CaseConsent, CaseFile, CaseReport, CaseTransition


def moved_since(covenant_id: str, at: datetime) -> CTE:
    """The ids (``case_id``) of the covenant's cases whose stored row may not be their state
    at ``at``: those with a transition at or after it (from ix_case_transition_covenant_at
    alone, which holds the case id since migration 0042: the transitions since ``at``, a
    month's at the report's default end), the open ones erased at or after it
    (ix_case_file_erased_open, 0042: only erased open cases), and, of the cases opened
    before it (the only ones a caller counts), those whose first-report moment a report
    registered at or after it set (its ``received_at`` is the row's ``first_report_at``: a
    later report received earlier than the dossier's first, gateway/cases/intake.py; the
    reports since ``at`` received before it from ix_case_report_registered alone, migration
    0043, each case by its key). A CTE: a statement that tests it many times (a count per
    deadline stream) reads it once."""
    return union(
        select(CaseTransition.case_id).where(
            CaseTransition.covenant_id == covenant_id, CaseTransition.at >= at
        ),
        select(CaseFile.id).where(
            CaseFile.covenant_id == covenant_id,
            CaseFile.closed_at.is_(None),
            CaseFile.erased_at >= at,
        ),
        # received_at is never earlier than the row's first_report_at (the minimum over the
        # case's reports): "<=" names the case whose minimum came from a report since ``at``.
        # From the reports since ``at`` (an index range), each case by its key: as a join,
        # SQLite read every case of the covenant and probed its reports.
        select(CaseReport.case_id).where(
            CaseReport.registered_at >= at,
            # Only a report received before ``at`` can be the minimum of a case open then
            # (every caller counts only cases opened before ``at``): such a case's first
            # report was received no later than it was registered, the opening, so before
            # ``at`` (gateway/cases/intake.py refuses a receipt after the registration;
            # tests/cases/test_deadline_dates.py). Even without that refusal nothing would
            # change: a case whose minimum is at or after ``at`` reads the same phase and
            # district from its row, and no deadline from its first report (each at least a
            # day or an hour long) is overdue at ``at`` by either date (review of 58bd037).
            # The others, in a year's report most of the reports since (the cases opened
            # since), skip their case's probe: ix_case_report_registered holds received_at.
            CaseReport.received_at < at,
            CaseReport.received_at
            <= select(CaseFile.first_report_at)
            .where(CaseFile.id == CaseReport.case_id, CaseFile.covenant_id == covenant_id)
            .scalar_subquery(),
        ),
    ).cte("moved_since")


def unmoved_open_at(covenant_id: str, at: datetime, moved: CTE) -> list[ColumnElement[bool]]:
    """SQL: the covenant's cases open at ``at`` that are as their row has them, ``moved``
    being :func:`moved_since` (with the open states of the workflow,
    :func:`gateway.cases.deadline_pages.open_in`; from ix_case_file_open_live alone)."""
    return [
        CaseFile.covenant_id == covenant_id,
        CaseFile.closed_at.is_(None),
        *unmoved_in_open_state(at, moved),
    ]


def unmoved_in_open_state(at: datetime, moved: CTE) -> list[ColumnElement[bool]]:
    """SQL: of cases read in a state that is not final (a deadline stream's), those open at
    ``at`` as their row has them: opened before it, not erased, not moved since. Such a case
    has ``closed_at`` unset (the workflow sets it exactly on entering a final state, checked
    at start: gateway/cases/closure.py), so the streams are read from their indexes alone
    (ix_case_file_state_first_report_id, ix_case_file_state_entered_id: partial on
    ``erased_at IS NULL``, with ``opened_at`` since migration 0042)."""
    return [
        CaseFile.opened_at < at,
        CaseFile.erased_at.is_(None),
        CaseFile.id.not_in(select(moved.c.case_id)),
    ]


@dataclass(frozen=True)
class CaseAt:
    """One case as it stood at a moment: open, in ``state`` since ``entered_at``."""

    case_id: str
    district: str
    state: str
    entered_at: datetime
    state_days: int | None
    first_report_at: datetime
    #: The opening (the first report's registration), which never moves.
    opened_at: datetime
    #: The kinds of consent recorded since ``entered_at`` and before the moment.
    consents: frozenset[str]
    #: The case's record key (the steering report's cell keys, gateway/cases/cell_key.py).
    record_key: int = 0


def replay(
    definition: WorkflowDefinition,
    *,
    opened_at: datetime,
    transitions: list[Any],
) -> tuple[str, datetime, int | None]:
    """The state, the moment it was entered and its days, after ``transitions`` (rows of
    ``transition``, ``to_state``, ``at`` and the fact ``days``; in order) from the opening."""
    state, entered, days = definition.initial_state, opened_at, None
    for row in transitions:
        spec = definition.transition(row.transition)
        if spec is not None and spec.keeps_state_clock:
            continue
        if spec is not None and spec.extends_state:
            days = (days or 0) + (row.days or 0)
            continue
        state, entered, days = row.to_state, row.at, row.days
    return state, entered, days


def moved_cases_at(
    session: Session, *, definition: WorkflowDefinition, covenant_id: str, at: datetime
) -> list[CaseAt]:
    """The cases of :func:`moved_since` that were open at ``at``, replayed from their
    transitions before it: one statement over those cases only (and one for their consents
    where a consent meets a deadline)."""
    moved = select(moved_since(covenant_id, at).c.case_id)
    finals = definition.final_states
    among: ColumnElement[bool] = CaseFile.id.in_(moved)
    if session.get_bind().dialect.name == "postgresql":
        # The moved cases by their key: "= ANY(ARRAY(...))" is evaluated once and probes the
        # primary key, the other tests a filter of the rows found (with IN and the tests of
        # closed_at and erased_at, PostgreSQL read every open case, or hashed every case of
        # the table, to join the IN's 1,500); SQLite probes by the IN list itself.
        among = CaseFile.id == any_(func.array(moved.scalar_subquery()))
    # The cases and their steps before ``at`` in one statement (a round trip on PostgreSQL):
    # a row per step, a case without one once with NULLs. The first report as it stood at
    # ``at``: the earliest receipt of the reports registered before it (review7b finding 1),
    # the row's where none is on file (a case made without reports).
    first_report = func.coalesce(
        select(func.min(CaseReport.received_at))
        .where(CaseReport.case_id == CaseFile.id, CaseReport.registered_at < at)
        .correlate(CaseFile)
        .scalar_subquery(),
        CaseFile.first_report_at,
    )
    cases: dict[str, Any] = {}
    steps: dict[str, list[Any]] = defaultdict(list)
    for row in session.execute(
        select(
            CaseFile.id,
            CaseFile.district,
            CaseFile.opened_at,
            CaseFile.record_key,
            first_report.label("first_report_at"),
            CaseTransition.id.label("step"),
            CaseTransition.transition,
            CaseTransition.to_state,
            CaseTransition.at,
            # The one fact the replay needs, not the JSON object (parsing it was a fifth of
            # the replay at 1,500 moved cases).
            CaseTransition.facts["days"].as_integer().label("days"),
        )
        .outerjoin(
            CaseTransition,
            and_(CaseTransition.case_id == CaseFile.id, CaseTransition.at < at),
        )
        .where(
            among,
            CaseFile.opened_at < at,
            or_(CaseFile.closed_at.is_(None), CaseFile.closed_at >= at),
            or_(CaseFile.erased_at.is_(None), CaseFile.erased_at >= at),
        )
        .order_by(CaseFile.id, CaseTransition.at, CaseTransition.id)
    ):
        cases.setdefault(row.id, row)
        if row.step is not None:
            steps[row.id].append(row)
    if not cases:
        return []
    consents: dict[str, list[tuple[str, datetime]]] = defaultdict(list)
    kinds = {d.met_by_consent for d in definition.all_deadlines if d.met_by_consent}
    if kinds:
        # Only for a covenant whose deadlines a consent meets (Utrecht's corporation).
        for case_id, kind, recorded_at in session.execute(
            select(CaseConsent.case_id, CaseConsent.kind, CaseConsent.recorded_at).where(
                CaseConsent.case_id.in_(moved),
                CaseConsent.kind.in_(sorted(kinds)),
                CaseConsent.recorded_at < at,
            )
        ):
            consents[case_id].append((kind, recorded_at))
    out = []
    for case_id, row in sorted(cases.items()):
        state, entered, days = replay(
            definition, opened_at=row.opened_at, transitions=steps[case_id]
        )
        if state in finals:
            continue
        out.append(
            CaseAt(
                case_id=case_id,
                district=row.district,
                state=state,
                entered_at=entered,
                state_days=days,
                first_report_at=row.first_report_at,
                opened_at=row.opened_at,
                consents=frozenset(k for k, when in consents[case_id] if when >= entered),
                record_key=row.record_key,
            )
        )
    return out


class OverdueAt:
    """How many deadlines of a replayed case had fallen due before ``at``, as
    gateway.cases.deadlines.case_deadlines has them running at the moment just before. By
    the start ranges of gateway/cases/due_ranges.py, the ones the SQL counts use: each
    (deadline, days) computed once, then a comparison per case (not a calendar walk)."""

    def __init__(self, definition: WorkflowDefinition, calendar: WorkingCalendar, at: datetime):
        self.definition = definition
        self.calendar = calendar
        self.at = at
        self._ranges: dict[tuple[str, int | None], list[StartRange]] = {}

    def _passed(self, deadline: Deadline, amount: int | None) -> list[StartRange]:
        key = (deadline.id, amount)
        if key not in self._ranges:
            rule = DueRule.of(self.calendar, deadline.period, amount)
            self._ranges[key] = rule.start_ranges(None, self.at)
        return self._ranges[key]

    def count(self, case: CaseAt) -> int:
        count = 0
        for deadline in self.definition.all_deadlines:
            if case.state not in deadline.open_in or deadline.met_by_consent in case.consents:
                continue
            amount = case.state_days if deadline.period.amount_from_days else None
            if deadline.period.amount_from_days and amount is None:
                continue
            start = start_of(
                deadline,
                first_report_at=case.first_report_at,
                opened_at=case.opened_at,
                entered_at=case.entered_at,
            )
            if any(
                (r.low is None or start >= r.low) and (r.high is None or start < r.high)
                for r in self._passed(deadline, amount)
            ):
                count += 1
        return count
