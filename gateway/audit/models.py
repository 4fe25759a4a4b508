"""ORM models of the audit log.

``audit_entry`` holds the canonical JSON (``body``) each leaf hash is computed over, plus a few
copied columns for the privacy officers' searches; verification only trusts ``body``.
``audit_head`` is a single row. On SQLite it is the next index and appends lock it inside the
caller's transaction. On PostgreSQL appends take indexes from ``audit_index_seq`` without a
lock and the row is the sealed size: the prefix the checkpoint job has checked has no holes
(see :mod:`audit.log`).
``audit_tree_node`` caches roots of perfect subtrees every 8 levels (tiles), so inclusion
proofs at a million entries read a few hundred hashes instead of the whole log.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db import Base, UTCDateTime


class AuditHead(Base):
    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    next_index: Mapped[int] = mapped_column(BigInteger, nullable=False)


class AuditRecord(Base):
    """One appended entry (the leaf ``index`` of the tree)."""

    __tablename__ = "audit_entry"

    index: Mapped[int] = mapped_column("idx", BigInteger, primary_key=True, autoincrement=False)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    # Copies of body fields for searching; never used for verification.
    covenant_id: Mapped[str] = mapped_column(String(100), nullable=False)
    activity: Mapped[str] = mapped_column(String(100), nullable=False)
    outcome: Mapped[str] = mapped_column(String(40), nullable=False)
    case_id: Mapped[str | None] = mapped_column(String(200))
    subject_pseudonym: Mapped[str | None] = mapped_column(String(64))
    requester_partner: Mapped[str | None] = mapped_column(String(200))
    recipient_partner: Mapped[str | None] = mapped_column(String(200))
    purpose: Mapped[str | None] = mapped_column(String(200))
    # " clause-a clause-b " so a clause is found with LIKE '% id %' on every backend.
    clause_ids: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # " partner-a partner-b ": partners whose data was disclosed (may fetch receipts).
    data_owners: Mapped[str] = mapped_column(Text, nullable=False, default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    __table_args__ = (
        Index("ix_audit_entry_covenant_started", "covenant_id", "started_at"),
        Index("ix_audit_entry_subject", "subject_pseudonym"),
        Index("ix_audit_entry_case", "case_id"),
    )


class AuditSubject(Base):
    """One data subject an entry names (``dataSubject`` or ``dataSubjects``), by pseudonym:
    the access report looks a person up here, by index, instead of scanning entry bodies.
    A search copy like the columns above: never used for verification."""

    __tablename__ = "audit_entry_subject"

    pseudonym: Mapped[str] = mapped_column(String(64), primary_key=True)
    index: Mapped[int] = mapped_column("idx", BigInteger, primary_key=True, autoincrement=False)


class AuditCheckpoint(Base):
    """A signed statement: the log had ``tree_size`` entries with root ``root_hash``."""

    __tablename__ = "audit_checkpoint"

    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    key_id: Mapped[str] = mapped_column(String(64), nullable=False)
    # The exact text that was signed (see audit.checkpoints.checkpoint_note).
    note: Mapped[str] = mapped_column(Text, nullable=False)
    signature: Mapped[bytes] = mapped_column(LargeBinary(64), nullable=False)


class AuditTreeNode(Base):
    """Root of the perfect subtree at ``level`` (a multiple of 8) and ``node_index``."""

    __tablename__ = "audit_tree_node"

    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    node_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)


class AuditNoteSignature(Base):
    """One signature line of a checkpoint's C2SP signed note: the log's own (its key name is
    the origin) and each witness's cosignature (tlog-cosignature), as verified when stored.
    The signed note is the checkpoint's ``note`` text, a blank line, and these lines."""

    __tablename__ = "audit_note_signature"

    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    signer: Mapped[str] = mapped_column(String(200), primary_key=True)
    line: Mapped[str] = mapped_column(Text, nullable=False)
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
