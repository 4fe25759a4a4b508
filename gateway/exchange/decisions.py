"""The enforcement point's building blocks: the policy input, the decision, the audit entry.

Kept apart from the service so every route builds its input and records its entry the same
way: requester from the token, case facts from the cases domain, time from the clock.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

from sqlalchemy.orm import Session

from audit.entry import TraceContext
from gateway.audit import Actor, AuditEntry, DecisionRef, Outcome, ProcessingActivity, Redaction
from gateway.audit.schemas import Receipt
from gateway.auth.principal import Principal
from gateway.cases.errors import CaseNotFound
from gateway.cases.subjects import case_data_subjects
from gateway.core import metrics
from gateway.core.tracing import current_span_ids
from gateway.db import utcnow
from gateway.exchange.deps import Exchange
from gateway.policy.covenant import Covenant
from gateway.policy.errors import PolicyUnavailable
from gateway.policy.schemas import CaseContext, Consent, Decision, PolicyInput, Requester
from gateway.retention.errors import CaseErased
from gateway.retention.service import Erasure, ensure_not_erased

#: Reasons ``gateway.policy.engine`` gives when it could not decide: an outage (503), not a
#: refusal. Anything else is the covenant speaking and is shown to the requester.
ENGINE_FAILURES = frozenset(
    {"no-policy-loaded", "engine-timeout", "undefined-result", "engine-error"}
)

NOT_VISIBLE = "No case with this id is visible to your partner."


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


#: ``load_case(erasure=LOOK_UP)``: ask retention whether the case was erased.
LOOK_UP: Final = "look-up"


def load_case(
    session: Session,
    exchange: Exchange,
    *,
    case_id: str,
    principal: Principal,
    erasure: Erasure | None | Literal["look-up"] = LOOK_UP,
    team_only: bool = False,
) -> CaseView:
    """The case's policy facts; a case of another covenant is reported as not found, a case
    erased under retention as gone (410, naming the rule and the date). A caller that read
    the case's erasure in one of its own queries passes it (``None``: not erased) and saves
    the look-up. ``team_only``: the principal's partner must be in the case team, else the
    case is not found either (the requester's side: asking, querying, pushing)."""
    try:
        facts = exchange.case_facts(session, case_id)
    except CaseNotFound:
        raise CaseNotFound(NOT_VISIBLE) from None
    case = CaseContext.model_validate(facts["case"])
    if case.covenant != principal.covenant_id:
        raise CaseNotFound(NOT_VISIBLE)
    if team_only and principal.partner_id not in case.team:
        # U §6: partners exchange with "de andere partijen die bij de casus zijn betrokken".
        # Outside the team a case is indistinguishable from one that does not exist: the
        # same 404 with the same words, before the erasure check and before any decision,
        # whose reasons (not-in-case-team per addressed partner) would show that the case
        # exists and who is in it.
        raise CaseNotFound(NOT_VISIBLE)
    # After the covenant and team checks, so that another covenant or an outsider does not
    # learn of the erasure; before any decision, so an erased case is neither disclosed (as
    # redactions) nor written to (its key scope is shredded).
    if erasure == LOOK_UP:
        ensure_not_erased(session=session, case_id=case_id)
    elif isinstance(erasure, Erasure):
        raise CaseErased(rule_id=erasure.rule_id, erased_at=erasure.erased_at)
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
    )


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
    attributes: dict[str, str | int | bool] | None = None


def record(
    session: Session, exchange: Exchange, facts: EntryFacts, *, traceparent: str | None
) -> Receipt:
    """Append the audit entry in ``session``'s transaction: the last step before commit.

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
    receipt = exchange.audit.append(session=session, entry=entry)
    metrics.AUDIT_APPEND_SECONDS.observe(time.perf_counter() - started)
    _count_decision(entry)
    return receipt


def _trace(traceparent: str | None, *, partner_id: str) -> TraceContext:
    """The entry's own span in the request's trace (the one its log lines carry), under the
    request's span; the partner's traceparent stays its foreign operation."""
    trace = TraceContext.from_traceparent(traceparent, partner_id=partner_id)
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
