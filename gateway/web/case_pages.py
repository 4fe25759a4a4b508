"""Pages for case workers: my cases, a case with its timeline, transitions, information
requests and their answers (the case meetings are in :mod:`gateway.web.meeting_pages`).

Each handler resolves the page session's principal and calls the cases or exchange service
function the API calls; nothing here reads a case table.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError

from gateway.cases import changes as case_changes
from gateway.cases import events as case_events
from gateway.cases import meetings as case_meetings
from gateway.cases import notices as case_notices
from gateway.cases import overview as case_overview
from gateway.cases import reports as case_reports
from gateway.cases import schemas as case_schemas
from gateway.cases import service as case_service
from gateway.cases import summary_readers
from gateway.cases import workflow as case_workflow
from gateway.cases.errors import ConsultedOnly
from gateway.core.errors import BadRequest, Forbidden, NotFound, Unprocessable
from gateway.exchange import enforcement
from gateway.exchange import schemas as exchange_schemas
from gateway.exchange.deps import exchange_services
from gateway.web.forms import request_options, transition_facts, yes_or_no
from gateway.web.logbook import LogLine, search_log
from gateway.web.pages import CaseWorkerPage, CsrfChecked, PageRoute, PageState, redirect
from gateway.web.texts import transition_description

router = APIRouter(route_class=PageRoute)

#: Ids in the pages' paths (a transition id may hold ``.``, ``_`` or ``:``). The parameter
#: names are camelCase like the API's (``/zaken/{caseId}``); the Python names stay snake_case.
PAGE_ID_PATTERN = r"^[A-Za-z0-9._:-]+$"
CaseId = Annotated[str, Path(alias="caseId", max_length=100, pattern=PAGE_ID_PATTERN)]
NoticeId = Annotated[str, Path(alias="noticeId", max_length=100, pattern=PAGE_ID_PATTERN)]
TransitionId = Annotated[str, Path(alias="transitionId", max_length=100, pattern=PAGE_ID_PATTERN)]
ReportId = Annotated[str, Path(alias="reportId", max_length=100, pattern=PAGE_ID_PATTERN)]
RequestId = Annotated[str, Path(alias="requestId", max_length=100, pattern=PAGE_ID_PATTERN)]


#: Deadlines per page of "Mijn zaken", and the newest cases without one shown below them.
DEADLINES_PER_PAGE = 50
NEWEST_CASES = 50


@router.get("/zaken")
def my_cases(
    page: CaseWorkerPage,
    na: Annotated[str | None, Query(max_length=400, pattern=r"^[a-p]+$")] = None,
) -> Response:
    """The partner's deadlines a page at a time (``na``: the cursor of the page before),
    grouped by case, overdue first; on the first page also its newest cases without one."""
    principal = page.require_principal()
    runtime = page.context.cases
    try:
        after = (
            case_overview.decode_cursor(
                page.db, na, covenant_id=principal.covenant_id, partner_id=principal.partner_id
            )
            if na
            else None
        )
    except BadRequest as error:
        raise NotFound("Deze pagina met termijnen bestaat niet.") from error
    shown = case_overview.deadlines_page(
        page.db,
        runtime=runtime,
        covenant_id=principal.covenant_id,
        partner_id=principal.partner_id,
        partner_kind=principal.partner_kind,
        now=datetime.now(UTC),
        after=after,
        limit=DEADLINES_PER_PAGE,
    )
    per_case: dict[str, list[Any]] = {}
    for deadline in shown.items:
        if deadline.case_id:
            per_case.setdefault(deadline.case_id, []).append(deadline)
    listed = {
        c.id: c
        for c in case_service.list_cases(
            page.db, runtime=runtime, principal=principal, case_ids=sorted(per_case)
        )
    }
    # In the order of each case's first deadline on the page: overdue first, then due date.
    rows = [
        {"case": listed[case_id], "deadlines": own, "overdue": any(d.overdue for d in own)}
        for case_id, own in per_case.items()
        if case_id in listed
    ]
    if after is None:
        newest = case_service.list_cases(
            page.db, runtime=runtime, principal=principal, newest=NEWEST_CASES
        )
        rows += [
            {"case": case, "deadlines": [], "overdue": False}
            for case in newest
            if case.id not in per_case
        ]
    other = [d for d in shown.items if not d.case_id]
    return page.render(
        "zaken.html",
        rows=rows,
        other_deadlines=other,
        next_page=f"/zaken?na={shown.next_cursor}" if shown.next_cursor else None,
        first_page=after is None,
    )


def _summary(page: PageState, case_id: str) -> Any:
    return case_service.case_summary(
        page.db,
        runtime=page.context.cases,
        case_id=case_id,
        principal=page.require_principal(),
    )


def _timeline(page: PageState, summary: Any, meetings: list[Any]) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = [
        {
            "at": summary.first_report_at,
            "kind": "melding",
            "text": f"Eerste melding; {summary.report_count} melding(en) in het dossier",
        },
    ]
    for item in summary.history:
        events.append(
            {
                "at": item.at,
                "kind": "overgang",
                "text": f"{item.transition}: {item.from_state} → {item.to_state}",
                "from_state": item.from_state,
                "to_state": item.to_state,
                "actor": item.actor_partner_id,
            }
        )
    for consent in summary.consents:
        events.append({"at": consent.recorded_at, "kind": "toestemming", "consent": consent})
    for meeting in meetings:
        at = datetime.combine(meeting.scheduled_on, datetime.min.time(), tzinfo=UTC)
        events.append({"at": at, "kind": "overleg", "meeting": meeting})
    for line in _case_log(page, summary.id):
        events.append({"at": line.when, "kind": "logboek", "line": line})
    events.sort(key=lambda e: e["at"])
    return events


def _case_log(page: PageState, case_id: str) -> list[LogLine]:
    """The case's requests, disclosures and denials in which the user's partner took part
    (as requester or recipient), from the audit log: ids and categories, never values."""
    lines = search_log(
        page,
        {"caseId": case_id, "partnerId": page.require_principal().partner_id, "limit": 200},
    )
    return [line for line in lines if line.activity in TIMELINE_ACTIVITIES]


TIMELINE_ACTIVITIES = frozenset(
    {"information-request", "information-answer", "disclosure", "denial", "case-fact-recorded"}
)


def _case_meetings(page: PageState, summary: Any) -> list[Any]:
    return case_meetings.case_meetings(
        page.db,
        runtime=page.context.cases,
        principal=page.require_principal(),
        case_id=summary.id,
    )


@router.get("/zaken/{caseId}")
def case_page(
    page: CaseWorkerPage,
    case_id: CaseId,
    melding: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    summary = _summary(page, case_id)
    meetings = _case_meetings(page, summary)
    covenant = page.covenant()
    principal = page.require_principal()
    # The case events the covenant names, with its names; the landlord may record them.
    event_names = {e.id: e.name for e in covenant.events}
    landlord = summary.ownership == "corporation" and summary.corporation_id == (
        principal.partner_id
    )
    consulted = _only_consulted(summary, principal.partner_id)
    # R §2.3: what this partner is told of (the hand-over, the corporation's measures), in
    # the words of the workflow and covenant files.
    notice_labels = {}
    for n in summary.notices:
        kind, _, subject_id = n.subject.partition(":")
        if kind == "transition":
            notice_labels[n.id] = transition_description(
                _definition(page, summary, subject_id), subject_id
            )
        elif kind == "intake":
            # R §2.3: a report about an owner-occupied or private dwelling came in elsewhere.
            notice_labels[n.id] = "Melding ontvangen: u bent het eerste aanspreekpunt"
        elif kind == "event":
            notice_labels[n.id] = f"Maatregel vastgelegd: {event_names.get(subject_id, subject_id)}"
    classification = page.context.cases.workflow(summary.covenant_id).classification
    return page.render(
        "zaak.html",
        case=summary,
        classification=classification,
        recorded={c.criterion: c for c in summary.criteria},
        event_names=event_names,
        notice_labels=notice_labels,
        recordable_events=covenant.events
        if landlord and not consulted and summary.closed_at is None and not summary.erased
        else [],
        # review10 F2: a member the lead only consulted answers the lead's requests and does
        # nothing of its own (no request, event or notice marked read): no form it cannot use.
        only_consulted=consulted,
        timeline=_timeline(page, summary, meetings),
        notice=_NOTICES.get(melding or ""),
        is_lead=summary.lead_partner_id == page.require_principal().partner_id,
        # U §5.4: the lead records whether pollution of the dwelling is part of the nuisance
        # (the API's POST .../criteria with dwellingPollution), while the case is open, in a
        # covenant where a clause depends on it; it reads the value only as the lead.
        pollution_form=summary.lead_partner_id == principal.partner_id
        and summary.closed_at is None
        and not summary.erased
        and "dwellingPollution" not in summary.withheld
        and summary_readers.covenant_reads_pollution(page.context.cases, summary.covenant_id),
        # A covenant without a clause that depends on a police investigation keeps no such
        # fact (Rijswijk): a row "Onbekend" would say nothing, or show a value recorded
        # before the police were refused to record it there.
        investigation_kept=summary_readers.covenant_reads_investigation(
            page.context.cases, summary.covenant_id
        ),
        descriptions={
            t.id: transition_description(_definition(page, summary, t.id), t.id)
            for t in summary.allowed_transitions
        },
    )


_NOTICES = {
    "overgang": "De zaak is naar de volgende fase gebracht.",
    "gebeurtenis": "De maatregel is vastgelegd.",
    "melder-toegevoegd": "De melder is aan het zaakteam toegevoegd.",
    "melder-niet-toegevoegd": "De melder is niet aan het zaakteam toegevoegd.",
    "bericht-gelezen": "Het bericht is als gelezen gemarkeerd.",
    "vervuiling": "Vastgelegd of vervuiling van de woning onderdeel is van de overlast.",
}


@router.post("/zaken/{caseId}/berichten/{noticeId}/gelezen")
async def mark_notice_read(page: CsrfChecked, case_id: CaseId, notice_id: NoticeId) -> Response:
    """The partner marks a notice read (R §2.3), as the API's acknowledgement does."""
    _require_case_worker(page)
    case_notices.mark_read(
        page.db,
        runtime=page.context.cases,
        case_id=case_id,
        notice_id=notice_id,
        principal=page.require_principal(),
    )
    return redirect(f"/zaken/{case_id}?melding=bericht-gelezen")


@router.post("/zaken/{caseId}/gebeurtenis")
async def record_case_event(request: Request, page: CsrfChecked, case_id: CaseId) -> Response:
    """The landlord records one of its further measures (U §5.2), as the API does."""
    _require_case_worker(page)
    form = await request.form()
    try:
        body = case_schemas.CaseEventIn.model_validate(
            {"event": str(form.get("gebeurtenis") or ""), "occurredOn": form.get("datum") or None}
        )
    except ValidationError:
        raise Unprocessable("Kies een maatregel uit de lijst en een geldige datum.") from None
    case_events.record_event(
        page.db,
        runtime=page.context.cases,
        case_id=case_id,
        principal=page.require_principal(),
        request=body,
    )
    return redirect(f"/zaken/{case_id}?melding=gebeurtenis")


@router.post("/zaken/{caseId}/vervuiling")
async def record_dwelling_pollution(
    request: Request, page: CsrfChecked, case_id: CaseId
) -> Response:
    """The case lead records whether pollution of the dwelling is part of the nuisance (U
    §5.4), through the service of the API's ``POST .../criteria`` with ``dwellingPollution``
    (which decides again who may: the lead, an open case, a covenant that reads it)."""
    _require_case_worker(page)
    form = await request.form()
    polluted = yes_or_no(
        form, "vervuiling", "Kies of vervuiling van de woning onderdeel is van de overlast."
    )
    case_changes.record_criteria(
        page.db,
        runtime=page.context.cases,
        case_id=case_id,
        principal=page.require_principal(),
        request=case_schemas.CriteriaRequest.model_validate({"dwellingPollution": polluted}),
    )
    return redirect(f"/zaken/{case_id}?melding=vervuiling")


def _allowed(summary: Any, transition_id: str) -> Any:
    allowed = {t.id: t for t in summary.allowed_transitions}
    if transition_id not in allowed:
        raise Unprocessable(
            "Deze overgang is nu niet mogelijk voor u. Kies er een uit de lijst op de zaakpagina."
        )
    return allowed[transition_id]


def _definition(page: PageState, summary: Any, transition_id: str) -> Any:
    runtime = page.context.cases
    return runtime.workflow(summary.covenant_id).transition(transition_id)


@router.get("/zaken/{caseId}/overgang/{transitionId}")
def transition_form(page: CaseWorkerPage, case_id: CaseId, transition_id: TransitionId) -> Response:
    summary = _summary(page, case_id)
    allowed = _allowed(summary, transition_id)
    definition = _definition(page, summary, transition_id)
    return page.render(
        "overgang.html",
        case=summary,
        transition=allowed,
        description=transition_description(definition, transition_id),
        requires=list(definition.requires),
        # R Bijlage E: the warning's and the intention's days are the resident's term.
        grace_period=any(g.name == "grace-period-given" for g in definition.guards),
    )


@router.post("/zaken/{caseId}/overgang/{transitionId}")
async def make_transition(
    request: Request, page: CsrfChecked, case_id: CaseId, transition_id: TransitionId
) -> Response:
    _require_case_worker(page)
    summary = _summary(page, case_id)
    _allowed(summary, transition_id)
    definition = _definition(page, summary, transition_id)
    form = await request.form()
    values = {"transition": transition_id, **transition_facts(form, list(definition.requires))}
    try:
        body = case_schemas.TransitionRequest.model_validate(values)
    except ValidationError:
        raise Unprocessable("Niet alle gegevens voor deze overgang zijn goed ingevuld.") from None
    case_workflow.apply_transition(
        page.db,
        runtime=page.context.cases,
        case_id=case_id,
        principal=page.require_principal(),
        request=body,
    )
    return redirect(f"/zaken/{case_id}?melding=overgang")


@router.post("/zaken/{caseId}/meldingen/{reportId}/besluit")
async def decide_on_reporter(
    request: Request, page: CsrfChecked, case_id: CaseId, report_id: ReportId
) -> Response:
    """The lead adds the partner that filed a report to the case team, or not (U §6); the
    cases domain decides again whether this principal may."""
    _require_case_worker(page)
    form = await request.form()
    add = yes_or_no(form, "toevoegen", "Kies of de melder wordt toegevoegd.")
    case_reports.decide_on_reporter(
        page.db,
        runtime=page.context.cases,
        case_id=case_id,
        report_id=report_id,
        principal=page.require_principal(),
        add_to_team=add,
    )
    notice = "melder-toegevoegd" if add else "melder-niet-toegevoegd"
    return redirect(f"/zaken/{case_id}?melding={notice}")


#: The page's words for the exchange's ``access.CONSULTED_ONLY``.
ONLY_CONSULTED_NL = (
    "De regiehouder heeft uw organisatie bij deze zaak alleen geraadpleegd (U §5.6): u "
    "beantwoordt zijn vragen, maar vraagt zelf niets op en legt niets vast tot de regiehouder "
    "u bij de zaak betrekt (U §6)."
)


def _only_consulted(summary: Any, partner_id: str) -> bool:
    """Whether ``partner_id`` is a member the lead only consulted (U §5.6 "desgevraagd"):
    the summary names the consulted members to the lead and to each of them itself only."""
    return partner_id != summary.lead_partner_id and partner_id in summary.consulted_partners


def _require_involved(summary: Any, page: PageState) -> None:
    """The page's form of the exchange's 403 ``consulted-only`` (access.require_involved)."""
    if _only_consulted(summary, page.require_principal().partner_id):
        raise ConsultedOnly(ONLY_CONSULTED_NL)


def _require_case_worker(page: PageState) -> None:
    if not page.require_principal().grant.casework:
        raise Forbidden("Deze pagina is voor medewerkers die aan zaken werken.")


@router.get("/zaken/{caseId}/informatieverzoek")
def information_request_form(page: CaseWorkerPage, case_id: CaseId) -> Response:
    summary = _summary(page, case_id)
    _require_involved(summary, page)
    options = request_options(page.covenant(), summary, page.require_principal())
    return page.render("verzoek.html", case=summary, options=options)


@router.post("/zaken/{caseId}/informatieverzoek")
async def make_information_request(
    request: Request, page: CsrfChecked, case_id: CaseId
) -> Response:
    _require_case_worker(page)
    summary = _summary(page, case_id)
    principal = page.require_principal()
    options = request_options(page.covenant(), summary, principal)
    form = await request.form()
    purpose = str(form.get("doel") or "")
    asked: dict[str, list[str]] = {}
    for raw in form.getlist("vraag"):
        partner_id, _, category = str(raw).partition("|")
        if (partner_id, category) not in options.pairs:
            raise Unprocessable("Kies alleen partners en gegevens uit het formulier.")
        asked.setdefault(partner_id, []).append(category)
    if purpose not in {p.id for p in options.purposes}:
        raise Unprocessable("Kies een doel uit de lijst.")
    if not asked:
        raise Unprocessable("Kies ten minste één gegeven bij een partner.")
    exchange = exchange_services(page.context)
    body = exchange_schemas.InformationRequestIn.model_validate(
        {
            "caseId": case_id,
            "purpose": purpose,
            "recipients": [{"partnerId": p, "categories": c} for p, c in asked.items()],
        }
    )
    created = enforcement.create_information_request(
        session=page.db, exchange=exchange, principal=principal, request=body, traceparent=None
    )
    return redirect(f"/zaken/{case_id}/informatieverzoeken/{created.id}")


@router.get("/zaken/{caseId}/informatieverzoeken/{requestId}")
def information_request_answer(
    page: CaseWorkerPage, case_id: CaseId, request_id: RequestId
) -> Response:
    summary = _summary(page, case_id)
    principal = page.require_principal()
    exchange = exchange_services(page.context)
    status = enforcement.information_request_status(
        session=page.db, exchange=exchange, principal=principal, request_id=request_id
    )
    if status.case_id != summary.id:
        raise NotFound("Dit verzoek hoort niet bij deze zaak.")
    # Reading the answers is a disclosure: decided again and audited, with a receipt.
    answers = enforcement.disclose_answers(
        session=page.db,
        exchange=exchange,
        principal=principal,
        request_id=request_id,
        traceparent=None,
    )
    shown = [answer_state(value) for value in answers.values]
    order = ("verstrekt", "geweigerd", "wacht", "geen-gegevens")
    counts = [(k, n) for k in order if (n := sum(1 for a in shown if a["kind"] == k))]
    return page.render(
        "antwoord.html",
        case=summary,
        status=status,
        answers=answers,
        shown=shown,
        counts=counts,
        ANSWER_LOOKS=ANSWER_LOOKS,
    )


#: How the answer page shows a category: each state its own label and colour (issue 23).
ANSWER_LOOKS = {
    "verstrekt": {"label": "Verstrekt", "kleur": "groen"},
    "geweigerd": {"label": "Geweigerd", "kleur": "rood"},
    "wacht": {"label": "Wacht op antwoord", "kleur": "blauw"},
    "geen-gegevens": {"label": "Geen gegevens", "kleur": "grijs"},
}

#: When the decision that refused a category was taken, by the item's state.
_REFUSED_WHEN = {
    "denied": "Geweigerd door het beleid toen het verzoek werd gedaan.",
    "withheld": "Geweigerd door het beleid toen de partner antwoordde; het antwoord is niet "
    "bewaard.",
}
#: A category the policy refuses at this read: its state is not shown (whether the partner
#: answered or holds nothing is part of what the reader may not see; review6b, P3).
_REFUSED_NOW = "Geweigerd door het beleid bij deze inzage."


def answer_state(value: Any) -> dict[str, Any]:
    """One category of the answers: disclosed, waiting for the partner (no refusal), the
    partner holds nothing, or refused by a decision (with when and why)."""
    if value.outcome == "disclosed":
        kind = "verstrekt"
    elif value.state == "asked":
        kind = "wacht"
    elif value.state == "not-available":
        kind = "geen-gegevens"
    else:
        kind = "geweigerd"
    moment = (
        "Vernietigd na afloop van de bewaartermijn."
        if value.erased
        else _REFUSED_WHEN.get(value.state or "", _REFUSED_NOW)
    )
    return {"kind": kind, "value": value, "moment": moment}
