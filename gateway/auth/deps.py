"""FastAPI dependencies: the request's context, its one transaction, and who is asking."""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from gateway.auth.principal import Principal
from gateway.auth.service import consume_token_id, spend_token_id
from gateway.context import GatewayContext
from gateway.core.errors import Forbidden, Unauthenticated
from gateway.db import transaction

bearer_scheme = HTTPBearer(
    auto_error=False,
    description="A short-lived JWT signed by the partner's key (EdDSA or ES256); "
    "one token per request.",
)


async def get_context(request: Request) -> GatewayContext:
    # async: no I/O, so FastAPI does not hop to a worker thread for it on every request.
    context: GatewayContext = request.app.state.context
    return context


Context = Annotated[GatewayContext, Depends(get_context)]


def get_session(request: Request, context: Context) -> Iterator[Session]:
    """The request's unit of work: committed before the response is sent, or rolled back.

    Kept on ``request.state.db_session`` too: a page route turns its errors into pages
    inside this dependency's scope, so it ends the unit itself (gateway/web/pages.py
    ``PageRoute``); what is left here to commit is then nothing."""
    with transaction(context.session_factory) as session:
        request.state.db_session = session
        yield session


DbSession = Annotated[Session, Depends(get_session, scope="function")]


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]


def _verified(
    context: GatewayContext, credentials: HTTPAuthorizationCredentials | None
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("A bearer token is required (Authorization: Bearer <JWT>).")
    return context.verifier.verify(credentials.credentials)


def authenticate(request: Request, context: Context, credentials: Credentials) -> Principal:
    principal = _verified(context, credentials)
    consume_token_id(context.session_factory, principal)
    request.state.principal = principal
    return principal


T = TypeVar("T")


def authenticated_unit(
    request: Request,
    context: GatewayContext,
    credentials: HTTPAuthorizationCredentials | None,
    work: Callable[[Principal, Connection], T],
) -> T:
    """``authenticate`` and the request's unit of work for a hot route, in one call (run it
    in one worker thread: FastAPI runs each sync dependency in a thread of its own, a
    generator dependency in two) and on one pooled connection: the jti is committed on it
    first (autocommit, so a request that fails still spends its token), then ``work`` runs in
    the request's one transaction on the same connection, committed before the response or
    rolled back with everything it did.

    The unit is the Core connection itself, not an ORM Session on it: the enforcement point's
    reads and its audit append are Core statements (gateway.db.Unit), and a Session's begin,
    commit and close cost ~60 µs of CPU per request against ~17 µs for the connection's own
    (docs/performance.md). A disconnect invalidates the connection as under a Session (the
    statements' error handling, SQLAlchemy's on COMMIT) and the rollback skips it."""
    principal = _verified(context, credentials)
    with context.engine.connect() as connection:
        spend_token_id(connection, principal)
        request.state.principal = principal
        with connection.begin():
            return work(principal, connection)


@dataclass(frozen=True)
class UnitOfWork:
    """What a hot route needs to authenticate and open its one transaction, collected by the
    :data:`HotUnit` dependency; :meth:`run` does both and the route's work in one call."""

    request: Request
    context: GatewayContext
    credentials: HTTPAuthorizationCredentials | None

    async def run(self, work: Callable[[Principal, Connection], T]) -> T:
        """:func:`authenticated_unit` on one of the context's long-lived hot threads."""
        call = functools.partial(
            authenticated_unit, self.request, self.context, self.credentials, work
        )
        # As starlette's run_in_threadpool: the caller's context variables go with the call.
        return await asyncio.get_running_loop().run_in_executor(
            self.context.hot_threads, contextvars.copy_context().run, call
        )


async def get_unit_of_work(
    request: Request, context: Context, credentials: Credentials
) -> UnitOfWork:
    # async: it only collects; the token check, the jti and the transaction run in
    # ``UnitOfWork.run``, on a hot thread, with the route's work.
    return UnitOfWork(request=request, context=context, credentials=credentials)


#: The hot routes' dependency (the mediated read): authentication and the request's one
#: transaction in one hot thread and on one pooled connection, where ``CurrentPrincipal`` and
#: ``DbSession`` take a thread hop each (a generator two) and a connection each.
HotUnit = Annotated[UnitOfWork, Depends(get_unit_of_work)]


CurrentPrincipal = Annotated[Principal, Depends(authenticate)]


def require_audit_role(principal: CurrentPrincipal) -> Principal:
    """A privacy officer: a role of kind ``audit`` in the covenant file."""
    if not principal.grant.audits:
        raise Forbidden(
            f"This needs a privacy officer's role (kind 'audit' in the covenant); "
            f"the token has {principal.role!r}."
        )
    return principal


#: A privacy officer's principal (see :func:`require_audit_role`).
PrivacyOfficer = Annotated[Principal, Depends(require_audit_role)]
