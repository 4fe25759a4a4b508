"""Routes of the exchange: information requests, the partner inbox, answers, pushed case facts.

Every route that reads case data goes through :mod:`gateway.exchange.enforcement`, which decides,
decrypts only what is disclosed and writes the audit entry in the request's transaction.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import Connection, select
from starlette.concurrency import run_in_threadpool
from starlette.routing import BaseRoute, Match, Route
from starlette.types import Scope

from gateway.audit import Receipt
from gateway.auth.deps import (
    Context,
    CurrentPrincipal,
    DbSession,
    HotUnit,
    UnitOfWork,
    bearer_scheme,
    get_context,
    get_unit_of_work,
)
from gateway.auth.principal import Principal
from gateway.context import GatewayContext
from gateway.core.idempotency import Idempotent
from gateway.core.json_body import StrictJsonRoute
from gateway.exchange import enforcement
from gateway.exchange import inbox as inbox_service
from gateway.exchange.deps import ExchangeDep, exchange_services
from gateway.exchange.models import InformationRequest
from gateway.exchange.schemas import (
    AnswerIn,
    AnswerReceipt,
    CaseFactIn,
    CaseFactOut,
    CaseFactQuery,
    DisclosureOut,
    Inbox,
    InformationRequestIn,
    InformationRequestOut,
)

# An id's characters (the gateway's ids are UUIDs): NUL reached PostgreSQL's text and was a
# 500 (review8c F1, found by tests/api/test_hostile_strings.py).
RequestId = Annotated[str, Path(alias="requestId", max_length=64, pattern=r"^[A-Za-z0-9-]+$")]
DisclosureId = Annotated[str, Path(alias="disclosureId", max_length=64, pattern=r"^[A-Za-z0-9-]+$")]

router = APIRouter(tags=["exchange"], route_class=StrictJsonRoute)


async def _traceparent(request: Request) -> str | None:
    # async: a header lookup needs no worker thread (a sync dependency costs a thread hop).
    return request.headers.get("traceparent")


#: The caller's W3C trace context (``traceparent`` header), carried into the audit entry
#: unless its ids hold a BSN (enforcement._trace asks gateway.core.tracing.partner_traceparent).
Traceparent = Annotated[str | None, Depends(_traceparent)]


@router.post("/information-requests", status_code=201, summary="Ask partners for case data")
def create_information_request(
    body: InformationRequestIn,
    principal: CurrentPrincipal,
    session: DbSession,
    exchange: ExchangeDep,
    traceparent: Traceparent,
    idempotency: Idempotent,
) -> InformationRequestOut:
    """Decided at once: categories no clause allows come back denied with reasons."""
    return idempotency.run(
        "create-information-request",
        body,
        InformationRequestOut,
        lambda: enforcement.create_information_request(
            session=session,
            exchange=exchange,
            principal=principal,
            request=body,
            traceparent=traceparent,
        ),
        status_code=201,
    )


@router.get("/information-requests/{requestId}", summary="A request and its status")
def read_information_request(
    request_id: RequestId, principal: CurrentPrincipal, session: DbSession, exchange: ExchangeDep
) -> InformationRequestOut:
    """Status per category (no values): for the requester and the addressed partners."""
    return enforcement.information_request_status(
        session=session, exchange=exchange, principal=principal, request_id=request_id
    )


@router.post(
    "/information-requests/{requestId}/answers", summary="Answer a request (addressed partner)"
)
def answer_information_request(
    request_id: RequestId,
    body: AnswerIn,
    principal: CurrentPrincipal,
    session: DbSession,
    exchange: ExchangeDep,
    traceparent: Traceparent,
    idempotency: Idempotent,
) -> AnswerReceipt:
    """Decided again: a category no longer allowed is withheld and its value not stored."""
    return idempotency.run(
        f"answer:{request_id}",
        body,
        AnswerReceipt,
        lambda: enforcement.answer_information_request(
            session=session,
            exchange=exchange,
            principal=principal,
            request_id=request_id,
            answer=body,
            traceparent=traceparent,
        ),
        case_of=lambda _: session.scalar(
            select(InformationRequest.case_id).where(InformationRequest.id == request_id)
        ),
    )


@router.get(
    "/information-requests/{requestId}/answers",
    summary="Read the answers (requester)",
    response_model=DisclosureOut,
)
async def read_answers(
    request_id: RequestId, unit: HotUnit, context: Context, traceparent: Traceparent
) -> Response:
    """Each category disclosed or redacted with reason and clause; audited, with a receipt."""
    return await _disclosed_answers(request_id, unit, context, traceparent)


async def _disclosed_answers(
    request_id: str, unit: UnitOfWork, context: GatewayContext, traceparent: str | None
) -> Response:
    """The read itself, whichever route took the request (:func:`read_answers`, or
    :func:`serve_answers`, which serves it)."""

    def work(principal: Principal, connection: Connection) -> bytes:
        # Resolved after authentication, as the ExchangeDep dependency was: without a policy
        # engine the token is still spent and the answer is 503, with nothing read.
        disclosure = enforcement.disclose_answers(
            session=connection,
            exchange=exchange_services(context),
            principal=principal,
            request_id=request_id,
            traceparent=traceparent,
        )
        # Serialized once, straight from the model (FastAPI would dump it, validate the dump
        # against the same model again and serialize that); the same JSON.
        return disclosure.model_dump_json(by_alias=True).encode()

    # The hot read: authentication, the jti, the transaction and the disclosure in one hot
    # thread and on one pooled connection (HotUnit; CurrentPrincipal and DbSession would
    # take four thread hops and two connections).
    return Response(await unit.run(work), media_type="application/json")


_valid_request_id = TypeAdapter(RequestId)


async def serve_answers(request: Request) -> Response:
    """``GET .../answers`` as served: :func:`read_answers` without FastAPI's handling of the
    route (issue 20: ~200 µs of the event loop per read, most of it resolving five
    dependencies). The same steps in the same order: the path parameter checked against
    :data:`RequestId` (a 400 problem naming ``requestId``), the dependencies' own functions
    called (the bearer scheme, the context, the unit of work, the traceparent) and the same
    read; every error is raised to the same handlers. tests/api/test_read_answers_as_served.py
    holds both routes to the same answers."""
    try:
        request_id = _valid_request_id.validate_python(request.path_params["requestId"])
    except ValidationError as invalid:
        raise RequestValidationError(
            [{**error, "loc": ("path", "requestId")} for error in invalid.errors()]
        ) from None
    context = await get_context(request)
    unit = await get_unit_of_work(request, context, await bearer_scheme(request))
    return await _disclosed_answers(request_id, unit, context, await _traceparent(request))


class _HotRoute(Route):
    """A plain route for GET only: any other method on its path is left to the documented
    routes (the answer's POST; a 405 naming what they allow, as before), so this one never
    answers anything but its read. It names itself as the matched route, as Starlette's own
    router would (FastAPI's does not for a plain route): the access log line and the metrics
    label carry its template."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http" or scope["method"] != "GET":
            return Match.NONE, {}
        match, child_scope = super().matches(scope)
        if match is Match.FULL:
            child_scope["route"] = self
        return match, child_scope


def hot_routes(prefix: str) -> list[BaseRoute]:
    """The routes to try before every other (gateway/app.py): the mediated read, most of the
    traffic, served by :func:`serve_answers`; :func:`read_answers` documents it."""
    return [
        _HotRoute(
            prefix + "/information-requests/{requestId}/answers",
            serve_answers,
            methods=["GET"],
            include_in_schema=False,
        )
    ]


@router.get("/inbox", summary="Open work for the calling partner (long poll)")
async def read_inbox(
    context: Context,
    principal: CurrentPrincipal,
    wait_seconds: Annotated[
        float,
        Query(
            alias="waitSeconds",
            ge=0,
            le=60,
            description="Hold the call up to this long until there is work (long polling).",
        ),
    ] = 0,
) -> Inbox:
    """Never holds a database transaction while waiting: each look is its own short one."""
    return await inbox_service.wait_for_inbox(
        context=context, principal=principal, wait_seconds=wait_seconds, run=run_in_threadpool
    )


@router.post("/case-facts", status_code=201, summary="Add a fact to a case (case-team partner)")
def push_case_fact(
    body: CaseFactIn,
    principal: CurrentPrincipal,
    session: DbSession,
    exchange: ExchangeDep,
    traceparent: Traceparent,
    idempotency: Idempotent,
) -> CaseFactOut:
    """Stored encrypted under the case's key scope; only a category the partner holds."""
    return idempotency.run(
        "push-case-fact",
        body,
        CaseFactOut,
        lambda: enforcement.push_case_fact(
            session=session,
            exchange=exchange,
            principal=principal,
            fact=body,
            traceparent=traceparent,
        ),
        status_code=201,
    )


@router.post("/case-facts/queries", summary="Read a case's stored facts (case-team member)")
def query_case_facts(
    body: CaseFactQuery,
    principal: CurrentPrincipal,
    session: DbSession,
    exchange: ExchangeDep,
    traceparent: Traceparent,
) -> DisclosureOut:
    """The same decision as a request: disclosed or redacted per category, audited."""
    return enforcement.disclose_case_facts(
        session=session,
        exchange=exchange,
        principal=principal,
        query=body,
        traceparent=traceparent,
    )


@router.get("/disclosures/{disclosureId}/receipt", summary="A disclosure's audit receipt")
def read_disclosure_receipt(
    disclosure_id: DisclosureId, principal: CurrentPrincipal, session: DbSession, context: Context
) -> Receipt:
    """With the inclusion proof against the latest checkpoint with the witness quorum once one
    covers it (``witnessed`` says whether one does)."""
    return enforcement.disclosure_receipt(
        session=session,
        audit=context.audit,
        principal=principal,
        disclosure_id=disclosure_id,
    )
