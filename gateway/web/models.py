"""ORM models of the web domain: server-side page sessions and pending OIDC sign-ins.

The cookie holds only a random session id; the table stores its SHA-256, so a leaked
database dump holds no usable cookie. A session without a partner is a pre-sign-in session:
it exists so the sign-in form carries a CSRF token too.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db import Base, UTCDateTime


class WebSession(Base):
    __tablename__ = "web_session"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    # The principal, exactly as a verified token carries it; all None before sign-in.
    partner_id: Mapped[str | None] = mapped_column(String(100))
    partner_kind: Mapped[str | None] = mapped_column(String(100))
    covenant_id: Mapped[str | None] = mapped_column(String(100))
    role: Mapped[str | None] = mapped_column(String(60))
    user: Mapped[str | None] = mapped_column(String(200))
    # demo | oidc | None (pre-sign-in)
    auth_method: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class OidcLoginAttempt(Base):
    """One authorization-code flow in flight: its state (hashed), the browser that began it
    (its binding cookie, hashed), nonce and PKCE verifier."""

    __tablename__ = "web_oidc_login"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    # SHA-256 of the value of the browser's binding cookie (review8d F3).
    browser_hash: Mapped[str] = mapped_column(String(64))
    nonce: Mapped[str] = mapped_column(String(64))
    code_verifier: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
