"""Rotating the log's signing key: the only way the key changes.

A new key is never simply put in the key directory (verifiers, witnesses and the gateway
itself would refuse it: a silent key swap). Instead, ``ketenpoort audit rotate-key``:

1. creates the new key next to the old one (``checkpoint-signing-key.next.pem``, 0600); a
   rotation that did not finish left it there and it is used again;
2. in one transaction under the signing lock, appends a ``key-rotation`` entry per covenant
   (old and new key ids) and signs a checkpoint over them **with the old key** that announces
   the new one (the ``next-key <vkey>`` extension line, :func:`audit.note.checkpoint_text`);
3. asks the configured witnesses to cosign that checkpoint; each witness cosigns it only when
   the old key signed it, and from then on accepts only the new key for this log;
4. once the quorum has cosigned, installs the new key as ``checkpoint-signing-key.pem`` (the old
   key file is replaced, so it can sign nothing more). Without the quorum it stops there and
   says so: run it again when the witnesses are reachable.

Verifiers (:func:`audit.verify.verify_log`) accept checkpoints by the new key only after an
announcement signed by the old key with the quorum of cosignatures, and refuse the old key
after it. A running gateway that still holds the old key signs nothing after the announcement
until the new key is installed, then takes it from the key directory by itself.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.orm import Session, sessionmaker

from audit.entry import KEY_ROTATION, AuditEntry, ProcessingActivity
from audit.keys import CheckpointSigner, install_next_signer, load_or_create_next_signer
from audit.note import announced_next_key
from audit.verify import witness_cosigners
from gateway.audit.checkpoints import (
    AuditIntegrityError,
    latest_checkpoint,
    lock_for_signing,
    note_signatures,
    sign_in,
    stored_checkpoint,
)
from gateway.audit.keyguard import open_audit_keys, pseudonym_key_check
from gateway.audit.service import AuditLog
from gateway.db import transaction, utcnow

log = logging.getLogger("ketenpoort.audit")


class RotationError(RuntimeError):
    """The rotation cannot go on; the message says what to do."""


@dataclass(frozen=True)
class RotationResult:
    #: The checkpoint that announces the new key.
    announced_in: int
    old_key_id: str
    new_key_id: str
    #: The new key's verifier key, to publish.
    new_vkey: str
    #: The configured witnesses that cosigned the announcement, and how many are needed.
    cosigned: int
    quorum: int
    #: Whether the new key is now the signing key (the quorum cosigned the announcement).
    installed: bool


def _announced(session: Session) -> tuple[int, str] | None:
    latest = latest_checkpoint(session)
    next_key = announced_next_key(latest.note) if latest is not None else None
    return (latest.tree_size, next_key) if latest is not None and next_key is not None else None


def rotate_signing_key(
    session_factory: sessionmaker[Session],
    audit: AuditLog,
    key_dir: Path,
    *,
    covenant_ids: Sequence[str],
    pinned: Ed25519PublicKey | None = None,
) -> RotationResult:
    """Announce, witness and install a new signing key (see the module docstring). ``audit``
    carries the origin and the configured witnesses; its keys are opened here again, checked
    against the log (an unfinished rotation is resumed, not started anew)."""
    if not covenant_ids:
        raise RotationError("no covenant is loaded: the rotation would not be recorded")
    old, _ = open_audit_keys(key_dir, session_factory, pinned, rotating=True)
    with session_factory() as session:
        pending = _announced(session)
    if pending is not None and pending[1] == old.vkey(audit.origin):
        pending = None  # that rotation finished; this is a new one
    new = load_or_create_next_signer(key_dir)
    new_vkey = new.vkey(audit.origin)
    if pending is not None and pending[1] != new_vkey:
        raise RotationError(
            f"checkpoint {pending[0]} announced a key that is not the one in "
            f"{key_dir}: the rotation's new key was lost. The log cannot go on under this "
            "origin; start a new log (a new origin) and publish its key."
        )
    if pending is None:
        announced_in = _announce(session_factory, audit, old, new_vkey, new.key_id, covenant_ids)
    else:
        announced_in = pending[0]
    if audit.witnessing is not None:
        audit.witnessing.cosign_latest(session_factory)
    with session_factory() as session:
        row = latest_checkpoint(session)
        assert row is not None
        witnesses = [w.verifier for w in audit.witnessing.witnesses] if audit.witnessing else []
        cosigned = len(
            witness_cosigners(
                stored_checkpoint(row, note_signatures(session, row.tree_size)), witnesses
            )
        )
    installed = cosigned >= audit.quorum
    if installed:
        audit.signer = install_next_signer(key_dir)
        log.warning(
            "audit signing key rotated: %s… -> %s… (announced in checkpoint %d)",
            old.key_id[:16],
            new.key_id[:16],
            announced_in,
        )
    return RotationResult(
        announced_in=announced_in,
        old_key_id=old.key_id,
        new_key_id=new.key_id,
        new_vkey=new_vkey,
        cosigned=cosigned,
        quorum=audit.quorum,
        installed=installed,
    )


def _announce(
    session_factory: sessionmaker[Session],
    audit: AuditLog,
    old: CheckpointSigner,
    new_vkey: str,
    new_key_id: str,
    covenant_ids: Sequence[str],
) -> int:
    now = utcnow()
    entries = [
        AuditEntry(
            activity=KEY_ROTATION,
            outcome="recorded",
            started_at=now,
            ended_at=now,
            processing=ProcessingActivity(covenant_id=covenant, purpose="audit-log-integrity"),
            attributes={
                "key": "audit-checkpoint-signing-key",
                "oldKeyId": old.key_id,
                "newKeyId": new_key_id,
            },
        )
        for covenant in covenant_ids
    ]
    with transaction(session_factory) as session:
        lock_for_signing(session)
        audit.append_many(session=session, entries=entries)
        view = sign_in(
            session,
            old,
            origin=audit.origin,
            pseudonym_key=pseudonym_key_check(audit.pseudonymiser),
            next_key=new_vkey,
        )
        if view is None:  # rolls the entries back too
            raise AuditIntegrityError(
                "The key rotation's checkpoint covers no new entry (an append is still in "
                "flight); run the rotation again."
            )
    return view.tree_size
