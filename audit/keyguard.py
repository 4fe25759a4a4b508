"""Audit keys never change silently.

The checkpoint signing key and the pseudonym key are created only on a first start with an
empty log. The log itself says which keys it was written with: every checkpoint is signed with
the signing key, and every checkpoint carries a check value of the pseudonym key (the
``pseudonym-key`` extension line, :func:`audit.note.checkpoint_text`). At every later start a
missing key file is an error, not a reason to create a new one (a new pseudonym key would make
every data subject's art. 15 report silently empty, a new signing key would start a second
trust anchor), and a key that does not match the latest checkpoint is refused.

What this cannot see: a key replaced before the log's first checkpoint (the in-process job
signs one within ``KETENPOORT_AUDIT_CHECKPOINT_INTERVAL_SECONDS`` of the first entry).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from audit.checkpoints import latest_checkpoint
from audit.keys import (
    PSEUDONYM_KEY_FILE,
    SIGNING_KEY_FILE,
    CheckpointSigner,
    Pseudonymiser,
    load_or_create_pseudonymiser,
    load_or_create_signer,
    verify_signature,
)
from audit.models import AuditCheckpoint, AuditRecord
from audit.note import NoteError, is_legacy_note, parse_checkpoint
from audit.service import PSEUDONYM_KEY_CHECK
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


def open_audit_keys(
    key_dir: Path, session_factory: sessionmaker[Session]
) -> tuple[CheckpointSigner, Pseudonymiser]:
    """The audit keys, checked against the log; raises :class:`AuditKeyError` rather than
    create or accept a key the log was not written with."""
    with session_factory() as session:
        empty = _log_is_empty(session)
        latest = latest_checkpoint(session)
    if not empty:
        for name in (SIGNING_KEY_FILE, PSEUDONYM_KEY_FILE):
            if not (key_dir / name).exists():
                raise AuditKeyError(
                    f"The audit log has entries but {name} is missing from {key_dir}. Restore "
                    "it from the backup; a new key is never created for a log that has entries."
                )
    signer = load_or_create_signer(key_dir)
    pseudonymiser = load_or_create_pseudonymiser(key_dir)
    if latest is None:
        return signer, pseudonymiser
    if not verify_signature(signer.public_key, latest.signature, latest.note.encode("utf-8")):
        raise AuditKeyError(
            f"{SIGNING_KEY_FILE} in {key_dir} is not the key the log's latest checkpoint "
            f"({latest.tree_size}) was signed with. Restore the original key."
        )
    if is_legacy_note(latest.note):
        return signer, pseudonymiser
    try:
        announced = parse_checkpoint(latest.note).pseudonym_key
    except NoteError:
        announced = None
    if announced is not None and announced != pseudonym_key_check(pseudonymiser):
        raise AuditKeyError(
            f"{PSEUDONYM_KEY_FILE} in {key_dir} is not the key the log was written with "
            f"(checkpoint {latest.tree_size} names another): data subjects' pseudonyms would "
            "no longer match their entries. Restore the original key."
        )
    return signer, pseudonymiser
