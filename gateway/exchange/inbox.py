"""The partner inbox: open work addressed to the calling partner, by long polling.

A back office behind a firewall needs no inbound port: its adapter holds
``GET /v1/inbox?waitSeconds=25`` open and the gateway answers as soon as there is work. The
wait never holds a database transaction: each look is a short read of its own. A request
made in this process wakes waiting callers at once (after its commit); requests made by
another replica are seen at the next look (every ``POLL_SECONDS``).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from gateway.auth.principal import Principal
from gateway.cases.live import not_erased
from gateway.context import GatewayContext
from gateway.db import transaction, utcnow
from gateway.exchange.models import InformationRequest, RequestItem
from gateway.exchange.schemas import Inbox, InboxItem

POLL_SECONDS = 1.0
_TICK_SECONDS = 0.05
MAX_ITEMS = 100

T = TypeVar("T")
Run = Callable[..., Awaitable[Any]]


class _Generations:
    """A counter per partner, bumped when work for it commits in this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, int] = {}

    def get(self, partner: str) -> int:
        with self._lock:
            return self._values.get(partner, 0)

    def bump(self, partners: Iterable[str]) -> None:
        with self._lock:
            for partner in partners:
                self._values[partner] = self._values.get(partner, 0) + 1


_generations = _Generations()


def notify_after_commit(session: Session, partners: set[str]) -> None:
    """Wake the partners' long polls once (and only if) the session commits."""
    if partners:
        event.listen(session, "after_commit", lambda _: _generations.bump(partners), once=True)


def _information_items(session: Session, principal: Principal) -> list[InboxItem]:
    # A privacy officer audits; it never answers (403, gateway/exchange/enforcement.py): the
    # list and the action agree.
    if principal.grant.audits:
        return []
    from gateway.cases.districts import partner_cases
    from gateway.cases.models import CaseFile

    # The case's reference (an opaque dossier number, no personal data) lets an adapter
    # match its export without another call. A case erased under retention takes no
    # answers (410), so its open requests are no longer work; nor are those of a case whose
    # team the partner has left (outside the team the case does not exist, U §6).
    rows = session.execute(
        select(InformationRequest, RequestItem, CaseFile.reference)
        .join(RequestItem, RequestItem.request_id == InformationRequest.id)
        .outerjoin(CaseFile, CaseFile.id == InformationRequest.case_id)
        .where(
            RequestItem.partner_id == principal.partner_id,
            RequestItem.state == "asked",
            InformationRequest.covenant_id == principal.covenant_id,
            not_erased(InformationRequest.case_id),
            partner_cases(principal.partner_id),
        )
        .order_by(InformationRequest.created_at, RequestItem.id)
    ).all()
    items: dict[str, InboxItem] = {}
    for request, item, reference in rows:
        current = items.get(request.id)
        if current is None:
            if len(items) >= MAX_ITEMS:
                break
            current = InboxItem(
                kind="information-request",
                request_id=request.id,
                case_id=request.case_id,
                case_reference=reference,
                covenant_id=request.covenant_id,
                purpose=request.purpose,
                requester_partner_id=request.requester_partner_id,
                requester_role=request.requester_role,
                created_at=request.created_at,
                due_at=request.due_at,
            )
        items[request.id] = current.model_copy(
            update={
                "categories": [*current.categories, item.category],
                "answer_forms": {**current.answer_forms, item.category: item.answer_form},
            }
        )
    return list(items.values())


def _permission_items(
    session: Session, context: GatewayContext, principal: Principal
) -> list[InboxItem]:
    """Cases waiting for this corporation's permission (U §5.1), due per the workflow's
    deadline (three days, U §5.2, under the Algemene termijnenwet), as computed by the cases
    domain: only those where the caller can give it (gateway/cases/changes.record_consent),
    so the list and the action agree."""
    # A privacy officer records no consent (403): not its work.
    if principal.partner_kind != "housing-corporation" or principal.grant.audits:
        return []
    # No catch-all here (review8c F3): a failure while listing them fails the whole inbox
    # (500, or 503 when the database is unavailable), never a 200 without them, which told
    # the corporation "no work" while its three days ran; on PostgreSQL the aborted
    # transaction failed the other sections anyway.
    from gateway.cases.consents import CORPORATION_PERMISSION
    from gateway.cases.deadlines import case_deadlines
    from gateway.cases.districts import partner_cases
    from gateway.cases.models import CaseConsent, CaseFile, Dwelling

    runtime = context.cases
    # Only the states in which the corporation's answer is due (Utrecht: permission-
    # requested), from the workflow data: a case in another state has no such deadline
    # running, and these few are read from an index on (covenant, state) rather than
    # every open case of the covenant with the corporation's dwellings (issue 20;
    # docs/performance.md, "The permission inbox").
    asking = sorted(
        {
            state
            for deadline in runtime.workflow(principal.covenant_id).all_deadlines
            if deadline.met_by_consent == CORPORATION_PERMISSION
            and deadline.responsible == "dwelling-corporation"
            for state in deadline.open_in
        }
    )
    if not asking:
        return []
    # As the permission's route checks: the landlord of a corporation dwelling, in the
    # case's team (a landlord the lead removed from it cannot see the case, 404: outside
    # the team the case does not exist, U §6; review4), the case open and not erased
    # under retention (410).
    waiting = (
        Dwelling.corporation_id == principal.partner_id,
        Dwelling.ownership == "corporation",
        CaseFile.covenant_id == principal.covenant_id,
        CaseFile.state.in_(asking),
        CaseFile.closed_at.is_(None),
        not_erased(CaseFile.id),
        partner_cases(principal.partner_id),
    )
    rows = session.execute(
        select(CaseFile, Dwelling)
        .join(Dwelling, Dwelling.id == CaseFile.dwelling_id)
        .where(*waiting)
        .order_by(CaseFile.first_report_at, CaseFile.id)
    ).all()
    # The consents of all those cases in one statement (not one per case: issue 20).
    consents: dict[str, list[CaseConsent]] = {case.id: [] for case, _ in rows}
    if rows:
        for consent in session.scalars(
            select(CaseConsent).where(
                CaseConsent.case_id.in_(
                    select(CaseFile.id)
                    .join(Dwelling, Dwelling.id == CaseFile.dwelling_id)
                    .where(*waiting)
                )
            )
        ):
            if consent.case_id in consents:
                consents[consent.case_id].append(consent)
    items = []
    now = utcnow()
    for case, dwelling in rows:
        for running in case_deadlines(
            definition=runtime.workflow(case.covenant_id),
            calendar=runtime.calendar(case.covenant_id),
            case=case,
            dwelling=dwelling,
            consents=consents[case.id],
            now=now,
        ):
            if (
                running.responsible_partner_id == principal.partner_id
                and running.deadline.met_by_consent == CORPORATION_PERMISSION
            ):
                items.append(
                    InboxItem(
                        kind="permission-request",
                        case_id=case.id,
                        case_reference=case.reference,
                        covenant_id=case.covenant_id,
                        created_at=case.state_entered_at,
                        due_at=running.due.at,
                        due_on=running.due.on,
                    )
                )
    return items


def _reporter_items(
    session: Session, context: GatewayContext, principal: Principal
) -> list[InboxItem]:
    """Reports from partners outside the team of a case this partner leads, awaiting its
    decision (U §6): for the lead's people only, not its back-office adapter (the decision
    is theirs, and an adapter would see work it cannot do at every poll)."""
    if not principal.grant.casework:
        return []
    from gateway.cases.awaiting import awaiting_the_lead
    from gateway.cases.models import CaseFile, CaseReport
    from gateway.cases.reports import REPORTER_DECISION_DAYS

    # The reports awaiting the lead by their stored flag (gateway/cases/awaiting.py: undecided,
    # the reporter neither the lead nor in the team, the case open), in one statement for all
    # the lead's open cases; case by case (oldest first report first), each by registration.
    # An open case erased under retention (no activity) takes no decision (410): not work.
    rows = session.execute(
        select(
            CaseReport.id,
            CaseReport.source_partner_id,
            CaseReport.registered_at,
            CaseFile.id,
            CaseFile.reference,
            CaseFile.covenant_id,
        )
        .join(CaseFile, CaseFile.id == CaseReport.case_id)
        .where(
            *awaiting_the_lead(principal.partner_id, principal.covenant_id),
            not_erased(CaseFile.id),
        )
        .order_by(CaseFile.first_report_at, CaseFile.id, CaseReport.registered_at, CaseReport.id)
        .limit(MAX_ITEMS)
    ).all()
    runtime = context.cases
    items = []
    for report_id, reporter, registered_at, case_id, reference, covenant_id in rows:
        calendar = runtime.calendar(covenant_id)
        # As gateway/cases/reports.decision_due_on, from the registration alone.
        due_on = calendar.local_date(registered_at) + timedelta(days=REPORTER_DECISION_DAYS)
        items.append(
            InboxItem(
                kind="reporter-decision",
                request_id=report_id,
                case_id=case_id,
                case_reference=reference,
                covenant_id=covenant_id,
                requester_partner_id=reporter,
                created_at=registered_at,
                due_at=calendar.end_of_day(due_on),
                due_on=due_on,
            )
        )
    return items


def _notice_items(session: Session, principal: Principal) -> list[InboxItem]:
    """Unread notices for this partner (R §2.3: the municipality told that the corporation
    took the lead back, or of a legal measure it recorded), for its people: not for its
    back-office adapter, whose long poll would return at once for as long as a notice it
    cannot mark read is waiting (as with reporter decisions), nor for a privacy officer.
    A notice of a case erased under retention, or of a case the partner has left, is no
    longer news."""
    if not principal.grant.casework:
        return []
    from gateway.cases.models import CaseFile, CaseNotice, CaseTeamMember

    member = select(CaseTeamMember.case_id).where(CaseTeamMember.partner_id == principal.partner_id)
    rows = session.execute(
        select(CaseNotice, CaseFile.reference, CaseFile.covenant_id)
        .join(CaseFile, CaseFile.id == CaseNotice.case_id)
        .where(
            CaseNotice.partner_id == principal.partner_id,
            CaseNotice.read_at.is_(None),
            CaseFile.covenant_id == principal.covenant_id,
            not_erased(CaseFile.id),
            (CaseFile.lead_partner_id == principal.partner_id) | CaseFile.id.in_(member),
        )
        .order_by(CaseNotice.created_at, CaseNotice.id)
        .limit(MAX_ITEMS)
    ).all()
    return [
        InboxItem(
            kind="notice",
            request_id=notice.id,
            case_id=notice.case_id,
            case_reference=reference,
            covenant_id=covenant_id,
            requester_partner_id=notice.from_partner_id,
            notice=notice.subject,
            created_at=notice.created_at,
        )
        for notice, reference, covenant_id in rows
    ]


def read_inbox(context: GatewayContext, principal: Principal) -> Inbox:
    with transaction(context.session_factory) as session:
        items = (
            _permission_items(session, context, principal)
            + _reporter_items(session, context, principal)
            + _notice_items(session, principal)
            + _information_items(session, principal)
        )
    return Inbox(partner_id=principal.partner_id, items=items)


async def wait_for_inbox(
    *, context: GatewayContext, principal: Principal, wait_seconds: float, run: Run
) -> Inbox:
    """Answer at once when there is work, else when work arrives or ``wait_seconds`` pass."""
    deadline = time.monotonic() + wait_seconds
    while True:
        generation = _generations.get(principal.partner_id)
        inbox: Inbox = await run(read_inbox, context, principal)
        if inbox.items or time.monotonic() >= deadline:
            return inbox
        next_look = min(deadline, time.monotonic() + POLL_SECONDS)
        while time.monotonic() < next_look:
            if _generations.get(principal.partner_id) != generation:
                break
            await asyncio.sleep(_TICK_SECONDS)
