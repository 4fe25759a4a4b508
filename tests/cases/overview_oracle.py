"""Cross-case views: a partner's deadlines, and the steering group's figures.

Neither contains personal data: deadlines name cases by id and reference; the steering report
is counts and durations per phase, district and period (U §8, R §4.3).
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from gateway.cases import steering
from gateway.cases.deadlines import case_deadlines
from gateway.cases.definition import Period
from gateway.cases.meetings import action_out
from gateway.cases.models import (
    CaseConsent,
    CaseFile,
    CaseMeeting,
    CaseReport,
    CaseTeamMember,
    CaseTransition,
    Dwelling,
    MeetingAction,
)
from gateway.cases.reports import reporter_deadlines
from gateway.cases.runtime import CaseRuntime
from gateway.cases.schemas import (
    DeadlineOut,
    EvaluationPeriodOut,
    LegsOut,
    SteeringReport,
    ThroughputOut,
)
from gateway.cases.service import deadline_out, erasure_deadlines
from gateway.db import utcnow

DEFAULT_TARGET = Period(amount=3, unit="months")
#: No count under this size leaves the gateway in a breakdown by district or judgement: a
#: small district (or a single closed case) could identify the people in it. Five follows
#: common practice for published small counts (docs/cases.md).
MIN_GROUP_SIZE = 5
JUDGEMENTS = ("resolved", "improved", "unchanged", "worse")


# What is shown of the counts is the gateway's rule (complementary suppression since
# 6 December 2026); this oracle checks the counting, so it applies the same rule.
_suppress = steering._suppress
UNJUDGED = "unjudged"


def _tally(counts: Counter[str], closed: int | None = None) -> dict[str, int | None]:
    """The judgements shown of ``closed`` cases (default: the judged ones): those of
    ``hidden_cells``, the unjudged ones a cell that is never shown (review9a F4)."""
    cells = {j: counts[j] for j in JUDGEMENTS}
    if closed is not None:
        cells[UNJUDGED] = closed - sum(cells.values())
    hidden = steering.hidden_cells(cells, {UNJUDGED})
    return {j: None if j in hidden or not counts[j] else counts[j] for j in JUDGEMENTS}


def evaluation_periods_out(
    periods: list[tuple[date, date]],
    tallied: list[tuple[int, Counter[str], Counter[str]]],
) -> list[EvaluationPeriodOut]:
    """The periods as shown: their closed cases a breakdown of the whole report's, each
    leg's judgements all or nothing (``steering.period_legs_shown``, review9a F4)."""
    hidden = steering.hidden_cells({str(n): count for n, (count, _, _) in enumerate(tallied)})
    shown = [
        steering.period_legs_shown([(count, counts[leg]) for count, *counts in tallied])
        for leg in (0, 1)
    ]
    return [
        EvaluationPeriodOut(
            period_from=begin,
            period_to=finish,
            cases_closed=None if str(n) in hidden else count,
            legs=LegsOut(
                neighbours=_tally(mine, count) if shown[0] else dict.fromkeys(JUDGEMENTS),
                partners=_tally(theirs, count) if shown[1] else dict.fromkeys(JUDGEMENTS),
            ),
        )
        for n, ((begin, finish), (count, mine, theirs)) in enumerate(
            zip(periods, tallied, strict=True)
        )
    ]


# Likewise the rounding of durations to whole weeks (review5a F1).
whole_weeks = steering.whole_weeks
WEEK = steering.WEEK


def _legs(closed: list[CaseFile]) -> LegsOut:
    """U §7: the neighbours' and the partners' judgement of the closed cases."""

    def tally(values: list[str | None]) -> dict[str, int | None]:
        # The unjudged (declined) cases are a cell of the breakdown (review9a F4).
        return _tally(Counter(v for v in values if v), len(values))

    return LegsOut(
        neighbours=tally([c.neighbours_judgement for c in closed]),
        partners=tally([c.partners_judgement for c in closed]),
    )


def _open_cases(session: Session, runtime: CaseRuntime, covenant_id: str) -> list[CaseFile]:
    finals = runtime.workflow(covenant_id).final_states
    return list(
        session.scalars(
            select(CaseFile).where(
                CaseFile.covenant_id == covenant_id, CaseFile.state.not_in(finals)
            )
        )
    )


def _consents_by_case(session: Session, case_ids: list[str]) -> dict[str, list[CaseConsent]]:
    grouped: dict[str, list[CaseConsent]] = {case_id: [] for case_id in case_ids}
    if case_ids:
        for consent in session.scalars(
            select(CaseConsent).where(CaseConsent.case_id.in_(case_ids))
        ):
            grouped[consent.case_id].append(consent)
    return grouped


def partner_deadlines(
    session: Session,
    *,
    runtime: CaseRuntime,
    covenant_id: str,
    partner_id: str,
    partner_kind: str,
    now: datetime | None = None,
) -> list[DeadlineOut]:
    """Everything due for the partner's cases, its meeting actions and (for the organiser)
    the next meeting per district: overdue first, then by due date."""
    now = now or utcnow()
    definition = runtime.workflow(covenant_id)
    calendar = runtime.calendar(covenant_id)
    member = select(CaseTeamMember.case_id).where(CaseTeamMember.partner_id == partner_id)
    cases = list(
        session.scalars(
            select(CaseFile).where(
                CaseFile.covenant_id == covenant_id,
                CaseFile.state.not_in(definition.final_states),
                or_(CaseFile.lead_partner_id == partner_id, CaseFile.id.in_(member)),
            )
        )
    )
    dwellings = {
        d.id: d
        for d in session.scalars(
            select(Dwelling).where(Dwelling.id.in_([c.dwelling_id for c in cases]))
        )
    }
    consents = _consents_by_case(session, [c.id for c in cases])
    out: list[DeadlineOut] = []
    for case in cases:
        for item in case_deadlines(
            definition=definition,
            calendar=calendar,
            case=case,
            dwelling=dwellings[case.dwelling_id],
            consents=consents[case.id],
            now=now,
        ):
            out.append(deadline_out(case, item))
        if case.lead_partner_id == partner_id:
            # U §6: a report from a partner outside the team waits for the lead's decision.
            out.extend(reporter_deadlines(session, calendar, case, now))
    out.extend(
        erasure_deadlines(
            session,
            runtime=runtime,
            cases=[c for c in cases if c.lead_partner_id == partner_id],
            now=now,
        )
    )
    today = calendar.local_date(now)
    actions = session.scalars(
        select(MeetingAction)
        .join(CaseMeeting, CaseMeeting.id == MeetingAction.meeting_id)
        .where(
            CaseMeeting.covenant_id == covenant_id,
            MeetingAction.owner_partner_id == partner_id,
            MeetingAction.done_at.is_(None),
            # About no case, or a case (open or closed) the partner leads or is in the team
            # of: outside the team the case does not exist for it (review5 F5).
            or_(
                MeetingAction.case_id.is_(None),
                MeetingAction.case_id.in_(
                    select(CaseFile.id).where(
                        or_(CaseFile.lead_partner_id == partner_id, CaseFile.id.in_(member))
                    )
                ),
            ),
        )
    )
    for action in actions:
        shown = action_out(action, today)
        out.append(
            DeadlineOut(
                kind="meeting-action",
                deadline=f"action:{action.id}",
                description="Action agreed in a case meeting.",
                source=definition.meetings.source,
                case_id=action.case_id,
                reference=None,
                district=None,
                due_at=calendar.end_of_day(action.due_on),
                due_on=action.due_on,
                overdue=shown.overdue,
                responsible_partner_id=partner_id,
            )
        )
    if partner_kind == definition.meetings.organiser_kind:
        out.extend(
            _district_meetings_due(
                session,
                runtime=runtime,
                covenant_id=covenant_id,
                partner_id=partner_id,
                cases=cases,
                now=now,
            )
        )
    return sorted(out, key=lambda d: (not d.overdue, d.due_at))


def _district_meetings_due(
    session: Session,
    *,
    runtime: CaseRuntime,
    covenant_id: str,
    partner_id: str,
    cases: list[CaseFile],
    now: datetime,
) -> list[DeadlineOut]:
    definition = runtime.workflow(covenant_id)
    calendar = runtime.calendar(covenant_id)
    first_open: dict[str, datetime] = {}
    for case in cases:
        first_open[case.district] = min(
            first_open.get(case.district, case.opened_at), case.opened_at
        )
    rows = session.execute(
        select(CaseMeeting.district, func.max(CaseMeeting.held_at))
        .where(CaseMeeting.covenant_id == covenant_id, CaseMeeting.held_at.is_not(None))
        .group_by(CaseMeeting.district)
    )
    last_held = {district: held for district, held in rows if held is not None}
    out = []
    for district, since in sorted(first_open.items()):
        held = last_held.get(district)
        start = held if held is not None else since
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        due = calendar.due(start, definition.meetings.interval)
        out.append(
            DeadlineOut(
                kind="district-meeting",
                deadline="district-meeting",
                description="The district's next case meeting.",
                source=definition.meetings.source,
                case_id=None,
                reference=None,
                district=district,
                due_at=due.at,
                due_on=due.on,
                overdue=now >= due.at,
                responsible_partner_id=partner_id,
            )
        )
    return out


def steering_report(
    session: Session,
    *,
    runtime: CaseRuntime,
    covenant_id: str,
    period_from: date,
    period_to: date,
    now: datetime | None = None,
    perturb: bool = False,
) -> SteeringReport:
    """Figures for the steering group, without personal data: the exact ones (the oracle
    of the gateway's ``perturb=False``; the perturbation is tests/cases/
    test_steering_differences.py's)."""
    assert not perturb, "the oracle counts exactly"
    now = now or utcnow()
    definition = runtime.workflow(covenant_id)
    calendar = runtime.calendar(covenant_id)
    start = datetime.combine(period_from, time(0), tzinfo=calendar.zone)
    end = datetime.combine(period_to + timedelta(days=1), time(0), tzinfo=calendar.zone)
    all_cases = list(session.scalars(select(CaseFile).where(CaseFile.covenant_id == covenant_id)))
    opened = [c for c in all_cases if start <= c.opened_at < end]
    closed = [c for c in all_cases if c.closed_at is not None and start <= c.closed_at < end]
    target = definition.target.period if definition.target else DEFAULT_TARGET
    durations = [
        (c.closed_at - c.first_report_at).total_seconds() / 86400 for c in closed if c.closed_at
    ]
    within = sum(
        1
        for c in closed
        if c.closed_at and c.closed_at < calendar.due(c.first_report_at, target).at
    )
    # The state figures as of the end of the period (gateway/cases/state_at.py), case by
    # case: as its row has it when it took no step since and was not erased since, else
    # replayed from its steps before the end.
    steps: dict[str, list[CaseTransition]] = {c.id: [] for c in all_cases}
    for step in session.scalars(
        select(CaseTransition)
        .where(CaseTransition.covenant_id == covenant_id)
        .order_by(CaseTransition.at, CaseTransition.id)
    ):
        steps[step.case_id].append(step)
    # The first report as it stood at the end: the earliest receipt of the reports registered
    # before it (a report joined later may have moved it earlier; review7b finding 1).
    first_report: dict[str, datetime] = {}
    for case_id, received_at, registered_at in session.execute(
        select(CaseReport.case_id, CaseReport.received_at, CaseReport.registered_at)
        .join(CaseFile, CaseFile.id == CaseReport.case_id)
        .where(CaseFile.covenant_id == covenant_id)
    ):
        if registered_at < end:
            first_report[case_id] = min(first_report.get(case_id, received_at), received_at)
    open_cases: list[SimpleNamespace] = []
    for c in all_cases:
        if c.opened_at >= end or (c.erased_at is not None and c.erased_at < end):
            continue
        moved = any(t.at >= end for t in steps[c.id]) or (
            c.closed_at is None and c.erased_at is not None
        )
        if not moved:
            if c.closed_at is not None:
                continue
            state, entered, days = c.state, c.state_entered_at, c.state_days
        else:
            if c.closed_at is not None and c.closed_at < end:
                continue
            state, entered, days = definition.initial_state, c.opened_at, None
            for t in steps[c.id]:
                if t.at >= end:
                    break
                spec = definition.transition(t.transition)
                if spec is not None and spec.keeps_state_clock:
                    continue
                if spec is not None and spec.extends_state:
                    days = (days or 0) + int(t.facts.get("days") or 0)
                    continue
                state, entered, days = t.to_state, t.at, t.facts.get("days")
        if state in definition.final_states:
            continue
        open_cases.append(
            SimpleNamespace(
                id=c.id,
                district=c.district,
                dwelling_id=c.dwelling_id,
                state=state,
                state_entered_at=entered,
                state_days=days,
                first_report_at=first_report.get(c.id, c.first_report_at),
                opened_at=c.opened_at,
                lead_partner_id=c.lead_partner_id,
            )
        )
    dwellings = {
        d.id: d
        for d in session.scalars(select(Dwelling).where(Dwelling.covenant_id == covenant_id))
    }
    consents = _consents_by_case(session, [c.id for c in open_cases])
    overdue = sum(
        1
        for c in open_cases
        for d in case_deadlines(
            definition=definition,
            calendar=calendar,
            case=c,  # type: ignore[arg-type]
            dwelling=dwellings[c.dwelling_id],
            consents=[k for k in consents[c.id] if k.recorded_at < end],
            now=end - timedelta(microseconds=1),
        )
        if d.overdue
    )
    transitions = Counter(
        session.scalars(
            select(CaseTransition.transition)
            .join(CaseFile, CaseFile.id == CaseTransition.case_id)
            .where(
                CaseFile.covenant_id == covenant_id,
                CaseTransition.at >= start,
                CaseTransition.at < end,
            )
        )
    )
    open_by_district, hidden_open = _suppress(Counter(c.district for c in open_cases))
    opened_by_district, hidden_opened = _suppress(Counter(c.district for c in opened))
    open_by_phase, hidden_phases = _suppress(Counter(c.state for c in open_cases))
    shown_transitions, hidden_transitions = _suppress(Counter(transitions))
    # The covenant's own evaluation periods (review9a F4: none for Utrecht), counted case by
    # case; what is shown of them is the gateway's rule, as _suppress above.
    spans = steering.covenant_periods(runtime.covenants.get(covenant_id), period_from, period_to)
    tallied = []
    for begin, finish in spans:
        low = datetime.combine(begin, time(0), tzinfo=calendar.zone)
        high = datetime.combine(finish + timedelta(days=1), time(0), tzinfo=calendar.zone)
        in_period = [c for c in closed if c.closed_at is not None and low <= c.closed_at < high]
        tallied.append(
            (
                len(in_period),
                Counter(c.neighbours_judgement for c in in_period if c.neighbours_judgement),
                Counter(c.partners_judgement for c in in_period if c.partners_judgement),
            )
        )
    periods = evaluation_periods_out(spans, tallied) if spans else []

    def small(n: int) -> bool:
        return 0 < n < MIN_GROUP_SIZE

    suppressed = ["casesOpened"] if small(len(opened)) else []
    throughput = ThroughputOut(
        closed_cases=len(durations),
        # In whole weeks, the longest the fifth longest (review5a F1; the rest word for word).
        median_days=whole_weeks(statistics.median(durations)) if durations else None,
        mean_days=whole_weeks(statistics.fmean(durations)) if durations else None,
        max_days=float(math.floor(sorted(durations)[-MIN_GROUP_SIZE] / WEEK) * WEEK)
        if len(durations) >= MIN_GROUP_SIZE
        else None,
    )
    share = round(within / len(closed), 3) if closed else None
    shown_within: int | None = within
    if small(len(closed)):
        throughput = ThroughputOut(
            closed_cases=None, median_days=None, mean_days=None, max_days=None
        )
        shown_within = share = None
        suppressed += ["casesClosed", "closedWithinTarget", "shareClosedWithinTarget"]
        suppressed += [f"throughput.{n}" for n in ("closedCases", "medianDays", "meanDays")]
        suppressed += ["throughput.maxDays"]
    elif small(within) or small(len(closed) - within):
        shown_within = share = None
        suppressed += ["closedWithinTarget", "shareClosedWithinTarget"]
    return SteeringReport(
        covenant_id=covenant_id,
        period_from=period_from,
        period_to=period_to,
        as_of=end,
        generated_at=now,
        perturbed=False,
        noise_bound=0,
        cases_opened=None if small(len(opened)) else len(opened),
        cases_closed=throughput.closed_cases,
        open_cases=len(open_cases),
        throughput=throughput,
        target_months=target.amount or 3,
        closed_within_target=shown_within,
        share_closed_within_target=share,
        open_by_phase=open_by_phase,
        open_by_district=open_by_district,
        opened_by_district=opened_by_district,
        overdue_deadlines=overdue,
        transitions=shown_transitions,
        min_group_size=MIN_GROUP_SIZE,
        suppressed_phases=hidden_phases,
        suppressed_transitions=hidden_transitions,
        suppressed_figures=suppressed,
        suppressed_districts=len(
            {d for d in {c.district for c in open_cases} | {c.district for c in opened}}
            - set(open_by_district)
            - set(opened_by_district)
        )
        if (hidden_open or hidden_opened)
        else 0,
        legs=_legs(closed),
        evaluation_periods=periods,
    )
