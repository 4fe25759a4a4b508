"""Signed checkpoints, the tree tiles behind them, and the database-backed node reader.

A checkpoint is a C2SP ``tlog-checkpoint`` (:func:`audit.note.checkpoint_text`: the log's
origin, the tree size, the base64 root hash, and a ``previous <size>`` extension line naming the
checkpoint it extends), signed as a C2SP ``signed-note`` with the audit Ed25519 key under the
origin as key name. ``audit_checkpoint.note`` holds the signed text, ``signature`` the raw
Ed25519 signature, and ``audit_note_signature`` the note's signature lines: the log's own and
the witnesses' cosignatures (:mod:`audit.witnessing`). Checkpoints signed before this format
(``ketenpoort-audit-log/v1`` notes with a signing time) still verify.

The signing job runs under a database
lock (an advisory lock on PostgreSQL, the write lock on SQLite), so two replicas never sign at
once; the primary key on ``tree_size`` is the backstop.

Before signing, the job checks that the new tree extends the previous checkpoint (a
consistency proof): a log whose old entries were altered is never signed over.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from audit.keys import CheckpointSigner
from audit.merkle import (
    ProofError,
    consistency_proof,
    perfect_root,
    tree_root,
    verify_consistency,
)
from audit.note import NOTE_ORIGIN, NoteError, checkpoint_text, is_legacy_note, parse_checkpoint
from audit.verify import StoredCheckpoint
from gateway.audit.log import seal
from gateway.audit.models import AuditCheckpoint, AuditNoteSignature, AuditRecord, AuditTreeNode
from gateway.audit.schemas import CheckpointView
from gateway.core.errors import GatewayError
from gateway.db import transaction, utcnow

log = logging.getLogger("ketenpoort.audit")

#: Subtree roots are stored every TILE_HEIGHT levels.
TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
#: Children read per query while building tiles (a multiple of TILE_WIDTH).
_CHUNK = TILE_WIDTH * 1024
_ADVISORY_LOCK_KEY = 0x6B70_6175  # "kpau"


class AuditIntegrityError(GatewayError):
    status = 500
    problem = "audit-integrity"
    title = "Audit log integrity failure"


class SignerReplaced(AuditIntegrityError):
    """The latest checkpoint announced another signing key than the one in hand."""

    def __init__(self, detail: str, announced: str) -> None:
        super().__init__(detail)
        #: The announced key (vkey).
        self.announced = announced


def format_signed_at(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def checkpoint_note(tree_size: int, root_hash: bytes, signed_at: datetime) -> str:
    """The text the checkpoints signed before the C2SP format covered (kept for tests of
    logs written then; new checkpoints use :func:`audit.note.checkpoint_text`)."""
    return (
        f"{NOTE_ORIGIN}\n{tree_size}\n{base64.b64encode(root_hash).decode('ascii')}\n"
        f"{format_signed_at(signed_at)}\n"
    )


def note_signatures(session: Session, tree_size: int) -> list[str]:
    """The signature lines of a checkpoint's signed note: the log's first, then cosignatures."""
    return list(
        session.execute(
            select(AuditNoteSignature.line)
            .where(AuditNoteSignature.tree_size == tree_size)
            .order_by(AuditNoteSignature.signed_at, AuditNoteSignature.signer)
        ).scalars()
    )


def checkpoint_view(row: AuditCheckpoint, signatures: list[str] | None = None) -> CheckpointView:
    """The API form; with the note's ``signatures`` it carries the whole C2SP signed note."""
    return CheckpointView(
        tree_size=row.tree_size,
        root_hash=row.root_hash.hex(),
        signed_at=row.signed_at,
        key_id=row.key_id,
        note=row.note,
        signature=base64.b64encode(row.signature).decode("ascii"),
        signed_note=row.note + "\n" + "".join(signatures) if signatures else None,
        cosignatures=max(len(signatures or ()) - 1, 0),
    )


def stored_checkpoint(row: AuditCheckpoint, signatures: Sequence[str]) -> StoredCheckpoint:
    """A checkpoint row as the verifier reads it (with its note's signature lines)."""
    return StoredCheckpoint(
        tree_size=row.tree_size,
        root_hash=row.root_hash,
        signed_at=format_signed_at(row.signed_at),
        key_id=row.key_id,
        note=row.note,
        signature=row.signature,
        signatures=tuple(signatures),
    )


class DbNodeReader:
    """Perfect-subtree roots from the database: stored tiles every 8 levels, hashed up
    from the level below otherwise (at most 128 hashes per node). Results are memoised."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._memo: dict[tuple[int, int], bytes] = {}
        self._tiles: dict[tuple[int, int], list[bytes]] = {}

    def stored(self, level: int, start: int, end: int) -> list[bytes]:
        if level == 0:
            rows = self._session.execute(
                select(AuditRecord.leaf_hash)
                .where(AuditRecord.index >= start, AuditRecord.index < end)
                .order_by(AuditRecord.index)
            ).scalars()
        else:
            rows = self._session.execute(
                select(AuditTreeNode.hash)
                .where(
                    AuditTreeNode.level == level,
                    AuditTreeNode.node_index >= start,
                    AuditTreeNode.node_index < end,
                )
                .order_by(AuditTreeNode.node_index)
            ).scalars()
        hashes = list(rows)
        if len(hashes) != end - start:
            raise AuditIntegrityError(
                f"The audit log misses stored nodes at level {level} in [{start}, {end})."
            )
        return hashes

    def _tile(self, base: int, tile: int) -> list[bytes]:
        """The stored nodes of one aligned 256-wide tile at ``base`` (the right edge may be
        shorter); fetched once, so a proof costs a few queries, not one per level."""
        key = (base, tile)
        if key not in self._tiles:
            start = tile * TILE_WIDTH
            if base == 0:
                query = (
                    select(AuditRecord.leaf_hash)
                    .where(AuditRecord.index >= start, AuditRecord.index < start + TILE_WIDTH)
                    .order_by(AuditRecord.index)
                )
            else:
                query = (
                    select(AuditTreeNode.hash)
                    .where(
                        AuditTreeNode.level == base,
                        AuditTreeNode.node_index >= start,
                        AuditTreeNode.node_index < start + TILE_WIDTH,
                    )
                    .order_by(AuditTreeNode.node_index)
                )
            self._tiles[key] = list(self._session.execute(query).scalars())
        return self._tiles[key]

    def perfect_nodes(self, level: int, start: int, end: int) -> list[bytes]:
        result: list[bytes] = []
        for index in range(start, end):
            key = (level, index)
            if key not in self._memo:
                base = level - level % TILE_HEIGHT
                width = 1 << (level - base)
                first = index * width
                tile = self._tile(base, first // TILE_WIDTH)
                offset = first % TILE_WIDTH
                children = tile[offset : offset + width]
                if len(children) != width:
                    raise AuditIntegrityError(
                        f"The audit log misses stored nodes at level {base} from {first}."
                    )
                self._memo[key] = perfect_root(children)
            result.append(self._memo[key])
        return result


def build_tiles(session: Session, old_size: int, new_size: int) -> None:
    """Store the tile nodes completed by growing the tree from ``old_size`` to ``new_size``."""
    reader = DbNodeReader(session)
    level, low, high = 0, old_size, new_size
    while True:
        first, last = low // TILE_WIDTH, high // TILE_WIDTH  # new parents: [first, last)
        if last <= first:
            return
        for chunk_start in range(first * TILE_WIDTH, last * TILE_WIDTH, _CHUNK):
            chunk_end = min(chunk_start + _CHUNK, last * TILE_WIDTH)
            children = reader.stored(level, chunk_start, chunk_end)
            rows = [
                {
                    "level": level + TILE_HEIGHT,
                    "node_index": chunk_start // TILE_WIDTH + i,
                    "hash": perfect_root(children[i * TILE_WIDTH : (i + 1) * TILE_WIDTH]),
                }
                for i in range(len(children) // TILE_WIDTH)
            ]
            session.execute(insert(AuditTreeNode), rows)
        level, low, high = level + TILE_HEIGHT, first, last


def _take_signing_lock(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK_KEY})
    else:
        # SQLite: a write statement takes the database write lock for the transaction.
        session.execute(text("UPDATE audit_head SET next_index = next_index WHERE id = 1"))


def latest_checkpoint(session: Session) -> AuditCheckpoint | None:
    return session.execute(
        select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size.desc()).limit(1)
    ).scalar_one_or_none()


def sign_checkpoint(
    session_factory: sessionmaker[Session],
    signer: CheckpointSigner,
    *,
    origin: str,
    pseudonym_key: str | None = None,
) -> CheckpointView | None:
    """Sign a checkpoint over every committed entry; ``None`` when nothing is new.

    Safe to run from several replicas and from cron at once (see the module docstring).
    """
    try:
        with transaction(session_factory) as session:
            _take_signing_lock(session)
            view = sign_in(session, signer, origin=origin, pseudonym_key=pseudonym_key)
    except IntegrityError:
        log.info("another process signed this checkpoint first")
        return None
    if view is not None:
        log.info("signed audit checkpoint tree_size=%d", view.tree_size)
    return view


def lock_for_signing(session: Session) -> None:
    """Take the signing lock in ``session``'s transaction (see the module docstring)."""
    _take_signing_lock(session)


def sign_in(
    session: Session,
    signer: CheckpointSigner,
    *,
    origin: str,
    pseudonym_key: str | None = None,
    next_key: str | None = None,
) -> CheckpointView | None:
    """Sign a checkpoint in ``session``'s transaction, which holds the signing lock; ``None``
    when nothing is new. ``next_key`` (a vkey) announces a key rotation (audit.rotation).

    Refuses (:class:`AuditIntegrityError`) to sign with a key the previous checkpoint
    announced a replacement for: after a rotation only the new key signs."""
    previous = latest_checkpoint(session)
    if previous is not None and not is_legacy_note(previous.note):
        try:
            announced = parse_checkpoint(previous.note).next_key
        except NoteError:
            announced = None
        if announced is not None and announced != signer.vkey(origin):
            raise SignerReplaced(
                f"Refusing to sign: checkpoint {previous.tree_size} announced a new log key "
                "and this process holds another (a rotation that has not finished: "
                "'ketenpoort audit rotate-key' finishes it).",
                announced,
            )
    # Fills holes left by rolled-back appends (PostgreSQL) and advances the head.
    size = seal(session)
    old_size = previous.tree_size if previous else 0
    if size <= old_size:
        return None
    build_tiles(session, old_size, size)
    reader = DbNodeReader(session)
    root = tree_root(reader, size)
    if previous is not None:
        try:
            verify_consistency(
                old_size,
                size,
                previous.root_hash,
                root,
                consistency_proof(reader, old_size, size),
            )
        except ProofError as exc:
            raise AuditIntegrityError(
                f"Refusing to sign: the log no longer extends checkpoint {old_size} "
                "(run 'ketenpoort audit verify')."
            ) from exc
    signed_at = utcnow()
    note = checkpoint_text(
        origin, size, root, previous=old_size, pseudonym_key=pseudonym_key, next_key=next_key
    )
    line = signer.note_signer(origin).sign(note)
    row = AuditCheckpoint(
        tree_size=size,
        root_hash=root,
        signed_at=signed_at,
        key_id=signer.key_id,
        note=note,
        signature=line.signature,
    )
    session.add(row)
    session.flush()
    session.add(
        AuditNoteSignature(tree_size=size, signer=origin, line=str(line), signed_at=signed_at)
    )
    session.flush()
    return checkpoint_view(row, [str(line)])
