"""The Dutch web pages, mounted at the root (outside /v1): sign-in, the start page and the
stylesheets here; case pages in :mod:`gateway.web.case_pages`, case meetings in
:mod:`gateway.web.meeting_pages`, privacy-officer pages in :mod:`gateway.web.privacy_pages`."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Query
from fastapi.responses import RedirectResponse, Response

from gateway.core.errors import NotFound
from gateway.web import case_pages, meeting_pages, privacy_pages, sessions
from gateway.web.oidc import OidcClient, binding_cookie_name
from gateway.web.pages import (
    CsrfChecked,
    Page,
    PageRoute,
    redirect,
)
from gateway.web.signin import demo_users, principal_for

router = APIRouter(route_class=PageRoute, include_in_schema=False)
router.include_router(case_pages.router)
router.include_router(meeting_pages.router)
router.include_router(privacy_pages.router)

STATIC_DIR = Path(__file__).parent / "static"
_STATIC = {"stijl.css": "text/css; charset=utf-8", "print.css": "text/css; charset=utf-8"}


@router.get("/")
def start_page(page: Page) -> Response:
    if page.principal is None:
        return redirect("/inloggen")
    if page.principal.grant.audits:
        return redirect("/privacy")
    return redirect("/zaken")


@router.get("/inloggen")
def sign_in_page(page: Page) -> Response:
    oidc = page.context.oidc
    users = demo_users(page.context) if page.context.settings.demo_mode else []
    covenants: dict[str, list[object]] = {}
    for user in users:
        covenants.setdefault(user.covenant_name, []).append(user)
    return page.render("inloggen.html", demo_covenants=covenants, oidc_enabled=oidc is not None)


@router.post("/inloggen/demo")
def sign_in_demo(page: CsrfChecked, gebruiker: Annotated[str, Form(max_length=300)]) -> Response:
    settings = page.context.settings
    if not settings.demo_mode:
        raise NotFound("Inloggen als demogebruiker kan alleen in de demomodus.")
    partner_id, _, role = gebruiker.partition("|")
    principal = principal_for(
        page.context,
        partner_id=partner_id,
        role=role,
        user=f"demo-{role}-{partner_id}",
        lifetime=timedelta(hours=settings.web_session_max_hours),
    )
    page.issued = sessions.sign_in(
        page.db,
        previous=page.row,
        principal=principal,
        method=sessions.DEMO_METHOD,
        settings=settings,
    )
    return redirect("/")


@router.get("/inloggen/oidc")
def sign_in_oidc(page: Page) -> Response:
    client = _oidc(page)
    # A plain navigation, not a form post: CSP form-action would block the redirect to the
    # issuer. The state parameter, bound to this browser by a cookie, protects the callback.
    begun = client.begin(page.db)
    page.oidc_binding = begun.browser_binding
    return RedirectResponse(begun.authorization_url, status_code=303)


@router.get("/inloggen/oidc/terug")
def sign_in_oidc_callback(
    page: Page,
    state: Annotated[str, Query(max_length=500)] = "",
    code: Annotated[str, Query(max_length=2000)] = "",
    error: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    client = _oidc(page)
    # Whatever happens next, the attempt is over: its binding cookie goes.
    page.clear_oidc_binding = True
    if error or not code:
        raise sessions.OidcDeclined("De inlogdienst heeft het inloggen afgebroken.")
    browser = page.request.cookies.get(binding_cookie_name(page.context.settings))
    identity = client.complete(page.db, state=state, code=code, browser=browser)
    if not identity.partner_id or not identity.role:
        raise sessions.OidcDeclined("De inlogdienst noemt geen partner en rol voor u.")
    settings = page.context.settings
    principal = principal_for(
        page.context,
        partner_id=identity.partner_id,
        role=identity.role,
        user=identity.subject,
        lifetime=timedelta(hours=settings.web_session_max_hours),
    )
    page.issued = sessions.sign_in(
        page.db, previous=page.row, principal=principal, method="oidc", settings=settings
    )
    return redirect("/")


def _oidc(page: Page) -> OidcClient:
    client = page.context.oidc
    if client is None:
        raise NotFound("Inloggen via OIDC is op deze gateway niet ingesteld.")
    return client


@router.post("/uitloggen")
def sign_out(page: CsrfChecked) -> Response:
    if page.row is not None:
        sessions.sign_out(page.db, row=page.row)
    page.row, page.principal = None, None
    page.clear_cookie = True
    return redirect("/inloggen")


@router.get("/statisch/{name}")
def static_file(name: str) -> Response:
    media_type = _STATIC.get(name)
    if media_type is None:
        raise NotFound("Dit bestand bestaat niet.")
    return Response(
        (STATIC_DIR / name).read_bytes(),
        media_type=media_type,
        headers={"Cache-Control": "public, max-age=3600"},
    )
