"""FastAPI dependencies: the request's context, its one transaction, and who is asking."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from gateway.auth.principal import Principal
from gateway.auth.service import consume_token_id
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


def get_session(context: Context) -> Iterator[Session]:
    """The request's unit of work: committed before the response is sent, or rolled back."""
    with transaction(context.session_factory) as session:
        yield session


DbSession = Annotated[Session, Depends(get_session, scope="function")]


def authenticate(
    request: Request,
    context: Context,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("A bearer token is required (Authorization: Bearer <JWT>).")
    principal = context.verifier.verify(credentials.credentials)
    consume_token_id(context.session_factory, principal)
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(authenticate)]


def require_roles(*roles: str) -> Callable[[Principal], Principal]:
    allowed = frozenset(roles)

    def check(principal: CurrentPrincipal) -> Principal:
        if principal.role not in allowed:
            raise Forbidden(
                f"This needs one of the roles {', '.join(sorted(allowed))}; "
                f"the token has {principal.role!r}."
            )
        return principal

    return check
