"""Tables of the gateway's shared machinery (not of one domain): idempotency records."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gateway.crypto.fields import encrypted_column
from gateway.db import Base, UTCDateTime


class IdempotencyRecord(Base):
    """The first response to a caller's request with an ``Idempotency-Key``."""

    __tablename__ = "idempotency_record"
    # Deleted with an erased dossier (gateway/retention/targets.py ``erasure_delete``): the
    # stored response of a per-case POST holds the case's data (an OM consent, a landlord's
    # measure, the policy's reasons; gateway/core/idempotency.py), which outlived the
    # erasure by up to the replay window (migration 0040). Sealed under the case's data key
    # since migration 0049, so the erasure's shred makes it unreadable too.
    __table_args__ = (
        UniqueConstraint("partner_id", "principal", "key"),
        {"info": {"erasure_delete": True}},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    partner_id: Mapped[str] = mapped_column(String(100))
    #: The caller within the partner: ``role`` or ``role/user`` (migration 0038, review5a F3);
    #: ``''`` on a record from before, whose caller is not known (it replays to nobody).
    principal: Mapped[str] = mapped_column(String(300), server_default="")
    #: A keyed digest of the client's Idempotency-Key (``stored_key``, 64 hex characters),
    #: never the key as sent (migration 0049); on a legacy record (``response`` not NULL)
    #: the key as sent.
    key: Mapped[str] = mapped_column(String(200))
    operation: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    #: LEGACY, plaintext: the first response of a record stored before migration 0049,
    #: replayed from here until the replay window deletes it. NULL on every record since.
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    #: The first response's JSON, sealed with the field cipher under the case's data key
    #: (gateway/core/idempotency.py ``seal_response``); NULL while the claim is in flight.
    response_sealed: Mapped[bytes | None] = encrypted_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    #: The case the request was about (migration 0040): the sweep deletes the record with
    #: the case's dossier; for a report that waits for the lead, the dossier it joined
    #: (migration 0044). NULL for a record whose case was not found (from before 0040);
    #: those go with the replay window.
    case_id: Mapped[str | None] = mapped_column(String(36), index=True)
