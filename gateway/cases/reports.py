"""Reports in a dossier, and the lead's decision on a reporter outside the case team.

A report about a known dwelling joins its open dossier (R Bijlage B/C step 1: "is de situatie
bekend? -> toevoegen aan bestaand dossier"), but filing it does not make the reporting partner
part of the case team: partners exchange case information with "de andere partijen die bij de
casus zijn betrokken" (U §6), and who is involved is the lead's decision (U §5.1 "De
casemanager voert de regie"; R §3.2.3). So the lead is told (its deadline list, its inbox, the
case page) and decides: the reporter joins the team, or not. The reporter keeps seeing what it
reported itself (its own reports, without the case), never the case. The persons its report
named wait with the report, and join the case only with the reporter (review3 finding 6).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.auth.principal import Principal
from gateway.cases.access import team_ids, writable_case
from gateway.cases.calendar import WorkingCalendar
from gateway.cases.errors import CaseNotFound, NotPermitted
from gateway.cases.intake import add_team_member
from gateway.cases.models import CaseFile, CaseReport, CaseTeamMember
from gateway.cases.runtime import CaseRuntime
from gateway.cases.schemas import DeadlineOut, OwnReportOut, PendingReportOut
from gateway.core import pagination
from gateway.db import utcnow

#: ASSUMPTION: the sources set no term for the lead's decision on a reporter; the gateway uses
#: the term U §5.1 gives the lead to decide on a report ("binnen vijf dagen een besluit"),
#: in calendar days, for both covenants.
REPORTER_DECISION_DAYS = 5
DECISION_SOURCE = "U §6, §5.1; R Bijlage B/C"
#: The deadline (and inbox item) of the lead's decision on a reporter.
REPORTER_DECISION = "reporter-decision"

ReporterStatus = Literal["in-team", "awaiting-lead", "joined", "declined"]


def reporter_in_team(session: Session, case: CaseFile, partner_id: str) -> bool:
    return partner_id == case.lead_partner_id or partner_id in team_ids(session, case.id)


def pending_reports(session: Session, case: CaseFile) -> list[CaseReport]:
    """The case's reports from partners outside the team on which the lead has not decided."""
    team = team_ids(session, case.id) | {case.lead_partner_id}
    return [
        report
        for report in session.scalars(
            select(CaseReport)
            .where(CaseReport.case_id == case.id, CaseReport.lead_decision.is_(None))
            .order_by(CaseReport.registered_at, CaseReport.id)
        )
        if report.source_partner_id not in team
    ]


def decision_due_on(calendar: WorkingCalendar, report: CaseReport) -> date:
    """The last day of the lead's decision: calendar days from the day of registration."""
    return calendar.local_date(report.registered_at) + timedelta(days=REPORTER_DECISION_DAYS)


def pending_report_out(
    calendar: WorkingCalendar, report: CaseReport, now: datetime
) -> PendingReportOut:
    due_on = decision_due_on(calendar, report)
    return PendingReportOut(
        id=report.id,
        partner_id=report.source_partner_id,
        channel=report.channel,
        registered_at=report.registered_at,
        due_on=due_on,
        overdue=calendar.end_of_day(due_on) <= now,
    )


def reporter_deadlines(
    session: Session, calendar: WorkingCalendar, case: CaseFile, now: datetime
) -> list[DeadlineOut]:
    """One deadline for the lead per report awaiting its decision."""
    out = []
    for report in pending_reports(session, case):
        due_on = decision_due_on(calendar, report)
        due_at = calendar.end_of_day(due_on)
        out.append(
            DeadlineOut(
                kind="case",
                deadline=REPORTER_DECISION,
                description=(
                    f"Decide whether the reporting partner '{report.source_partner_id}' joins "
                    "the case team."
                ),
                source=DECISION_SOURCE,
                case_id=case.id,
                reference=case.reference,
                district=case.district,
                due_at=due_at,
                due_on=due_on,
                overdue=due_at <= now,
                responsible_partner_id=case.lead_partner_id,
            )
        )
    return out


def decide_on_reporter(
    session: Session,
    *,
    runtime: CaseRuntime,
    case_id: str,
    report_id: str,
    principal: Principal,
    add_to_team: bool,
    now: datetime | None = None,
) -> PendingReportOut:
    """The lead adds the reporter of ``report_id`` to the team, or declines to; audited.
    Added, the persons its reports named join the case with it (add_team_member); declined,
    they stay held with the report and never join (gateway/cases/held_persons.py)."""
    now = now or utcnow()
    case, _ = writable_case(session, runtime=runtime, case_id=case_id, principal=principal)
    if principal.partner_id != case.lead_partner_id or not principal.grant.casework:
        raise NotPermitted("Only the case lead decides who joins the case team.")
    report = session.get(CaseReport, report_id)
    if report is None or report.case_id != case.id:
        raise CaseNotFound("No report with this id in this case.")
    if report not in pending_reports(session, case):
        raise NotPermitted(
            "This report awaits no decision: its partner is in the team or the lead decided."
        )
    report.lead_decision = "joined" if add_to_team else "declined"
    report.lead_decided_at = now
    report.lead_decided_by = principal.actor
    if add_to_team:
        add_team_member(session, case, report.source_partner_id, now, principal.actor)
    session.flush()
    runtime.record_case_event(
        session,
        case,
        activity="case-reporter-decision",
        actor=principal,
        details={"partner": report.source_partner_id, "added": add_to_team},
    )
    return pending_report_out(runtime.calendar(case.covenant_id), report, now)


def _status(report: CaseReport, *, in_team: bool) -> ReporterStatus:
    if report.lead_decision == "joined":
        return "joined"
    if in_team:
        return "in-team"
    if report.lead_decision == "declined":
        return "declined"
    return "awaiting-lead"


def _own_out(report: CaseReport, case: CaseFile, *, in_team: bool) -> OwnReportOut:
    """``in_team``: the reporter leads the case or is in its team now."""
    return OwnReportOut(
        id=report.id,
        channel=report.channel,
        received_at=report.received_at,
        registered_at=report.registered_at,
        status=_status(report, in_team=in_team),
        # The case only for a reporter in its team: outside it the case does not exist.
        case_id=case.id if in_team else None,
        reference=case.reference if in_team else None,
    )


@dataclass(frozen=True)
class OwnReportPage:
    items: list[OwnReportOut]
    #: The cursor of the next page; None on the last.
    next_cursor: str | None


def _own_reports_query(principal: Principal) -> str:
    """What an own-reports cursor belongs to: another partner's cursor is refused."""
    return f"reports|{principal.covenant_id}|{principal.partner_id}"


def decode_own_reports_cursor(
    session: Session, cursor: str, *, principal: Principal
) -> tuple[datetime, str]:
    """The (registration moment, report id) an own-reports cursor points after; else 400."""
    return pagination.decode_moment_cursor(session, _own_reports_query(principal), cursor)


def own_reports_page(
    session: Session,
    *,
    principal: Principal,
    after: tuple[datetime, str] | None = None,
    limit: int = pagination.DEFAULT_PAGE,
) -> OwnReportPage:
    """The reports the caller's partner filed in its covenant, newest first (ties by id,
    highest first), after ``after``, at most ``limit``: read backwards from
    ``ix_case_report_source_registered``, each report's case by its primary key."""
    partner = principal.partner_id
    statement = (
        select(CaseReport, CaseFile)
        .join(CaseFile, CaseFile.id == CaseReport.case_id)
        .where(
            CaseReport.source_partner_id == partner,
            CaseFile.covenant_id == principal.covenant_id,
        )
    )
    if after is not None:
        statement = statement.where(
            pagination.after_key(CaseReport.registered_at, CaseReport.id, after, descending=True)
        )
    rows = session.execute(
        statement.order_by(CaseReport.registered_at.desc(), CaseReport.id.desc()).limit(limit + 1)
    ).all()
    shown, cursor = pagination.split_page(
        session,
        rows,
        limit=limit,
        query=_own_reports_query(principal),
        key=lambda row: pagination.moment_key(row[0].registered_at, row[0].id),
    )
    case_ids = sorted({case.id for _, case in shown})
    teams = (
        set(
            session.scalars(
                select(CaseTeamMember.case_id).where(
                    CaseTeamMember.case_id.in_(case_ids), CaseTeamMember.partner_id == partner
                )
            )
        )
        if case_ids
        else set()
    )
    items = [
        _own_out(report, case, in_team=case.lead_partner_id == partner or case.id in teams)
        for report, case in shown
    ]
    return OwnReportPage(items=items, next_cursor=cursor)


def own_report(session: Session, *, principal: Principal, report_id: str) -> OwnReportOut:
    report = session.get(CaseReport, report_id)
    case = session.get(CaseFile, report.case_id) if report is not None else None
    if (
        report is None
        or case is None
        or report.source_partner_id != principal.partner_id
        or case.covenant_id != principal.covenant_id
    ):
        raise CaseNotFound("No report with this id was filed by your partner.")
    in_team = reporter_in_team(session, case, report.source_partner_id)
    return _own_out(report, case, in_team=in_team)
