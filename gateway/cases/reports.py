"""Reports in a dossier, and the lead's decision on a reporter outside the case team.

A report about a known dwelling joins its open dossier (R Bijlage B/C step 1: "is de situatie
bekend? -> toevoegen aan bestaand dossier"), but filing it does not make the reporting partner
part of the case team: partners exchange case information with "de andere partijen die bij de
casus zijn betrokken" (U §6), and who is involved is the lead's decision (U §5.1 "De
casemanager voert de regie"; R §3.2.3). So the lead is told (its deadline list, its inbox, the
case page) and decides: the reporter joins the team, or not. The reporter keeps seeing what it
reported itself (its own reports, without the case), never the case.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.auth.principal import Principal
from gateway.cases.access import team_ids, visible_case
from gateway.cases.calendar import WorkingCalendar
from gateway.cases.errors import CaseNotFound, NotPermitted
from gateway.cases.intake import add_team_member
from gateway.cases.models import CaseFile, CaseReport
from gateway.cases.runtime import CaseRuntime
from gateway.cases.schemas import DeadlineOut, OwnReportOut, PendingReportOut
from gateway.db import utcnow

#: ASSUMPTION: the sources set no term for the lead's decision on a reporter; the gateway uses
#: the term U §5.1 gives the lead to decide on a report ("binnen vijf dagen een besluit"),
#: in calendar days, for both covenants.
REPORTER_DECISION_DAYS = 5
DECISION_SOURCE = "U §6, §5.1; R Bijlage B/C"

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
                deadline="reporter-decision",
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
    """The lead adds the reporter of ``report_id`` to the team, or declines to; audited."""
    now = now or utcnow()
    case, _ = visible_case(session, case_id=case_id, principal=principal, for_update=True)
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
        add_team_member(session, case.id, report.source_partner_id, now, principal.actor)
    session.flush()
    runtime.record_case_event(
        session,
        case,
        activity="case-reporter-decision",
        actor=principal,
        details={"partner": report.source_partner_id, "added": add_to_team},
    )
    return pending_report_out(runtime.calendar(case.covenant_id), report, now)


def _status(session: Session, report: CaseReport, case: CaseFile) -> ReporterStatus:
    if report.lead_decision == "joined":
        return "joined"
    if reporter_in_team(session, case, report.source_partner_id):
        return "in-team"
    if report.lead_decision == "declined":
        return "declined"
    return "awaiting-lead"


def _own_out(session: Session, report: CaseReport, case: CaseFile) -> OwnReportOut:
    status = _status(session, report, case)
    visible = reporter_in_team(session, case, report.source_partner_id)
    return OwnReportOut(
        id=report.id,
        channel=report.channel,
        received_at=report.received_at,
        registered_at=report.registered_at,
        status=status,
        # The case only for a reporter in its team: outside it the case does not exist.
        case_id=case.id if visible else None,
        reference=case.reference if visible else None,
    )


def own_reports(session: Session, *, principal: Principal) -> list[OwnReportOut]:
    """The reports the caller's partner filed, newest first: what it reported itself."""
    rows = session.execute(
        select(CaseReport, CaseFile)
        .join(CaseFile, CaseFile.id == CaseReport.case_id)
        .where(
            CaseReport.source_partner_id == principal.partner_id,
            CaseFile.covenant_id == principal.covenant_id,
        )
        .order_by(CaseReport.registered_at.desc(), CaseReport.id)
        .limit(500)
    ).all()
    return [_own_out(session, report, case) for report, case in rows]


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
    return _own_out(session, report, case)
