"""Pages for the case meetings ("casusoverleg") per district: the list, one meeting, and the
organiser's forms to plan a meeting, record attendance and minutes, agree actions with an
owner and a due date, and mark an action done.

Every handler calls the function in gateway/cases/meetings.py that the API calls, with the
page session's principal: who may organise, which cases make the agenda and what is sealed
are decided there, never here. Nothing here reads a meeting or case table.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError

from gateway.cases import meetings as case_meetings
from gateway.cases import service as case_service
from gateway.cases.schemas import ActionIn, AttendanceIn, MeetingIn, MinutesIn
from gateway.core.errors import BadRequest, Forbidden, NotFound, Unprocessable
from gateway.web.pages import CaseWorkerPage, CsrfChecked, PageRoute, PageState
from gateway.web.pages import redirect as redirect_to

router = APIRouter(route_class=PageRoute)

Body = TypeVar("Body", bound=BaseModel)

#: camelCase path parameters like the API's (``/overleggen/{meetingId}``).
MeetingId = Annotated[str, Path(alias="meetingId", max_length=36, pattern=r"^[A-Za-z0-9-]+$")]
ActionId = Annotated[str, Path(alias="actionId", max_length=36, pattern=r"^[A-Za-z0-9-]+$")]

# The form value for "present" and "absent"; an empty choice records nothing for the partner.
PRESENT, ABSENT = "aanwezig", "afwezig"

NOTICES = {
    "gepland": "Het overleg is gepland; de agenda bestaat uit de open zaken in de wijk.",
    "aanwezigheid": "De aanwezigheid is vastgelegd.",
    "notulen": "De notulen zijn versleuteld vastgelegd; het overleg staat als gehouden.",
    "actie": "De actie is vastgelegd.",
    "afgerond": "De actie staat als afgerond.",
}


#: Meetings per page of the list (``na``: the cursor of the page before).
MEETINGS_PER_PAGE = 50


def _may_organise(page: PageState) -> bool:
    """Whether to offer the organiser's forms. Only an offer: the service decides again."""
    principal = page.require_principal()
    runtime = page.context.cases
    organiser_kind = runtime.workflow(principal.covenant_id).meetings.organiser_kind
    return principal.partner_kind == organiser_kind and principal.grant.casework


def _require_case_worker(page: PageState) -> None:
    if not page.require_principal().grant.casework:
        raise Forbidden("Deze pagina is voor medewerkers die aan zaken werken.")


def _shown(meeting_id: str, notice: str) -> Response:
    """The meeting again, with the notice for what was just done."""
    return redirect_to(f"/overleggen/{meeting_id}?melding={notice}")


def _validated(model: type[Body], values: dict[str, Any], problem: str) -> Body:
    try:
        return model.model_validate(values)
    except ValidationError:
        raise Unprocessable(problem) from None


def _text(form: Any, name: str) -> str:
    return str(form.get(name) or "").strip()


def _open_districts(page: PageState) -> list[str]:
    """The districts of the partner's open cases, offered when planning (through the cases
    service, so only cases the partner may see; read district by district, not every open
    case of the partner's)."""
    return case_service.open_districts(
        page.db, runtime=page.context.cases, principal=page.require_principal()
    )


@router.get("/overleggen")
def meetings_page(
    page: CaseWorkerPage,
    # As the API's ``district`` (review8c F1: NUL failed PostgreSQL, a 500); blank: all.
    wijk: Annotated[str | None, Query(max_length=100, pattern=r"^[^\x00-\x1f\x7f]*$")] = None,
    melding: Annotated[str | None, Query(max_length=40)] = None,
    na: Annotated[str | None, Query(max_length=600, pattern=r"^[a-p]+$")] = None,
) -> Response:
    """The covenant's meetings a page at a time, as ``GET /v1/meetings``: from today on,
    soonest first, then the earlier ones, latest first ("Volgende overleggen" leads there)."""
    principal = page.require_principal()
    district = wijk or None
    try:
        after = (
            case_meetings.decode_meetings_cursor(
                page.db, na, principal=principal, district=district
            )
            if na
            else None
        )
    except BadRequest as error:
        raise NotFound("Deze pagina met overleggen bestaat niet.") from error
    shown = case_meetings.meetings_page(
        page.db,
        runtime=page.context.cases,
        principal=principal,
        district=district,
        after=after,
        limit=MEETINGS_PER_PAGE,
    )
    by_district: dict[str, list[Any]] = {}
    for meeting in shown.items:
        by_district.setdefault(meeting.district, []).append(meeting)
    organiser = _may_organise(page)
    filters = [("wijk", district)] if district else []
    first = "/overleggen" + (f"?{urlencode(filters)}" if filters else "")
    return page.render(
        "overleggen.html",
        by_district=by_district,
        wijk=wijk or "",
        may_organise=organiser,
        districts=_open_districts(page) if organiser else [],
        today=page.context.cases.today(principal.covenant_id).isoformat(),
        notice=NOTICES.get(melding or ""),
        next_page=(
            f"/overleggen?{urlencode([*filters, ('na', shown.next_cursor)])}"
            if shown.next_cursor
            else None
        ),
        first_page=None if after is None else first,
    )


@router.post("/overleggen")
async def plan_meeting(request: Request, page: CsrfChecked) -> Response:
    _require_case_worker(page)
    form = await request.form()
    body = _validated(
        MeetingIn,
        {"district": _text(form, "wijk"), "scheduledOn": _text(form, "datum")},
        "Vul een wijk en een geldige datum in.",
    )
    meeting = case_meetings.plan_meeting(
        page.db,
        runtime=page.context.cases,
        principal=page.require_principal(),
        request=body,
    )
    return redirect_to(f"/overleggen/{meeting.id}?melding=gepland")


@router.get("/overleggen/{meetingId}")
def meeting_page(
    page: CaseWorkerPage,
    meeting_id: MeetingId,
    melding: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    principal = page.require_principal()
    meeting = case_meetings.get_meeting(
        page.db,
        runtime=page.context.cases,
        principal=principal,
        meeting_id=meeting_id,
    )
    organiser = _may_organise(page) and meeting.organiser_partner_id == principal.partner_id
    return page.render(
        "overleg.html",
        meeting=meeting,
        may_organise=organiser,
        # The owner of an action or the organiser may mark it done (the service checks).
        may_complete={
            a.id
            for a in meeting.actions
            if a.done_at is None and (organiser or a.owner_partner_id == principal.partner_id)
        },
        present=PRESENT,
        absent=ABSENT,
        notice=NOTICES.get(melding or ""),
    )


@router.post("/overleggen/{meetingId}/aanwezigheid")
async def record_attendance(request: Request, page: CsrfChecked, meeting_id: MeetingId) -> Response:
    _require_case_worker(page)
    form = await request.form()
    attendance: dict[str, bool] = {}
    for partner_id in page.partner_names():
        choice = _text(form, f"aanwezig-{partner_id}")
        if choice in (PRESENT, ABSENT):
            attendance[partner_id] = choice == PRESENT
        elif choice:
            raise Unprocessable("Kies per partner aanwezig, afwezig of niets.")
    if not attendance:
        raise Unprocessable("Kies voor ten minste één partner aanwezig of afwezig.")
    body = _validated(AttendanceIn, {"attendance": attendance}, "De aanwezigheid klopt niet.")
    case_meetings.record_attendance(
        page.db,
        runtime=page.context.cases,
        principal=page.require_principal(),
        meeting_id=meeting_id,
        request=body,
    )
    return _shown(meeting_id, "aanwezigheid")


@router.post("/overleggen/{meetingId}/notulen")
async def record_minutes(request: Request, page: CsrfChecked, meeting_id: MeetingId) -> Response:
    _require_case_worker(page)
    form = await request.form()
    body = _validated(
        MinutesIn,
        {"text": _text(form, "notulen")},
        "Vul de notulen in (hoogstens 20.000 tekens).",
    )
    case_meetings.record_minutes(
        page.db,
        runtime=page.context.cases,
        principal=page.require_principal(),
        meeting_id=meeting_id,
        request=body,
    )
    return _shown(meeting_id, "notulen")


@router.post("/overleggen/{meetingId}/acties")
async def add_action(request: Request, page: CsrfChecked, meeting_id: MeetingId) -> Response:
    _require_case_worker(page)
    form = await request.form()
    body = _validated(
        ActionIn,
        {
            "caseId": _text(form, "zaak") or None,
            "ownerPartnerId": _text(form, "eigenaar"),
            "description": _text(form, "omschrijving"),
            "dueOn": _text(form, "uiterlijk"),
        },
        "Vul een eigenaar, een omschrijving en een geldige datum in.",
    )
    case_meetings.add_action(
        page.db,
        runtime=page.context.cases,
        principal=page.require_principal(),
        meeting_id=meeting_id,
        request=body,
    )
    return _shown(meeting_id, "actie")


@router.post("/overleggen/{meetingId}/acties/{actionId}/afgerond")
async def complete_action(
    page: CsrfChecked, meeting_id: MeetingId, action_id: ActionId
) -> Response:
    _require_case_worker(page)
    case_meetings.complete_action(
        page.db,
        runtime=page.context.cases,
        principal=page.require_principal(),
        meeting_id=meeting_id,
        action_id=action_id,
    )
    return _shown(meeting_id, "afgerond")
