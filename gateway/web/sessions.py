"""Server-side page sessions: a random id in a cookie, the principal and CSRF token in the
database.

A signed-in page session carries a :class:`~gateway.auth.principal.Principal` exactly like a
verified API token does, so every page calls the same service functions (and so the same
policy decision and audit) as the API. Signing in always issues a new session id (no session
fixation), and the CSRF token is a synchronizer token bound to the session row.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from gateway.auth.principal import Principal
from gateway.auth.service import PartnerDirectory
from gateway.config import Settings
from gateway.core.errors import Forbidden, Unauthenticated
from gateway.db import utcnow
from gateway.web.models import WebSession

#: A pre-sign-in session only carries the sign-in form's CSRF token; it lives briefly.
ANONYMOUS_LIFETIME = timedelta(minutes=30)
#: ``auth_method`` of a session opened by the demo sign-in (demo mode only).
DEMO_METHOD = "demo"


class CsrfRejected(Forbidden):
    problem = "csrf-rejected"
    title = "Form token missing or invalid"


class SignInRequired(Unauthenticated):
    problem = "sign-in-required"
    title = "Sign in required"


def cookie_name(settings: Settings) -> str:
    # The __Host- prefix makes the browser refuse the cookie unless it is Secure, has
    # Path=/ and no Domain: a sibling host cannot plant or overwrite it.
    return "__Host-ketenpoort-sessie" if settings.web_cookie_secure else "ketenpoort-sessie"


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class IssuedSession:
    """A session row and the cookie value that names it (only the hash is stored)."""

    cookie_value: str
    row: WebSession


def start_anonymous_session(session: Session) -> IssuedSession:
    now = utcnow()
    cookie_value = secrets.token_urlsafe(32)
    row = WebSession(
        id_hash=_hash(cookie_value),
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
        expires_at=now + ANONYMOUS_LIFETIME,
    )
    session.add(row)
    session.flush()
    return IssuedSession(cookie_value=cookie_value, row=row)


def load_session(
    session: Session, *, cookie_value: str | None, settings: Settings
) -> WebSession | None:
    """The live session named by the cookie, or None; expired and idle sessions end here."""
    if not cookie_value or len(cookie_value) > 200:
        return None
    row = session.get(WebSession, _hash(cookie_value))
    if row is None:
        return None
    now = utcnow()
    idle_limit = timedelta(minutes=settings.web_session_idle_minutes)
    if (
        row.expires_at <= now
        or (row.partner_id and now - row.last_seen_at > idle_limit)
        # A demo sign-in proves nothing (anyone picks any user): a gateway started without
        # demo mode on a database a demo ran on must not honour it (fail closed).
        or (row.auth_method == DEMO_METHOD and not settings.demo_mode)
    ):
        session.delete(row)
        session.flush()
        return None
    row.last_seen_at = now
    return row


def sign_in(
    session: Session,
    *,
    previous: WebSession | None,
    principal: Principal,
    method: str,
    settings: Settings,
) -> IssuedSession:
    """End ``previous`` and open a signed-in session for ``principal`` under a new id."""
    if previous is not None:
        session.delete(previous)
    now = utcnow()
    cookie_value = secrets.token_urlsafe(32)
    row = WebSession(
        id_hash=_hash(cookie_value),
        csrf_token=secrets.token_urlsafe(32),
        partner_id=principal.partner_id,
        partner_kind=principal.partner_kind,
        covenant_id=principal.covenant_id,
        role=principal.role,
        user=principal.user,
        auth_method=method,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=settings.web_session_max_hours),
    )
    session.add(row)
    session.flush()
    return IssuedSession(cookie_value=cookie_value, row=row)


def sign_out(session: Session, *, row: WebSession) -> None:
    session.delete(row)
    session.flush()


def principal_of(row: WebSession, partners: PartnerDirectory) -> Principal | None:
    """The principal a signed-in session carries; None before sign-in, and None when the
    covenants no longer give the session's partner that role (the caller ends the session:
    fail closed)."""
    if not (row.partner_id and row.covenant_id and row.role):
        return None
    if (
        partners.grant(row.partner_id, row.role) is None
        or partners.covenant(row.partner_id) != row.covenant_id
    ):
        return None
    return partners.principal(
        partner_id=row.partner_id,
        role=row.role,
        user=row.user,
        # Not a JWT id: names the session (by a prefix of its hash) for logs and audit.
        token_id=f"web-session:{row.id_hash[:16]}",
        expires_at=row.expires_at,
    )


def check_csrf(row: WebSession | None, submitted: str | None) -> None:
    """The form's token must equal the session's (constant-time); else the form is refused."""
    if row is None or not submitted:
        raise CsrfRejected("Het formulier is verlopen of ongeldig. Laad de pagina opnieuw.")
    if not hmac.compare_digest(row.csrf_token.encode(), submitted.encode()):
        raise CsrfRejected("Het formulier is verlopen of ongeldig. Laad de pagina opnieuw.")


def purge_expired(session: Session, *, now: datetime | None = None) -> int:
    """Delete ended sessions (called by the web domain's housekeeping)."""
    result = session.execute(delete(WebSession).where(WebSession.expires_at <= (now or utcnow())))
    return int(getattr(result, "rowcount", 0) or 0)


class OidcDeclined(Unauthenticated):
    problem = "oidc-declined"
    title = "Sign-in declined"
