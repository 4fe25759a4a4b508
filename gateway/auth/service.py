"""Authenticating partner tokens: every rejection names its reason, none leaks internals."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, bindparam, delete, insert, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from gateway.auth.jws import MalformedJWS, UnsuitableKey, parse_compact, signature_verifies
from gateway.auth.keys import ACCEPTED_ALGORITHMS, TrustStore
from gateway.auth.models import UsedToken
from gateway.auth.principal import Principal, RoleGrant
from gateway.core.errors import Forbidden, Unauthenticated
from gateway.db import HotStatement, UTCDateTime, transaction

if TYPE_CHECKING:
    from gateway.policy.covenant import Covenant

REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "jti"]
#: A partner token is a few hundred characters; a longer one is refused before any base64 or
#: JSON work (an unauthenticated 50 MB header took 17 s and 370 MB to parse).
MAX_TOKEN_CHARS = 8192
#: ``sub`` names a user within the partner: stored and audited, so bounded and printable.
MAX_SUBJECT_CHARS = 200


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


class TokenVerifier:
    def __init__(
        self,
        *,
        trust: TrustStore,
        partners: PartnerDirectory,
        audience: str,
        max_lifetime: timedelta,
        leeway: timedelta,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.trust = trust
        self.partners = partners
        self.audience = audience
        self.max_lifetime = max_lifetime
        self.leeway = leeway
        self.clock = clock

    def verify(self, token: str) -> Principal:
        """Check signature and claims; raise Unauthenticated/Forbidden with the reason.

        Same checks, order and messages as when PyJWT decoded the token (three times); the
        token is now parsed once (:mod:`gateway.auth.jws`) and no claim is trusted before
        the signature verified, except iss, which only chooses the key."""
        if len(token) > MAX_TOKEN_CHARS:
            raise Unauthenticated(f"The bearer token is longer than {MAX_TOKEN_CHARS} characters.")
        try:
            jws = parse_compact(token)
        except MalformedJWS:
            raise Unauthenticated("The bearer token is not a well-formed JWT.") from None
        algorithm = jws.header.get("alg")
        if algorithm not in ACCEPTED_ALGORITHMS:
            raise Unauthenticated(
                f"Token algorithm {str(algorithm)[:20]!r} is not accepted; "
                f"use one of {', '.join(ACCEPTED_ALGORITHMS)}."
            )
        issuer = jws.claims.get("iss")
        if not isinstance(issuer, str) or issuer not in self.partners:
            raise Unauthenticated("The token's issuer is not a partner of any covenant.")
        kid = jws.header.get("kid")
        key = self.trust.key(issuer, kid) if isinstance(kid, str) else None
        if key is None:
            raise Unauthenticated("The token's key id (kid) is not registered for its issuer.")
        if key.algorithm != algorithm:
            raise Unauthenticated("The token's algorithm does not match the registered key.")
        try:
            verified = signature_verifies(jws, key.key, algorithm)
        except UnsuitableKey:
            raise Unauthenticated("The token is invalid.") from None
        if not verified:
            raise Unauthenticated("The token's signature does not verify.")
        claims = jws.claims
        now = self.clock().timestamp()
        self._check_registered_claims(claims, issuer, now)
        self._check_lifetime(claims, now)
        role = claims.get("role")
        # The covenant files are the one list of roles (PartnerDirectory).
        if not isinstance(role, str) or role not in self.partners.known_roles:
            raise Forbidden("The token carries no role the gateway knows.")
        if self.partners.grant(issuer, role) is None:
            raise Forbidden(f"Role {role!r} is not granted to partner {issuer!r}.")
        user = claims.get("sub")
        return self.partners.principal(
            partner_id=issuer,
            role=role,
            user=user if isinstance(user, str) and user else None,
            token_id=str(claims["jti"]),
            expires_at=datetime.fromtimestamp(float(claims["exp"]), UTC),
        )

    def _check_registered_claims(self, claims: dict[str, Any], issuer: str, now: float) -> None:
        """PyJWT 2's claim checks, in its order and with its leniency: a time claim is
        anything ``int()`` takes (so ``true`` is 1 and ``"1700000000"`` a time)."""
        for name in REQUIRED_CLAIMS:
            if claims.get(name) is None:
                raise Unauthenticated(f"The token lacks the required claim {name!r}.")
        leeway = self.leeway.total_seconds()
        if _time_claim(claims, "iat") > now + leeway:
            raise Unauthenticated(_NOT_YET_VALID)
        if "nbf" in claims and _time_claim(claims, "nbf") > now + leeway:
            raise Unauthenticated(_NOT_YET_VALID)
        if _time_claim(claims, "exp") <= now - leeway:
            raise Unauthenticated("The token has expired.")
        if claims["iss"] != issuer:
            raise Unauthenticated(_INVALID)
        audiences = claims["aud"]
        if not audiences:
            raise Unauthenticated("The token lacks the required claim 'aud'.")
        if isinstance(audiences, str):
            audiences = [audiences]
        if (
            not isinstance(audiences, list)
            or any(not isinstance(audience, str) for audience in audiences)
            or self.audience not in audiences
        ):
            raise Unauthenticated("The token is not meant for this gateway (aud).")
        if "sub" in claims and not isinstance(claims["sub"], str):
            raise Unauthenticated(_INVALID)
        subject = claims.get("sub")
        if isinstance(subject, str) and (
            len(subject) > MAX_SUBJECT_CHARS or not subject.isprintable()
        ):
            raise Unauthenticated(
                f"The token's sub must be at most {MAX_SUBJECT_CHARS} printable characters."
            )
        jti = claims["jti"]
        if not isinstance(jti, str):
            raise Unauthenticated(_INVALID)
        if not 8 <= len(jti) <= 200:
            raise Unauthenticated("The token's jti must be a string of 8 to 200 characters.")
        if not jti.isprintable():
            raise Unauthenticated("The token's jti must be printable characters.")

    def _check_lifetime(self, claims: dict[str, Any], now: float) -> None:
        try:
            lifetime = float(claims["exp"]) - float(claims["iat"])
        except OverflowError:  # an integer beyond a float's range: as good as forever
            lifetime = math.inf
        if lifetime > self.max_lifetime.total_seconds():
            raise Unauthenticated(
                f"The token lives longer than {int(self.max_lifetime.total_seconds())} seconds."
            )
        if float(claims["iat"]) > now + self.leeway.total_seconds():
            raise Unauthenticated(_NOT_YET_VALID)


_NOT_YET_VALID = "The token is not valid yet (nbf/iat in the future)."
_INVALID = "The token is invalid."


def _time_claim(claims: dict[str, Any], name: str) -> int:
    try:
        return int(claims[name])
    except (ValueError, TypeError, OverflowError):
        raise Unauthenticated(_INVALID) from None


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
    could forget a jti, and then only until the token expires (60 seconds at most)."""
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
