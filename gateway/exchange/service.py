"""Information requests, answers, pushed case facts and their disclosure: the one flow.

Every function here takes the request's session and plain values, decides through the
policy, decrypts only what is disclosed, and appends the audit entry as the last step of the
caller's transaction (no audit record, no disclosure). Nothing else in the gateway reads the
plaintext of answers and case facts.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from gateway.audit import AuditLog, Receipt
from gateway.auth.principal import Principal
from gateway.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from gateway.crypto.fields import case_scope
from gateway.db import HotStatement, utcnow
from gateway.exchange import inbox
from gateway.exchange.decisions import (
    CaseView,
    EntryFacts,
    answer_form,
    decide,
    governing_clauses,
    load_case,
    record,
    stored_actor,
)
from gateway.exchange.deps import Exchange
from gateway.exchange.models import CaseFact, Disclosure, InformationRequest, RequestItem
from gateway.exchange.reading import AskedItem, SealedFact, disclose
from gateway.exchange.schemas import (
    AnswerIn,
    AnswerReceipt,
    CaseFactIn,
    CaseFactOut,
    CaseFactQuery,
    CategoryAnswerIn,
    CategoryStatus,
    DisclosureOut,
    InformationRequestIn,
    InformationRequestOut,
    RequestState,
)
from gateway.retention.models import RetentionCase
from gateway.retention.service import Erasure, ensure_not_erased, erasure_of


class RequestNotFound(NotFound):
    problem = "information-request-not-found"
    title = "Information request not found"


class InvalidAnswer(Unprocessable):
    problem = "invalid-answer"
    title = "Invalid answer"


class InvalidRequest(Unprocessable):
    problem = "invalid-information-request"
    title = "Invalid information request"


def _exchanging(principal: Principal) -> None:
    # An audit role (the privacy officer) audits; it never asks, answers or pushes.
    if principal.grant.audits:
        raise Forbidden(f"The role {principal.role!r} does not exchange case data.")


# --- requests ---------------------------------------------------------------------------------


def _addressed(
    view: CaseView, request: InformationRequestIn, principal: Principal
) -> list[tuple[str, str]]:
    """(partner, category) pairs: explicit recipients, or the case-team partners whose kind
    holds each category. A category nobody could provide is a bad request, not a denial."""
    covenant = view.covenant
    pairs: list[tuple[str, str]] = []
    for recipient in request.recipients:
        partner = covenant.partner(recipient.partner_id)
        if partner is None:
            raise InvalidRequest(f"'{recipient.partner_id}' is not a partner of this covenant.")
        for category in recipient.categories:
            found = covenant.category(category)
            if found is None or found.owner != partner.kind:
                raise InvalidRequest(
                    f"'{recipient.partner_id}' ({partner.kind}) does not hold '{category}'."
                )
            pairs.append((partner.id, category))
    for category in request.categories:
        found = covenant.category(category)
        if found is None:
            raise InvalidRequest(f"'{category}' is not a data category of this covenant.")
        holders = [
            p.id
            for p in covenant.partners
            if p.kind == found.owner and p.id in view.case.team and p.id != principal.partner_id
        ]
        if not holders:
            raise InvalidRequest(
                f"No partner holding '{category}' ({found.owner}) is in the case team; "
                "address one with 'recipients'."
            )
        pairs += [(holder, category) for holder in holders]
    return list(dict.fromkeys(pairs))


def request_state(items: Sequence[RequestItem]) -> RequestState:
    states = {item.state for item in items}
    if "asked" in states:
        return "open"
    if states <= {"denied", "withheld"}:
        return "denied"
    if states & {"denied", "withheld"}:
        return "partially-answered"
    return "answered"


def _status(item: RequestItem) -> CategoryStatus:
    return CategoryStatus(
        partner_id=item.partner_id,
        category=item.category,
        state=item.state,
        answer_form=item.answer_form,
        reasons=list(item.reasons),
        clauses=list(item.clauses),
        answered_at=item.answered_at,
    )


def _request_out(
    session: Session, audit: AuditLog, request: InformationRequest, items: Sequence[RequestItem]
) -> InformationRequestOut:
    return InformationRequestOut(
        id=request.id,
        case_id=request.case_id,
        covenant_id=request.covenant_id,
        purpose=request.purpose,
        requester_partner_id=request.requester_partner_id,
        requester_role=request.requester_role,
        state=request_state(items),
        created_at=request.created_at,
        due_at=request.due_at,
        items=[_status(item) for item in items],
        decision_id=request.decision_id,
        bundle_revision=request.bundle_revision,
        receipt=audit.receipt(session, request.audit_index),
    )


def create_information_request(
    *,
    session: Session,
    exchange: Exchange,
    principal: Principal,
    request: InformationRequestIn,
    traceparent: str | None = None,
) -> InformationRequestOut:
    """Ask partners for categories about a case for a purpose; decided now (U §5.3, §5.6).

    Categories no clause allows are ``denied`` with the policy's reasons and the clauses
    that govern them; the rest are ``asked`` and appear in the partners' inboxes.
    """
    started = utcnow()
    _exchanging(principal)
    view = load_case(
        session, exchange, case_id=request.case_id, principal=principal, team_only=True
    )
    pairs = _addressed(view, request, principal)
    decision = decide(
        exchange,
        view,
        partner=principal.partner_id,
        role=principal.role,
        user=principal.user,
        categories=[category for _, category in pairs],
        purpose=request.purpose,
        now=started,
    )
    row = InformationRequest(
        id=str(uuid.uuid4()),
        case_id=view.case.id,
        covenant_id=view.covenant.id,
        purpose=request.purpose,
        requester_partner_id=principal.partner_id,
        requester_role=principal.role,
        requester_user=principal.user,
        created_at=started,
        due_at=None,
        decision_id=decision.decision_id,
        bundle_revision=decision.bundle_revision,
        audit_index=-1,
    )
    items = []
    for partner, category in pairs:
        verdict = decision.categories[category]
        allowed = verdict.outcome == "disclose"
        items.append(
            RequestItem(
                request_id=row.id,
                partner_id=partner,
                category=category,
                answer_form=answer_form(view.covenant, category),
                state="asked" if allowed else "denied",
                reasons=[] if allowed else list(verdict.reasons),
                clauses=(
                    list(verdict.clauses) if allowed else governing_clauses(view.covenant, category)
                ),
            )
        )
    asked = [i for i in items if i.state == "asked"]
    receipt = record(
        session,
        exchange,
        EntryFacts(
            activity="information-request",
            outcome="recorded" if asked else "denied",
            started_at=started,
            view=view,
            purpose=request.purpose,
            clauses=decision.clauses,
            decision=decision,
            caller=principal,
            data_owners=sorted({i.partner_id for i in asked}),
            redacted=[(i.category, i.reasons[0]) for i in items if i.state == "denied"],
            attributes={
                "request-id": row.id,
                "asked": len(asked),
                "denied": len(items) - len(asked),
            },
        ),
        traceparent=traceparent,
    )
    row.audit_index = receipt.index
    session.add(row)
    session.flush()
    session.add_all(items)
    session.flush()
    inbox.notify_after_commit(session, {i.partner_id for i in asked})
    return _request_out(session, exchange.audit, row, items).model_copy(update={"receipt": receipt})


def _load_request(
    session: Session, request_id: str
) -> tuple[InformationRequest, list[RequestItem]]:
    # One round trip for the request and its items: on the read path (under load) every
    # round trip to the database counts.
    rows = session.execute(
        select(InformationRequest, RequestItem)
        .join(RequestItem, RequestItem.request_id == InformationRequest.id)
        .where(InformationRequest.id == request_id)
        .order_by(RequestItem.id)
    ).all()
    if rows:
        return rows[0][0], [item for _, item in rows]
    row = session.get(InformationRequest, request_id)
    if row is None:
        raise RequestNotFound("No information request with this id is visible to your partner.")
    return row, []


class _AskedRequest(NamedTuple):
    id: str
    case_id: str
    covenant_id: str
    purpose: str
    requester_partner_id: str


class _AskedItem(NamedTuple):
    category: str
    partner_id: str
    state: str
    reasons: list[str]
    fact_id: str | None


class _Answer(NamedTuple):
    id: str
    case_id: str
    category: str
    partner_id: str
    answer_form: str
    recorded_at: datetime
    value_sealed: bytes


_REQUEST_COLUMNS = (
    InformationRequest.id,
    InformationRequest.case_id,
    InformationRequest.covenant_id,
    InformationRequest.purpose,
    InformationRequest.requester_partner_id,
)
_ITEM_COLUMNS = (
    RequestItem.category,
    RequestItem.partner_id,
    RequestItem.state,
    RequestItem.reasons,
    RequestItem.fact_id,
)
_ANSWER_COLUMNS = (
    CaseFact.id,
    CaseFact.case_id,
    CaseFact.category,
    CaseFact.partner_id,
    CaseFact.answer_form,
    CaseFact.recorded_at,
    CaseFact.value_sealed,
)
#: The mediated read's first statement: columns only, compiled once, run on the DBAPI
#: cursor (ORM entities and SQLAlchemy's result layer cost more than the query).
_REQUEST_WITH_FACTS = HotStatement(
    select(
        *_REQUEST_COLUMNS,
        *_ITEM_COLUMNS,
        *_ANSWER_COLUMNS,
        RetentionCase.erased_rule_id,
        RetentionCase.erased_at,
    )
    .select_from(InformationRequest)
    .join(RequestItem, RequestItem.request_id == InformationRequest.id)
    .outerjoin(CaseFact, CaseFact.id == RequestItem.fact_id)
    .outerjoin(RetentionCase, RetentionCase.case_id == InformationRequest.case_id)
    .where(InformationRequest.id == bindparam("request_id"))
    .order_by(RequestItem.id)
)
_ITEMS_AT = len(_REQUEST_COLUMNS)
_ANSWER_AT = _ITEMS_AT + len(_ITEM_COLUMNS)
_ERASURE_AT = _ANSWER_AT + len(_ANSWER_COLUMNS)


def _load_request_with_facts(
    session: Session, request_id: str
) -> tuple[
    _AskedRequest | InformationRequest, list[AskedItem], dict[str, SealedFact], Erasure | None
]:
    """``_load_request`` plus each answered item's fact and the case's erasure (retention's
    register, one row per case), in the same one round trip."""
    rows = _REQUEST_WITH_FACTS.rows(session.connection(), {"request_id": request_id})
    if not rows:
        row, stored = _load_request(session, request_id)
        return row, list(stored), {}, erasure_of(session=session, case_id=row.case_id)
    first = rows[0]
    request = _AskedRequest._make(first[:_ITEMS_AT])
    rule_id, erased_at = first[_ERASURE_AT:]
    erasure = (
        Erasure(case_id=request.case_id, rule_id=rule_id or "", erased_at=erased_at)
        if erased_at is not None
        else None
    )
    items: list[AskedItem] = [_AskedItem._make(r[_ITEMS_AT:_ANSWER_AT]) for r in rows]
    facts: dict[str, SealedFact] = {
        r[_ANSWER_AT]: _Answer._make(r[_ANSWER_AT:_ERASURE_AT])
        for r in rows
        if r[_ANSWER_AT] is not None
    }
    return request, items, facts, erasure


def information_request_status(
    *, session: Session, exchange: Exchange, principal: Principal, request_id: str
) -> InformationRequestOut:
    """The request's state per category, for its requester and the addressed partners."""
    row, items = _load_request(session, request_id)
    involved = {row.requester_partner_id} | {i.partner_id for i in items}
    if principal.partner_id not in involved or principal.covenant_id != row.covenant_id:
        raise RequestNotFound("No information request with this id is visible to your partner.")
    ensure_not_erased(session=session, case_id=row.case_id)
    return _request_out(session, exchange.audit, row, items)


# --- answers ----------------------------------------------------------------------------------


def _sealed_answer(given: CategoryAnswerIn, form: str) -> str:
    """The text to store, in the form the covenant allows (U §5.3 "het feit of": yes/no)."""
    if form == "yes-no":
        if given.yes_no is None:
            raise InvalidAnswer(f"'{given.category}' is answered yes or no only (yesNo).")
        return "yes" if given.yes_no else "no"
    if given.value is None:
        raise InvalidAnswer(f"'{given.category}' needs a 'value'.")
    return given.value


def answer_information_request(
    *,
    session: Session,
    exchange: Exchange,
    principal: Principal,
    request_id: str,
    answer: AnswerIn,
    traceparent: str | None = None,
) -> AnswerReceipt:
    """An addressed partner answers. Decided again with the requester as recipient: what is
    no longer allowed (a consent revoked, the case moved on) is withheld and not stored."""
    started = utcnow()
    _exchanging(principal)
    row, items = _load_request(session, request_id)
    mine = {i.category: i for i in items if i.partner_id == principal.partner_id}
    if not mine or principal.covenant_id != row.covenant_id:
        raise RequestNotFound("No information request with this id is visible to your partner.")
    given = {a.category: a for a in answer.answers}
    unknown = sorted(set(given) - set(mine))
    if unknown:
        raise InvalidAnswer(f"Not asked of your partner: {', '.join(unknown)}.")
    open_items = {c: i for c, i in mine.items() if i.state == "asked" and c in given}
    if not open_items:
        raise Conflict("These categories were already answered or are not open.")
    view = load_case(session, exchange, case_id=row.case_id, principal=principal)
    values = {
        c: _sealed_answer(given[c], i.answer_form)
        for c, i in open_items.items()
        if not given[c].not_available
    }
    decision = decide(
        exchange,
        view,
        partner=row.requester_partner_id,
        role=row.requester_role,
        user=row.requester_user,
        categories=list(open_items),
        purpose=row.purpose,
        now=started,
    )
    facts: list[CaseFact] = []
    for category, item in open_items.items():
        verdict = decision.categories[category]
        item.answered_at = started
        if verdict.outcome != "disclose":
            item.state, item.reasons = "withheld", list(verdict.reasons)
            item.clauses = governing_clauses(view.covenant, category)
        elif category not in values:
            item.state, item.reasons, item.clauses = "not-available", [], list(verdict.clauses)
        else:
            fact = _seal_fact(
                session,
                exchange,
                view,
                principal,
                category,
                item.answer_form,
                values[category],
                source="answer",
                request_id=row.id,
                at=started,
            )
            facts.append(fact)
            item.state, item.reasons, item.clauses = "answered", [], list(verdict.clauses)
            item.fact_id = fact.id
    stored = [i for i in open_items.values() if i.state == "answered"]
    withheld = [i for i in open_items.values() if i.state == "withheld"]
    receipt = record(
        session,
        exchange,
        EntryFacts(
            activity="information-answer",
            # Denied only when the policy withheld something and nothing was stored: an
            # answer "we hold nothing" (not-available) refuses nothing (issue 23).
            outcome="denied" if withheld and not stored else "recorded",
            started_at=started,
            view=view,
            purpose=row.purpose,
            clauses=decision.clauses,
            decision=decision,
            caller=principal,
            recipient=stored_actor(
                exchange,
                partner=row.requester_partner_id,
                role=row.requester_role,
                user=row.requester_user,
            ),
            data_owners=[principal.partner_id],
            redacted=[(i.category, i.reasons[0]) for i in withheld],
            attributes={"request-id": row.id, "stored": len(stored)},
        ),
        traceparent=traceparent,
    )
    for fact in facts:
        fact.audit_index = receipt.index
    session.add_all(facts)
    session.flush()
    return AnswerReceipt(
        request_id=row.id,
        partner_id=principal.partner_id,
        items=[_status(i) for i in mine.values()],
        receipt=receipt,
    )


def _seal_fact(
    session: Session,
    exchange: Exchange,
    view: CaseView,
    principal: Principal,
    category: str,
    form: str,
    text: str,
    *,
    source: str,
    request_id: str | None,
    at: datetime,
) -> CaseFact:
    fact_id = str(uuid.uuid4())
    sealed = exchange.cipher.encrypt(
        session=session,
        scope=case_scope(view.case.id),
        table="case_fact",
        record_id=fact_id,
        field="value",
        plaintext=text,
    )
    return CaseFact(
        id=fact_id,
        case_id=view.case.id,
        covenant_id=view.covenant.id,
        category=category,
        partner_id=principal.partner_id,
        source=source,
        request_id=request_id,
        answer_form=form,
        value_sealed=sealed,
        recorded_at=at,
        recorded_by=principal.actor,
        audit_index=-1,
    )


def disclose_answers(
    *,
    session: Session,
    exchange: Exchange,
    principal: Principal,
    request_id: str,
    traceparent: str | None = None,
) -> DisclosureOut:
    """The requester reads the answers: decided again now, decrypted only where disclosed."""
    _exchanging(principal)
    row, items, facts, erasure = _load_request_with_facts(session, request_id)
    if principal.partner_id != row.requester_partner_id or principal.covenant_id != row.covenant_id:
        raise RequestNotFound("No information request with this id is visible to your partner.")
    view = load_case(session, exchange, case_id=row.case_id, principal=principal, erasure=erasure)
    return disclose(
        session=session,
        exchange=exchange,
        principal=principal,
        view=view,
        purpose=row.purpose,
        request_id=row.id,
        items=items,
        facts=facts,
        categories=[i.category for i in items],
        traceparent=traceparent,
    )


# --- pushes -----------------------------------------------------------------------------------


def push_case_fact(
    *,
    session: Session,
    exchange: Exchange,
    principal: Principal,
    fact: CaseFactIn,
    traceparent: str | None = None,
) -> CaseFactOut:
    """A case-team partner adds a fact in a category its kind holds (police registrations,
    tenancy facts, "known to the neighbourhood team"), stored encrypted under the case."""
    started = utcnow()
    _exchanging(principal)
    view = load_case(session, exchange, case_id=fact.case_id, principal=principal, team_only=True)
    if view.closed:
        raise Conflict("The case is closed; nothing can be added.")
    category = view.covenant.category(fact.category)
    if category is None:
        raise InvalidAnswer(f"'{fact.category}' is not a data category of this covenant.")
    if category.owner != principal.partner_kind:
        raise Forbidden(
            f"'{fact.category}' is held by {category.owner} partners, not {principal.partner_kind}."
        )
    text = _sealed_answer(
        CategoryAnswerIn(category=fact.category, value=fact.value, yes_no=fact.yes_no),
        category.answer,
    )
    row = _seal_fact(
        session,
        exchange,
        view,
        principal,
        fact.category,
        category.answer,
        text,
        source="push",
        request_id=None,
        at=started,
    )
    receipt = record(
        session,
        exchange,
        EntryFacts(
            activity="case-fact-recorded",
            outcome="recorded",
            started_at=started,
            view=view,
            purpose=None,
            clauses=(),
            decision=None,
            caller=principal,
            data_owners=[principal.partner_id],
            attributes={"category": fact.category, "fact-id": row.id},
        ),
        traceparent=traceparent,
    )
    row.audit_index = receipt.index
    session.add(row)
    session.flush()
    return CaseFactOut(
        id=row.id,
        case_id=row.case_id,
        category=row.category,
        partner_id=row.partner_id,
        recorded_at=started,
        receipt=receipt,
    )


def disclose_case_facts(
    *,
    session: Session,
    exchange: Exchange,
    principal: Principal,
    query: CaseFactQuery,
    traceparent: str | None = None,
) -> DisclosureOut:
    """A reader asks for the pushed facts of a case for a purpose: the same decision.

    Answers to requests are not included: they were given for that request's purpose and
    requester; re-use for another purpose is a new request (purpose binding).
    """
    _exchanging(principal)
    view = load_case(session, exchange, case_id=query.case_id, principal=principal, team_only=True)
    return disclose(
        session=session,
        exchange=exchange,
        principal=principal,
        view=view,
        purpose=query.purpose,
        request_id=None,
        items=None,
        facts=None,
        categories=list(query.categories),
        traceparent=traceparent,
    )


# --- receipts ---------------------------------------------------------------------------------


class DisclosureNotFound(NotFound):
    problem = "disclosure-not-found"
    title = "Disclosure not found"


def disclosure_receipt(
    *, session: Session, audit: AuditLog, principal: Principal, disclosure_id: str
) -> Receipt:
    """The receipt of a disclosure, with its inclusion proof once a checkpoint covers it;
    for the recipient and the partners whose data was disclosed."""
    row = session.get(Disclosure, disclosure_id)
    if (
        row is None
        or principal.covenant_id != row.covenant_id
        or (
            principal.partner_id != row.recipient_partner_id
            and principal.partner_id not in row.data_owners
        )
    ):
        raise DisclosureNotFound("No disclosure with this id is visible to your partner.")
    return audit.receipt(session, row.audit_index)
