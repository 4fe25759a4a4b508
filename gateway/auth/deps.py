"""FastAPI dependencies: the request's context, its one transaction, and who is asking."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from gateway.auth.principal import Principal
from gateway.auth.service import (
    REPLAYED,
    claim_token_id,
    consume_token_id,
    spend_token_id,
    token_replayed,
)
from gateway.context import GatewayContext
from gateway.core.errors import Forbidden, Unauthenticated
from gateway.core.metrics import TOKEN_REPLAYS
from gateway.db import abandon_pipeline, end_pipeline, send_ahead, transaction

logger = logging.getLogger(__name__)

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


def get_session(context: Context) -> Iterator[Session]:
    """The request's unit of work: committed before the response is sent, or rolled back."""
    with transaction(context.session_factory) as session:
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
    work: Callable[[Principal, Session], T],
) -> T:
    """``authenticate`` and ``get_session`` for a hot route, in one call (run it in one
    worker thread: FastAPI runs each sync dependency in a thread of its own, a generator
    dependency in two), on one pooled connection and in one transaction: the jti is its first
    statement (:func:`claim_token_id`), then ``work`` runs, committed before the response or
    rolled back with everything it did. On PostgreSQL its statements go out pipelined
    (:func:`gateway.db.send_ahead`) until the commit: BEGIN and the jti with the first read.
    A request that fails still spends its token: after the rollback the jti is written on its
    own (autocommit), and a jti found spent is a replay (401)."""
    principal = _verified(context, credentials)
    request.state.principal = principal
    with context.engine.connect() as connection:
        session = context.session_factory(bind=connection)
        try:
            send_ahead(connection)
            claim_token_id(session.connection(), principal)
            result = work(principal, session)
            # The COMMIT on its own, after every result is in: pipelined, a server that dies
            # right after committing can report the commit as failed (its last words read
            # with the commit's), a 503 for a disclosure that was recorded.
            end_pipeline(connection)
            session.commit()
        except Exception as error:
            pending = abandon_pipeline(connection)  # e.g. the jti's, when no read came first
            session.rollback()
            if token_replayed(error) or (pending is not None and token_replayed(pending)):
                TOKEN_REPLAYS.inc()
                raise Unauthenticated(REPLAYED) from None
            if not connection.invalidated:
                # The request failed and its transaction took the jti with it: spend it on
                # its own, so the token cannot be replayed (Unauthenticated if it was spent
                # meanwhile: by a replay racing this request, or before it, when the failure
                # came before the first read that would have shown it).
                try:
                    spend_token_id(connection, principal)
                except Unauthenticated:
                    raise
                except Exception:  # the database went: the request's own error says more
                    logger.warning("could not spend the jti of a failed request", exc_info=True)
            raise
        finally:
            session.close()
        # Committed, so nothing is pending: a connection that fails to leave the pipeline now
        # is replaced, and the answer stands.
        abandon_pipeline(connection)
        return result


@dataclass(frozen=True)
class UnitOfWork:
    """What a hot route needs to authenticate and open its one transaction, collected by the
    :data:`HotUnit` dependency; :meth:`run` does both and the route's work in one call."""

    request: Request
    context: GatewayContext
    credentials: HTTPAuthorizationCredentials | None

    async def run(self, work: Callable[[Principal, Session], T]) -> T:
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
