"""Signing in to the pages through an OIDC issuer: the authorization-code flow with PKCE.

The gateway is the relying party. ``begin`` stores a pending attempt (hashed state, nonce,
S256 code verifier) and returns the issuer's authorization URL; ``complete`` takes the
state and code from the callback, uses the attempt once, exchanges the code at the token
endpoint and verifies the ID token (signature against the issuer's JWKS, issuer, audience,
expiry, nonce). The partner and role come from configured claims and are checked against
the covenants by the caller. The HTTP transport is injectable so tests use a fake issuer.

Each attempt is bound to the browser that began it (RFC 6749 §10.12, RFC 9700 §4.7.1;
review8d F3): ``begin`` returns a random value for a short-lived cookie in that browser and
stores only its hash with the attempt; ``complete`` refuses a callback that does not carry
it. Without it, whoever began a sign-in could hand the callback link (their state and code)
to someone else's browser, which would then be signed in as them (login CSRF).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt
from sqlalchemy import delete
from sqlalchemy.orm import Session

from gateway.auth.service import MAX_SUBJECT_CHARS, STRICT_JWT, check_header_keys
from gateway.config import Settings
from gateway.core.errors import ServiceUnavailable, Unauthenticated
from gateway.db import utcnow
from gateway.web.models import OidcLoginAttempt

ATTEMPT_LIFETIME = timedelta(minutes=10)
ID_TOKEN_ALGORITHMS = ["RS256", "ES256", "EdDSA", "PS256"]


class OidcSignInFailed(Unauthenticated):
    problem = "oidc-sign-in-failed"
    title = "Sign-in failed"


@dataclass(frozen=True, slots=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


@dataclass(frozen=True, slots=True)
class BegunSignIn:
    """Where to send the browser, and the value of the cookie that binds the attempt to it."""

    authorization_url: str
    browser_binding: str


def binding_cookie_name(settings: Settings) -> str:
    """The cookie that binds a sign-in attempt to its browser; ``__Host-`` as the session's
    (gateway/web/sessions.py ``cookie_name``): no sibling host can plant one."""
    return "__Host-ketenpoort-inloggen" if settings.web_cookie_secure else "ketenpoort-inloggen"


@dataclass(frozen=True, slots=True)
class OidcIdentity:
    subject: str
    partner_id: str | None
    role: str | None


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


class OidcClient:
    def __init__(self, settings: Settings, transport: httpx.BaseTransport | None = None) -> None:
        if not (settings.oidc_issuer and settings.oidc_client_id and settings.oidc_redirect_url):
            raise ValueError("OIDC needs oidc_issuer, oidc_client_id and oidc_redirect_url")
        self.issuer = settings.oidc_issuer.rstrip("/")
        self.client_id = settings.oidc_client_id
        self.client_secret = (
            settings.oidc_client_secret.get_secret_value() if settings.oidc_client_secret else None
        )
        self.redirect_url = settings.oidc_redirect_url
        self.scopes = settings.oidc_scopes
        self.partner_claim = settings.oidc_partner_claim
        self.role_claim = settings.oidc_role_claim
        self._http = httpx.Client(transport=transport, timeout=10.0)
        self._metadata: ProviderMetadata | None = None

    def close(self) -> None:
        self._http.close()

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = self._http.get(url)
            response.raise_for_status()
            data = response.json()
        except (httpx.HTTPError, json.JSONDecodeError) as exc:
            raise ServiceUnavailable(
                f"De inlogdienst is niet bereikbaar ({type(exc).__name__})."
            ) from None
        if not isinstance(data, dict):
            raise ServiceUnavailable("De inlogdienst gaf een onverwacht antwoord.")
        return data

    def metadata(self) -> ProviderMetadata:
        if self._metadata is None:
            data = self._get_json(f"{self.issuer}/.well-known/openid-configuration")
            if str(data.get("issuer", "")).rstrip("/") != self.issuer:
                # OIDC Discovery §4.3: the document must name the issuer we asked.
                raise ServiceUnavailable("De inlogdienst meldt een ander issuer-adres.")
            try:
                self._metadata = ProviderMetadata(
                    issuer=str(data["issuer"]),
                    authorization_endpoint=str(data["authorization_endpoint"]),
                    token_endpoint=str(data["token_endpoint"]),
                    jwks_uri=str(data["jwks_uri"]),
                )
            except KeyError:
                raise ServiceUnavailable("De inlogdienst mist verplichte gegevens.") from None
        return self._metadata

    def begin(self, session: Session) -> BegunSignIn:
        """Record a pending sign-in; return the issuer's authorization URL and the value of
        the cookie that binds the attempt to this browser (only its hash is stored)."""
        metadata = self.metadata()
        state = secrets.token_urlsafe(32)
        browser = secrets.token_urlsafe(32)
        nonce = secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(64)
        now = utcnow()
        session.execute(delete(OidcLoginAttempt).where(OidcLoginAttempt.expires_at <= now))
        session.add(
            OidcLoginAttempt(
                state_hash=_hash(state),
                browser_hash=_hash(browser),
                nonce=nonce,
                code_verifier=verifier,
                created_at=now,
                expires_at=now + ATTEMPT_LIFETIME,
            )
        )
        session.flush()
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": self.redirect_url,
                "scope": self.scopes,
                "state": state,
                "nonce": nonce,
                "code_challenge": _s256(verifier),
                "code_challenge_method": "S256",
            }
        )
        return BegunSignIn(f"{metadata.authorization_endpoint}?{query}", browser)

    def complete(
        self, session: Session, *, state: str, code: str, browser: str | None
    ) -> OidcIdentity:
        """Finish a sign-in: the attempt is used once, the ID token is verified.

        The attempt's deletion is committed at once, in a transaction of its own before the
        sign-in's work: a completion that fails rolls back what it did (review8d F2), and
        the state must stay used all the same."""
        attempt = session.get(OidcLoginAttempt, _hash(state)) if state else None
        if attempt is None:
            raise OidcSignInFailed("Deze inlogpoging is onbekend of al gebruikt. Probeer opnieuw.")
        session.delete(attempt)
        session.commit()
        if not browser or not hmac.compare_digest(
            _hash(browser).encode(), attempt.browser_hash.encode()
        ):
            # The callback came to a browser that did not begin this attempt (review8d F3).
            raise OidcSignInFailed(
                "Deze inlogpoging is in een andere browser begonnen. Log opnieuw in vanuit "
                "deze browser."
            )
        if attempt.expires_at <= utcnow():
            raise OidcSignInFailed("Deze inlogpoging is verlopen. Probeer opnieuw.")
        metadata = self.metadata()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_url,
            "client_id": self.client_id,
            "code_verifier": attempt.code_verifier,
        }
        try:
            if self.client_secret:
                # client_secret_basic (RFC 6749 §2.3.1); a public client relies on PKCE alone.
                response = self._http.post(
                    metadata.token_endpoint,
                    data=form,
                    auth=(self.client_id, self.client_secret),
                )
            else:
                response = self._http.post(metadata.token_endpoint, data=form)
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(
                f"De inlogdienst is niet bereikbaar ({type(exc).__name__})."
            ) from None
        if response.status_code != 200:
            raise OidcSignInFailed("De inlogdienst weigerde de inlogcode.")
        try:
            id_token = str(response.json()["id_token"])
        except (KeyError, ValueError):
            raise OidcSignInFailed("De inlogdienst gaf geen ID-token.") from None
        claims = self._verify_id_token(id_token, nonce=attempt.nonce)
        subject = claims["sub"]
        # The subject becomes the session's user: stored, logged and audited as the actor.
        # Bounded and printable as a bearer token's (review8d F7), so no column limit (a
        # 500 on PostgreSQL) or log line ever sees a hostile one.
        if (
            not isinstance(subject, str)
            or not 0 < len(subject) <= MAX_SUBJECT_CHARS
            or not subject.isprintable()
        ):
            raise OidcSignInFailed("Het ID-token is ongeldig.")
        partner = claims.get(self.partner_claim)
        role = claims.get(self.role_claim)
        return OidcIdentity(
            subject=subject,
            partner_id=str(partner) if partner else None,
            role=str(role) if role else None,
        )

    def _verify_id_token(self, id_token: str, *, nonce: str) -> dict[str, Any]:
        metadata = self.metadata()
        jwks = self._get_json(metadata.jwks_uri)
        # A key twice in the header or the claims is refused, as in a bearer token (review7a
        # F3): which of the two the identity provider meant is unknowable.
        try:
            check_header_keys(id_token)
        except Unauthenticated:
            raise OidcSignInFailed("Het ID-token is ongeldig.") from None
        try:
            header = jwt.get_unverified_header(id_token)
            key_set = jwt.PyJWKSet.from_dict(jwks)
            kid = header.get("kid")
            keys = [k for k in key_set.keys if kid is None or k.key_id == kid]
            if not keys:
                raise OidcSignInFailed("Het ID-token is ondertekend met een onbekende sleutel.")
            claims: dict[str, Any] = STRICT_JWT.decode(
                id_token,
                key=keys[0],
                algorithms=ID_TOKEN_ALGORITHMS,
                audience=self.client_id,
                issuer=metadata.issuer,
                options={"require": ["iss", "sub", "aud", "exp", "iat"]},
                leeway=30,
            )
        except jwt.PyJWTError:
            raise OidcSignInFailed("Het ID-token is ongeldig.") from None
        if claims.get("nonce") != nonce:
            raise OidcSignInFailed("Het ID-token hoort niet bij deze inlogpoging.")
        return claims
