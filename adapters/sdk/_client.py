"""``KetenpoortClient``: the gateway's API as typed async methods."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Sequence

from pydantic import TypeAdapter

from adapters.sdk._http import BaseClient
from adapters.sdk._models import (
    AnswerIn,
    AnswerReceipt,
    CaseEvent,
    CaseEventIn,
    CaseFact,
    CaseFactIn,
    CaseFactQuery,
    CaseListItem,
    CasePage,
    CaseSummary,
    CategoryAnswer,
    Consent,
    ConsentIn,
    Disclosure,
    Inbox,
    InformationRequest,
    InformationRequestIn,
    InvestigationStatus,
    Me,
    Recipient,
)

_ME = TypeAdapter(Me)
_INBOX = TypeAdapter(Inbox)
_REQUEST = TypeAdapter(InformationRequest)
_ANSWER_RECEIPT = TypeAdapter(AnswerReceipt)
_DISCLOSURE = TypeAdapter(Disclosure)
_CASE_FACT = TypeAdapter(CaseFact)
_CASE_PAGE = TypeAdapter(CasePage)
_CONSENT = TypeAdapter(Consent)
_CASE = TypeAdapter(CaseSummary)
_INVESTIGATION = TypeAdapter(InvestigationStatus)
_CASE_EVENT = TypeAdapter(CaseEvent)

#: The longest wait the gateway accepts for one inbox poll (seconds).
MAX_WAIT_SECONDS = 60.0
#: The largest page the gateway serves (``limit`` of a paged list).
MAX_PAGE = 500
# The connection must outlive the gateway's wait, or the client gives up on a healthy poll.
_POLL_GRACE_SECONDS = 10.0


class KetenpoortClient(BaseClient):
    """An async client for one partner, acting in one role.

    ::

        async with KetenpoortClient(
            "http://127.0.0.1:8000", "politie-midden-nederland", "keys/politie.pem"
        ) as client:
            inbox = await client.inbox(wait_seconds=25)
            for item in inbox.items:
                await client.answer(item.request_id, [CategoryAnswer.whether(c, False)
                                                      for c in item.categories])

    Every call signs a fresh single-use token; POSTs carry an idempotency key and are
    retried with the same key on 503 or a broken connection, never on a 4xx answer.
    ``transport`` (an ``httpx.AsyncBaseTransport``) replaces the network, e.g.
    ``httpx.ASGITransport(app)`` or ``httpx.MockTransport(handler)`` in tests.
    """

    # --- identity ---------------------------------------------------------------------

    async def me(self) -> Me:
        """Who the gateway says this client is: partner, kind, covenant, role."""
        return await self.get_json("/me", _ME)

    # --- the partner inbox --------------------------------------------------------------

    async def inbox(self, *, wait_seconds: float = 0) -> Inbox:
        """Open work for this partner; with ``wait_seconds`` the gateway holds the call
        until there is work or the time is up (long polling: no inbound port needed)."""
        wait = min(max(wait_seconds, 0.0), MAX_WAIT_SECONDS)
        return await self.get_json(
            "/inbox",
            _INBOX,
            params={"waitSeconds": _seconds(wait)},
            timeout=wait + _POLL_GRACE_SECONDS if wait else None,
        )

    async def poll_inbox(
        self, *, wait_seconds: float = 25, stop: asyncio.Event | None = None
    ) -> AsyncIterator[Inbox]:
        """Long-poll forever (or until ``stop`` is set), yielding each inbox that has work.

        Items stay in the inbox until answered, so a consumer that skips an item sees it
        again on the next poll.
        """
        while stop is None or not stop.is_set():
            inbox = await self.inbox(wait_seconds=wait_seconds)
            if inbox.items:
                yield inbox

    async def answer(
        self,
        request_id: str,
        answers: Sequence[CategoryAnswer],
        *,
        idempotency_key: str | None = None,
    ) -> AnswerReceipt:
        """Answer an information request addressed to this partner, all categories at once.

        The gateway decides again on delivery: a category no longer allowed comes back
        ``withheld`` and its value is not stored.
        """
        body = AnswerIn(answers=list(answers))
        return await self.post_json(
            f"/information-requests/{request_id}/answers",
            _ANSWER_RECEIPT,
            body,
            idempotency_key=idempotency_key,
        )

    # --- information requests (requester side) -------------------------------------------

    async def request_information(
        self,
        case_id: str,
        purpose: str,
        categories: Iterable[str] = (),
        *,
        recipients: Iterable[Recipient] = (),
        idempotency_key: str | None = None,
    ) -> InformationRequest:
        """Ask the case team for categories of a case, for one purpose (case manager)."""
        body = InformationRequestIn(
            case_id=case_id,
            purpose=purpose,
            categories=list(categories),
            recipients=list(recipients),
        )
        return await self.post_json(
            "/information-requests", _REQUEST, body, idempotency_key=idempotency_key
        )

    async def information_request(self, request_id: str) -> InformationRequest:
        """A request and the state of each category (no values)."""
        return await self.get_json(f"/information-requests/{request_id}", _REQUEST)

    async def read_answers(self, request_id: str) -> Disclosure:
        """The answers, each category disclosed or redacted with reason and clause."""
        return await self.get_json(f"/information-requests/{request_id}/answers", _DISCLOSURE)

    # --- pushed case facts ----------------------------------------------------------------

    async def push_fact(
        self,
        case_id: str,
        category: str,
        *,
        value: str | None = None,
        yes_no: bool | None = None,
        idempotency_key: str | None = None,
    ) -> CaseFact:
        """Add a fact to a case on this partner's own initiative (a category it holds)."""
        body = CaseFactIn(case_id=case_id, category=category, value=value, yes_no=yes_no)
        return await self.post_json(
            "/case-facts", _CASE_FACT, body, idempotency_key=idempotency_key
        )

    async def read_facts(self, case_id: str, purpose: str, categories: Iterable[str]) -> Disclosure:
        """A case's stored facts, through the same policy decision as a request."""
        body = CaseFactQuery(case_id=case_id, purpose=purpose, categories=list(categories))
        return await self.post_json("/case-facts/queries", _DISCLOSURE, body)

    # --- cases ----------------------------------------------------------------------------

    async def cases(
        self, *, include_closed: bool = True, page_size: int = MAX_PAGE
    ) -> list[CaseListItem]:
        """The cases this partner is involved in, oldest first: every page, followed."""
        return [
            case
            async for case in self.iter_cases(include_closed=include_closed, page_size=page_size)
        ]

    async def iter_cases(
        self, *, include_closed: bool = True, page_size: int = MAX_PAGE
    ) -> AsyncIterator[CaseListItem]:
        """The cases this partner is involved in, a page (``page_size``, 1..500) at a time,
        following ``_links.next`` until the last page."""
        cursor: str | None = None
        while True:
            page = await self.cases_page(
                include_closed=include_closed, limit=page_size, cursor=cursor
            )
            for case in page.embedded.cases:
                yield case
            cursor = page.next_cursor
            if cursor is None:
                return

    async def cases_page(
        self, *, include_closed: bool = True, limit: int = 100, cursor: str | None = None
    ) -> CasePage:
        """One page of ``GET /v1/cases``; ``cursor`` from the page before (``next_cursor``)."""
        params: dict[str, str | int | bool] = {"includeClosed": include_closed, "limit": limit}
        if cursor is not None:
            params["cursor"] = cursor
        return await self.get_json("/cases", _CASE_PAGE, params=params)

    async def case(self, case_id: str) -> CaseSummary:
        """A case without personal data: state, team, consents, investigation status."""
        return await self.get_json(f"/cases/{case_id}", _CASE)

    async def set_investigation_status(self, case_id: str, *, running: bool | None) -> bool | None:
        """Police: tell the gateway whether an investigation runs (a PUT: safe to repeat);
        None: the police no longer record it (the policy treats that as running)."""
        response = await self.request(
            "PUT",
            f"/cases/{case_id}/investigation-status",
            # A mapping, not the model: the SDK leaves out None fields, and here null is
            # the message ("not recorded").
            json={"running": running},
        )
        return _INVESTIGATION.validate_json(response.content).running

    async def record_consent(
        self, case_id: str, consent: ConsentIn, *, idempotency_key: str | None = None
    ) -> Consent:
        """Register an OM consent (police) or a corporation's permission on a case."""
        return await self.post_json(
            f"/cases/{case_id}/consents", _CONSENT, consent, idempotency_key=idempotency_key
        )

    async def record_case_event(
        self, case_id: str, event: CaseEventIn, *, idempotency_key: str | None = None
    ) -> CaseEvent:
        """Record a case event, e.g. the corporation's eviction procedure (U §5.2, §5.3)."""
        return await self.post_json(
            f"/cases/{case_id}/events", _CASE_EVENT, event, idempotency_key=idempotency_key
        )

    async def withdraw_consent(self, case_id: str, consent_id: str) -> Consent:
        """Withdraw a consent this partner recorded (e.g. the OM revoked its consent)."""
        return await self.post_json(
            f"/cases/{case_id}/consents/{consent_id}/withdrawal", _CONSENT, None
        )


def _seconds(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:.3f}"
