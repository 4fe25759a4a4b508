"""Authenticating partner tokens: every rejection names its reason, none leaks internals."""

from __future__ import annotations

import base64
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import jwt
from sqlalchemy import Connection, bindparam, delete, insert, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from gateway.auth.keys import ACCEPTED_ALGORITHMS, PublicKey, TrustStore
from gateway.auth.models import UsedToken
from gateway.auth.principal import Principal, RoleGrant
from gateway.auth.tokens import PARTNER_TOKEN_TYPE
from gateway.core import json_body
from gateway.core.errors import Forbidden, Unauthenticated
from gateway.db import HotStatement, UTCDateTime, transaction

if TYPE_CHECKING:
    from gateway.policy.covenant import Covenant

#: Every partner token names its partner (iss), this gateway (aud), its lifetime (iat, exp),
#: a single-use id (jti) and the role it acts in; nbf and sub are optional.
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "jti", "role"]
#: A partner token is a few hundred characters; a longer one is refused before any base64 or
#: JSON work (an unauthenticated 50 MB header took 17 s and 370 MB to parse).
MAX_TOKEN_CHARS = 8192
#: ``sub`` names a user within the partner: stored and audited, so bounded and printable.
MAX_SUBJECT_CHARS = 200
#: Role ids come from the covenant files; anything longer is no role of theirs.
MAX_ROLE_CHARS = 100


@dataclass(frozen=True, slots=True)
class PartnerEntry:
    """One partner as the covenant file defines it: kind, covenant, and per role it holds
    what that role may do."""

    kind: str
    covenant: str
    grants: Mapping[str, RoleGrant]


class PartnerDirectory:
    """What the gateway knows of each partner from the covenants: kind, covenant, roles and
    what each role may do. The only place roles come from (no role is listed in code)."""

    def __init__(self, partners: Mapping[str, PartnerEntry]) -> None:
        self._partners = dict(partners)
        #: Every role some partner holds.
        self.known_roles = frozenset(r for e in self._partners.values() for r in e.grants)

    @classmethod
    def from_covenants(cls, covenants: Iterable[Covenant]) -> PartnerDirectory:
        entries: dict[str, PartnerEntry] = {}
        for covenant in covenants:
            roles = {role.id: role for role in covenant.roles}
            for partner in covenant.partners:
                coordinating = partner.id == covenant.coordinating_privacy_officer
                entries[partner.id] = PartnerEntry(
                    kind=partner.kind,
                    covenant=covenant.id,
                    grants={
                        role_id: RoleGrant(
                            kind=roles[role_id].kind,
                            legal_hold=roles[role_id].legal_hold,
                            records_facts=roles[role_id].records_facts,
                            covenant_wide=coordinating and roles[role_id].kind == "audit",
                        )
                        for role_id in partner.roles
                    },
                )
        return cls(entries)

    def __contains__(self, partner_id: object) -> bool:
        return partner_id in self._partners

    def ids(self) -> set[str]:
        return set(self._partners)

    def kind(self, partner_id: str) -> str:
        return self._partners[partner_id].kind

    def covenant(self, partner_id: str) -> str:
        return self._partners[partner_id].covenant

    def roles(self, partner_id: str) -> frozenset[str]:
        return frozenset(self._partners[partner_id].grants)

    def grant(self, partner_id: str, role: str) -> RoleGrant | None:
        """What ``role`` may do for ``partner_id``; None when the covenant does not give the
        partner that role."""
        entry = self._partners.get(partner_id)
        return entry.grants.get(role) if entry is not None else None

    def principal(
        self,
        *,
        partner_id: str,
        role: str,
        user: str | None,
        token_id: str,
        expires_at: datetime,
    ) -> Principal:
        """The principal of ``partner_id`` acting in ``role``; the caller checked that the
        partner holds the role (KeyError otherwise: a programming error, never a grant)."""
        entry = self._partners[partner_id]
        return Principal(
            partner_id=partner_id,
            partner_kind=entry.kind,
            covenant_id=entry.covenant,
            role=role,
            user=user,
            token_id=token_id,
            expires_at=expires_at,
            grant=entry.grants[role],
        )


class _StrictClaimsJWT(jwt.PyJWT):
    """PyJWT whose claims are strict JSON with NumericDate times (after the signature).

    Python's JSON parser takes ``NaN``, ``Infinity`` and ``1e999`` (an infinite float), which
    RFC 8259 does not, and PyJWT takes as a time anything ``int()`` takes (``true`` is 1 and
    ``"1700000000"`` a time). RFC 7519 §2 makes exp, nbf and iat NumericDate: a JSON number.
    ``_decode_payload`` is PyJWT's hook for decoding the payload differently; it runs after
    the signature verified and before PyJWT's own claim checks.

    A claim twice (``"role": "privacy-officer", …, "role": "casemanager"``) is refused
    (review7a F3): Python's parser keeps the last, a partner's proxy or log reading the first
    sees another principal. The header is checked the same way (``check_header_keys``);
    both with the request bodies' parser (gateway/core/json_body.py)."""

    def _decode_payload(self, decoded: dict[str, Any]) -> dict[str, Any]:
        try:
            claims = json_body.loads(
                decoded["payload"], parse_constant=_not_json, parse_float=_finite_float
            )
        except json_body.DuplicateKey:
            raise _MalformedClaims(_CLAIM_TWICE) from None
        except (ValueError, RecursionError):
            raise _MalformedClaims(
                "The token's claims are not JSON (RFC 8259: no NaN, Infinity or overflow)."
            ) from None
        if not isinstance(claims, dict):
            raise _MalformedClaims("The token's claims are not a JSON object.")
        for name in _TIME_CLAIMS:
            if name not in claims or (claims[name] is None and name in REQUIRED_CLAIMS):
                continue  # absent: PyJWT names a required one missing
            value = claims[name]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise _MalformedClaims(
                    f"The token's {name!r} must be a NumericDate (a JSON number of seconds)."
                )
        return claims


_CLAIM_TWICE = "The token's claims name a claim twice; each claim may appear once."


def check_header_keys(token: str) -> None:
    """The token's header (PyJWT parsed it keeping the last of two equal keys, which chose
    ``kid`` and ``alg``) has each key once; a 401 otherwise. Only called on a token PyJWT
    read, so the segment is base64url of a JSON object."""
    segment = token.split(".", 1)[0]
    try:
        json_body.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except json_body.DuplicateKey:
        raise Unauthenticated(
            "The token's header names a key twice; each key may appear once."
        ) from None
    except (ValueError, RecursionError):
        raise Unauthenticated("The bearer token is not a well-formed JWT.") from None


class _MalformedClaims(jwt.DecodeError):
    """A claim set PyJWT would take but RFC 7519 does not; its message is the 401's."""


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def _finite_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise ValueError("number out of range")
    return value


_TIME_CLAIMS = ("exp", "nbf", "iat")
#: The strict PyJWT of bearer tokens, and of the web sign-in's ID tokens (gateway/web/oidc.py).
STRICT_JWT = _StrictClaimsJWT()


class TokenVerifier:
    def __init__(
        self,
        *,
        trust: TrustStore,
        partners: PartnerDirectory,
        audience: str,
        max_lifetime: timedelta,
        leeway: timedelta,
    ) -> None:
        self.trust = trust
        self.partners = partners
        self.audience = audience
        self.max_lifetime = max_lifetime
        self.leeway = leeway

    def verify(self, token: str) -> Principal:
        """Check the token with PyJWT; raise Unauthenticated (401) or Forbidden (403) with the
        reason. 401: not a valid token for this gateway (malformed, wrong type or key, bad
        signature, a required claim missing or malformed, expired); 403: a valid token whose
        role the partner does not hold.

        The length is checked before any base64 or JSON work. The header and the issuer only
        choose the key (RFC 8725 §3.1: the algorithm is the registered key's, never the
        token's); one PyJWT decode then verifies the signature and the claims, and no claim
        is used before it did."""
        if len(token) > MAX_TOKEN_CHARS:
            raise Unauthenticated(f"The bearer token is longer than {MAX_TOKEN_CHARS} characters.")
        try:
            unverified = jwt.decode_complete(token, options={"verify_signature": False})
        except (jwt.PyJWTError, UnicodeError):
            raise Unauthenticated("The bearer token is not a well-formed JWT.") from None
        # Unverified: only to find the key (header typ, alg and kid, claim iss) for the one
        # decode that verifies; nothing else of it is used.
        header, claims = unverified["header"], unverified["payload"]
        check_header_keys(token)
        _check_type(header.get("typ"))
        algorithm = header.get("alg")
        if algorithm not in ACCEPTED_ALGORITHMS:
            raise Unauthenticated(
                f"Token algorithm {str(algorithm)[:20]!r} is not accepted; "
                f"use one of {', '.join(ACCEPTED_ALGORITHMS)}."
            )
        issuer = claims.get("iss")
        if not isinstance(issuer, str) or issuer not in self.partners:
            raise Unauthenticated("The token's issuer is not a partner of any covenant.")
        kid = header.get("kid")
        key = self.trust.key(issuer, kid) if isinstance(kid, str) else None
        if key is None:
            raise Unauthenticated("The token's key id (kid) is not registered for its issuer.")
        if key.algorithm != algorithm:
            raise Unauthenticated("The token's algorithm does not match the registered key.")
        claims = self._decode(token, key.key, key.algorithm, issuer)
        _check_identifiers(claims)
        self._check_lifetime(claims)
        role = claims["role"]
        # The covenant files are the one list of roles (PartnerDirectory).
        if role not in self.partners.known_roles:
            raise Forbidden("The token carries no role the gateway knows.")
        if self.partners.grant(issuer, role) is None:
            raise Forbidden(f"Role {role!r} is not granted to partner {issuer!r}.")
        user = claims.get("sub")
        return self.partners.principal(
            partner_id=issuer,
            role=role,
            user=user or None,
            token_id=claims["jti"],
            expires_at=datetime.fromtimestamp(float(claims["exp"]), UTC),
        )

    def _decode(self, token: str, key: PublicKey, algorithm: str, issuer: str) -> dict[str, Any]:
        """The one verifying decode: signature with the registered key's algorithm only, then
        the registered claims (exp, nbf and iat against the leeway, iss, aud)."""
        try:
            claims: dict[str, Any] = STRICT_JWT.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self.audience,
                issuer=issuer,
                leeway=self.leeway,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.InvalidSignatureError:
            raise Unauthenticated("The token's signature does not verify.") from None
        except _MalformedClaims as exc:
            raise Unauthenticated(str(exc)) from None
        except jwt.MissingRequiredClaimError as exc:
            raise Unauthenticated(f"The token lacks the required claim {exc.claim!r}.") from None
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("The token has expired.") from None
        except jwt.ImmatureSignatureError:
            raise Unauthenticated(_NOT_YET_VALID) from None
        except jwt.InvalidAudienceError:
            raise Unauthenticated("The token is not meant for this gateway (aud).") from None
        except jwt.exceptions.InvalidJTIError:
            raise Unauthenticated(_JTI) from None
        except jwt.exceptions.InvalidSubjectError:
            raise Unauthenticated(_SUBJECT) from None
        except jwt.PyJWTError:
            raise Unauthenticated(_INVALID) from None
        return claims

    def _check_lifetime(self, claims: dict[str, Any]) -> None:
        try:
            lifetime = float(claims["exp"]) - float(claims["iat"])
        except OverflowError:  # an integer beyond a float's range: as good as forever
            lifetime = math.inf
        if lifetime > self.max_lifetime.total_seconds():
            raise Unauthenticated(
                f"The token lives longer than {int(self.max_lifetime.total_seconds())} seconds."
            )


def _check_type(typ: object) -> None:
    """RFC 8725 §3.11 explicit typing: a partner token says it is one, so that another JWT
    signed with a partner's key (an ID token, a token for some other service) is never taken
    for it. RFC 7515 §4.1.9: compared case-insensitively, ``application/`` may be left out."""
    if not isinstance(typ, str) or typ.lower().removeprefix("application/") != PARTNER_TOKEN_TYPE:
        raise Unauthenticated(
            f"The token's type (typ header) must be {PARTNER_TOKEN_TYPE!r} (RFC 8725 §3.11)."
        )


def _check_identifiers(claims: dict[str, Any]) -> None:
    """The claims that are stored and audited (jti, sub) or name a role: bounded and
    printable, so that no database limit or log line ever sees a hostile one."""
    jti = claims["jti"]
    if not 8 <= len(jti) <= 200:
        raise Unauthenticated(_JTI)
    if not jti.isprintable():
        raise Unauthenticated("The token's jti must be printable characters.")
    subject = claims.get("sub")
    if subject is not None and (len(subject) > MAX_SUBJECT_CHARS or not subject.isprintable()):
        raise Unauthenticated(_SUBJECT)
    role = claims["role"]
    if not isinstance(role, str) or not 0 < len(role) <= MAX_ROLE_CHARS or not role.isprintable():
        raise Unauthenticated(
            f"The token's role must be a string of 1 to {MAX_ROLE_CHARS} printable characters."
        )


_NOT_YET_VALID = "The token is not valid yet (nbf/iat in the future)."
_JTI = "The token's jti must be a string of 8 to 200 characters."
_SUBJECT = f"The token's sub must be a string of at most {MAX_SUBJECT_CHARS} printable characters."
_INVALID = "The token is invalid."


#: One statement, its own transaction (autocommit): set_config(..., true) lasts until that
#: transaction's commit, which therefore does not wait for the WAL flush.
_INSERT_ASYNC_COMMIT = HotStatement(
    text(
        "WITH async AS (SELECT set_config('synchronous_commit', 'off', true)) "
        "INSERT INTO used_token (issuer, jti, expires_at) SELECT :issuer, :jti, :exp FROM async"
    ).bindparams(bindparam("exp", type_=UTCDateTime()))
)


def consume_token_id(factory: sessionmaker[Session], principal: Principal) -> None:
    """Record the jti in its own transaction, so a failed request cannot free it for replay.

    On PostgreSQL that transaction commits without waiting for its WAL flush (``SET LOCAL
    synchronous_commit = off``): the jti is visible to every other request at once, and the
    request's own durable commit (an audit entry, a change) flushes the WAL up to and with it,
    so it costs one disk flush per request instead of two. Only a database crash within the
    WAL writer's delay (a fraction of a second), after a request that wrote nothing durable,
    could forget a jti, and then only until the token expires
    (``KETENPOORT_MAX_TOKEN_LIFETIME_SECONDS``, 600 s by default, at most an hour)."""
    engine = factory.kw["bind"]
    with engine.connect() as connection:
        spend_token_id(connection, principal)


def spend_token_id(connection: Connection, principal: Principal) -> None:
    """:func:`consume_token_id` on a connection the caller checked out: the jti is committed
    at once (autocommit, before and apart from any transaction), and the connection is left
    with no transaction, at its default isolation level, for the request to begin its own on
    it (one pooled connection per request instead of two)."""
    row = {"issuer": principal.partner_id, "jti": principal.token_id, "exp": principal.expires_at}
    default = connection.default_isolation_level
    connection.execution_options(isolation_level="AUTOCOMMIT")
    try:
        if connection.dialect.name == "postgresql":
            _INSERT_ASYNC_COMMIT.execute(connection, row)
        else:
            connection.execute(
                insert(UsedToken).values(
                    issuer=row["issuer"], jti=row["jti"], expires_at=row["exp"]
                )
            )
    except IntegrityError:
        from gateway.core.metrics import TOKEN_REPLAYS

        TOKEN_REPLAYS.inc()
        raise Unauthenticated("The token has already been used (replayed jti).") from None
    finally:
        connection.rollback()  # ends SQLAlchemy's autobegun block; autocommit: nothing sent
        connection.execution_options(isolation_level=default)


#: pg_try_advisory_xact_lock key of the purge (any fixed number no other lock uses).
_PURGE_LOCK_KEY = 0x6B70_7472  # "kptr"


def purge_used_tokens(factory: sessionmaker[Session], now: datetime, grace: timedelta) -> int:
    """Forget the jtis of tokens that expired more than ``grace`` ago: such a token is
    refused as expired before its jti is looked at, so its row guards nothing. Returns the
    rows deleted; 0 without deleting when another replica is purging (PostgreSQL: a
    transaction-scoped advisory lock; SQLite has one writer)."""
    with transaction(factory) as session:
        if session.get_bind().dialect.name == "postgresql":
            locked = session.execute(
                text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _PURGE_LOCK_KEY}
            ).scalar_one()
            if not locked:
                return 0
        result = session.execute(delete(UsedToken).where(UsedToken.expires_at < now - grace))
        return int(getattr(result, "rowcount", 0) or 0)
