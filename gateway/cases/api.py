"""Routes of the cases domain: resolve dependencies, call one service function, return.

No personal identifier ever appears in a path or query string: intake (address, BSN) is a
POST body. Responses carry no personal data; decrypted fields leave only through the
exchange path.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, status

from gateway.auth.deps import Context, CurrentPrincipal, DbSession
from gateway.cases import changes, events, intake, meetings, notices, overview, reports, service
from gateway.cases.deadline_pages import decode_cursor
from gateway.cases.runtime import CaseRuntime
from gateway.cases.schemas import (
    ActionIn,
    ActionOut,
    AttendanceIn,
    CaseEventIn,
    CaseEventOut,
    CaseList,
    CasesEmbedded,
    CaseSummary,
    ConsentIn,
    ConsentOut,
    CriteriaRequest,
    DeadlineList,
    DeadlinesEmbedded,
    DwellingLandlord,
    IntakeRequest,
    IntakeResult,
    InvestigationStatusIn,
    MeetingIn,
    MeetingList,
    MeetingOut,
    MeetingsEmbedded,
    MinutesIn,
    NoticeOut,
    OwnReportList,
    OwnReportOut,
    OwnReportsEmbedded,
    PendingReportOut,
    ReporterDecisionIn,
    SteeringReport,
    TeamMemberIn,
    TransitionRequest,
)
from gateway.cases.steering import report_window
from gateway.cases.workflow import apply_transition
from gateway.core.idempotency import Idempotent
from gateway.core.json_body import StrictJsonRoute
from gateway.core.pagination import (
    CURSOR_PATTERN,
    DEFAULT_PAGE,
    MAX_CURSOR,
    MAX_PAGE,
    page_links,
)
from gateway.core.paths import ID_PATTERN, CaseId
from gateway.db import utcnow

router = APIRouter(tags=["cases"], route_class=StrictJsonRoute)


def get_runtime(context: Context) -> CaseRuntime:
    return context.cases


Runtime = Annotated[CaseRuntime, Depends(get_runtime)]


@router.post(
    "/reports",
    response_model=IntakeResult,
    status_code=status.HTTP_201_CREATED,
    summary="Register a report (melding): joins a known dossier or opens a case",
    responses={
        status.HTTP_200_OK: {
            "model": IntakeResult,
            "description": "The report joined the dossier of a case already open",
        },
        status.HTTP_201_CREATED: {"description": "The report opened a new case"},
        status.HTTP_202_ACCEPTED: {
            "model": IntakeResult,
            "description": "The report joined the dossier of a case whose team the reporter "
            "is not in: no case is named, the lead decides whether the reporter joins (U §6)",
        },
    },
)
def post_report(
    body: IntakeRequest,
    session: DbSession,
    runtime: Runtime,
    principal: CurrentPrincipal,
    idempotency: Idempotent,
) -> IntakeResult:
    result = idempotency.run(
        "register-report",
        body,
        IntakeResult,
        lambda: intake.register_report(session, runtime=runtime, principal=principal, request=body),
        status_code=status.HTTP_201_CREATED,
        case_of=lambda result: intake.case_of_result(session, result),
    )
    # The helper stores one status per operation; a replay answers as the first call did.
    if result.awaiting_lead:
        idempotency.response.status_code = status.HTTP_202_ACCEPTED
    elif not result.created:
        idempotency.response.status_code = status.HTTP_200_OK
    return result


ReportId = Annotated[str, Path(alias="reportId", max_length=36, pattern=r"^[A-Za-z0-9-]+$")]

Limit = Annotated[
    int,
    Query(
        ge=1,
        le=MAX_PAGE,
        description=f"Items per page, 1 to {MAX_PAGE}; {DEFAULT_PAGE} when omitted.",
    ),
]
Cursor = Annotated[
    str | None,
    Query(
        max_length=MAX_CURSOR,
        pattern=CURSOR_PATTERN,
        description="Opaque: the `cursor` of `_links.next.href`; a cursor this list did not "
        "give out (changed, or of another list or filter) is a 400.",
    ),
]


@router.get(
    "/reports",
    response_model=OwnReportList,
    summary="The reports your partner filed, and what became of them (never the case itself "
    "unless your partner is in its team), newest first, a page at a time",
    description="The reports under `_embedded.reports`; follow `_links.next.href` for the "
    "next page, absent on the last.",
)
def get_own_reports(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    limit: Limit = DEFAULT_PAGE,
    cursor: Cursor = None,
) -> OwnReportList:
    after = (
        reports.decode_own_reports_cursor(session, cursor, principal=principal) if cursor else None
    )
    page = reports.own_reports_page(session, principal=principal, after=after, limit=limit)
    return OwnReportList(
        embedded=OwnReportsEmbedded(reports=page.items),
        links=page_links(request.url, next_cursor=page.next_cursor),
    )


@router.get("/reports/{reportId}", response_model=OwnReportOut, summary="One report you filed")
def get_own_report(
    report_id: ReportId, session: DbSession, principal: CurrentPrincipal
) -> OwnReportOut:
    return reports.own_report(session, principal=principal, report_id=report_id)


@router.get(
    "/cases",
    response_model=CaseList,
    summary="Your partner's cases (lead or team), oldest first, a page at a time",
    description="The cases under `_embedded.cases`; follow `_links.next.href` for the next "
    "page, absent on the last.",
)
def get_cases(
    request: Request,
    session: DbSession,
    runtime: Runtime,
    principal: CurrentPrincipal,
    include_closed: Annotated[bool, Query(alias="includeClosed")] = True,
    limit: Limit = DEFAULT_PAGE,
    cursor: Cursor = None,
) -> CaseList:
    after = (
        service.decode_cases_cursor(
            session, cursor, principal=principal, include_closed=include_closed
        )
        if cursor
        else None
    )
    page = service.cases_page(
        session,
        runtime=runtime,
        principal=principal,
        include_closed=include_closed,
        after=after,
        limit=limit,
    )
    return CaseList(
        embedded=CasesEmbedded(cases=page.items),
        links=page_links(request.url, next_cursor=page.next_cursor),
    )


MeetingId = Annotated[str, Path(alias="meetingId", max_length=36, pattern=ID_PATTERN)]


@router.get(
    "/cases/{caseId}",
    response_model=CaseSummary,
    summary="A case without personal data: phase, team, consents, deadlines",
)
def get_case(
    case_id: CaseId, session: DbSession, runtime: Runtime, principal: CurrentPrincipal
) -> CaseSummary:
    return service.case_summary(session, runtime=runtime, case_id=case_id, principal=principal)


@router.post(
    "/cases/{caseId}/transitions",
    response_model=CaseSummary,
    summary="Move the case; 409 names the transitions allowed from its state",
)
def post_transition(
    case_id: CaseId,
    body: TransitionRequest,
    session: DbSession,
    runtime: Runtime,
    principal: CurrentPrincipal,
) -> CaseSummary:
    apply_transition(session, runtime=runtime, case_id=case_id, principal=principal, request=body)
    return service.case_summary(session, runtime=runtime, case_id=case_id, principal=principal)


@router.post(
    "/cases/{caseId}/criteria",
    response_model=CaseSummary,
    summary="Utrecht: record the criteria of U §2 or an acute override",
)
def post_criteria(
    case_id: CaseId,
    body: CriteriaRequest,
    session: DbSession,
    runtime: Runtime,
    principal: CurrentPrincipal,
) -> CaseSummary:
    return changes.record_criteria(
        session, runtime=runtime, case_id=case_id, principal=principal, request=body
    )


@router.post(
    "/cases/{caseId}/team",
    response_model=list[str],
    summary="Add a partner to the case team, involved or only consulted (the lead only)",
)
def post_team_member(
    case_id: CaseId,
    body: TeamMemberIn,
    session: DbSession,
    runtime: Runtime,
    principal: CurrentPrincipal,
) -> list[str]:
    return changes.change_team(
        session,
        runtime=runtime,
        case_id=case_id,
        principal=principal,
        partner_id=body.partner_id,
        add=True,
        consulted=body.consulted,
    )


@router.post(
    "/cases/{caseId}/reports/{reportId}/reporter-decision",
    response_model=PendingReportOut,
    summary="The lead decides whether the partner that filed a report joins the case team",
)
def post_reporter_decision(
    case_id: CaseId,
    report_id: ReportId,
    body: ReporterDecisionIn,
    session: DbSession,
    runtime: Runtime,
    principal: CurrentPrincipal,
) -> PendingReportOut:
    return reports.decide_on_reporter(
        session,
        runtime=runtime,
        case_id=case_id,
        report_id=report_id,
        principal=principal,
        add_to_team=body.add_to_team,
    )


NoticeId = Annotated[str, Path(alias="noticeId", max_length=36, pattern=r"^[A-Za-z0-9-]+$")]


@router.post(
    "/cases/{caseId}/notices/{noticeId}/acknowledgement",
    response_model=NoticeOut,
    summary="Mark a notice read (R §2.3: the municipality told of the hand-over or a measure)",
)
def post_notice_read(
    case_id: CaseId,
    notice_id: NoticeId,
    session: DbSession,
    runtime: Runtime,
    principal: CurrentPrincipal,
) -> NoticeOut:
    return notices.mark_read(
        session, runtime=runtime, case_id=case_id, notice_id=notice_id, principal=principal
    )


@router.delete(
    "/cases/{caseId}/team/{partnerId}",
    response_model=list[str],
    summary="Remove a partner from the case team (the lead only)",
)
def delete_team_member(
    case_id: CaseId,
    partner_id: Annotated[str, Path(alias="partnerId", max_length=100, pattern=ID_PATTERN)],
    session: DbSession,
    runtime: Runtime,
    principal: CurrentPrincipal,
) -> list[str]:
    return changes.change_team(
        session,
        runtime=runtime,
        case_id=case_id,
        principal=principal,
        partner_id=partner_id,
        add=False,
    )


@router.post(
    "/cases/{caseId}/consents",
    response_model=ConsentOut,
    status_code=status.HTTP_201_CREATED,
    summary="Record the corporation's permission or the OM's consent",
)
def post_consent(
    case_id: CaseId,
    body: ConsentIn,
    session: DbSession,
    runtime: Runtime,
    principal: CurrentPrincipal,
    idempotency: Idempotent,
) -> ConsentOut:
    return idempotency.run(
        # The case is in the path, not the body: it belongs to what the key stands for.
        f"record-consent:{case_id}",
        body,
        ConsentOut,
        lambda: changes.record_consent(
            session, runtime=runtime, case_id=case_id, principal=principal, request=body
        ),
        status_code=status.HTTP_201_CREATED,
        case_of=lambda _: case_id,
    )


@router.post(
    "/cases/{caseId}/consents/{consentId}/withdrawal",
    response_model=ConsentOut,
    summary="Withdraw a consent (by the partner that recorded it)",
)
def post_consent_withdrawal(
    case_id: CaseId,
    consent_id: Annotated[str, Path(alias="consentId", max_length=36, pattern=ID_PATTERN)],
    session: DbSession,
    runtime: Runtime,
    principal: CurrentPrincipal,
) -> ConsentOut:
    return changes.withdraw_consent(
        session, runtime=runtime, case_id=case_id, consent_id=consent_id, principal=principal
    )


@router.put(
    "/cases/{caseId}/investigation-status",
    response_model=InvestigationStatusIn,
    summary="Police: whether an investigation runs (U §5.3)",
)
def put_investigation_status(
    case_id: CaseId,
    body: InvestigationStatusIn,
    session: DbSession,
    runtime: Runtime,
    principal: CurrentPrincipal,
) -> InvestigationStatusIn:
    running = changes.set_investigation_status(
        session, runtime=runtime, case_id=case_id, principal=principal, running=body.running
    )
    return InvestigationStatusIn(running=running)


@router.put(
    "/cases/{caseId}/dwelling/landlord",
    response_model=DwellingLandlord,
    summary="Correct the dwelling's tenure and landlord, the first report's word (the lead only)",
)
def put_dwelling_landlord(
    case_id: CaseId,
    body: DwellingLandlord,
    session: DbSession,
    runtime: Runtime,
    principal: CurrentPrincipal,
) -> DwellingLandlord:
    return changes.correct_landlord(
        session, runtime=runtime, case_id=case_id, principal=principal, request=body
    )


@router.post(
    "/cases/{caseId}/events",
    response_model=CaseEventOut,
    status_code=status.HTTP_201_CREATED,
    summary="Record a case event, e.g. the landlord's eviction procedure (U §5.2, §5.3)",
)
def post_case_event(
    case_id: CaseId,
    body: CaseEventIn,
    session: DbSession,
    runtime: Runtime,
    principal: CurrentPrincipal,
    idempotency: Idempotent,
) -> CaseEventOut:
    return idempotency.run(
        f"record-case-event:{case_id}",
        body,
        CaseEventOut,
        lambda: events.record_event(
            session, runtime=runtime, case_id=case_id, principal=principal, request=body
        ),
        status_code=status.HTTP_201_CREATED,
        case_of=lambda _: case_id,
    )


@router.get(
    "/deadlines",
    response_model=DeadlineList,
    summary="What is due for your partner's cases, overdue first, a page at a time",
    description="Follow `_links.next.href` for the next page; it is absent on the last.",
)
def get_deadlines(
    request: Request,
    session: DbSession,
    runtime: Runtime,
    principal: CurrentPrincipal,
    limit: Limit = DEFAULT_PAGE,
    cursor: Cursor = None,
) -> DeadlineList:
    page = overview.deadlines_page(
        session,
        runtime=runtime,
        covenant_id=principal.covenant_id,
        partner_id=principal.partner_id,
        partner_kind=principal.partner_kind,
        now=utcnow(),
        after=(
            decode_cursor(
                session,
                cursor,
                covenant_id=principal.covenant_id,
                partner_id=principal.partner_id,
            )
            if cursor
            else None
        ),
        limit=limit,
    )
    # Which partner outside the team reported is for the lead's people and system, who
    # decide (U §5.1, §5.6; review9a F1): not for its privacy officer, an audit role that
    # "never receives case data". Left out of the page as read, so its cursor stays valid.
    items = [
        d
        for d in page.items
        if not (principal.grant.audits and d.deadline == reports.REPORTER_DECISION)
    ]
    return DeadlineList(
        embedded=DeadlinesEmbedded(deadlines=items),
        links=page_links(request.url, next_cursor=page.next_cursor),
    )


@router.get(
    "/steering-report",
    response_model=SteeringReport,
    summary="Figures for the steering group, without personal data",
    description="Over one calendar month, quarter or year that has ended (`from` its first "
    "day, `to` its last, both or neither; default the last ended month): any other window "
    "is a 422 problem+json `steering-period-not-accepted` that says what is accepted. Every "
    "count is perturbed by the cell-key method (`perturbed`, `noiseBound`: each count within "
    "2 of the truth, the same for the same cases in every report; a shown count of a cell "
    "that is suppressed at 1 to 4 is 0 or at least 7), so that a difference of reports "
    "gives a count the suppression hid as a range, not as a value, except where noises fall "
    "at opposite ends (about 1 in 25 per pair of windows): every published count is at "
    "least what its published parts hold (a shown part's value minus 2, a null total 1; a "
    "quarter's or year's months and quarters; a year's evaluation periods) plus 2; the "
    "month-end state figures against the month's flows are no such split (docs/cases.md "
    "'Differences of windows'). "
    "Read by the partners the covenant gives the results to (covenant.yaml "
    "`steering.readers`: Utrecht's steering group of U §8, every partner in Rijswijk, "
    "R §4.3); any other partner gets a 403 problem+json `steering-report-not-yours`.",
    responses={403: {"description": "Your partner does not receive the steering report."}},
)
def get_steering_report(
    session: DbSession,
    runtime: Runtime,
    principal: CurrentPrincipal,
    period_from: Annotated[date | None, Query(alias="from")] = None,
    period_to: Annotated[date | None, Query(alias="to")] = None,
) -> SteeringReport:
    # Who receives the results is the covenant's (review9a F4): U §8 gives them to the
    # steering group's members, R §4.3 to every partner. Checked before the period, so a
    # partner that does not receive the report learns nothing of it from a 422.
    overview.require_steering_reader(runtime, principal.covenant_id, principal.partner_id)
    # A month, a quarter or a year that has ended (review5a F1, review14): two free windows
    # a day apart told one case's closing day and duration, or its step, past the
    # suppression of each window; runs of months gave a month's count as the average of
    # many differences. The figures are perturbed (steering_report's default).
    period_from, period_to = report_window(
        runtime.today(principal.covenant_id), period_from, period_to
    )
    return overview.steering_report(
        session,
        runtime=runtime,
        covenant_id=principal.covenant_id,
        period_from=period_from,
        period_to=period_to,
    )


@router.post(
    "/meetings",
    response_model=MeetingOut,
    status_code=status.HTTP_201_CREATED,
    summary="Plan a district case meeting; the agenda is the district's open cases",
)
def post_meeting(
    body: MeetingIn, session: DbSession, runtime: Runtime, principal: CurrentPrincipal
) -> MeetingOut:
    return meetings.plan_meeting(session, runtime=runtime, principal=principal, request=body)


@router.get(
    "/meetings",
    response_model=MeetingList,
    summary="Case meetings of your covenant (of one district): the coming ones first, a page at "
    "a time",
    description="The meetings from today on, soonest first, then the earlier ones, latest "
    "first (ties by id in the same direction), under `_embedded.meetings`; follow "
    "`_links.next.href` for the next page, absent on the last.",
)
def get_meetings(
    request: Request,
    session: DbSession,
    runtime: Runtime,
    principal: CurrentPrincipal,
    district: Annotated[str | None, Query(max_length=100, pattern=r"^[^\x00-\x1f\x7f]+$")] = None,
    limit: Limit = DEFAULT_PAGE,
    cursor: Cursor = None,
) -> MeetingList:
    after = (
        meetings.decode_meetings_cursor(session, cursor, principal=principal, district=district)
        if cursor
        else None
    )
    page = meetings.meetings_page(
        session, runtime=runtime, principal=principal, district=district, after=after, limit=limit
    )
    return MeetingList(
        embedded=MeetingsEmbedded(meetings=page.items),
        links=page_links(request.url, next_cursor=page.next_cursor),
    )


@router.get("/meetings/{meetingId}", response_model=MeetingOut, summary="One case meeting")
def get_meeting(
    meeting_id: MeetingId, session: DbSession, runtime: Runtime, principal: CurrentPrincipal
) -> MeetingOut:
    return meetings.get_meeting(
        session, runtime=runtime, principal=principal, meeting_id=meeting_id
    )


@router.post(
    "/meetings/{meetingId}/attendance", response_model=MeetingOut, summary="Record who attended"
)
def post_attendance(
    meeting_id: MeetingId,
    body: AttendanceIn,
    session: DbSession,
    runtime: Runtime,
    principal: CurrentPrincipal,
) -> MeetingOut:
    return meetings.record_attendance(
        session, runtime=runtime, principal=principal, meeting_id=meeting_id, request=body
    )


@router.post(
    "/meetings/{meetingId}/minutes",
    response_model=MeetingOut,
    summary="Record the minutes (sealed); marks the meeting held",
)
def post_minutes(
    meeting_id: MeetingId,
    body: MinutesIn,
    session: DbSession,
    runtime: Runtime,
    principal: CurrentPrincipal,
) -> MeetingOut:
    return meetings.record_minutes(
        session, runtime=runtime, principal=principal, meeting_id=meeting_id, request=body
    )


@router.post(
    "/meetings/{meetingId}/actions",
    response_model=ActionOut,
    status_code=status.HTTP_201_CREATED,
    summary="Agree an action with owner and due date",
)
def post_action(
    meeting_id: MeetingId,
    body: ActionIn,
    session: DbSession,
    runtime: Runtime,
    principal: CurrentPrincipal,
) -> ActionOut:
    return meetings.add_action(
        session, runtime=runtime, principal=principal, meeting_id=meeting_id, request=body
    )


@router.post(
    "/meetings/{meetingId}/actions/{actionId}/completion",
    response_model=ActionOut,
    summary="Mark an action done (its owner or the organiser)",
)
def post_action_completion(
    meeting_id: MeetingId,
    action_id: Annotated[str, Path(alias="actionId", max_length=36, pattern=ID_PATTERN)],
    session: DbSession,
    runtime: Runtime,
    principal: CurrentPrincipal,
) -> ActionOut:
    return meetings.complete_action(
        session, runtime=runtime, principal=principal, meeting_id=meeting_id, action_id=action_id
    )
