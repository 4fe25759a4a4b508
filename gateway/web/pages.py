"""The page machinery: the route class that renders errors as Dutch pages and sets the
security headers, the per-request page state (session, principal, CSRF), and rendering.

Pages never read case tables: they call the same service functions the API calls, with the
principal the page session carries, so the policy decision and the audit record are the
same whichever door a request came through.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context as TemplateContext
from sqlalchemy import inspect
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from gateway.auth.deps import Context, DbSession
from gateway.auth.principal import Principal
from gateway.context import GatewayContext
from gateway.core.dutch_date import DUTCH_TIME, dutch_date
from gateway.core.errors import DatabaseUnavailable, GatewayError
from gateway.core.json_body import StrictJsonRoute
from gateway.db import is_outage
from gateway.policy.covenant import Covenant
from gateway.web import forms, sessions, texts
from gateway.web.models import WebSession
from gateway.web.oidc import ATTEMPT_LIFETIME, binding_cookie_name
from gateway.web.texts import error_title

log = logging.getLogger("ketenpoort.web")

TEMPLATE_DIR = Path(__file__).parent / "templates"

# No script runs on these pages at all; styles and images only from this origin (SVG charts
# are inline markup with presentation attributes, not style attributes); forms only post
# here; no framing.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'none'; style-src 'self'; img-src 'self'; "
    "font-src 'self'; connect-src 'none'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


def _format_datetime(value: datetime | None) -> str:
    if value is None:
        return "—"
    return value.astimezone(DUTCH_TIME).strftime("%d-%m-%Y %H:%M")


def _format_date(value: date | datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = dutch_date(value)
    return value.strftime("%d-%m-%Y")


def _format_deadline(deadline: Any) -> str:
    """A deadline as every page shows it: its last day (``dueOn``, the date the API, the
    command line, the demo and the adapters show), or for a period in hours its moment."""
    due_on = getattr(deadline, "due_on", None)
    if due_on is not None:
        return f"uiterlijk {_format_date(due_on)}"
    return f"uiterlijk {_format_datetime(getattr(deadline, 'due_at', None))}"


@pass_context
def _reason(context: Any, reason: str) -> str:
    """A reason code in words; a required case event by the page's covenant's name for it."""
    covenant = context.get("covenant")
    names = {e.id: e.name for e in getattr(covenant, "events", None) or []}
    return texts.reason_label(reason, names)


@pass_context
def role_name(values: TemplateContext, role: str | None) -> str:
    """A role's name from the covenant of the page (``covenant`` in every page's values):
    the covenant file is the one source of role names."""
    if not role:
        return "—"
    covenant = values.get("covenant")
    return covenant.role_name(role) if isinstance(covenant, Covenant) else role


@pass_context
def _actor(values: TemplateContext, actor: str, partner_names: dict[str, str]) -> str:
    return texts.actor_label(actor, partner_names, lambda role: role_name(values, role))


def _make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATE_DIR))
    env = templates.env
    env.autoescape = True
    env.filters["datumtijd"] = _format_datetime
    env.filters["datum"] = _format_date
    env.filters["termijndatum"] = _format_deadline
    env.filters["rol"] = role_name
    env.filters["fase"] = texts.phase_label
    env.filters["uitkomst"] = texts.outcome_label
    env.filters["uitkomstkleur"] = texts.outcome_colour
    env.filters["reden"] = _reason
    env.filters["status"] = texts.item_state_label
    env.filters["toestemming"] = texts.consent_label
    env.filters["oordeel"] = lambda v: texts.JUDGEMENTS.get(v or "", v or "—")
    env.filters["activiteit"] = texts.activity_label
    env.globals["termijn"] = texts.deadline_label
    env.globals["wie"] = _actor
    env.globals["doelnaam"] = texts.purpose_label
    env.filters["feit"] = lambda v: texts.FACTS.get(v, v)
    return templates


TEMPLATES = _make_templates()


@dataclass
class PageState:
    """Everything a page handler needs about the request, resolved once."""

    request: Request
    context: GatewayContext
    db: Session
    row: WebSession | None
    principal: Principal | None
    # A session issued during this request; its cookie is set on the response.
    issued: sessions.IssuedSession | None = None
    clear_cookie: bool = False
    # An OIDC sign-in begun in this request: the value of its browser-binding cookie; and
    # whether the callback ends it (gateway/web/oidc.py, review8d F3).
    oidc_binding: str | None = None
    clear_oidc_binding: bool = False
    flash: list[str] = field(default_factory=list)

    @property
    def csrf_token(self) -> str:
        """The session's form token; a pre-sign-in session is opened when there is none."""
        if self.row is None:
            self.issued = sessions.start_anonymous_session(self.db)
            self.row = self.issued.row
        return self.row.csrf_token

    def require_principal(self) -> Principal:
        if self.principal is None:
            raise sessions.SignInRequired("Log in om deze pagina te zien.")
        return self.principal

    def render(self, template: str, status_code: int = 200, **values: Any) -> HTMLResponse:
        values.setdefault("principal", self.principal)
        values.setdefault("covenant", self.covenant())
        values.setdefault("partner_names", self.partner_names())
        values["csrf_token"] = self.csrf_token
        values["demo_mode"] = self.context.settings.demo_mode
        values["path"] = self.request.url.path
        response = TEMPLATES.TemplateResponse(
            self.request, template, values, status_code=status_code
        )
        assert isinstance(response, HTMLResponse)
        return response

    def partner_names(self) -> dict[str, str]:
        covenant = self.covenant()
        return {p.id: p.name for p in covenant.partners} if covenant is not None else {}

    def covenant(self) -> Any:
        if self.principal is None:
            return None
        return self.context.covenants.get(self.principal.covenant_id)


async def page_state(request: Request, context: Context, db: DbSession) -> PageState:
    settings = context.settings
    row = sessions.load_session(
        db, cookie_value=request.cookies.get(sessions.cookie_name(settings)), settings=settings
    )
    principal = sessions.principal_of(row, context.partners) if row is not None else None
    if row is not None and row.partner_id and principal is None:
        # The covenant no longer knows this partner or role: the session ends (fail closed).
        sessions.sign_out(db, row=row)
        row = None
    state = PageState(request=request, context=context, db=db, row=row, principal=principal)
    request.state.page = state
    return state


Page = Annotated[PageState, Depends(page_state)]


async def _signed_in(page: Page) -> PageState:
    page.require_principal()
    return page


async def _case_worker(page: Page) -> PageState:
    principal = page.require_principal()
    if not principal.grant.casework:
        raise _forbidden("Deze pagina is voor medewerkers die aan zaken werken.")
    return page


async def _privacy_officer(page: Page) -> PageState:
    principal = page.require_principal()
    if not principal.grant.audits:
        raise _forbidden("Deze pagina is alleen voor privacyfunctionarissen.")
    return page


def _forbidden(detail: str) -> GatewayError:
    from gateway.core.errors import Forbidden

    return Forbidden(detail)


SignedInPage = Annotated[PageState, Depends(_signed_in)]
CaseWorkerPage = Annotated[PageState, Depends(_case_worker)]
PrivacyPage = Annotated[PageState, Depends(_privacy_officer)]


async def _csrf_checked(request: Request, page: Page) -> PageState:
    """Every POST form carries the session's synchronizer token."""
    form = await request.form()
    submitted = form.get("csrf_token")
    sessions.check_csrf(page.row, submitted if isinstance(submitted, str) else None)
    # Each single-valued field once (review7a F4): every POSTed page form passes here.
    forms.refuse_repeated_fields([name for name, _ in form.multi_items()])
    return page


CsrfChecked = Annotated[PageState, Depends(_csrf_checked)]


def redirect(url: str) -> RedirectResponse:
    # 303: after a POST the browser follows with a GET (no re-posting on reload).
    return RedirectResponse(url, status_code=303)


def _apply_oidc_binding(request: Request, response: Response, *, committed: bool) -> None:
    """The cookie binding an OIDC attempt to this browser: set when the attempt was stored
    (SameSite=Lax: the issuer's redirect back is a cross-site navigation, on which a Strict
    cookie is not sent), removed by the callback whatever its outcome."""
    page: PageState | None = getattr(request.state, "page", None)
    if page is None:
        return
    settings = page.context.settings
    name = binding_cookie_name(settings)
    if page.oidc_binding is not None and committed:
        response.set_cookie(
            name,
            page.oidc_binding,
            max_age=int(ATTEMPT_LIFETIME.total_seconds()),
            httponly=True,
            secure=settings.web_cookie_secure,
            samesite="lax",
            path="/",
        )
    elif page.clear_oidc_binding:
        response.delete_cookie(
            name, path="/", secure=settings.web_cookie_secure, httponly=True, samesite="lax"
        )


def _apply_session_cookie(request: Request, response: Response, *, committed: bool) -> None:
    page: PageState | None = getattr(request.state, "page", None)
    if page is None or not committed:
        # After an error the transaction was rolled back: a session issued in it is gone.
        return
    settings = page.context.settings
    name = sessions.cookie_name(settings)
    if page.issued is not None:
        response.set_cookie(
            name,
            page.issued.cookie_value,
            httponly=True,
            secure=settings.web_cookie_secure,
            samesite="strict",
            path="/",
        )
    elif page.clear_cookie:
        response.delete_cookie(
            name, path="/", secure=settings.web_cookie_secure, httponly=True, samesite="strict"
        )


def _raised_by_a_page(exc: BaseException) -> bool:
    """Whether ``exc`` was raised in the pages' own code, whose details are Dutch; the other
    domains speak the API's English."""
    tb = exc.__traceback__
    if tb is None:  # made, not raised, by the route class below
        return True
    module = ""
    while tb is not None:
        module = str(tb.tb_frame.f_globals.get("__name__", ""))
        tb = tb.tb_next
    return module.startswith("gateway.web.")


def page_detail(exc: GatewayError) -> str:
    """What an error page says: the pages' own Dutch detail, or for an error of another
    domain (an English detail, written for the API) a Dutch sentence for its status; a
    refused workflow step says which condition of the covenant does not hold yet."""
    if _raised_by_a_page(exc):
        return exc.detail
    guard = exc.extra.get("guard")
    if exc.problem == "guard-failed" and isinstance(guard, str):
        return texts.guard_detail(guard, str(exc.extra.get("source", "")))
    return texts.error_detail(exc.status)


def _error_page(request: Request, exc: GatewayError, *, csrf_token: str = "") -> Response:
    page: PageState | None = getattr(request.state, "page", None)
    values = {
        "title": error_title(exc.status),
        "detail": page_detail(exc),
        "status": exc.status,
        "principal": page.principal if page else None,
        "covenant": page.covenant() if page else None,
        "partner_names": page.partner_names() if page else {},
        "demo_mode": False,
        "csrf_token": csrf_token,
        "path": request.url.path,
    }
    return TEMPLATES.TemplateResponse(request, "fout.html", values, status_code=exc.status)


def _loaded_csrf_token(request: Request) -> str:
    """The session's form token as loaded, without touching the database (which may be
    down, and whose rows a rollback expires)."""
    page: PageState | None = getattr(request.state, "page", None)
    if page is None or page.row is None:
        return ""
    token = inspect(page.row).dict.get("csrf_token")
    return token if isinstance(token, str) else ""


async def _commit(request: Request) -> None:
    """Commit the request's unit of work here, inside the route: an error of the commit
    itself is then answered by a page too."""
    session: Session | None = getattr(request.state, "db_session", None)
    if session is not None:
        await run_in_threadpool(session.commit)


async def _roll_back(request: Request) -> str:
    """Roll back everything the request wrote (review8d F2), as the API's unit of work does
    on any error; returns the session's form token for the error page.

    FastAPI ends the dependencies' scopes after the route handler returns, and a page route
    answers its errors with a page, not an exception: the session dependency would see a
    request that went well and commit (a 503 "audit log unavailable" page with the change
    stored). So the page route rolls back itself, before it renders the error page."""
    token = _loaded_csrf_token(request)
    session: Session | None = getattr(request.state, "db_session", None)
    if session is not None:
        try:
            await run_in_threadpool(session.rollback)
        except Exception as exc:  # a dead connection: the pool discards it
            log.warning("page rollback failed: %s", type(exc).__name__)
    return token


class PageRoute(StrictJsonRoute):
    """Routes of the web pages: Dutch HTML errors instead of problem+json, a redirect to
    the sign-in page when there is no session, and the pages' security headers.

    The route ends the request's unit of work itself: committed when the page was made,
    rolled back when it fails, whatever the error page then says (fail closed)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            committed = False
            try:
                try:
                    response = await handle(request)
                    committed = True
                except sessions.SignInRequired:
                    # Not a failure of the work: what the request did to its session (an
                    # expired or no longer granted session ended) stands.
                    response = redirect("/inloggen")
                await _commit(request)
            except GatewayError as exc:
                committed = False
                response = _error_page(request, exc, csrf_token=await _roll_back(request))
            except RequestValidationError:
                committed = False
                response = _error_page(
                    request,
                    _unprocessable(
                        "Niet alle velden zijn (goed) ingevuld. Ga terug en "
                        "controleer het formulier."
                    ),
                    csrf_token=await _roll_back(request),
                )
            except StarletteHTTPException as exc:  # FastAPI's own (a body it cannot parse)
                committed = False
                token = await _roll_back(request)
                response = _error_page(request, _http_error(exc.status_code), csrf_token=token)
            except Exception as exc:  # a database fault or a bug (review8c F4)
                committed = False
                token = await _roll_back(request)
                response = _error_page(request, _unexpected(exc), csrf_token=token)
            except BaseException:
                await _roll_back(request)
                raise
            _apply_session_cookie(request, response, committed=committed)
            _apply_oidc_binding(request, response, committed=committed)
            response.headers.update(PAGE_HEADERS)
            return response

        return page_handler


def _http_error(status: int) -> GatewayError:
    error = GatewayError(texts.error_detail(status))
    error.status = status
    return error


def _unexpected(exc: Exception) -> GatewayError:
    """The page for an error no page expects: a database that is down (503) or anything
    else (500), in Dutch, with the pages' headers, as the API answers them with a problem
    (gateway/core/problem.py). Only the error's type is logged: its message may quote data."""
    if is_outage(exc):
        log.warning("database unavailable on a page: %s", type(exc).__name__)
        return DatabaseUnavailable(
            "De database van de gateway is tijdelijk niet bereikbaar. Er is niets vastgelegd "
            "of verstrekt. Probeer het later opnieuw."
        )
    log.error("unhandled error on a page: %s", type(exc).__name__)
    return GatewayError(
        "Er ging iets mis in de gateway. Er is niets vastgelegd of verstrekt. Probeer het "
        "later opnieuw; blijft het misgaan, meld het dan bij de beheerder."
    )


def _unprocessable(detail: str) -> GatewayError:
    from gateway.core.errors import Unprocessable

    return Unprocessable(detail)
