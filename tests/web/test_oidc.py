"""Signing in through OIDC (authorization code + PKCE) against a fake issuer."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient

from gateway.config import Settings
from gateway.context import GatewayContext
from gateway.web.oidc import OidcClient

ISSUER = "https://idp.example.nl"
CLIENT_ID = "ketenpoort-web"
REDIRECT = "https://testserver/inloggen/oidc/terug"


@dataclass
class FakeIssuer:
    """Discovery, JWKS and a token endpoint that checks the PKCE verifier."""

    claims: dict[str, Any]
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    nonce_override: str | None = None
    #: A claim the ID token names a second time, after its claims (``(name, value)``).
    claim_twice: tuple[str, str] | None = None

    def authorize(self, url: str) -> tuple[str, str]:
        query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        assert query["code_challenge_method"] == "S256"
        assert query["client_id"] == CLIENT_ID
        assert query["redirect_uri"] == REDIRECT
        code = f"code-{len(self.codes)}"
        self.codes[code] = query
        return code, query["state"]

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/.well-known/openid-configuration":
            return httpx.Response(
                200,
                json={
                    "issuer": ISSUER,
                    "authorization_endpoint": f"{ISSUER}/authorize",
                    "token_endpoint": f"{ISSUER}/token",
                    "jwks_uri": f"{ISSUER}/jwks",
                },
            )
        if request.url.path == "/jwks":
            jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.key.public_key()))
            return httpx.Response(200, json={"keys": [{**jwk, "kid": "k1", "alg": "ES256"}]})
        if request.url.path == "/token":
            form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
            asked = self.codes.pop(form.get("code", ""), None)
            if asked is None:
                return httpx.Response(400, json={"error": "invalid_grant"})
            digest = hashlib.sha256(form["code_verifier"].encode()).digest()
            challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            if challenge != asked["code_challenge"]:
                return httpx.Response(400, json={"error": "invalid_grant"})
            now = int(time.time())
            claims = {
                "iss": ISSUER,
                "aud": CLIENT_ID,
                "iat": now,
                "exp": now + 300,
                "nonce": self.nonce_override or asked["nonce"],
                **self.claims,
            }
            payload = json.dumps(claims)
            if self.claim_twice is not None:
                name, value = self.claim_twice
                payload = payload[:-1] + f", {json.dumps(name)}: {json.dumps(value)}}}"
            token = jwt.api_jws.encode(
                payload.encode(), self.key, algorithm="ES256", headers={"kid": "k1"}
            )
            return httpx.Response(200, json={"id_token": token, "token_type": "Bearer"})
        return httpx.Response(404)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "demo_mode": False,
            "audit_log_origin": "ketenpoort.test/audit-log",
            "audience": "ketenpoort.test",
            "oidc_issuer": ISSUER,
            "oidc_client_id": CLIENT_ID,
            "oidc_redirect_url": REDIRECT,
        }
    )


@pytest.fixture
def issuer(context: GatewayContext) -> Iterator[FakeIssuer]:
    fake = FakeIssuer(
        claims={
            "sub": "user-42",
            "ketenpoort_partner": "u-centraal",
            "ketenpoort_role": "privacy-officer",
        }
    )
    client = OidcClient(context.settings, transport=httpx.MockTransport(fake.handle))
    context.oidc = client
    yield fake
    context.oidc = None
    client.close()


def start(browser: TestClient, issuer: FakeIssuer) -> tuple[str, str]:
    response = browser.get("/inloggen/oidc", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith(f"{ISSUER}/authorize?")
    return issuer.authorize(response.headers["location"])


def test_sign_in_page_offers_the_organisation_login_and_no_demo_users(
    browser: TestClient, issuer: FakeIssuer
) -> None:
    html = browser.get("/inloggen").text
    assert 'href="/inloggen/oidc"' in html
    assert "Demogebruikers" not in html


def test_code_flow_with_pkce_signs_in_the_partner_and_role_of_the_id_token(
    browser: TestClient, issuer: FakeIssuer
) -> None:
    code, state = start(browser, issuer)
    response = browser.get(f"/inloggen/oidc/terug?state={state}&code={code}")
    assert response.url.path == "/privacy"
    assert "Privacyoverzicht" in response.text


def test_a_state_is_used_once(browser: TestClient, issuer: FakeIssuer) -> None:
    code, state = start(browser, issuer)
    browser.get(f"/inloggen/oidc/terug?state={state}&code={code}")
    replay = browser.get(f"/inloggen/oidc/terug?state={state}&code={code}")
    assert replay.status_code == 401


def test_an_id_token_for_another_attempt_is_refused(
    browser: TestClient, issuer: FakeIssuer
) -> None:
    issuer.nonce_override = "someone-elses-nonce"
    code, state = start(browser, issuer)
    response = browser.get(f"/inloggen/oidc/terug?state={state}&code={code}")
    assert response.status_code == 401
    assert browser.get("/privacy", follow_redirects=False).status_code == 303


def test_a_role_the_covenant_does_not_give_the_partner_is_refused(
    browser: TestClient, issuer: FakeIssuer
) -> None:
    issuer.claims["ketenpoort_role"] = "wijkagent"
    code, state = start(browser, issuer)
    response = browser.get(f"/inloggen/oidc/terug?state={state}&code={code}")
    assert response.status_code == 403


def test_an_id_token_naming_a_claim_twice_is_refused(
    browser: TestClient, issuer: FakeIssuer
) -> None:
    """The role claim twice (privacy-officer, then casemanager): Python's parser would keep
    the last and sign in a case manager; the ID token is refused as a bearer token is
    (review7a F3). Control: the same issuer's token with each claim once signs in."""
    issuer.claim_twice = ("ketenpoort_role", "casemanager")
    code, state = start(browser, issuer)
    refused = browser.get(f"/inloggen/oidc/terug?state={state}&code={code}")
    assert refused.status_code == 401
    assert "Het ID-token is ongeldig." in refused.text
    assert browser.get("/privacy", follow_redirects=False).status_code == 303
    issuer.claim_twice = None
    code, state = start(browser, issuer)
    signed_in = browser.get(f"/inloggen/oidc/terug?state={state}&code={code}")
    assert signed_in.url.path == "/privacy"


def test_a_state_stays_used_after_a_failed_completion(
    browser: TestClient, issuer: FakeIssuer
) -> None:
    """A failed completion rolls back what it wrote (review8d F2), but not the use of its
    state: the attempt's deletion is committed before the sign-in's work. Control: a fresh
    attempt signs in."""
    code, state = start(browser, issuer)
    refused = browser.get(f"/inloggen/oidc/terug?state={state}&code=not-{code}")
    assert refused.status_code == 401
    assert "De inlogdienst weigerde de inlogcode." in refused.text
    replay = browser.get(f"/inloggen/oidc/terug?state={state}&code={code}")
    assert replay.status_code == 401
    assert "onbekend of al gebruikt" in replay.text
    code, state = start(browser, issuer)
    signed_in = browser.get(f"/inloggen/oidc/terug?state={state}&code={code}")
    assert signed_in.url.path == "/privacy"


@pytest.mark.parametrize("victim_began_one", [False, True], ids=["fresh", "own-attempt"])
def test_a_callback_opened_in_another_browser_is_refused(
    browser: TestClient, issuer: FakeIssuer, app: Any, victim_began_one: bool
) -> None:
    """Login CSRF (review8d F3): the attacker begins a sign-in, authenticates at the issuer
    as themself and hands the callback link to the victim; the victim's browser, fresh or
    with a sign-in attempt of its own, must not be signed in as the attacker. Control: the
    browser that began it signs in (test_code_flow_with_pkce_signs_in_...)."""
    code, state = start(browser, issuer)
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as victim:
        if victim_began_one:
            start(victim, issuer)
        refused = victim.get(f"/inloggen/oidc/terug?state={state}&code={code}")
        assert refused.status_code == 401
        assert "in een andere browser begonnen" in refused.text
        assert "__Host-ketenpoort-sessie" not in refused.headers.get("set-cookie", "")
        assert victim.get("/privacy", follow_redirects=False).status_code == 303
    # The attempt is used up: the attacker's own browser cannot finish it either.
    assert browser.get(f"/inloggen/oidc/terug?state={state}&code={code}").status_code == 401


def test_the_binding_cookie_is_short_lived_lax_and_ends_with_the_callback(
    browser: TestClient, issuer: FakeIssuer
) -> None:
    begun = browser.get("/inloggen/oidc", follow_redirects=False)
    cookie = begun.headers["set-cookie"]
    assert cookie.startswith("__Host-ketenpoort-inloggen=")
    for attribute in ("HttpOnly", "Secure", "SameSite=lax", "Max-Age=600", "Path=/"):
        assert attribute in cookie
    code, state = issuer.authorize(begun.headers["location"])
    done = browser.get(f"/inloggen/oidc/terug?state={state}&code={code}", follow_redirects=False)
    assert done.status_code == 303
    assert 'ketenpoort-inloggen=""' in done.headers["set-cookie"]
    assert "__Host-ketenpoort-inloggen" not in browser.cookies


@pytest.mark.parametrize(
    ("subject", "signed_in"),
    [
        ("u" * 200, True),  # control: the longest subject a bearer token may carry
        ("medewerker-42@idp", True),
        ("u" * 201, False),  # was a 500 on PostgreSQL (web_session.user is 200 long)
        ("regel1\nregel2\x1b[31m", False),  # reached log lines and the audit actor
        ("", False),
        (42, False),
    ],
    ids=["200", "plain", "201", "control-chars", "empty", "number"],
)
def test_the_subject_is_bounded_and_printable_as_a_bearer_tokens(
    browser: TestClient, issuer: FakeIssuer, subject: object, signed_in: bool
) -> None:
    """review8d F7: the ID token's sub becomes the session's user (stored, logged, the audit
    actor): at most 200 printable characters, as a bearer token's sub."""
    issuer.claims["sub"] = subject
    code, state = start(browser, issuer)
    response = browser.get(f"/inloggen/oidc/terug?state={state}&code={code}")
    if signed_in:
        assert response.url.path == "/privacy", response.text
    else:
        assert response.status_code == 401
        assert "Het ID-token is ongeldig." in response.text
        assert browser.get("/privacy", follow_redirects=False).status_code == 303
