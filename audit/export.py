"""Reading the log for verification, and the offline export file an auditor verifies.

The export is JSON Lines: a header with the public key(s), then every checkpoint, then every
entry as its exact stored body (a string, so the bytes the leaf hash covers survive).
"""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from audit.checkpoints import format_signed_at, stored_checkpoint
from audit.columns import CHECKED_COLUMNS, StoredColumns
from audit.keys import public_key_from_text, public_key_id, public_key_text
from audit.log import sealed_size
from audit.models import AuditCheckpoint, AuditNoteSignature, AuditRecord, AuditSubject
from audit.note import Verifier
from audit.verify import Anchor, StoredCheckpoint, StoredEntry, VerificationResult, verify_log
from gateway.db import utcnow

EXPORT_FORMAT = "ketenpoort-audit-export"
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


def _checkpoint_json(checkpoint: StoredCheckpoint) -> dict[str, Any]:
    return {
        "type": "checkpoint",
        "treeSize": checkpoint.tree_size,
        "rootHash": checkpoint.root_hash.hex(),
        "signedAt": checkpoint.signed_at,
        "keyId": checkpoint.key_id,
        "note": checkpoint.note,
        "signature": base64.b64encode(checkpoint.signature).decode("ascii"),
        "signatures": list(checkpoint.signatures),
    }


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
        out.write(json.dumps(_checkpoint_json(checkpoint)) + "\n")
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


@dataclass
class ExportFile:
    tree_size: int
    public_keys: list[Ed25519PublicKey]
    checkpoints: list[StoredCheckpoint]
    path: Path

    def entries(self) -> Iterator[StoredEntry]:
        with self.path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                record = json.loads(line)
                if record.get("type") != "entry":
                    continue
                try:
                    yield StoredEntry(
                        int(record["index"]), bytes.fromhex(record["leafHash"]), record["body"]
                    )
                except (KeyError, ValueError, TypeError):
                    raise ValueError(f"line {number}: not a valid entry") from None


def read_export(path: Path) -> ExportFile:
    """Read the header and checkpoints (entries are streamed later by :meth:`entries`)."""
    checkpoints: list[StoredCheckpoint] = []
    with path.open(encoding="utf-8") as handle:
        header = json.loads(handle.readline() or "{}")
        if header.get("type") != EXPORT_FORMAT:
            raise ValueError("not a Ketenpoort audit export")
        for line in handle:
            record = json.loads(line)
            if record.get("type") == "entry":
                break
            if record.get("type") == "checkpoint":
                checkpoints.append(
                    StoredCheckpoint(
                        tree_size=int(record["treeSize"]),
                        root_hash=bytes.fromhex(record["rootHash"]),
                        signed_at=str(record["signedAt"]),
                        key_id=str(record["keyId"]),
                        note=str(record["note"]),
                        signature=base64.b64decode(record["signature"]),
                        signatures=tuple(str(line) for line in record.get("signatures", ())),
                    )
                )
    keys = [public_key_from_text(k["publicKey"]) for k in header.get("publicKeys", [])]
    return ExportFile(int(header.get("treeSize", 0)), keys, checkpoints, path)
