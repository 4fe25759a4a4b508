"""API schemas of the exchange domain (camelCase on the wire).

The partner side (adapters/sdk) builds on these; change them only compatibly.

Flow, as a partner sees it:

1. A case manager ``POST /v1/information-requests`` (:class:`InformationRequestIn`): one
   request, one case, one purpose, categories asked of one or more partners. The policy is
   checked at once: categories no clause allows come back ``denied`` with reasons and the
   clauses that govern them; the rest are ``asked`` of their partner.
2. A partner's adapter long-polls ``GET /v1/inbox?waitSeconds=25`` (:class:`Inbox`) and
   answers with ``POST /v1/information-requests/{id}/answers`` (:class:`AnswerIn`). The
   policy is checked again: a category no longer allowed (an OM consent revoked meanwhile)
   is ``withheld`` and its value is not even stored.
3. The requester reads ``GET /v1/information-requests/{id}/answers``
   (:class:`DisclosureOut`): per category the value, or why it is redacted and under which
   clause, and a :class:`~gateway.audit.schemas.Receipt` of the audit entry.

Pushes: a partner in the case team adds facts on its own initiative with
``POST /v1/case-facts`` (:class:`CaseFactIn`); team members read them with
``POST /v1/case-facts/queries`` (:class:`CaseFactQuery`; a POST so no query string ever
carries more than ids), through the same decision.

Every POST accepts an ``Idempotency-Key`` header: a retry with the same key and body
returns the first response and creates nothing twice.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field, model_validator

from gateway.audit.schemas import Receipt
from gateway.core.schemas import ApiModel

#: What happened to one category of a request.
#: asked: waiting for the partner; denied: refused when the request was made;
#: answered: the partner answered; withheld: refused when the answer was delivered;
#: not-available: the partner holds nothing for it.
ItemState = Literal["asked", "denied", "answered", "withheld", "not-available"]
RequestState = Literal["open", "answered", "denied", "partially-answered"]
AnswerForm = Literal["detail", "yes-no"]

_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$"
#: A data category's id as the covenant files write them (``police-nuisance-antecedents``):
#: nothing else reaches a decision, an error message or the audit log.
CategoryId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,99}$")]


class RecipientIn(ApiModel):
    """Categories asked of one partner; the partner must hold those categories."""

    partner_id: str = Field(pattern=_ID)
    categories: list[CategoryId] = Field(min_length=1, max_length=30)


class InformationRequestIn(ApiModel):
    case_id: str = Field(pattern=_ID)
    purpose: str = Field(pattern=_ID, description="One purpose of the covenant.")
    categories: list[CategoryId] = Field(
        default_factory=list,
        max_length=30,
        description="Categories to ask; each goes to the case-team partners whose kind "
        "holds it. Use 'recipients' instead to address partners explicitly.",
    )
    recipients: list[RecipientIn] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _something_asked(self) -> InformationRequestIn:
        if not self.categories and not self.recipients:
            raise ValueError("name 'categories' or 'recipients'")
        return self


class CategoryStatus(ApiModel):
    """One category asked of one partner, and what happened to it (no value)."""

    partner_id: str
    category: str
    state: ItemState
    answer_form: AnswerForm
    reasons: list[str] = Field(
        default_factory=list,
        description="Policy reason codes when denied or withheld. For the requester, a "
        "category a read of the answers would refuse now is 'denied' with the reasons of now, "
        "whatever the partner answered.",
    )
    clauses: list[str] = Field(
        default_factory=list,
        description="Clauses that allowed it; when denied or withheld, the clauses that "
        "govern the category (whose conditions were not met).",
    )
    answered_at: datetime | None = None


class InformationRequestOut(ApiModel):
    id: str
    case_id: str
    covenant_id: str
    purpose: str
    requester_partner_id: str
    requester_role: str
    state: RequestState
    created_at: datetime
    due_at: datetime | None = Field(default=None, description="When answers are expected.")
    items: list[CategoryStatus]
    decision_id: str
    bundle_revision: str | None
    receipt: Receipt | None = Field(
        default=None, description="The audit entry recording the request (or its denial)."
    )


class InboxItem(ApiModel):
    """Work for a partner: an information request to answer, or a permission to give.

    ``kind=permission-request``: the case waits for this corporation's permission
    (U §5.1, due in three days, U §5.2, moved past a weekend or holiday); answer it with the
    cases API's consent endpoint. It carries no categories.

    ``kind=reporter-decision`` (for the case lead's people, not its adapter): a partner
    outside the case team filed a report that joined the case's dossier
    (``requesterPartnerId``); the lead decides whether it joins the team (U §6) with
    ``POST /v1/cases/{caseId}/reports/{reportId}/reporter-decision`` (``requestId`` is the
    report's id).

    ``kind=notice`` (for the partner's people, not its adapter): the partner is told of
    something in a case it is in the team of (R §2.3:
    the corporation took the lead back for a rented dwelling, or recorded a legal measure
    while leading); ``notice`` says what, ``requesterPartnerId`` who, ``requestId`` is the
    notice's id. Mark it read with ``POST /v1/cases/{caseId}/notices/{requestId}/
    acknowledgement``; until then it stays in the inbox.
    """

    kind: Literal["information-request", "permission-request", "reporter-decision", "notice"]
    notice: str | None = Field(
        default=None,
        description="kind=notice: 'transition:<id>' or 'event:<id>', what happened.",
    )
    request_id: str | None = None
    case_id: str
    case_reference: str | None = None
    covenant_id: str
    purpose: str | None = None
    requester_partner_id: str | None = None
    requester_role: str | None = None
    categories: list[str] = Field(default_factory=list)
    answer_forms: dict[str, AnswerForm] = Field(
        default_factory=dict, description="'yes-no': answer only whether, never detail."
    )
    created_at: datetime
    due_at: datetime | None = Field(
        default=None, description="The moment the answer is late (the day after dueOn begins)."
    )
    due_on: date | None = Field(
        default=None,
        description="The deadline: the last day (Dutch calendar) on which the answer is in time.",
    )


class Inbox(ApiModel):
    partner_id: str
    items: list[InboxItem]


class CategoryAnswerIn(ApiModel):
    """One category's answer: ``value`` for detail, ``yesNo`` for a 'whether' category,
    neither with ``notAvailable=true`` when the partner holds nothing."""

    category: CategoryId
    value: str | None = Field(default=None, min_length=1, max_length=20_000)
    yes_no: bool | None = None
    not_available: bool = False

    @model_validator(mode="after")
    def _one_form(self) -> CategoryAnswerIn:
        given = sum((self.value is not None, self.yes_no is not None, self.not_available))
        if given != 1:
            raise ValueError("give exactly one of value, yesNo or notAvailable=true")
        return self


class AnswerIn(ApiModel):
    answers: list[CategoryAnswerIn] = Field(min_length=1, max_length=30)


class AnswerReceipt(ApiModel):
    """What the answering partner gets back: per category stored or withheld."""

    request_id: str
    partner_id: str
    items: list[CategoryStatus]
    receipt: Receipt


class CategoryValue(ApiModel):
    """One category as the reader receives it: disclosed, or redacted with why."""

    category: str
    partner_id: str
    outcome: Literal["disclosed", "redacted"]
    answer_form: AnswerForm
    value: str | None = Field(default=None, description="Detail, when disclosed.")
    yes_no: bool | None = Field(default=None, description="For a 'whether' category.")
    erased: bool = Field(default=False, description="Destroyed by retention (crypto-shred).")
    state: ItemState | None = Field(default=None, description="For request answers.")
    reasons: list[str] = Field(default_factory=list)
    clauses: list[str] = Field(default_factory=list)
    recorded_at: datetime | None = None


class DisclosureOut(ApiModel):
    """A disclosure: what the reader may see now, and the receipt of its audit entry."""

    disclosure_id: str | None = Field(
        default=None, description="None when nothing was disclosed (a denial)."
    )
    case_id: str
    purpose: str
    request_id: str | None = None
    values: list[CategoryValue]
    decision_id: str
    bundle_revision: str | None
    receipt: Receipt


class CaseFactIn(ApiModel):
    """A fact a case-team partner adds on its own initiative, in a category it holds."""

    case_id: str = Field(pattern=_ID)
    category: str = Field(pattern=_ID)
    value: str | None = Field(default=None, min_length=1, max_length=20_000)
    yes_no: bool | None = None

    @model_validator(mode="after")
    def _one_form(self) -> CaseFactIn:
        if (self.value is None) == (self.yes_no is None):
            raise ValueError("give exactly one of value or yesNo")
        return self


class CaseFactOut(ApiModel):
    id: str
    case_id: str
    category: str
    partner_id: str
    recorded_at: datetime
    receipt: Receipt


class CaseFactQuery(ApiModel):
    case_id: str = Field(pattern=_ID)
    purpose: str = Field(pattern=_ID)
    categories: list[CategoryId] = Field(
        min_length=1,
        max_length=30,
        description="Data categories of the covenant; another one is refused (422).",
    )
