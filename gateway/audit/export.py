"""Reading the log from the database for verification, and writing the offline export file
an auditor verifies (its format and its reading: :mod:`audit.exportfile`)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from typing import IO

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from audit.columns import CHECKED_COLUMNS, StoredColumns
from audit.exportfile import EXPORT_FORMAT, checkpoint_json
from audit.keys import public_key_id, public_key_text
from audit.note import Verifier
from audit.verify import Anchor, StoredCheckpoint, StoredEntry, VerificationResult, verify_log
from gateway.audit.checkpoints import format_signed_at, stored_checkpoint
from gateway.audit.log import sealed_size
from gateway.audit.models import AuditCheckpoint, AuditNoteSignature, AuditRecord, AuditSubject
from gateway.db import utcnow

_CHUNK = 20_000


def db_checkpoints(session: Session) -> list[StoredCheckpoint]:
    rows = session.execute(select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size)).scalars()
    lines: dict[int, list[str]] = defaultdict(list)
    for size, line in session.execute(
        select(AuditNoteSignature.tree_size, AuditNoteSignature.line).order_by(
            AuditNoteSignature.tree_size, AuditNoteSignature.signed_at, AuditNoteSignature.signer
        )
    ):
        lines[size].append(line)
    return [stored_checkpoint(row, lines[row.tree_size]) for row in rows]


def db_head_size(session: Session) -> int:
    """The number of entries in the log (the committed prefix without holes)."""
    return sealed_size(session)


def verify_database(
    session_factory: sessionmaker[Session],
    keys: list[Ed25519PublicKey],
    *,
    sized: Callable[[int], None] | None = None,
    progress: Callable[[int], None] | None = None,
    origin: str | None = None,
    witnesses: Sequence[Verifier] = (),
    quorum: int = 0,
    anchors: Sequence[Anchor] = (),
) -> VerificationResult:
    """Verify the stored log against its signed checkpoints.

    Checkpoints first, then the size, then the entries up to that size: an entry appended or a
    checkpoint signed while this runs cannot look like a missing entry, and a deleted entry
    under a checkpoint still shows. ``sized`` learns the size before the long part starts.
    """
    with session_factory() as session:
        checkpoints = db_checkpoints(session)
        size = db_head_size(session)
    if sized is not None:
        sized(size)
    return verify_log(
        db_entries(session_factory, end=size, with_columns=True),
        checkpoints,
        keys,
        expected_size=size,
        progress=progress,
        origin=origin,
        witnesses=witnesses,
        quorum=quorum,
        anchors=anchors,
    )


_COLUMNS = [getattr(AuditRecord, name) for name in CHECKED_COLUMNS]


def db_entries(
    session_factory: sessionmaker[Session],
    *,
    end: int | None = None,
    with_columns: bool = False,
) -> Iterator[StoredEntry]:
    """Every entry in index order, read in chunks (keyset paging, constant memory).

    ``with_columns``: also read the search columns and ``audit_entry_subject`` rows, so
    verification can check them against the body (see :mod:`audit.columns`)."""
    after = -1
    while True:
        with session_factory() as session:
            query = (
                select(
                    AuditRecord.index,
                    AuditRecord.leaf_hash,
                    AuditRecord.body,
                    *(_COLUMNS if with_columns else ()),
                )
                .where(AuditRecord.index > after)
                .order_by(AuditRecord.index)
                .limit(_CHUNK)
            )
            if end is not None:
                query = query.where(AuditRecord.index < end)
            rows = session.execute(query).all()
            subjects: dict[int, list[str]] = defaultdict(list)
            if with_columns and rows:
                named = session.execute(
                    select(AuditSubject.index, AuditSubject.pseudonym).where(
                        AuditSubject.index >= rows[0][0], AuditSubject.index <= rows[-1][0]
                    )
                )
                for index, pseudonym in named:
                    subjects[index].append(pseudonym)
        for row in rows:
            index, leaf, body = row[0], row[1], row[2]
            columns = (
                StoredColumns(dict(zip(CHECKED_COLUMNS, row[3:], strict=True)), subjects[index])
                if with_columns
                else None
            )
            yield StoredEntry(index, bytes(leaf), body, columns)
        if len(rows) < _CHUNK:
            return
        after = rows[-1][0]


def write_export(
    session_factory: sessionmaker[Session],
    out: IO[str],
    public_keys: list[Ed25519PublicKey],
    *,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the whole log to ``out``; returns the number of entries written."""
    with session_factory() as session:
        checkpoints = db_checkpoints(session)
        size = db_head_size(session)
    header = {
        "type": EXPORT_FORMAT,
        "version": 1,
        "exportedAt": format_signed_at(utcnow()),
        "treeSize": size,
        "publicKeys": [
            {"keyId": public_key_id(key), "algorithm": "Ed25519", "publicKey": public_key_text(key)}
            for key in public_keys
        ],
    }
    out.write(json.dumps(header) + "\n")
    for checkpoint in checkpoints:
        out.write(json.dumps(checkpoint_json(checkpoint)) + "\n")
    written = 0
    for entry in db_entries(session_factory, end=size):
        line = {"type": "entry", "index": entry.index, "leafHash": entry.leaf_hash.hex()}
        line["body"] = entry.body
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
        written += 1
        if progress is not None and written % 10_000 == 0:
            progress(10_000)
    if progress is not None and written % 10_000:
        progress(written % 10_000)
    return written
