"""ORM models of the exchange domain.

No plaintext personal data: answer values and pushed facts are ciphertext under the case's
key scope (``gateway.crypto.case_scope``), so shredding a case shreds them too. Case ids are
plain strings without a foreign key: the cases domain owns ``case_file`` and its migration.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db import Base, UTCDateTime


class InformationRequest(Base):
    """A case manager's request for categories about a case, for one purpose."""

    __tablename__ = "information_request"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36), index=True)
    covenant_id: Mapped[str] = mapped_column(String(100))
    purpose: Mapped[str] = mapped_column(String(100))
    requester_partner_id: Mapped[str] = mapped_column(String(100), index=True)
    requester_role: Mapped[str] = mapped_column(String(60))
    # The pseudonymous user id from the token (never a name); needed to decide again later.
    requester_user: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_id: Mapped[str] = mapped_column(String(100))
    bundle_revision: Mapped[str | None] = mapped_column(String(200))
    audit_index: Mapped[int] = mapped_column(BigInteger)


class RequestItem(Base):
    """One category asked of one partner, and what became of it."""

    __tablename__ = "information_request_item"
    # Its case is its request's: the erasure reaches it through ``request_id``
    # (gateway/retention/targets.py ``DependentTarget``; review8a F6).
    __table_args__ = (
        UniqueConstraint("request_id", "partner_id", "category"),
        {"info": {"erasure_via": "request_id"}},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("information_request.id"), index=True)
    partner_id: Mapped[str] = mapped_column(String(100), index=True)
    category: Mapped[str] = mapped_column(String(100))
    answer_form: Mapped[str] = mapped_column(String(10))
    # asked | denied | answered | withheld | not-available
    state: Mapped[str] = mapped_column(String(20), index=True)
    # The policy's reasons of a refusal ("om-consent-missing": an investigation ran, U
    # §5.3): emptied with the erased dossier (review8a F6). The state, the clauses and the
    # answer's moment stay, as the transitions' kinds do.
    reasons: Mapped[list[str]] = mapped_column(JSON, info={"erasure_empty": True})
    clauses: Mapped[list[str]] = mapped_column(JSON)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fact_id: Mapped[str | None] = mapped_column(String(36))


class CaseFact(Base):
    """A value in a case's dossier: an answer to a request, or a partner's own push."""

    __tablename__ = "case_fact"
    # Who may learn a record exists (gateway/retention/targets.py): those who may read the
    # fact, per record (gateway/exchange/fact_readers.py). A record shows only its table and
    # random id, but a row appearing after a request tells that it was answered: a team
    # member that may not read the police's antecedents learnt that the police answered
    # (review3 finding 10).
    __table_args__ = {"info": {"record_readers": "fact"}}

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36), index=True)
    covenant_id: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(100))
    partner_id: Mapped[str] = mapped_column(String(100))
    # push | answer
    source: Mapped[str] = mapped_column(String(10))
    request_id: Mapped[str | None] = mapped_column(String(36), index=True)
    answer_form: Mapped[str] = mapped_column(String(10))
    value_sealed: Mapped[bytes] = mapped_column(LargeBinary, info={"encrypted": True})
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(300))
    audit_index: Mapped[int] = mapped_column(BigInteger)


class Disclosure(Base):
    """Plaintext left the gateway: to whom, what, why, and the audit entry recording it."""

    __tablename__ = "disclosure"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36), index=True)
    covenant_id: Mapped[str] = mapped_column(String(100))
    request_id: Mapped[str | None] = mapped_column(String(36), index=True)
    recipient_partner_id: Mapped[str] = mapped_column(String(100), index=True)
    recipient_role: Mapped[str] = mapped_column(String(60))
    purpose: Mapped[str] = mapped_column(String(100))
    disclosed: Mapped[list[str]] = mapped_column(JSON)
    redacted: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    data_owners: Mapped[list[str]] = mapped_column(JSON)
    decision_id: Mapped[str] = mapped_column(String(100))
    bundle_revision: Mapped[str | None] = mapped_column(String(200))
    audit_index: Mapped[int] = mapped_column(BigInteger, index=True)
    disclosed_at: Mapped[datetime] = mapped_column(UTCDateTime)
