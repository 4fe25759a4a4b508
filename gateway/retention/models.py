"""ORM models of the retention domain.

``retention_case`` is the retention register: one row per case with the rule that applies,
its due date and why, kept up to date from ``retention_fact`` (the dated events the rules
derive source dates from). Nothing here holds plaintext personal data: the resident is only
known by the blind index of the causer's identifier, and it is cleared on erasure.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Index,
    Integer,
    String,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db import Base, UTCDateTime


class RetentionCase(Base):
    __tablename__ = "retention_case"
    # Partial (migration 0010): an erased row adds no entry, which keeps erasing cheap.
    # The sweep walks the primary key in keyset order; the stale scan reads the table.
    __table_args__ = (
        Index(
            "ix_retention_case_live",
            "covenant_id",
            "due_on",
            postgresql_where=text("erased_at IS NULL"),
            sqlite_where=text("erased_at IS NULL"),
        ),
        Index(
            "ix_retention_case_resident",
            "resident_key",
            postgresql_where=text("resident_key IS NOT NULL"),
            sqlite_where=text("resident_key IS NOT NULL"),
        ),
    )

    case_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    covenant_id: Mapped[str] = mapped_column(String(100))
    #: The crypto key scope of the dossier (``case:<id>``): what the sweeper shreds.
    scope: Mapped[str] = mapped_column(String(200))
    #: Blind index of the causer's identifier; links reports about the same resident.
    resident_key: Mapped[str | None] = mapped_column(String(128))
    complexity: Mapped[str | None] = mapped_column(String(20))
    rule_id: Mapped[str | None] = mapped_column(String(100))
    source_date: Mapped[date | None] = mapped_column(Date)
    due_on: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(500), default="")
    #: The rules revision the verdict was computed under; stale rows are recomputed.
    rules_revision: Mapped[str] = mapped_column(String(32), default="")
    stale: Mapped[bool] = mapped_column(Boolean, default=True)
    #: An active legal hold (its record is ``retention_hold``). Setting or lifting a hold
    #: updates this row, so the hold and the sweep's erasure share the row's lock.
    on_hold: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    computed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    erased_rule_id: Mapped[str | None] = mapped_column(String(100))
    erased_run_id: Mapped[str | None] = mapped_column(String(36))


class RetentionFact(Base):
    """A dated event on a case: mediation ended, sanction imposed, moved out, report..."""

    __tablename__ = "retention_fact"
    __table_args__ = (UniqueConstraint("source_ref"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(36), index=True)
    # mediation-ended | sanction-imposed | resident-moved-out | case-closed |
    # report-received | recorded-date
    kind: Mapped[str] = mapped_column(String(40))
    occurred_on: Mapped[date] = mapped_column(Date)
    #: A fixed code: the mediation outcome, the sanction instrument, the recorded date's name.
    detail: Mapped[str | None] = mapped_column(String(60))
    #: Where it came from, unique, so importing from the case tables is idempotent.
    source_ref: Mapped[str | None] = mapped_column(String(120))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(300))


class RetentionHold(Base):
    """A legal hold: while one is active (not lifted) the case is never redacted."""

    __tablename__ = "retention_hold"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36), index=True)
    reason: Mapped[str] = mapped_column(String(500))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime)
    set_by: Mapped[str] = mapped_column(String(300))
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lifted_by: Mapped[str | None] = mapped_column(String(300))
    lift_reason: Mapped[str | None] = mapped_column(String(500))


class RetentionTombstone(Base):
    """What was removed from a case, when, and under which rule (one row per erasure)."""

    __tablename__ = "retention_tombstone"

    case_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    covenant_id: Mapped[str] = mapped_column(String(100))
    rule_id: Mapped[str] = mapped_column(String(100))
    due_on: Mapped[date] = mapped_column(Date)
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime)
    run_id: Mapped[str] = mapped_column(String(36))
    #: ``{"keyScope": "case:..", "values": {"case_report.description_sealed": 3, ...}}``
    removed: Mapped[dict[str, Any]] = mapped_column(JSON)


class RetentionRun(Base):
    __tablename__ = "retention_run"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dry_run: Mapped[bool] = mapped_column(Boolean)
    as_of: Mapped[date] = mapped_column(Date)
    redacted: Mapped[int] = mapped_column(Integer, default=0)
    # running | finished | failed | interrupted (gateway/retention/runs.py: a run whose
    # process died stays 'running' until the next run closes it with its true count)
    status: Mapped[str] = mapped_column(String(20))
    started_by: Mapped[str] = mapped_column(String(300))


class RetentionLock(Base):
    """The sweep lock on databases without advisory locks (SQLite): one row while held."""

    __tablename__ = "retention_lock"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
