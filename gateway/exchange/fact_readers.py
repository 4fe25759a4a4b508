"""Who may learn that a value is on file in a case's dossier (``case_fact``).

A stored fact is read only through the exchange: a pushed fact by ``POST /v1/case-facts/
queries``, an answer by its requester (``GET /v1/information-requests/{id}/answers``), each
time with a policy decision. Where a fact's record is listed without its value (the
retention records list, ``GET /v1/cases/{id}/retention/records``), its being listed says that
a value of some category was stored, after some request: for the police's antecedents, that
the police answered (review3 finding 10). So a fact's record is listed to whoever may read
the fact itself, by the covenant's clauses:

- the partner that provided it (the category's owner: it holds the value anyway);
- a recipient of its category: a role that a clause covering the category names, where the
  clause binds it to a relation to the case (the landlord, the lead, the recorder of an
  event), only with that relation, as the policy decides it (``policies/rego/authz.rego``);
  for an answer, only at the partner that asked (only the requester reads answers).

What the decision adds on top (the purpose, the phase, consents, events a clause requires,
the lead's record of pollution of the dwelling) says *when* a recipient reads the value, not
*who* it is: a recipient keeps seeing that its record exists while it may not read the value
now (an OM consent expired, the case closed), which tells it nothing it was not told when it
read it.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, or_, select

from gateway.auth.principal import Principal
from gateway.exchange.models import CaseFact, InformationRequest
from gateway.policy.covenant import Covenant, Recipient
from gateway.policy.schemas import CaseContext


def _related(recipient: Recipient, case: CaseContext, partner_id: str) -> bool:
    """Whether ``partner_id`` has the recipient's relation to the case, as authz.rego's
    ``dwelling_landlord``, ``case_lead`` and ``recorded_by_requester`` decide it. A relation
    this does not know is not held (fail closed)."""
    if recipient.relation is None:
        return True
    if recipient.relation == "case-lead":
        return case.lead == partner_id
    if recipient.relation == "dwelling-landlord":
        return case.dwelling.ownership == "corporation" and case.dwelling.corporation == partner_id
    if recipient.relation == "event-recorder":
        # An event counts only while its recorder is the dwelling's landlord (its
        # ``recordedBy``), as in authz.rego's ``recorded_by_requester``.
        landlord = case.dwelling.ownership == "corporation" and case.dwelling.corporation
        return landlord == partner_id and any(
            e.kind == recipient.event and e.partner == partner_id for e in case.events
        )
    return False


def received_categories(
    covenant: Covenant, case: CaseContext, principal: Principal
) -> frozenset[str]:
    """The categories the covenant's clauses name ``principal`` a recipient of on ``case``:
    its role among a clause's recipients, with the relation the clause binds it to. An audit
    or system role receives nothing through a clause (``Role.receives_data``)."""
    role = covenant.role(principal.role)
    if role is None or not role.receives_data or principal.covenant_id != covenant.id:
        return frozenset()
    return frozenset(
        category
        for clause in covenant.clauses
        if any(
            r.role == principal.role and _related(r, case, principal.partner_id)
            for r in clause.recipients
        )
        for category in clause.categories
    )


def readable_facts(
    covenant: Covenant | None, case: CaseContext | None, principal: Principal
) -> ColumnElement[bool]:
    """The ``case_fact`` rows whose existence ``principal`` may learn of (see the module):
    those its partner provided, and those of a category it receives on the case, an answer
    only at the partner that asked. Without the covenant or the case's policy facts, only
    its partner's own."""
    provided = CaseFact.partner_id == principal.partner_id
    if covenant is None or case is None:
        return provided
    received = received_categories(covenant, case, principal)
    if not received:
        return provided
    # The answer's request, looked up by key per row (a case holds few facts).
    requester = (
        select(InformationRequest.requester_partner_id)
        .where(InformationRequest.id == CaseFact.request_id)
        .scalar_subquery()
    )
    asked = and_(CaseFact.source == "answer", requester == principal.partner_id)
    return or_(
        provided,
        and_(CaseFact.category.in_(sorted(received)), or_(CaseFact.source == "push", asked)),
    )
