"""The enforcement point: every read of case data, and every write of it, in one module.

A read goes top to bottom through the sections below, in this order, in the request's one
transaction:

1. load the case and the request (its covenant, team, phase, consents; the request with its
   items, answers and the case's erasure in one round trip);
2. build the policy input (requester from the token, case facts from the cases domain, time
   from the clock);
3. decide (an engine that cannot decide is a 503: nothing is disclosed);
4. open only what is disclosed (the only place where answers and case facts are decrypted; a
   key failure raises before the audit entry, so the transaction rolls back);
5. record the audit entry in the caller's transaction, with the disclosure row (and, for an
   answer, its facts and items) written after it in the same transaction (no audit record,
   no disclosure; an audit failure rolls back what was decrypted before the response);
6. answer, with the receipt.

The writes (asking, answering, pushing a fact) take the same steps (:func:`load_case`,
:func:`decide`, :func:`record`); the status of a request reads it through the same loader
(:func:`load_request`). Nothing else in the gateway reads the plaintext of answers and case
facts.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal, NamedTuple, cast

from sqlalchemy import CursorResult, bindparam, insert, select, update
from sqlalchemy.orm import Session

from audit.entry import TraceContext
from gateway.audit import (
    Actor,
    AuditEntry,
    AuditLog,
    Companion,
    DecisionRef,
    Outcome,
    OwnerCategory,
    ProcessingActivity,
    Receipt,
    Redaction,
    leaf_withheld,
)
from gateway.auth.principal import Principal
from gateway.cases.access import CONSULTED_ONLY
from gateway.cases.errors import CaseNotFound, ConsultedOnly
from gateway.cases.subjects import case_data_subjects
from gateway.core import metrics
from gateway.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from gateway.core.tracing import current_span_ids, partner_traceparent
from gateway.crypto.fields import case_scope
from gateway.crypto.keystore import Erased
from gateway.db import HotStatement, Unit, unit_connection, utcnow
from gateway.exchange import inbox
from gateway.exchange.deps import Exchange
from gateway.exchange.models import CaseFact, Disclosure, InformationRequest, RequestItem
from gateway.exchange.schemas import (
    AnswerForm,
    AnswerIn,
    AnswerReceipt,
    CaseFactIn,
    CaseFactOut,
    CaseFactQuery,
    CategoryAnswerIn,
    CategoryStatus,
    CategoryValue,
    DisclosureOut,
    InformationRequestIn,
    InformationRequestOut,
    RequestState,
)
from gateway.policy import engine as policy_engine
from gateway.policy.covenant import Covenant
from gateway.policy.errors import PolicyUnavailable
from gateway.policy.schemas import CaseContext, Consent, Decision, PolicyInput, Requester
from gateway.retention.errors import CaseErased
from gateway.retention.models import RetentionCase
from gateway.retention.service import Erasure, ensure_not_erased, lock_for_write

NOT_VISIBLE = "No case with this id is visible to your partner."


class RequestNotFound(NotFound):
    problem = "information-request-not-found"
    title = "Information request not found"


class InvalidAnswer(Unprocessable):
    problem = "invalid-answer"
    title = "Invalid answer"


class InvalidRequest(Unprocessable):
    problem = "invalid-information-request"
    title = "Invalid information request"


class DisclosureNotFound(NotFound):
    problem = "disclosure-not-found"
    title = "Disclosure not found"


def _exchanging(principal: Principal) -> None:
    # An audit role (the privacy officer) audits; it never asks, answers or pushes.
    if principal.grant.audits:
        raise Forbidden(f"The role {principal.role!r} does not exchange case data.")


# --- 1. load the case and the request --------------------------------------------------------


@dataclass(frozen=True)
class CaseView:
    """The case as the policy sees it (no personal data), with its covenant."""

    case: CaseContext
    consents: list[Consent]
    covenant: Covenant
    closed: bool
    #: ``(identifier type, blind index)`` of the case's persons and dwelling, read with the
    #: policy facts, for the audit entry (keyed hashes, never part of the policy input);
    #: ``None``: not read, the entry looks them up.
    subjects: tuple[tuple[str, str], ...] | None = None
    #: The members the lead only consulted (U §5.6 "desgevraagd"): they see the case to
    #: answer what they are asked, but are not in ``case.team``, the involved team the
    #: policy's case-team condition reads (U §6; review9a F3).
    consulted: frozenset[str] = frozenset()


#: ``load_case(erasure=LOOK_UP)``: ask retention whether the case was erased.
LOOK_UP: Final = "look-up"
#: ``load_case(erasure=FOR_WRITE)``: a write to the dossier (a request, an answer, a pushed
#: fact): lock the case against its erasure as every write does (retention's
#: ``lock_for_write``: the sweep skips a case a write holds, a write that waited for the
#: sweep sees the erasure), then ask.
FOR_WRITE: Final = "for-write"
#: ``load_case(team_only=INVOLVED)``: the principal's partner must lead the case or be an
#: involved member; one the lead only consulted is refused (403 ``consulted-only``). Its
#: own pushes, requests and queries (review10 F2): a fact it pushed names it (``partnerId``)
#: to every reader of the category, whom the lead never told that it was asked (U §6).
INVOLVED: Final = "involved"


def load_case(
    session: Unit,
    exchange: Exchange,
    *,
    case_id: str,
    principal: Principal,
    erasure: Erasure | None | Literal["look-up", "for-write"] = LOOK_UP,
    team_only: bool | Literal["involved"] = False,
) -> CaseView:
    """The case's policy facts; a case of another covenant is reported as not found, a case
    erased under retention as gone (410, naming the rule and the date). A caller that read
    the case's erasure in one of its own queries passes it (``None``: not erased) and saves
    the look-up. ``team_only``: the principal's partner must be in the case team (a member
    the lead only consulted included: it answers the lead), else the case is not found
    either; :data:`INVOLVED`: and not only consulted (the requester's side: asking,
    querying, pushing)."""
    try:
        facts = exchange.case_facts(session, case_id)
    except CaseNotFound:
        raise CaseNotFound(NOT_VISIBLE) from None
    case = CaseContext.model_validate(facts["case"])
    if case.covenant != principal.covenant_id:
        raise CaseNotFound(NOT_VISIBLE)
    consulted = frozenset(facts.get("consulted", ()))
    if (
        team_only
        and principal.partner_id not in case.team
        and principal.partner_id not in consulted
    ):
        # U §6: partners exchange with "de andere partijen die bij de casus zijn betrokken".
        # Outside the team a case is indistinguishable from one that does not exist: the
        # same 404 with the same words, before the erasure check and before any decision,
        # whose reasons (not-in-case-team per addressed partner) would show that the case
        # exists and who is in it.
        raise CaseNotFound(NOT_VISIBLE)
    if team_only == INVOLVED and principal.partner_id in consulted:
        # The lead is never consulted (cases.changes.change_team). Before the erasure check
        # and any decision: nothing is written, the audit log included, so no entry of a
        # refused write names it to another partner's privacy officer either.
        raise ConsultedOnly(CONSULTED_ONLY)
    # After the covenant and team checks, so that another covenant or an outsider does not
    # learn of the erasure; before any decision, so an erased case is neither disclosed (as
    # redactions) nor written to (its key scope is shredded).
    if erasure == FOR_WRITE:
        if not isinstance(session, Session):
            raise TypeError("a write to the dossier takes its unit of work as a Session")
        refusal = lock_for_write(session, case_id=case_id)
        if refusal is not None:
            raise refusal
    elif erasure == LOOK_UP:
        ensure_not_erased(session=session, case_id=case_id)
    elif isinstance(erasure, Erasure):
        raise CaseErased(case_id=case_id, rule_id=erasure.rule_id, erased_at=erasure.erased_at)
    covenant = exchange.covenants.get(case.covenant)
    if covenant is None:
        raise PolicyUnavailable("The case's covenant is not loaded; nothing can be disclosed.")
    consents = [Consent.model_validate(c) for c in facts.get("consents", [])]
    subjects = facts.get("subjects")
    return CaseView(
        case=case,
        consents=consents,
        covenant=covenant,
        closed=bool(facts["case"].get("closed")),
        subjects=tuple((kind, index) for kind, index in subjects) if subjects is not None else None,
        consulted=consulted,
    )


class AskedRequest(NamedTuple):
    """An information request as stored (``information_request``)."""

    id: str
    case_id: str
    covenant_id: str
    purpose: str
    requester_partner_id: str
    requester_role: str
    requester_user: str | None
    created_at: datetime
    due_at: datetime | None
    decision_id: str
    bundle_revision: str | None
    audit_index: int


class AskedItem(NamedTuple):
    """One category asked of one partner, and what became of it
    (``information_request_item``; ``id`` is ``None`` until it is stored)."""

    id: int | None
    partner_id: str
    category: str
    answer_form: str
    state: str
    reasons: list[str]
    clauses: list[str]
    answered_at: datetime | None
    fact_id: str | None


class SealedFact(NamedTuple):
    """An answer or a pushed fact as stored, its value still encrypted (``case_fact``)."""

    id: str
    case_id: str
    category: str
    partner_id: str
    answer_form: str
    recorded_at: datetime
    value_sealed: bytes


class LoadedRequest(NamedTuple):
    """A request, its items in the order they were asked, the answers they point to (by
    fact id) and how the case was erased (``None``: not erased)."""

    request: AskedRequest
    items: list[AskedItem]
    facts: dict[str, SealedFact]
    erasure: Erasure | None


_REQUEST_COLUMNS = tuple(getattr(InformationRequest, f) for f in AskedRequest._fields)
_ITEM_COLUMNS = tuple(getattr(RequestItem, f) for f in AskedItem._fields)
_FACT_COLUMNS = tuple(getattr(CaseFact, f) for f in SealedFact._fields)
_ITEMS_AT = len(_REQUEST_COLUMNS)
_FACT_AT = _ITEMS_AT + len(_ITEM_COLUMNS)
_ERASURE_AT = _FACT_AT + len(_FACT_COLUMNS)

#: The request, its items, their answers and the case's erasure (retention's register, one
#: row per case) in one round trip: one row per item (one row of NULL items for a request
#: without any). Columns only, compiled once, run on the DBAPI cursor: ORM entities and
#: SQLAlchemy's result layer cost more than the query on the mediated read.
_LOAD_REQUEST = HotStatement(
    select(
        *_REQUEST_COLUMNS,
        *_ITEM_COLUMNS,
        *_FACT_COLUMNS,
        RetentionCase.erased_rule_id,
        RetentionCase.erased_at,
    )
    .select_from(InformationRequest)
    .outerjoin(RequestItem, RequestItem.request_id == InformationRequest.id)
    .outerjoin(CaseFact, CaseFact.id == RequestItem.fact_id)
    .outerjoin(RetentionCase, RetentionCase.case_id == InformationRequest.case_id)
    .where(InformationRequest.id == bindparam("request_id"))
    .order_by(RequestItem.id)
)


def load_request(session: Unit, request_id: str) -> LoadedRequest:
    """The one loader of a request, for every route that reads or answers one. Who may see
    it is the caller's check: a request that does not exist is the same 404 as one that is
    not visible."""
    rows = _LOAD_REQUEST.rows(unit_connection(session), {"request_id": request_id})
    if not rows:
        raise RequestNotFound("No information request with this id is visible to your partner.")
    first = rows[0]
    request = AskedRequest._make(first[:_ITEMS_AT])
    rule_id, erased_at = first[_ERASURE_AT:]
    erasure = (
        Erasure(case_id=request.case_id, rule_id=rule_id or "", erased_at=erased_at)
        if erased_at is not None
        else None
    )
    items = [AskedItem._make(r[_ITEMS_AT:_FACT_AT]) for r in rows if r[_ITEMS_AT] is not None]
    facts = {
        r[_FACT_AT]: SealedFact._make(r[_FACT_AT:_ERASURE_AT])
        for r in rows
        if r[_FACT_AT] is not None
    }
    return LoadedRequest(request, items, facts, erasure)


#: Pushed facts returned per category, newest first.
FACTS_PER_CATEGORY = 50

_PUSHED_FACTS = HotStatement(
    select(*_FACT_COLUMNS)
    .where(
        CaseFact.case_id == bindparam("case_id"),
        CaseFact.category == bindparam("category"),
        CaseFact.source == "push",
    )
    .order_by(CaseFact.recorded_at.desc(), CaseFact.id)
    .limit(FACTS_PER_CATEGORY)
)


def load_pushed_facts(session: Unit, case_id: str, category: str) -> list[SealedFact]:
    """A case's pushed facts in ``category``, the newest :data:`FACTS_PER_CATEGORY`."""
    rows = _PUSHED_FACTS.rows(unit_connection(session), {"case_id": case_id, "category": category})
    return [SealedFact._make(row) for row in rows]


# --- 2. build the policy input, 3. decide ----------------------------------------------------


#: Reasons ``gateway.policy.engine`` gives when it could not decide: an outage (503), not a
#: refusal. Anything else is the covenant speaking and is shown to the requester.
ENGINE_FAILURES = policy_engine.ENGINE_FAILURES


def decide(
    exchange: Exchange,
    view: CaseView,
    *,
    partner: str,
    role: str,
    user: str | None,
    categories: Sequence[str],
    purpose: str,
    now: datetime,
) -> Decision:
    """One decision for ``categories``; an engine that cannot decide is a 503, never a 500
    and never a silent partial answer."""
    policy_input = PolicyInput(
        requester=Requester(partner=partner, role=role, user=user or "-"),
        case=view.case,
        categories=list(dict.fromkeys(categories)),
        purpose=purpose,
        consents=view.consents,
        now=now,
    )
    decision = exchange.policy.decide(policy_input)
    if ENGINE_FAILURES.intersection(decision.errors):
        raise PolicyUnavailable(
            "The policy engine could not decide; nothing was disclosed. Try again later."
        )
    return decision


def governing_clauses(covenant: Covenant, category: str) -> list[str]:
    """The clauses that could allow ``category``: named when it is redacted, so the reader
    sees which clause's conditions were not met."""
    return sorted(c.id for c in covenant.clauses if category in c.categories)


def answer_form(covenant: Covenant, category: str) -> str:
    found = covenant.category(category)
    return found.answer if found is not None else "detail"


# --- 4. open only what is disclosed ----------------------------------------------------------


_ITEM_REASONS = {
    "asked": "not-answered-yet",
    "not-available": "not-available-at-partner",
}


#: Item states whose category has no value to show but was not withheld by any decision: the
#: partner has not answered yet, or answered that it holds nothing. A refusal is a category
#: withheld by a decision (the policy's, when the request was made, the answer delivered or
#: the answers read; or retention's erasure); these are not refusals, so they are not in
#: the audit entry's ``redacted`` list and do not make a read a denial (issue 23). The API
#: still returns them with ``outcome: redacted`` and their ``state`` (no value to show),
#: as it always did, so older partner SDKs keep parsing it.
NOT_REFUSED = frozenset({"asked", "not-available"})


def disclosed_form(answer: str) -> AnswerForm:
    """A disclosing verdict's answer form; any other than ``detail`` or ``yes-no`` is a 503
    with nothing disclosed. The engine refuses such an answer already
    (``gateway.policy.engine.to_decision``, review6a finding 1); this is the last line."""
    if answer == "detail":
        return "detail"
    if answer == "yes-no":
        return "yes-no"
    raise PolicyUnavailable("The policy engine could not decide; nothing was disclosed.")


def _open(session: Unit, exchange: Exchange, fact: SealedFact, answer: str) -> CategoryValue:
    """The fact's value, in the form the decision allows (``answer``). A fact stored in
    detail while the covenant now allows only yes or no (its clause narrowed since) is
    withheld, not opened: a detail cannot be told as a yes or a no without saying more.

    Any other answer than ``detail`` or ``yes-no`` opens nothing (``disclosed_form``)."""
    answer = disclosed_form(answer)
    if answer == "yes-no" and fact.answer_form != "yes-no":
        return CategoryValue(
            category=fact.category,
            partner_id=fact.partner_id,
            outcome="redacted",
            answer_form="yes-no",
            recorded_at=fact.recorded_at,
            reasons=["answer-form-narrowed"],
        )
    plain = exchange.cipher.decrypt(
        session=session,
        scope=case_scope(fact.case_id),
        table="case_fact",
        record_id=fact.id,
        field="value",
        ciphertext=fact.value_sealed,
    )
    base = CategoryValue(
        category=fact.category,
        partner_id=fact.partner_id,
        outcome="disclosed",
        answer_form=fact.answer_form,
        recorded_at=fact.recorded_at,
    )
    if isinstance(plain, Erased):
        return base.model_copy(
            update={"outcome": "redacted", "erased": True, "reasons": ["erased-by-retention"]}
        )
    if fact.answer_form == "yes-no":
        return base.model_copy(update={"yes_no": plain == "yes"})
    return base.model_copy(update={"value": plain})


def _redacted(
    view: CaseView, category: str, partner: str, reasons: list[str], state: str | None = None
) -> CategoryValue:
    return CategoryValue(
        category=category,
        partner_id=partner,
        outcome="redacted",
        answer_form=answer_form(view.covenant, category),
        state=state,
        reasons=reasons,
        clauses=governing_clauses(view.covenant, category),
    )


def _answer_values(
    session: Unit,
    exchange: Exchange,
    view: CaseView,
    decision: Decision,
    items: Sequence[AskedItem],
    facts: Mapping[str, SealedFact],
) -> list[CategoryValue]:
    values = []
    for item in items:
        verdict = decision.categories[item.category]
        fact = facts.get(item.fact_id) if item.fact_id else None
        if verdict.outcome != "disclose" and item.state != "denied":
            # Refused now: the read's reasons, and no state. Whether the partner answered,
            # holds nothing, has not answered yet or was withheld is part of what the reader
            # may no longer see (review6b, P3: the care worker's name "not-available" told
            # that the causer has none). A category denied when it was asked keeps that
            # denial: it tells nothing of the partner.
            values.append(_redacted(view, item.category, item.partner_id, list(verdict.reasons)))
        elif item.state != "answered" or fact is None:
            reasons = list(item.reasons) or [_ITEM_REASONS.get(item.state, item.state)]
            values.append(_redacted(view, item.category, item.partner_id, reasons, item.state))
        else:
            value = _open(session, exchange, fact, verdict.answer)
            values.append(
                value.model_copy(update={"state": item.state, "clauses": verdict.clauses})
            )
    return values


def _fact_values(
    session: Unit, exchange: Exchange, view: CaseView, decision: Decision
) -> list[CategoryValue]:
    values = []
    for category, verdict in decision.categories.items():
        if verdict.outcome != "disclose":
            values.append(_redacted(view, category, "", list(verdict.reasons)))
            continue
        facts = load_pushed_facts(session, view.case.id, category)
        if not facts:
            values.append(
                CategoryValue(
                    category=category,
                    partner_id="",
                    outcome="disclosed",
                    answer_form=disclosed_form(verdict.answer),
                    reasons=["nothing-on-file"],
                    clauses=list(verdict.clauses),
                )
            )
        for fact in facts:
            value = _open(session, exchange, fact, verdict.answer)
            values.append(value.model_copy(update={"clauses": list(verdict.clauses)}))
    return values


# --- 5. record the audit entry ---------------------------------------------------------------


@dataclass(frozen=True)
class EntryFacts:
    """What one exchange audit entry says; it ends when it is recorded, and its requester
    is the caller."""

    activity: str
    outcome: Outcome
    started_at: datetime
    view: CaseView
    purpose: str | None
    clauses: Iterable[str]
    decision: Decision | None
    caller: Principal
    recipient: Actor | None = None
    data_owners: Iterable[str] = ()
    disclosed: Iterable[str] = ()
    redacted: Iterable[tuple[str, str]] = ()
    #: (partner, category): which partner each category asked, disclosed or refused
    #: concerns (two partners of one kind own the same categories: LogReader shows each
    #: data owner only its own).
    owner_categories: Iterable[tuple[str, str]] = ()
    attributes: dict[str, str | int | bool] | None = None


def record(
    session: Unit,
    exchange: Exchange,
    facts: EntryFacts,
    *,
    traceparent: str | None,
    companion: Companion | None = None,
) -> Receipt:
    """Append the audit entry in ``session``'s transaction: the last step before commit.
    ``companion``: the row the entry records (a read's disclosure row), written with it, on
    PostgreSQL in the same statement.

    If it cannot be written, :class:`audit.AuditUnavailable` propagates, the request's
    transaction rolls back and nothing is disclosed or stored.
    """
    entry = AuditEntry(
        activity=facts.activity,
        outcome=facts.outcome,
        trace=_trace(traceparent, partner_id=facts.caller.partner_id),
        started_at=facts.started_at,
        ended_at=utcnow(),
        processing=ProcessingActivity(
            covenant_id=facts.view.covenant.id,
            clause_ids=tuple(sorted(set(facts.clauses))),
            purpose=facts.purpose,
        ),
        case_id=facts.view.case.id,
        # The case's persons and dwelling, from their blind indexes (nothing is decrypted):
        # what the privacy officer's access report (GDPR art. 15) searches by.
        data_subjects=(
            exchange.audit.subjects_from_indexes(facts.view.subjects)
            if facts.view.subjects is not None
            else case_data_subjects(session, exchange.audit, facts.view.case.id)
        ),
        requester=exchange.audit.actor(facts.caller),
        recipient=facts.recipient,
        data_owners=tuple(sorted(set(facts.data_owners))),
        disclosed=tuple(sorted(set(facts.disclosed))),
        redacted=tuple(
            Redaction(category=category, reason=reason)
            for category, reason in sorted(set(facts.redacted))
        ),
        # AuditEntry sorts them and drops duplicates.
        owner_categories=tuple(
            OwnerCategory(partner_id=partner, category=category)
            for partner, category in facts.owner_categories
        ),
        decision=(
            DecisionRef(
                decision_id=facts.decision.decision_id,
                bundle_revision=facts.decision.bundle_revision,
                engine=facts.decision.engine,
            )
            if facts.decision is not None
            else None
        ),
        attributes=facts.attributes or {},
    )
    started = time.perf_counter()
    receipt = exchange.audit.append(session=session, entry=entry, companion=companion)
    metrics.AUDIT_APPEND_SECONDS.observe(time.perf_counter() - started)
    _count_decision(entry)
    return receipt


def _trace(traceparent: str | None, *, partner_id: str) -> TraceContext:
    """The entry's own span in the request's trace (the one its log lines carry), under the
    request's span; the partner's traceparent stays its foreign operation, unless its ids
    hold a BSN (an audit entry is kept for years and holds no plaintext personal data)."""
    trace = TraceContext.from_traceparent(partner_traceparent(traceparent), partner_id=partner_id)
    request = current_span_ids()
    if request is None:
        return trace
    return trace.model_copy(update={"trace_id": request[0], "parent_span_id": request[1]})


def _count_decision(entry: AuditEntry) -> None:
    """Metrics by outcome, reason code and covenant: vocabularies of the covenant files and
    the policy, never an identifier (gateway/core/metrics.py)."""
    if entry.redacted:
        for redaction in entry.redacted:
            metrics.DECISIONS.labels(entry.outcome, redaction.reason).inc()
    else:
        metrics.DECISIONS.labels(entry.outcome, "").inc()
    if entry.disclosed:
        metrics.DISCLOSURES.labels(entry.processing.covenant_id).inc()


def stored_actor(exchange: Exchange, *, partner: str, role: str, user: str | None) -> Actor:
    """An actor for a requester known from a stored request (not the current token)."""
    return Actor(
        partner_id=partner,
        role=role,
        user_pseudonym=exchange.audit.pseudonymiser.user(partner, user) if user else None,
    )


#: The activity of a read that disclosed nothing and refused nothing (answers still awaited,
#: the partner holds nothing, nothing on file): recorded, but neither a disclosure nor a
#: denial, so the privacy officers' refusal lists and the per-partner denial counts leave it.
NOTHING_TO_DISCLOSE = "information-read"


def entry_outcome(*, shown: bool, refused: bool) -> tuple[str, Outcome]:
    """The activity and outcome of a read's audit entry: a disclosure (in part, when a
    category was refused), a denial (only refusals), or a read with nothing to disclose."""
    if shown:
        return "disclosure", "partially-disclosed" if refused else "disclosed"
    if refused:
        return "denial", "denied"
    return NOTHING_TO_DISCLOSE, "recorded"


def _read_attributes(
    request_id: str | None, values: Sequence[CategoryValue]
) -> dict[str, str | int | bool]:
    """The request and how many categories still wait for an answer or were answered with
    "nothing held": counts, so the entry says why nothing was disclosed for them."""
    attributes: dict[str, str | int | bool] = {"request-id": request_id} if request_id else {}
    awaiting = sum(1 for v in values if v.state == "asked")
    not_held = sum(1 for v in values if v.state == "not-available")
    if awaiting:
        attributes["awaiting-answer"] = awaiting
    if not_held:
        attributes["not-available"] = not_held
    return attributes


#: Only written, never read back as an object: no unit of work, no statement built per read.
_INSERT_DISCLOSURE = HotStatement(
    insert(Disclosure).values(
        {
            column: bindparam(column)
            for column in (
                "id",
                "case_id",
                "covenant_id",
                "request_id",
                "recipient_partner_id",
                "recipient_role",
                "purpose",
                "disclosed",
                "redacted",
                "data_owners",
                "decision_id",
                "bundle_revision",
                "audit_index",
                "disclosed_at",
            )
        }
    )
)


# --- 6. answer: the reads --------------------------------------------------------------------


def disclose(
    *,
    session: Unit,
    exchange: Exchange,
    principal: Principal,
    view: CaseView,
    purpose: str,
    request_id: str | None,
    items: Sequence[AskedItem] | None,
    facts: Mapping[str, SealedFact] | None,
    categories: Sequence[str],
    traceparent: str | None,
) -> DisclosureOut:
    """Steps 2 to 6 for a case (and request) already loaded: decide now for ``categories``,
    open only the disclosed values (``items``/``facts``: a request's answers; ``None``: the
    case's pushed facts), record the audit entry, then the disclosure row, and answer."""
    started = utcnow()
    decision = decide(
        exchange,
        view,
        partner=principal.partner_id,
        role=principal.role,
        user=principal.user,
        categories=categories,
        purpose=purpose,
        now=started,
    )
    if items is not None:
        values = _answer_values(session, exchange, view, decision, items, facts or {})
    else:
        values = _fact_values(session, exchange, view, decision)
    shown = [
        v
        for v in values
        if v.outcome == "disclosed" and (v.value is not None or v.yes_no is not None)
    ]
    disclosed = sorted({v.category for v in shown})
    owners = sorted({v.partner_id for v in shown})
    refused = [v for v in values if v.outcome == "redacted" and v.state not in NOT_REFUSED]
    redacted = sorted({(v.category, v.reasons[0] if v.reasons else "redacted") for v in refused})
    clauses = sorted({c for v in shown for c in v.clauses})
    disclosure_id = str(uuid.uuid4()) if shown else None
    activity, outcome = entry_outcome(shown=bool(shown), refused=bool(redacted))
    # The disclosure row goes with its audit entry: on PostgreSQL in the entry's own
    # statement (one round trip for both; one cannot be written without the other).
    disclosure_row = (
        Companion(
            _INSERT_DISCLOSURE,
            dict(
                id=disclosure_id,
                case_id=view.case.id,
                covenant_id=view.covenant.id,
                request_id=request_id,
                recipient_partner_id=principal.partner_id,
                recipient_role=principal.role,
                purpose=purpose,
                disclosed=disclosed,
                redacted=[{"category": c, "reason": r} for c, r in redacted],
                data_owners=owners,
                decision_id=decision.decision_id,
                bundle_revision=decision.bundle_revision,
                disclosed_at=started,
            ),
        )
        if disclosure_id is not None
        else None
    )
    receipt = record(
        session,
        exchange,
        EntryFacts(
            activity=activity,
            outcome=outcome,
            started_at=started,
            view=view,
            purpose=purpose,
            clauses=clauses or decision.clauses,
            decision=decision,
            caller=principal,
            recipient=exchange.audit.actor(principal),
            data_owners=owners,
            disclosed=disclosed,
            redacted=redacted,
            # A category the policy refused for the case's pushed facts concerns no one
            # partner (partner_id ""): no data owner reads it.
            owner_categories=[
                (v.partner_id, v.category) for v in (*shown, *refused) if v.partner_id
            ],
            attributes=_read_attributes(request_id, values),
        ),
        traceparent=traceparent,
        companion=disclosure_row,
    )
    return DisclosureOut(
        disclosure_id=disclosure_id,
        case_id=view.case.id,
        purpose=purpose,
        request_id=request_id,
        values=values,
        decision_id=decision.decision_id,
        bundle_revision=decision.bundle_revision,
        receipt=receipt,
    )


def disclose_answers(
    *,
    session: Unit,
    exchange: Exchange,
    principal: Principal,
    request_id: str,
    traceparent: str | None = None,
) -> DisclosureOut:
    """The requester reads the answers: decided again now, decrypted only where disclosed."""
    _exchanging(principal)
    row, items, facts, erasure = load_request(session, request_id)
    if principal.partner_id != row.requester_partner_id or principal.covenant_id != row.covenant_id:
        raise RequestNotFound("No information request with this id is visible to your partner.")
    # As the status read: only while the requester is in the case team (removed from it, it
    # is told nothing more of the case, U §6: not whether the partner answered since, not
    # that the case was erased); the team check comes before the erasure's 410. A member the
    # lead only consulted asks nothing, so it reads no answers either (review10 F2).
    view = _in_team(session, exchange, row.case_id, principal, erasure, involved=True)
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


def disclose_case_facts(
    *,
    session: Unit,
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
    view = load_case(
        session, exchange, case_id=query.case_id, principal=principal, team_only=INVOLVED
    )
    for category in query.categories:
        # As a request refuses it (_addressed): a category the covenant does not have is a
        # bad query, not a denial to write into the log (review2 #9: the log is forever).
        if view.covenant.category(category) is None:
            raise InvalidRequest(f"'{category}' is not a data category of this covenant.")
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


# --- requests --------------------------------------------------------------------------------


def _addressed(
    view: CaseView, request: InformationRequestIn, principal: Principal
) -> list[tuple[str, str]]:
    """(partner, category) pairs: explicit recipients, or the case-team partners whose kind
    holds each category. A category nobody could provide is a bad request, not a denial."""
    covenant = view.covenant
    # Who the requester may address: the involved team, and for the lead's partner also the
    # members it only consulted (U §5.6: the case manager asks the neighbourhood team). To
    # any other requester a consulted member is as absent as a partner outside the team (the
    # same 422 and the same default addressing), so that a request does not tell it that the
    # lead consulted it (review9a F3).
    addressable = set(view.case.team)
    if principal.partner_id == view.case.lead:
        addressable |= view.consulted
    pairs: list[tuple[str, str]] = []
    for recipient in request.recipients:
        partner = covenant.partner(recipient.partner_id)
        if partner is None:
            raise InvalidRequest(f"'{recipient.partner_id}' is not a partner of this covenant.")
        if partner.id not in addressable:
            # U §6: partners exchange with "de andere partijen die bij de casus zijn
            # betrokken"; outside the team the case does not exist, so a request would tell
            # the partner of it. The lead adds the partner to the team first (U §5.6: the
            # case manager asks the neighbourhood team whether it knows the causer).
            raise InvalidRequest(
                f"'{recipient.partner_id}' is not in the case team; the case lead adds it "
                "to the team first (with consulted: true to only ask it, U §5.6)."
            )
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
            if p.kind == found.owner and p.id in addressable and p.id != principal.partner_id
        ]
        if not holders:
            raise InvalidRequest(
                f"No partner holding '{category}' ({found.owner}) is in the case team; "
                "address one with 'recipients'."
            )
        pairs += [(holder, category) for holder in holders]
    return list(dict.fromkeys(pairs))


def request_state(items: Sequence[AskedItem]) -> RequestState:
    return _state_of({item.state for item in items})


def _state_of(states: set[str]) -> RequestState:
    if "asked" in states:
        return "open"
    if states <= {"denied", "withheld"}:
        return "denied"
    if states & {"denied", "withheld"}:
        return "partially-answered"
    return "answered"


def _status(item: AskedItem) -> CategoryStatus:
    return CategoryStatus(
        partner_id=item.partner_id,
        category=item.category,
        state=item.state,
        answer_form=item.answer_form,
        reasons=list(item.reasons),
        clauses=list(item.clauses),
        answered_at=item.answered_at,
    )


@dataclass(frozen=True)
class RefusedNow:
    """The requester's categories a read of the answers would refuse now (a decision taken
    when it reads the request's status), with the decision's reasons; their answer state is
    not shown (review6b, P3)."""

    covenant: Covenant
    reasons: Mapping[str, list[str]]

    def status(self, item: AskedItem) -> CategoryStatus:
        """``denied`` with the reasons of now, whatever the partner answered; a category
        denied when it was asked keeps its own denial."""
        reasons = self.reasons.get(item.category)
        if reasons is None or item.state == "denied":
            return _status(item)
        return CategoryStatus(
            partner_id=item.partner_id,
            category=item.category,
            state="denied",
            answer_form=item.answer_form,
            reasons=reasons,
            clauses=governing_clauses(self.covenant, item.category),
        )

    def request_state(self, items: Sequence[AskedItem]) -> RequestState:
        """The request's state as the requester may know it: open while a partner has not
        answered, answered once every partner has (a refused category counts as answered
        whether the partner gave a value, held nothing or its answer was withheld: which,
        the reader may no longer see)."""
        return _state_of(
            {
                i.state
                if i.category not in self.reasons or i.state in ("asked", "denied")
                else "answered"
                for i in items
            }
        )


def _request_out(
    session: Session,
    audit: AuditLog,
    request: AskedRequest,
    items: Sequence[AskedItem],
    reader: Principal,
    refused_now: RefusedNow | None = None,
) -> InformationRequestOut:
    """The request as ``reader`` reads it; its receipt unless withheld from the reader's
    partner (an addressed partner, of a request logged before entries held a salt:
    leaf_withheld). ``refused_now``: the requester's categories a read would refuse now."""
    withheld = leaf_withheld(session, request.audit_index, reader.partner_id)
    return InformationRequestOut(
        id=request.id,
        case_id=request.case_id,
        covenant_id=request.covenant_id,
        purpose=request.purpose,
        requester_partner_id=request.requester_partner_id,
        requester_role=request.requester_role,
        state=refused_now.request_state(items) if refused_now else request_state(items),
        created_at=request.created_at,
        due_at=request.due_at,
        items=[refused_now.status(item) if refused_now else _status(item) for item in items],
        decision_id=request.decision_id,
        bundle_revision=request.bundle_revision,
        receipt=None if withheld else audit.receipt(session, request.audit_index),
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
        session,
        exchange,
        case_id=request.case_id,
        principal=principal,
        team_only=INVOLVED,
        erasure=FOR_WRITE,
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
    row = AskedRequest(
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
            AskedItem(
                id=None,
                partner_id=partner,
                category=category,
                answer_form=answer_form(view.covenant, category),
                state="asked" if allowed else "denied",
                reasons=[] if allowed else list(verdict.reasons),
                clauses=(
                    list(verdict.clauses) if allowed else governing_clauses(view.covenant, category)
                ),
                answered_at=None,
                fact_id=None,
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
            owner_categories=[(i.partner_id, i.category) for i in items],
            attributes={
                "request-id": row.id,
                "asked": len(asked),
                "denied": len(items) - len(asked),
            },
        ),
        traceparent=traceparent,
    )
    row = row._replace(audit_index=receipt.index)
    session.execute(insert(InformationRequest), [row._asdict()])
    session.execute(
        insert(RequestItem),
        [_item_values(row.id, item) for item in items],
    )
    inbox.notify_after_commit(session, {i.partner_id for i in asked})
    return _request_out(session, exchange.audit, row, items, principal).model_copy(
        update={"receipt": receipt}
    )


def _item_values(request_id: str, item: AskedItem) -> dict[str, object]:
    """An item's columns to insert (its id is the database's)."""
    values: dict[str, object] = item._asdict()
    del values["id"]
    return values | {"request_id": request_id}


def information_request_status(
    *, session: Session, exchange: Exchange, principal: Principal, request_id: str
) -> InformationRequestOut:
    """The request's state per category: every category for its requester, its own for an
    addressed partner. What was asked of another partner, and whether that one answered or
    held nothing, is the requester's to know (review2 #5: the police read that the case
    manager asked the neighbourhood team whether it knows the causer, and that it held
    nothing; U §5.6 tells that to the case manager)."""
    row, items, _facts, erasure = load_request(session, request_id)
    involved = {row.requester_partner_id} | {i.partner_id for i in items}
    if principal.partner_id not in involved or principal.covenant_id != row.covenant_id:
        raise RequestNotFound("No information request with this id is visible to your partner.")
    # Only while the partner is in the case team (a partner removed from it is told nothing
    # more of the case, U §6); the team check comes before the erasure's 410. A member the
    # lead only consulted reads the lead's requests to it (it answers them), none of its own.
    view = _in_team(
        session,
        exchange,
        row.case_id,
        principal,
        erasure,
        involved=principal.partner_id == row.requester_partner_id,
    )
    if principal.partner_id != row.requester_partner_id or not items:
        # An addressed partner reads its own items: the answers it gave.
        items = [i for i in items if i.partner_id == principal.partner_id] if items else items
        return _request_out(session, exchange.audit, row, items, principal)
    # The requester: decided again now, as a read of the answers is ("decided when it is
    # read", docs/exchange.md). A category the read would refuse shows that refusal, not
    # whether the partner answered or holds nothing (review6b, P3).
    decision = decide(
        exchange,
        view,
        partner=principal.partner_id,
        role=principal.role,
        user=principal.user,
        categories=[i.category for i in items],
        purpose=row.purpose,
        now=utcnow(),
    )
    refused = RefusedNow(
        view.covenant,
        {
            category: list(verdict.reasons)
            for category, verdict in decision.categories.items()
            if verdict.outcome != "disclose"
        },
    )
    return _request_out(session, exchange.audit, row, items, principal, refused)


def _in_team(
    session: Unit,
    exchange: Exchange,
    case_id: str,
    principal: Principal,
    erasure: Erasure | None | Literal["look-up", "for-write"],
    *,
    involved: bool = False,
) -> CaseView:
    """The case, if the principal's partner is in its team now; else the request is not
    visible (the same 404 as an unknown request). ``involved``: a member the lead only
    consulted is refused (403 ``consulted-only``, load_case's :data:`INVOLVED`)."""
    try:
        return load_case(
            session,
            exchange,
            case_id=case_id,
            principal=principal,
            erasure=erasure,
            team_only=INVOLVED if involved else True,
        )
    except CaseNotFound:
        raise RequestNotFound(
            "No information request with this id is visible to your partner."
        ) from None


# --- answers ---------------------------------------------------------------------------------


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
    row, items, _facts, _erasure = load_request(session, request_id)
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
    # A partner removed from the team since it was asked no longer answers.
    view = _in_team(session, exchange, row.case_id, principal, FOR_WRITE)
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
    done: dict[str, AskedItem] = {}
    for category, item in open_items.items():
        verdict = decision.categories[category]
        if verdict.outcome != "disclose":
            done[category] = item._replace(
                state="withheld",
                reasons=list(verdict.reasons),
                clauses=governing_clauses(view.covenant, category),
                answered_at=started,
            )
        elif category not in values:
            done[category] = item._replace(
                state="not-available",
                reasons=[],
                clauses=list(verdict.clauses),
                answered_at=started,
            )
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
            done[category] = item._replace(
                state="answered",
                reasons=[],
                clauses=list(verdict.clauses),
                answered_at=started,
                fact_id=fact.id,
            )
    mine.update(done)
    stored = [i for i in done.values() if i.state == "answered"]
    withheld = [i for i in done.values() if i.state == "withheld"]
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
    # Each item changes only while it is still asked: an answer with another Idempotency-Key
    # that read the same open items, and committed first, leaves fewer rows to change; then
    # this answer is refused whole (its facts and audit entry roll back with it), never
    # stored beside the first. On PostgreSQL the second waits for the first's row locks and
    # then sees its state.
    changed = 0
    for item in done.values():
        result = session.execute(
            update(RequestItem)
            .where(RequestItem.id == item.id, RequestItem.state == "asked")
            .values(
                state=item.state,
                reasons=item.reasons,
                clauses=item.clauses,
                answered_at=item.answered_at,
                fact_id=item.fact_id,
            )
            .execution_options(synchronize_session=False)
        )
        changed += cast(CursorResult[Any], result).rowcount
    if changed != len(done):
        raise Conflict("These categories were answered meanwhile; nothing was stored.")
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


# --- pushes ----------------------------------------------------------------------------------


def push_case_fact(
    *,
    session: Session,
    exchange: Exchange,
    principal: Principal,
    fact: CaseFactIn,
    traceparent: str | None = None,
) -> CaseFactOut:
    """A case-team partner adds a fact in a category its kind holds (police registrations,
    tenancy facts, "known to the neighbourhood team"), stored encrypted under the case. An
    involved one: a member the lead only consulted answers the lead's requests, and pushes
    nothing (review10 F2: the fact's ``partnerId`` named it to every reader)."""
    started = utcnow()
    _exchanging(principal)
    view = load_case(
        session,
        exchange,
        case_id=fact.case_id,
        principal=principal,
        team_only=INVOLVED,
        erasure=FOR_WRITE,
    )
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


# --- receipts --------------------------------------------------------------------------------


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
    # A data owner of a disclosure logged before entries held a salt gets no receipt: with
    # the leaf hash it could confirm the categories its read of the entry hides (leaf_withheld).
    if leaf_withheld(session, row.audit_index, principal.partner_id):
        raise DisclosureNotFound("No disclosure with this id is visible to your partner.")
    return audit.receipt(session, row.audit_index)
