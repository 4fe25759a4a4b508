"""ORM models of the crypto domain: data keys, stored wrapped by a KEK."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db import Base, UTCDateTime, utcnow


class DataKey(Base):
    """One data key (DEK) per key scope, e.g. ``case:42`` for a case's dossier.

    The scope is the unit of retention: shredding sets ``wrapped_key`` to NULL and records
    when and why, so every value encrypted under the key reads as erased from then on.
    ``id`` is the data key's version as bound into each ciphertext's associated data.
    """

    __tablename__ = "crypto_data_key"
    __table_args__ = (
        CheckConstraint(
            "(wrapped_key IS NULL AND shredded_at IS NOT NULL)"
            " OR (wrapped_key IS NOT NULL AND shredded_at IS NULL)",
            name="shredded_has_no_key",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(200), unique=True)
    kek_version: Mapped[int] = mapped_column(Integer, index=True)
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rewrapped_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    shredded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    shred_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
