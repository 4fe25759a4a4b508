"""Typed models of what the SDK sends and receives (camelCase on the wire).

They mirror the gateway's schemas (gateway/exchange/schemas.py, gateway/cases/schemas.py,
gateway/audit/schemas.py) field for field; a contract test compares them with the gateway's
OpenAPI document. Unlike the gateway, they ignore members they do not know, so a newer
gateway that adds a field does not break an older adapter.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from urllib.parse import parse_qs, urlsplit

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

ItemState = Literal["asked", "denied", "answered", "withheld", "not-available"]
RequestState = Literal["open", "answered", "denied", "partially-answered"]
AnswerForm = Literal["detail", "yes-no"]
InboxItemKind = Literal["information-request", "permission-request", "reporter-decision", "notice"]
ConsentKind = Literal["corporation-permission", "om-consent"]


class SdkModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True
    )


# --- identity -------------------------------------------------------------------------


class Me(SdkModel):
    partner_id: str
    partner_kind: str
    covenant_id: str
    role: str
    user: str | None = None


# --- audit receipts ---------------------------------------------------------------------


class Checkpoint(SdkModel):
    tree_size: int
    root_hash: str
    signed_at: datetime
    key_id: str
    note: str
    signature: str


class Receipt(SdkModel):
    """Proof that the gateway recorded the step in its audit log (index + leaf hash)."""

    index: int
    leaf_hash: str
    recorded_at: datetime
    checkpoint: Checkpoint | None = None
    inclusion_proof: list[str] | None = None
    #: True only when ``checkpoint`` covers the entry with at least ``witness_quorum`` of the
    #: gateway's witnesses' cosignatures; False means not yet witnessed: ask again later.
    witnessed: bool = False
    witness_quorum: int = 0


# --- information requests -------------------------------------------------------------


class Recipient(SdkModel):
    partner_id: str
    categories: list[str]


class InformationRequestIn(SdkModel):
    """What a case manager asks: categories of one case, for one purpose."""

    case_id: str
    purpose: str
    categories: list[str] = Field(default_factory=list)
    recipients: list[Recipient] = Field(default_factory=list)


class CategoryStatus(SdkModel):
    partner_id: str
    category: str
    state: ItemState
    answer_form: AnswerForm
    reasons: list[str] = Field(default_factory=list)
    clauses: list[str] = Field(default_factory=list)
    answered_at: datetime | None = None


class InformationRequest(SdkModel):
    id: str
    case_id: str
    covenant_id: str
    purpose: str
    requester_partner_id: str
    requester_role: str
    state: RequestState
    created_at: datetime
    due_at: datetime | None = None
    items: list[CategoryStatus]
    decision_id: str
    bundle_revision: str | None = None
    receipt: Receipt | None = None


class InboxItem(SdkModel):
    """Work for this partner: an information request to answer or a permission to give."""

    kind: InboxItemKind
    request_id: str | None = None
    case_id: str
    case_reference: str | None = None
    covenant_id: str
    purpose: str | None = None
    requester_partner_id: str | None = None
    requester_role: str | None = None
    categories: list[str] = Field(default_factory=list)
    answer_forms: dict[str, AnswerForm] = Field(default_factory=dict)
    created_at: datetime
    due_at: datetime | None = None
    #: The deadline: the last day on which the answer is in time (what to show a person).
    due_on: date | None = None
    #: kind=notice: what the partner is told of ('transition:<id>' or 'event:<id>').
    notice: str | None = None

    @property
    def key(self) -> str:
        """Identifies the piece of work across polls."""
        return f"{self.kind}:{self.request_id or self.case_id}"

    def answer_form(self, category: str) -> AnswerForm:
        return self.answer_forms.get(category, "detail")


class Inbox(SdkModel):
    partner_id: str
    items: list[InboxItem]


class CategoryAnswer(SdkModel):
    """One category's answer: exactly one of ``value``, ``yes_no`` or ``not_available``."""

    category: str
    value: str | None = Field(default=None, min_length=1, max_length=20_000)
    yes_no: bool | None = None
    not_available: bool = False

    @model_validator(mode="after")
    def _one_form(self) -> CategoryAnswer:
        given = sum((self.value is not None, self.yes_no is not None, self.not_available))
        if given != 1:
            raise ValueError("give exactly one of value, yes_no or not_available=True")
        return self

    @classmethod
    def detail(cls, category: str, value: str) -> CategoryAnswer:
        return cls(category=category, value=value)

    @classmethod
    def whether(cls, category: str, yes_no: bool) -> CategoryAnswer:
        return cls(category=category, yes_no=yes_no)

    @classmethod
    def unavailable(cls, category: str) -> CategoryAnswer:
        return cls(category=category, not_available=True)


class AnswerIn(SdkModel):
    answers: list[CategoryAnswer] = Field(min_length=1, max_length=30)


class AnswerReceipt(SdkModel):
    """Per category: stored (``answered``) or ``withheld`` by the policy on delivery."""

    request_id: str
    partner_id: str
    items: list[CategoryStatus]
    receipt: Receipt


class CategoryValue(SdkModel):
    category: str
    partner_id: str
    outcome: Literal["disclosed", "redacted"]
    answer_form: AnswerForm
    value: str | None = None
    yes_no: bool | None = None
    erased: bool = False
    state: ItemState | None = None
    reasons: list[str] = Field(default_factory=list)
    clauses: list[str] = Field(default_factory=list)
    recorded_at: datetime | None = None


class Disclosure(SdkModel):
    """What the reader may see now, per category, and the receipt of its audit entry."""

    disclosure_id: str | None = None
    case_id: str
    purpose: str
    request_id: str | None = None
    values: list[CategoryValue]
    decision_id: str
    bundle_revision: str | None = None
    receipt: Receipt

    def value_of(self, category: str) -> CategoryValue | None:
        return next((v for v in self.values if v.category == category), None)


# --- pushed case facts ----------------------------------------------------------------


class CaseFactIn(SdkModel):
    case_id: str
    category: str
    value: str | None = Field(default=None, min_length=1, max_length=20_000)
    yes_no: bool | None = None

    @model_validator(mode="after")
    def _one_form(self) -> CaseFactIn:
        if (self.value is None) == (self.yes_no is None):
            raise ValueError("give exactly one of value or yes_no")
        return self


class CaseFact(SdkModel):
    id: str
    case_id: str
    category: str
    partner_id: str
    recorded_at: datetime
    receipt: Receipt


class CaseFactQuery(SdkModel):
    case_id: str
    purpose: str
    categories: list[str]


# --- cases (what adapters need of the workflow domain) ----------------------------------


class CaseListItem(SdkModel):
    id: str
    reference: str
    covenant_id: str
    state: str
    district: str
    lead_partner_id: str
    opened_at: datetime
    first_report_at: datetime
    closed_at: datetime | None = None


class Link(SdkModel):
    href: str


class PageLinks(SdkModel):
    self_: Link = Field(alias="self")
    next: Link | None = None


class CasesEmbedded(SdkModel):
    cases: list[CaseListItem]


class CasePage(SdkModel):
    """One page of ``GET /v1/cases``: the cases under ``_embedded``, ``_links.next`` while
    more follow."""

    embedded: CasesEmbedded = Field(alias="_embedded")
    links: PageLinks = Field(alias="_links")

    @property
    def next_cursor(self) -> str | None:
        """The ``cursor`` of the next page's link; None on the last page."""
        if self.links.next is None:
            return None
        query = parse_qs(urlsplit(self.links.next.href).query)
        return query.get("cursor", [None])[0]


class ConsentIn(SdkModel):
    """An OM consent (police) or a corporation's permission, with its scope and expiry."""

    kind: ConsentKind
    granted: bool = True
    scope: list[str] = Field(default_factory=list)
    expires_at: datetime | None = None


class Consent(SdkModel):
    id: str
    kind: str
    partner_id: str
    granted: bool
    scope: list[str]
    expires_at: datetime | None = None
    recorded_at: datetime
    withdrawn_at: datetime | None = None
    live: bool


class CaseEventIn(SdkModel):
    """A case event of the covenant, e.g. the landlord's ``eviction-procedure`` (U §5.2)."""

    event: str
    occurred_on: date | None = None


class CaseEvent(SdkModel):
    id: str
    event: str
    partner_id: str
    occurred_on: date | None = None
    recorded_at: datetime


class InvestigationStatus(SdkModel):
    """Police: whether a criminal investigation runs (U §5.3: antecedents need OM consent);
    None: not recorded, which the policy treats as running."""

    running: bool | None


class CaseSummary(CaseListItem):
    """The part of a case summary adapters use (the gateway sends more; it is ignored)."""

    team: list[str] = Field(default_factory=list)
    # The OM's consents (kind om-consent) go with the investigation status: only in the
    # police's and the case lead's summary (an OM consent says an investigation runs).
    consents: list[Consent] = Field(default_factory=list)
    # None: the police have not recorded it (the policy treats it as running). Shown to the
    # police and the case lead only: for any other partner's adapter it is None, withheld
    # (docs/cases.md "What the summary shows whom").
    investigation_running: bool | None = None
    # The fields the case's covenant keeps nothing of (Rijswijk: investigationRunning and
    # omConsents); empty from a gateway that does not say (before December 2026).
    not_in_covenant: list[str] = Field(default_factory=list)
    # The landlord's measures: all of them for the recipients of their category and the case
    # lead, otherwise only those the adapter's own partner recorded (docs/cases.md "What the
    # summary shows whom"): enough for a corporation to tell what it already recorded.
    events: list[CaseEvent] = Field(default_factory=list)
    report_count: int = 0
