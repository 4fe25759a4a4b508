"""Disclosure: decide now, decrypt only what is disclosed, record it, hand out a receipt.

The only place where answers and case facts are decrypted. A decryption or key failure
raises before the audit entry is written, so the request's transaction rolls back and no
plaintext leaves; an audit failure does the same after decryption, before the response.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from sqlalchemy import bindparam, insert, select
from sqlalchemy.orm import Session

from gateway.audit import Outcome
from gateway.auth.principal import Principal
from gateway.crypto.fields import case_scope
from gateway.crypto.keystore import Erased
from gateway.db import HotStatement, utcnow
from gateway.exchange.decisions import (
    CaseView,
    EntryFacts,
    answer_form,
    decide,
    governing_clauses,
    record,
)
from gateway.exchange.deps import Exchange
from gateway.exchange.models import CaseFact, Disclosure
from gateway.exchange.schemas import CategoryValue, DisclosureOut
from gateway.policy.schemas import Decision

#: Pushed facts returned per category, newest first.
FACTS_PER_CATEGORY = 50

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


class SealedFact(Protocol):
    """An answer or pushed fact as stored (a ``CaseFact`` row, or the hot read's tuple)."""

    @property
    def id(self) -> str: ...
    @property
    def case_id(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def partner_id(self) -> str: ...
    @property
    def answer_form(self) -> str: ...
    @property
    def recorded_at(self) -> datetime: ...
    @property
    def value_sealed(self) -> bytes: ...


class AskedItem(Protocol):
    """One category asked of one partner (a ``RequestItem`` row, or the hot read's tuple)."""

    @property
    def category(self) -> str: ...
    @property
    def partner_id(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def reasons(self) -> list[str]: ...
    @property
    def fact_id(self) -> str | None: ...


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


def _open(session: Session, exchange: Exchange, fact: SealedFact) -> CategoryValue:
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
    session: Session,
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
        if item.state != "answered" or fact is None:
            reasons = list(item.reasons) or [_ITEM_REASONS.get(item.state, item.state)]
            values.append(_redacted(view, item.category, item.partner_id, reasons, item.state))
        elif verdict.outcome != "disclose":
            values.append(
                _redacted(view, item.category, item.partner_id, list(verdict.reasons), item.state)
            )
        else:
            value = _open(session, exchange, fact)
            values.append(
                value.model_copy(update={"state": item.state, "clauses": verdict.clauses})
            )
    return values


def _fact_values(
    session: Session, exchange: Exchange, view: CaseView, decision: Decision
) -> list[CategoryValue]:
    values = []
    for category, verdict in decision.categories.items():
        if verdict.outcome != "disclose":
            values.append(_redacted(view, category, "", list(verdict.reasons)))
            continue
        facts = session.scalars(
            select(CaseFact)
            .where(
                CaseFact.case_id == view.case.id,
                CaseFact.category == category,
                CaseFact.source == "push",
            )
            .order_by(CaseFact.recorded_at.desc(), CaseFact.id)
            .limit(FACTS_PER_CATEGORY)
        ).all()
        if not facts:
            values.append(
                CategoryValue(
                    category=category,
                    partner_id="",
                    outcome="disclosed",
                    answer_form=verdict.answer if verdict.answer != "none" else "detail",
                    reasons=["nothing-on-file"],
                    clauses=list(verdict.clauses),
                )
            )
        for fact in facts:
            value = _open(session, exchange, fact)
            values.append(value.model_copy(update={"clauses": list(verdict.clauses)}))
    return values


def disclose(
    *,
    session: Session,
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
    redacted = sorted(
        {
            (v.category, v.reasons[0] if v.reasons else "redacted")
            for v in values
            if v.outcome == "redacted" and v.state not in NOT_REFUSED
        }
    )
    clauses = sorted({c for v in shown for c in v.clauses})
    disclosure_id = str(uuid.uuid4()) if shown else None
    activity, outcome = entry_outcome(shown=bool(shown), refused=bool(redacted))
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
            attributes=_read_attributes(request_id, values),
        ),
        traceparent=traceparent,
    )
    if disclosure_id is not None:
        _INSERT_DISCLOSURE.execute(
            session.connection(),
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
                audit_index=receipt.index,
                disclosed_at=started,
            ),
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
