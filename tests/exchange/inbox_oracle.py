"""The partner inbox's permission and reporter items as gateway/exchange/inbox.py computed them
before issue 20 (two statements per open case of the partner: its consents, and its team with
its undecided reports), kept word for word as the oracle the set-based reads are checked
against (tests/exchange/test_inbox_at_any_size.py). Not used by the gateway.

One change since: a permission request is listed only where the caller can give it, as
``POST /v1/cases/{caseId}/consents`` checks (review4, "Permission inbox without team
check"): not for a privacy officer, and only in a case whose team the corporation is in (or
leads), read here case by case as the route reads it (``gateway.cases.access.visible_case``)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.auth.principal import Principal
from gateway.context import GatewayContext
from gateway.db import transaction, utcnow
from gateway.exchange.inbox import MAX_ITEMS, _information_items, _notice_items
from gateway.exchange.schemas import Inbox, InboxItem


def _permission_items(
    session: Session, context: GatewayContext, principal: Principal
) -> list[InboxItem]:
    """Cases waiting for this corporation's permission (U §5.1), due per the workflow's
    deadline (three days, U §5.2, under the Algemene termijnenwet), as computed by the cases
    domain."""
    if principal.partner_kind != "housing-corporation" or principal.grant.audits:
        return []
    # As the product since review8c F3: a failure here fails the inbox, never "no work".
    from gateway.cases.access import team_ids
    from gateway.cases.deadlines import case_deadlines
    from gateway.cases.models import CaseConsent, CaseFile, Dwelling

    runtime = context.cases
    rows = session.execute(
        select(CaseFile, Dwelling)
        .join(Dwelling, Dwelling.id == CaseFile.dwelling_id)
        .where(
            Dwelling.corporation_id == principal.partner_id,
            CaseFile.covenant_id == principal.covenant_id,
            CaseFile.closed_at.is_(None),
        )
    ).all()
    items = []
    now = utcnow()
    for case, dwelling in rows:
        if case.lead_partner_id != principal.partner_id and principal.partner_id not in (
            team_ids(session, case.id)
        ):
            continue
        consents = list(session.scalars(select(CaseConsent).where(CaseConsent.case_id == case.id)))
        for running in case_deadlines(
            definition=runtime.workflow(case.covenant_id),
            calendar=runtime.calendar(case.covenant_id),
            case=case,
            dwelling=dwelling,
            consents=consents,
            now=now,
        ):
            if (
                running.responsible_partner_id == principal.partner_id
                and running.deadline.met_by_consent == "corporation-permission"
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
    from gateway.cases.models import CaseFile
    from gateway.cases.reports import decision_due_on, pending_reports

    runtime = context.cases
    items = []
    for case in session.scalars(
        select(CaseFile).where(
            CaseFile.lead_partner_id == principal.partner_id,
            CaseFile.covenant_id == principal.covenant_id,
            CaseFile.closed_at.is_(None),
        )
    ):
        calendar = runtime.calendar(case.covenant_id)
        for report in pending_reports(session, case):
            due_on = decision_due_on(calendar, report)
            items.append(
                InboxItem(
                    kind="reporter-decision",
                    request_id=report.id,
                    case_id=case.id,
                    case_reference=case.reference,
                    covenant_id=case.covenant_id,
                    requester_partner_id=report.source_partner_id,
                    created_at=report.registered_at,
                    due_at=calendar.end_of_day(due_on),
                    due_on=due_on,
                )
            )
    return items[:MAX_ITEMS]


def read_inbox(context: GatewayContext, principal: Principal) -> Inbox:
    with transaction(context.session_factory) as session:
        items = (
            _permission_items(session, context, principal)
            + _reporter_items(session, context, principal)
            + _notice_items(session, principal)
            + _information_items(session, principal)
        )
    return Inbox(partner_id=principal.partner_id, items=items)
