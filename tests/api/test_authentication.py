"""The front door: every way a token can be wrong gets a 401/403 problem saying why."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import stat
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from fastapi.testclient import TestClient

from gateway.auth.dev import dev_key_path
from gateway.auth.keys import key_id, load_private_key
from gateway.auth.tokens import PARTNER_TOKEN_TYPE
from gateway.config import Settings

PARTNER = "u-centraal"


def _claims(settings: Settings, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": PARTNER,
        "aud": settings.audience,
        "iat": now,
        "nbf": now,
        "exp": now + 120,
        "jti": f"jti-{time.monotonic_ns()}",
        "role": "casemanager",
        "sub": "cm-1",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _signed(settings: Settings, partner: str = PARTNER, **overrides: Any) -> str:
    key = load_private_key(dev_key_path(settings, partner))
    return jwt.encode(
        _claims(settings, **overrides),
        key,
        algorithm="EdDSA",
        headers={"typ": PARTNER_TOKEN_TYPE, "kid": key_id(key)},
    )


def _get_me(client: TestClient, token: str | None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return client.get("/v1/me", headers=headers)


def _assert_problem(response: Any, status: int, detail_fragment: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["title"]
    assert detail_fragment in body["detail"]
    # No internals: no stack traces, no exception class names of libraries.
    assert "Traceback" not in response.text
    assert "jwt." not in response.text


class TestAcceptedToken:
    def test_valid_partner_token_identifies_partner_role_and_user(
        self, client: TestClient, settings: Settings
    ) -> None:
        response = _get_me(client, _signed(settings))
        assert response.status_code == 200, response.text
        assert response.json() == {
            "partnerId": "u-centraal",
            "partnerKind": response.json()["partnerKind"],
            "covenantId": "utrecht-extreme-woonoverlast",
            "role": "casemanager",
            "user": "cm-1",
        }
        assert response.headers["api-version"] == "1.0.0"
        assert response.headers["cache-control"] == "no-store"

    def test_es256_partner_key_is_accepted_when_registered(
        self, client: TestClient, settings: Settings
    ) -> None:
        from gateway.auth.keys import public_jwk

        key = ec.generate_private_key(ec.SECP256R1())
        client.app.state.context.verifier.trust.add_jwks(  # type: ignore[attr-defined]
            PARTNER, {"keys": [public_jwk(key, key_id(key))]}
        )
        token = jwt.encode(
            _claims(settings),
            key,
            algorithm="ES256",
            headers={"typ": PARTNER_TOKEN_TYPE, "kid": key_id(key)},
        )
        assert _get_me(client, token).status_code == 200


class TestRejectedToken:
    def test_missing_token_is_401(self, client: TestClient) -> None:
        response = _get_me(client, None)
        _assert_problem(response, 401, "bearer token is required")
        assert response.headers["www-authenticate"] == "Bearer"

    def test_malformed_token_is_401(self, client: TestClient) -> None:
        _assert_problem(_get_me(client, "not-a-jwt"), 401, "not a well-formed JWT")

    def test_unknown_issuer_is_401(self, client: TestClient, settings: Settings) -> None:
        _assert_problem(
            _get_me(client, _signed(settings, iss="evil-corp")), 401, "issuer is not a partner"
        )

    def test_unknown_kid_is_401(self, client: TestClient, settings: Settings) -> None:
        stranger = ed25519.Ed25519PrivateKey.generate()
        token = jwt.encode(
            _claims(settings),
            stranger,
            algorithm="EdDSA",
            headers={"typ": PARTNER_TOKEN_TYPE, "kid": "unknown-kid"},
        )
        _assert_problem(_get_me(client, token), 401, "key id (kid) is not registered")

    def test_signature_by_another_key_under_the_partners_kid_is_401(
        self, client: TestClient, settings: Settings
    ) -> None:
        real = load_private_key(dev_key_path(settings, PARTNER))
        forger = ed25519.Ed25519PrivateKey.generate()
        token = jwt.encode(
            _claims(settings),
            forger,
            algorithm="EdDSA",
            headers={"typ": PARTNER_TOKEN_TYPE, "kid": key_id(real)},
        )
        _assert_problem(_get_me(client, token), 401, "signature does not verify")

    def test_tampered_payload_is_401(self, client: TestClient, settings: Settings) -> None:
        header, _, signature = _signed(settings).split(".")
        payload = base64.urlsafe_b64encode(
            json.dumps(_claims(settings, role="privacy-officer")).encode()
        ).rstrip(b"=")
        token = f"{header}.{payload.decode()}.{signature}"
        _assert_problem(_get_me(client, token), 401, "signature does not verify")

    def test_alg_none_is_401(self, client: TestClient, settings: Settings) -> None:
        real = load_private_key(dev_key_path(settings, PARTNER))
        token = jwt.encode(
            _claims(settings),
            None,
            algorithm="none",
            headers={"typ": PARTNER_TOKEN_TYPE, "kid": key_id(real)},
        )
        _assert_problem(_get_me(client, token), 401, "algorithm 'none' is not accepted")

    def test_hmac_signed_with_the_public_key_is_401(
        self, client: TestClient, settings: Settings
    ) -> None:
        real = load_private_key(dev_key_path(settings, PARTNER))
        public_pem = real.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

        # Key confusion: the attacker uses the (public) verification key as an HMAC secret.
        def b64(data: bytes) -> str:
            return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

        signing_input = (
            b64(
                json.dumps(
                    {"alg": "HS256", "typ": PARTNER_TOKEN_TYPE, "kid": key_id(real)}
                ).encode()
            )
            + "."
            + b64(json.dumps(_claims(settings)).encode())
        )
        mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
        token = f"{signing_input}.{b64(mac)}"
        _assert_problem(_get_me(client, token), 401, "algorithm 'HS256' is not accepted")

    def test_rsa_token_is_401(self, client: TestClient, settings: Settings) -> None:
        real = load_private_key(dev_key_path(settings, PARTNER))
        rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        token = jwt.encode(
            _claims(settings),
            rsa_key,
            algorithm="RS256",
            headers={"typ": PARTNER_TOKEN_TYPE, "kid": key_id(real)},
        )
        _assert_problem(_get_me(client, token), 401, "algorithm 'RS256' is not accepted")

    def test_expired_token_is_401(self, client: TestClient, settings: Settings) -> None:
        past = int(time.time()) - 1000
        token = _signed(settings, iat=past, nbf=past, exp=past + 60)
        _assert_problem(_get_me(client, token), 401, "expired")

    def test_not_yet_valid_token_is_401(self, client: TestClient, settings: Settings) -> None:
        future = int(time.time()) + 1000
        token = _signed(settings, iat=future, nbf=future, exp=future + 60)
        _assert_problem(_get_me(client, token), 401, "not valid yet")

    def test_wrong_audience_is_401(self, client: TestClient, settings: Settings) -> None:
        _assert_problem(
            _get_me(client, _signed(settings, aud="another-gateway")), 401, "not meant for this"
        )

    def test_missing_jti_is_401(self, client: TestClient, settings: Settings) -> None:
        _assert_problem(_get_me(client, _signed(settings, jti=None)), 401, "'jti'")

    def test_overlong_lifetime_is_401(self, client: TestClient, settings: Settings) -> None:
        now = int(time.time())
        token = _signed(settings, exp=now + 24 * 3600)
        _assert_problem(_get_me(client, token), 401, "lives longer than")

    def test_the_lifetime_setting_is_bounded_to_an_hour(self, tmp_path: Any) -> None:
        """A spent token id is remembered until its token expires: an operator cannot set a
        lifetime that makes a stolen token good for days."""
        from pydantic import ValidationError

        assert Settings(data_dir=tmp_path, max_token_lifetime_seconds=3600)  # control
        with pytest.raises(ValidationError, match="max_token_lifetime_seconds"):
            Settings(data_dir=tmp_path, max_token_lifetime_seconds=3601)

    def test_replayed_jti_is_401(self, client: TestClient, settings: Settings) -> None:
        token = _signed(settings)
        assert _get_me(client, token).status_code == 200
        _assert_problem(_get_me(client, token), 401, "already been used")

    def test_replay_is_refused_across_replicas(
        self, client: TestClient, settings: Settings
    ) -> None:
        """A second gateway process on the same database also refuses the used jti."""
        from gateway.app import create_app
        from gateway.context import build_context

        token = _signed(settings)
        assert _get_me(client, token).status_code == 200
        other = build_context(settings)
        try:
            with TestClient(create_app(settings, other)) as replica:
                _assert_problem(_get_me(replica, token), 401, "already been used")
        finally:
            other.close()

    def test_unknown_role_is_403(self, client: TestClient, settings: Settings) -> None:
        _assert_problem(_get_me(client, _signed(settings, role="superuser")), 403, "no role")

    def test_role_not_granted_to_partner_is_403(
        self, client: TestClient, settings: Settings
    ) -> None:
        # A housing corporation has no community police officers.
        token = _signed(settings, partner="mitros", iss="mitros", role="wijkagent")
        _assert_problem(_get_me(client, token), 403, "not granted to partner 'mitros'")

    @pytest.mark.usefixtures("context")
    def test_dev_tokens_are_rejected_outside_demo_mode(self, settings: Settings) -> None:
        from gateway.app import create_app
        from gateway.context import build_context

        token = _signed(settings)  # the dev key exists from the demo-mode context fixture
        production = settings.model_copy(
            update={
                "demo_mode": False,
                "audit_log_origin": "ketenpoort.test/audit-log",
                "audience": "ketenpoort.test",
            }
        )
        ctx = build_context(production)
        try:
            with TestClient(create_app(production, ctx)) as prod_client:
                _assert_problem(_get_me(prod_client, token), 401, "kid")
        finally:
            ctx.close()


@pytest.mark.usefixtures("context")
def test_dev_keys_are_written_owner_only(settings: Settings) -> None:
    mode = stat.S_IMODE(dev_key_path(settings, PARTNER).stat().st_mode)
    assert mode == 0o600


class TestClaimsAtTheEdge:
    """Every claim that is stored or audited is checked for type, length and characters
    before it reaches the database (a 301-character sub was a 500 on PostgreSQL)."""

    @pytest.mark.parametrize(
        ("overrides", "fragment"),
        [
            ({"sub": "u" * 201}, "at most 200 printable characters"),
            ({"sub": "cm\x001"}, "at most 200 printable characters"),
            ({"sub": "cm\n1"}, "at most 200 printable characters"),
            ({"sub": 12345}, "sub must be a string"),
            ({"jti": "jti-\x00-0000"}, "printable characters"),
        ],
        ids=["sub-201-chars", "sub-nul", "sub-newline", "sub-number", "jti-nul"],
    )
    def test_unfit_claims_are_401(
        self, client: TestClient, settings: Settings, overrides: dict[str, Any], fragment: str
    ) -> None:
        _assert_problem(_get_me(client, _signed(settings, **overrides)), 401, fragment)

    @pytest.mark.parametrize(
        ("claim", "fragment"),
        [
            ("iss", "issuer is not a partner"),
            ("aud", "lacks the required claim 'aud'"),
            ("exp", "lacks the required claim 'exp'"),
            ("iat", "lacks the required claim 'iat'"),
            ("jti", "lacks the required claim 'jti'"),
            ("role", "lacks the required claim 'role'"),
        ],
    )
    def test_a_token_without_a_required_claim_is_401(
        self, client: TestClient, settings: Settings, claim: str, fragment: str
    ) -> None:
        _assert_problem(_get_me(client, _signed(settings, **{claim: None})), 401, fragment)
        # Positive control: the same token with the claim is accepted.
        assert _get_me(client, _signed(settings)).status_code == 200

    @pytest.mark.parametrize(
        ("overrides", "fragment"),
        [
            ({"iss": ""}, "issuer is not a partner"),
            ({"aud": 7}, "not meant for this gateway (aud)"),
            ({"exp": str(int(time.time()) + 60)}, "'exp' must be a NumericDate"),
            ({"iat": True}, "'iat' must be a NumericDate"),
            ({"nbf": "now"}, "'nbf' must be a NumericDate"),
            ({"jti": 12345678}, "jti must be a string of 8 to 200 characters"),
            ({"role": ["casemanager"]}, "role must be a string of 1 to 100 printable"),
            ({"role": "casemanager\n"}, "role must be a string of 1 to 100 printable"),
        ],
        ids=[
            "iss-empty",
            "aud-number",
            "exp-string",
            "iat-bool",
            "nbf-string",
            "jti-number",
            "role-list",
            "role-newline",
        ],
    )
    def test_a_malformed_claim_is_401_naming_it(
        self, client: TestClient, settings: Settings, overrides: dict[str, Any], fragment: str
    ) -> None:
        _assert_problem(_get_me(client, _signed(settings, **overrides)), 401, fragment)
        assert _get_me(client, _signed(settings)).status_code == 200

    def test_a_token_of_another_type_is_401(self, client: TestClient, settings: Settings) -> None:
        key = load_private_key(dev_key_path(settings, PARTNER))
        # The partner's own key, but typ JWT (say an ID token of the partner's own systems).
        other = jwt.encode(_claims(settings), key, algorithm="EdDSA", headers={"kid": key_id(key)})
        _assert_problem(_get_me(client, other), 401, "typ header) must be 'ketenpoort+jwt'")
        assert _get_me(client, _signed(settings)).status_code == 200

    def test_a_200_character_sub_is_accepted(self, client: TestClient, settings: Settings) -> None:
        response = _get_me(client, _signed(settings, sub="ü" * 200))
        assert response.status_code == 200, response.text
        assert response.json()["user"] == "ü" * 200

    def test_an_oversized_token_is_401_before_it_is_decoded(
        self, client: TestClient, settings: Settings
    ) -> None:
        padded = _signed(settings, padding="x" * 9000)  # validly signed, just too long
        _assert_problem(_get_me(client, padded), 401, "longer than 8192 characters")
        fits = _signed(settings, padding="x" * 4000)
        assert _get_me(client, fits).status_code == 200


class TestKeyTwice:
    """A claim or header key twice (review7a F3): a 401 problem, never the last one taken.
    The same claims with each key once are the positive control."""

    def _token(self, settings: Settings, payload: bytes) -> str:
        key = load_private_key(dev_key_path(settings, PARTNER))
        headers = {"typ": PARTNER_TOKEN_TYPE, "kid": key_id(key)}
        return jwt.api_jws.encode(payload, key, algorithm="EdDSA", headers=headers)

    def test_a_role_claim_twice_is_401(self, client: TestClient, settings: Settings) -> None:
        once = json.dumps(_claims(settings, role="privacy-officer"))
        twice = once[:-1] + ', "role": "casemanager"}'
        response = _get_me(client, self._token(settings, twice.encode()))
        _assert_problem(response, 401, "claims name a claim twice")
        control = _get_me(client, self._token(settings, once.encode()))
        assert control.status_code == 200, control.text
        assert control.json()["role"] == "privacy-officer"
