"""The audit log as a service object: ``context.services["audit"]``.

Other domains call :func:`audit_log` to get it and :meth:`AuditLog.append` inside their own
request transaction. Tests replace the object (or set :attr:`AuditLog.append_hook`, see
:mod:`audit.testing`) to prove that a failed audit write discloses nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from audit.checkpoints import (
    DbNodeReader,
    checkpoint_view,
    latest_checkpoint,
    sign_checkpoint,
)
from audit.entry import Actor, AuditEntry, DataSubject
from audit.errors import AuditUnavailable, CheckpointNotFound, EntryNotFound
from audit.keys import (
    CheckpointSigner,
    Pseudonymiser,
    load_or_create_pseudonymiser,
    load_or_create_signer,
    public_key_text,
)
from audit.log import AppendedEntry, append_entries
from audit.merkle import consistency_proof, inclusion_proof
from audit.models import AuditCheckpoint, AuditRecord
from audit.schemas import CheckpointView, ConsistencyProofView, PublicKeyView, Receipt
from gateway.auth.principal import Principal
from gateway.context import GatewayContext

AppendHook = Callable[[Session, Sequence[AuditEntry]], None]


def _receipt(appended: AppendedEntry) -> Receipt:
    return Receipt(
        index=appended.index,
        leaf_hash=appended.leaf_hash.hex(),
        recorded_at=appended.recorded_at,
    )


class AuditLog:
    """Append entries, pseudonymise identifiers, sign checkpoints, hand out proofs."""

    def __init__(self, *, signer: CheckpointSigner, pseudonymiser: Pseudonymiser) -> None:
        self.signer = signer
        self.pseudonymiser = pseudonymiser
        #: Called after the entries are written, before returning; raising from it makes the
        #: append fail as a database error would (tests inject failures here).
        self.append_hook: AppendHook | None = None

    @classmethod
    def from_key_dir(cls, key_dir: Path) -> AuditLog:
        return cls(
            signer=load_or_create_signer(key_dir),
            pseudonymiser=load_or_create_pseudonymiser(key_dir),
        )

    # -- writing ---------------------------------------------------------------------------

    def append(self, *, session: Session, entry: AuditEntry) -> Receipt:
        """Record ``entry`` in ``session``'s transaction and return its receipt.

        Raises :class:`~audit.errors.AuditUnavailable` when it cannot be written: let it
        propagate so the caller's transaction rolls back and nothing is disclosed.
        Call it as the last step before the commit (it holds the log's lock until then).
        """
        return self.append_many(session=session, entries=[entry])[0]

    def append_many(self, *, session: Session, entries: Sequence[AuditEntry]) -> list[Receipt]:
        """Record several entries at once (one lock, one insert): for batches and sweeps."""
        appended = append_entries(session, entries)
        if self.append_hook is not None:
            try:
                self.append_hook(session, entries)
            except AuditUnavailable:
                raise
            except Exception as exc:
                raise AuditUnavailable(
                    "The audit entry could not be written; nothing was disclosed."
                ) from exc
        return [_receipt(item) for item in appended]

    # -- building entries --------------------------------------------------------------------

    def data_subject(self, *, identifier_type: str, identifier: str) -> DataSubject:
        """The keyed pseudonym of a data subject (the identifier is not kept)."""
        return DataSubject(
            pseudonym=self.pseudonymiser.subject(identifier_type, identifier),
            identifier_type=identifier_type,
        )

    def actor(self, principal: Principal) -> Actor:
        """The requesting partner, role and pseudonymous user of a principal."""
        return Actor(
            partner_id=principal.partner_id,
            role=principal.role,
            user_pseudonym=(
                self.pseudonymiser.user(principal.partner_id, principal.user)
                if principal.user
                else None
            ),
        )

    # -- checkpoints and proofs --------------------------------------------------------------

    def sign_checkpoint(self, session_factory: sessionmaker[Session]) -> CheckpointView | None:
        """Sign a checkpoint over all committed entries (``None`` if nothing is new)."""
        return sign_checkpoint(session_factory, self.signer)

    def public_key(self) -> PublicKeyView:
        return PublicKeyView(
            key_id=self.signer.key_id, public_key=public_key_text(self.signer.public_key)
        )


def receipt_for(session: Session, *, index: int) -> Receipt:
    """The receipt of entry ``index``, with its inclusion proof against the latest checkpoint
    when one covers it."""
    record = session.get(AuditRecord, index)
    if record is None:
        raise EntryNotFound(f"There is no audit entry {index}.")
    receipt = Receipt(
        index=record.index, leaf_hash=record.leaf_hash.hex(), recorded_at=record.recorded_at
    )
    checkpoint = latest_checkpoint(session)
    if checkpoint is None or checkpoint.tree_size <= index:
        return receipt
    proof = inclusion_proof(DbNodeReader(session), index, checkpoint.tree_size)
    return receipt.model_copy(
        update={
            "checkpoint": checkpoint_view(checkpoint),
            "inclusion_proof": [node.hex() for node in proof],
        }
    )


def consistency_between(session: Session, *, first: int, second: int) -> ConsistencyProofView:
    """A consistency proof between two signed checkpoints (by tree size)."""
    rows = {
        row.tree_size: row
        for row in session.execute(
            select(AuditCheckpoint).where(AuditCheckpoint.tree_size.in_([first, second]))
        ).scalars()
    }
    for size in (first, second):
        if size not in rows:
            raise CheckpointNotFound(f"There is no checkpoint with tree size {size}.")
    if first > second:
        raise CheckpointNotFound("The first checkpoint must not be larger than the second.")
    proof = consistency_proof(DbNodeReader(session), first, second)
    return ConsistencyProofView(
        first=checkpoint_view(rows[first]),
        second=checkpoint_view(rows[second]),
        proof=[node.hex() for node in proof],
    )


def audit_log(context: GatewayContext) -> AuditLog:
    """The registered audit log; fails closed (503) when it is missing."""
    service = context.services.get("audit")
    if not isinstance(service, AuditLog):
        raise AuditUnavailable("The audit log is not available; nothing can be disclosed.")
    return service
