"""Audit keys never change silently.

The checkpoint signing key and the pseudonym key are created only on a first start with an
empty log. The log itself says which keys it was written with: every checkpoint is signed with
the signing key, and every checkpoint carries a check value of the pseudonym key (the
``pseudonym-key`` extension line, :func:`audit.note.checkpoint_text`). At every later start a
missing key file is an error, not a reason to create a new one (a new pseudonym key would make
every data subject's art. 15 report silently empty, a new signing key would start a second
trust anchor), and a key that does not match the latest checkpoint is refused.

A key is replaced only by a rotation (:mod:`audit.rotation`): a checkpoint signed by the old
key announces the new one (``next-key``). With the configured log key
(``KETENPOORT_AUDIT_LOG_KEY``, the log's first key) the signing key must be the one the
announcements lead to from it, so a key replaced before the first checkpoint is refused too;
without it, only the witnesses and ``audit verify`` (which pin the first key) catch that.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from audit.keys import (
    PSEUDONYM_KEY_FILE,
    SIGNING_KEY_FILE,
    CheckpointSigner,
    Pseudonymiser,
    load_or_create_pseudonymiser,
    load_or_create_signer,
    verify_signature,
)
from audit.note import (
    NEXT_KEY,
    NoteError,
    announced_next_key,
    is_legacy_note,
    parse_checkpoint,
    parse_vkey,
)
from gateway.audit.checkpoints import latest_checkpoint
from gateway.audit.models import AuditCheckpoint, AuditRecord
from gateway.audit.service import PSEUDONYM_KEY_CHECK
from gateway.core.errors import GatewayError


class AuditKeyError(GatewayError):
    """An audit key is missing or not the one the log was written with: the gateway refuses to
    start (nothing can be disclosed without the right audit keys)."""

    status = 503
    problem = "audit-key-mismatch"
    title = "Audit key missing or changed"


def pseudonym_key_check(pseudonymiser: Pseudonymiser) -> str:
    """A check value of the pseudonym key (reveals nothing about pseudonyms: another input
    space than subjects and users)."""
    return pseudonymiser.keyed_digest(PSEUDONYM_KEY_CHECK)[:32]


def _log_is_empty(session: Session) -> bool:
    return (
        session.execute(select(AuditRecord.index).limit(1)).first() is None
        and session.execute(select(AuditCheckpoint.tree_size).limit(1)).first() is None
    )


def _raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _announced(row: AuditCheckpoint) -> Ed25519PublicKey | None:
    next_key = announced_next_key(row.note)
    return parse_vkey(next_key).public_key if next_key is not None else None


def _signs(key: Ed25519PublicKey, row: AuditCheckpoint) -> bool:
    return verify_signature(key, row.signature, row.note.encode("utf-8"))


def key_history(session: Session, pinned: Ed25519PublicKey) -> list[Ed25519PublicKey]:
    """The log's signing keys from the pinned first key through every announced rotation
    (``next-key``), each announcement checked against the key before it. Raises
    :class:`AuditKeyError` when the first checkpoint or an announcement is not signed by the
    key the chain expects there."""
    first = session.execute(
        select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size).limit(1)
    ).scalar_one_or_none()
    if first is None:
        return [pinned]
    if not _signs(pinned, first):
        raise AuditKeyError(
            f"The log's first checkpoint ({first.tree_size}) is not signed by the configured log "
            "key (KETENPOORT_AUDIT_LOG_KEY): the signing key was replaced before the first "
            "checkpoint, or the setting names another log's key."
        )
    chain = [pinned]
    announcements = session.execute(
        select(AuditCheckpoint)
        .where(AuditCheckpoint.note.contains(f"\n{NEXT_KEY} "))
        .order_by(AuditCheckpoint.tree_size)
    ).scalars()
    for row in announcements:
        successor = _announced(row)
        if successor is None:
            continue
        if not _signs(chain[-1], row):
            raise AuditKeyError(
                f"Checkpoint {row.tree_size} announces a new log key but is not signed by the "
                "key the log had then: a rotation is announced only by the old key."
            )
        chain.append(successor)
    return chain


def open_audit_keys(
    key_dir: Path,
    session_factory: sessionmaker[Session],
    pinned: Ed25519PublicKey | None = None,
    *,
    rotating: bool = False,
) -> tuple[CheckpointSigner, Pseudonymiser]:
    """The audit keys, checked against the log; raises :class:`AuditKeyError` rather than
    create or accept a key the log was not written with.

    ``pinned``: the configured log key (``KETENPOORT_AUDIT_LOG_KEY``), the log's first key.
    With it the signing key must be the one the log's announced rotations lead to from it,
    even before the first checkpoint (a key replaced then is caught here). ``rotating``: the
    rotation command may open the keys between announcing a new key and installing it."""
    with session_factory() as session:
        empty = _log_is_empty(session)
        latest = latest_checkpoint(session)
        history = key_history(session, pinned) if pinned is not None else None
    if not empty:
        for name in (SIGNING_KEY_FILE, PSEUDONYM_KEY_FILE):
            if not (key_dir / name).exists():
                raise AuditKeyError(
                    f"The audit log has entries but {name} is missing from {key_dir}. Restore "
                    "it from the backup; a new key is never created for a log that has entries."
                )
    signer = load_or_create_signer(key_dir)
    pseudonymiser = load_or_create_pseudonymiser(key_dir)
    own = _raw(signer.public_key)
    announced = _announced(latest) if latest is not None else None
    unfinished = False
    if latest is not None:
        if announced is not None and own == _raw(announced):
            pass  # a finished rotation: the new key signs from the next checkpoint on
        elif not _signs(signer.public_key, latest):
            raise AuditKeyError(
                f"{SIGNING_KEY_FILE} in {key_dir} is not the key the log's latest checkpoint "
                f"({latest.tree_size}) was signed with. Restore the original key."
            )
        elif announced is not None:
            unfinished = True
            if not rotating:
                raise AuditKeyError(
                    f"Checkpoint {latest.tree_size} announced a new log signing key, but "
                    f"{SIGNING_KEY_FILE} in {key_dir} is still the old one: the key rotation "
                    "did not finish. Run 'ketenpoort audit rotate-key' to finish it."
                )
    if history is not None:
        expected = history[-2] if unfinished else history[-1]
        if own != _raw(expected):
            what = "first key" if len(history) == 1 else "key after its announced rotations"
            raise AuditKeyError(
                f"{SIGNING_KEY_FILE} in {key_dir} is not the log's {what}, which the "
                "configured log key (KETENPOORT_AUDIT_LOG_KEY) leads to: it was replaced. "
                "Restore the original key."
            )
    if latest is None or is_legacy_note(latest.note):
        return signer, pseudonymiser
    try:
        check = parse_checkpoint(latest.note).pseudonym_key
    except NoteError:
        check = None
    if check is not None and check != pseudonym_key_check(pseudonymiser):
        raise AuditKeyError(
            f"{PSEUDONYM_KEY_FILE} in {key_dir} is not the key the log was written with "
            f"(checkpoint {latest.tree_size} names another): data subjects' pseudonyms would "
            "no longer match their entries. Restore the original key."
        )
    return signer, pseudonymiser
