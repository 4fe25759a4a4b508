"""The audit log as a service object: ``GatewayContext.audit``.

Other domains get it from the context (or as an argument of their ``build``) and call
:meth:`AuditLog.append` inside their own request transaction. Tests replace the object (or
set :attr:`AuditLog.append_hook`, see :mod:`audit.testing`) to prove that a failed audit
write discloses nothing.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from audit.entry import SALT_FIELD, Actor, AuditEntry, DataSubject
from audit.keys import (
    CheckpointSigner,
    Pseudonymiser,
    load_or_create_pseudonymiser,
    load_or_create_signer,
    load_signer,
    public_key_text,
)
from audit.merkle import consistency_proof, inclusion_proof
from audit.note import Verifier
from audit.verify import witness_cosigners
from gateway.audit.checkpoints import (
    DbNodeReader,
    SignerReplaced,
    checkpoint_view,
    note_signatures,
    sign_checkpoint,
    stored_checkpoint,
)
from gateway.audit.errors import AuditUnavailable, CheckpointNotFound, EntryNotFound
from gateway.audit.log import AppendedEntry, Companion, EntryCopy, append_copies, append_entries
from gateway.audit.models import AuditCheckpoint, AuditNoteSignature, AuditRecord
from gateway.audit.schemas import CheckpointView, ConsistencyProofView, PublicKeyView, Receipt
from gateway.audit.witnessing import Witnessing
from gateway.auth.principal import Principal
from gateway.db import Unit, transaction

if TYPE_CHECKING:
    from gateway.crypto.blind_index import BlindIndex

#: What the pseudonym key's check value is the HMAC of (see audit.keyguard).
PSEUDONYM_KEY_CHECK = b"audit-keys\x00pseudonym-key-check"
#: The origin of logs built without settings (tests, benchmarks).
DEFAULT_ORIGIN = "ketenpoort.example/audit-log"

AppendHook = Callable[[Unit, Sequence[AuditEntry]], None]

#: Identifier types whose pseudonym is derived from the blind index the cases domain stores
#: (``case_person.identifier_index``, ``case_file.address_index``): the exchange, which never
#: holds the BSN in plaintext, and the access report, which gets it in a POST body, then
#: compute the same pseudonym.
INDEXED_TYPES = frozenset({"bsn", "address"})

_ADDRESS = re.compile(r"^\s*([0-9]{4}\s*[A-Za-z]{2})\s*[,|]?\s*(\S.*?)\s*$")


class SubjectIndexer(Protocol):
    """Turns an identifier of an :data:`INDEXED_TYPES` type into its blind index."""

    def __call__(
        self, *, session: Session | None, identifier_type: str, identifier: str
    ) -> str: ...


class BlindIndexSubjects:
    """The :class:`SubjectIndexer` over gateway/crypto's blind index. Without a session it
    uses its own short transaction (the blind-index key may be created on first use)."""

    def __init__(self, blind_index: BlindIndex, session_factory: sessionmaker[Session]) -> None:
        self._blind_index = blind_index
        self._session_factory = session_factory

    def __call__(self, *, session: Session | None, identifier_type: str, identifier: str) -> str:
        if session is None:
            with transaction(self._session_factory) as own:
                return self._index(own, identifier_type, identifier)
        return self._index(session, identifier_type, identifier)

    def _index(self, session: Session, identifier_type: str, identifier: str) -> str:
        if identifier_type == "bsn":
            return self._blind_index.bsn(session=session, bsn=identifier)
        match = _ADDRESS.match(identifier)
        if match is None:
            # The same rule (and error) as the blind index's own postcode check.
            return self._blind_index.address(session=session, postcode=identifier, house_number=0)
        return self._blind_index.address(
            session=session, postcode=match.group(1), house_number=match.group(2)
        )


def _receipt(appended: AppendedEntry, quorum: int) -> Receipt:
    """A just-written entry's receipt: no checkpoint covers it yet, so nothing vouches for it
    beyond the gateway's word (``witnessed`` false; fetch the receipt again later)."""
    return Receipt(
        index=appended.index,
        leaf_hash=appended.leaf_hash.hex(),
        recorded_at=appended.recorded_at,
        witness_quorum=quorum,
    )


class AuditLog:
    """Append entries, pseudonymise identifiers, sign checkpoints, hand out proofs."""

    def __init__(
        self,
        *,
        signer: CheckpointSigner,
        pseudonymiser: Pseudonymiser,
        subject_indexer: SubjectIndexer | None = None,
        origin: str = DEFAULT_ORIGIN,
        witnessing: Witnessing | None = None,
        key_dir: Path | None = None,
        pinned_key: Verifier | None = None,
    ) -> None:
        self.signer = signer
        self.pseudonymiser = pseudonymiser
        #: The log's origin line and signature key name (C2SP tlog-checkpoint).
        self.origin = origin
        #: The configured witnesses and quorum; ``None``: checkpoints are not witnessed.
        self.witnessing = witnessing
        #: Where the signing key lives: after a rotation the new key is read from here.
        self.key_dir = key_dir
        #: The configured log key (``KETENPOORT_AUDIT_LOG_KEY``): what the privacy officers'
        #: verification page pins, as ``audit verify`` does. ``None``: not configured.
        self.pinned_key = pinned_key
        #: ``time.monotonic()`` of the last failed and the last successful append (readiness).
        self.last_write_failure: float | None = None
        self.last_write_success: float | None = None
        #: Blind indexes for ``bsn`` and ``address`` subjects; set by :func:`audit_log` from
        #: gateway/crypto when the gateway runs. Without it those subjects fail closed.
        self.subject_indexer = subject_indexer
        #: Called after the entries are written, before returning; raising from it makes the
        #: append fail as a database error would (tests inject failures here).
        self.append_hook: AppendHook | None = None

    @classmethod
    def from_key_dir(cls, key_dir: Path) -> AuditLog:
        return cls(
            signer=load_or_create_signer(key_dir),
            pseudonymiser=load_or_create_pseudonymiser(key_dir),
            key_dir=key_dir,
        )

    # -- writing ---------------------------------------------------------------------------

    def append(
        self, *, session: Unit, entry: AuditEntry, companion: Companion | None = None
    ) -> Receipt:
        """Record ``entry`` in ``session``'s transaction (a Session, or a Core connection in
        its transaction) and return its receipt; with
        ``companion``, the row the entry records, written with it (:class:`Companion`: on
        PostgreSQL in the same statement).

        Raises :class:`~audit.errors.AuditUnavailable` when it cannot be written: let it
        propagate so the caller's transaction rolls back and nothing is disclosed.
        On PostgreSQL it holds no lock (the index comes from a sequence, see
        :mod:`audit.log`); on SQLite it takes the database write lock, as any write does.
        """
        return self.append_many(session=session, entries=[entry], companion=companion)[0]

    def append_many(
        self,
        *,
        session: Unit,
        entries: Sequence[AuditEntry],
        companion: Companion | None = None,
    ) -> list[Receipt]:
        """Record several entries at once (one reservation, one multi-row insert or COPY): for
        batches and sweeps. For trusted bulk callers, ``template.model_copy(update=...)`` of a
        validated entry is the cheap way to build many (see docs/audit.md)."""
        appended = self._append(session, entries, companion)
        return [_receipt(item, self.quorum) for item in appended]

    def record_many(self, *, session: Session, entries: Sequence[AuditEntry]) -> int:
        """:meth:`append_many` for a writer that hands out no receipts (the retention sweep):
        the same writes, without a receipt model per entry (measured at 100k entries: a
        sixth of the sweep's Python time in the audit log). Returns how many were written."""
        return len(self._append(session, entries))

    def record_copies(self, *, session: Session, copies: Sequence[EntryCopy]) -> int:
        """:meth:`record_many` of ``[copy.entry() for copy in copies]``, the same bytes
        written, without a model per entry (``gateway.audit.log.append_copies``): for a
        writer of many entries that differ only in their case, attributes and subjects (the
        retention sweep). Returns how many were written."""
        appended = self._append(
            session,
            (),
            write=lambda: append_copies(session, copies),
            written=lambda: [copy.entry() for copy in copies],
        )
        return len(appended)

    def _append(
        self,
        session: Unit,
        entries: Sequence[AuditEntry],
        companion: Companion | None = None,
        *,
        write: Callable[[], list[AppendedEntry]] | None = None,
        written: Callable[[], Sequence[AuditEntry]] | None = None,
    ) -> list[AppendedEntry]:
        """Append ``entries`` (or run ``write``, whose entries ``written`` builds for the
        hook only) and note the outcome for readiness."""
        try:
            appended = append_entries(session, entries, companion) if write is None else write()
            if self.append_hook is not None:
                try:
                    self.append_hook(session, entries if written is None else written())
                except AuditUnavailable:
                    raise
                except Exception as exc:
                    raise AuditUnavailable(
                        "The audit entry could not be written; nothing was disclosed."
                    ) from exc
        except AuditUnavailable:
            self.last_write_failure = time.monotonic()
            raise
        self.last_write_success = time.monotonic()
        return appended

    # -- building entries --------------------------------------------------------------------

    def data_subject(
        self, *, identifier_type: str, identifier: str, session: Session | None = None
    ) -> DataSubject:
        """The keyed pseudonym of a data subject (the identifier is not kept).

        A ``bsn`` or ``address`` goes through its blind index first and then through
        :meth:`subject_from_index`, exactly as the entries written from stored blind indexes
        do, so the access report finds them. Pass the request's ``session`` when there is one.
        """
        if identifier_type in INDEXED_TYPES:
            if self.subject_indexer is None:
                raise AuditUnavailable(
                    "Blind indexes are unavailable; the data subject cannot be looked up."
                )
            index = self.subject_indexer(
                session=session, identifier_type=identifier_type, identifier=identifier
            )
            return self.subject_from_index(identifier_type=identifier_type, blind_index=index)
        return DataSubject(
            pseudonym=self.pseudonymiser.subject(identifier_type, identifier),
            identifier_type=identifier_type,
        )

    def subject_from_index(self, *, identifier_type: str, blind_index: str) -> DataSubject:
        """The pseudonym of the subject whose identifier has ``blind_index``: computable at
        disclosure time from what the case stores, without decrypting anything. The one
        function both the writers and the access report use."""
        return DataSubject(
            pseudonym=self.pseudonym_from_index(
                identifier_type=identifier_type, blind_index=blind_index
            ),
            identifier_type=identifier_type,
        )

    def pseudonym_from_index(self, *, identifier_type: str, blind_index: str) -> str:
        """:meth:`subject_from_index`'s pseudonym alone, without a DataSubject model (for
        :class:`gateway.audit.log.EntryCopy`, which names subjects as plain pairs)."""
        if identifier_type not in INDEXED_TYPES:
            raise ValueError(f"{identifier_type!r} subjects are not found by blind index")
        # A separate input space from plain identifiers: HMAC(key, type, "blind-index:" + i).
        return self.pseudonymiser.subject(identifier_type, f"blind-index:{blind_index}")

    def subjects_from_indexes(self, indexes: Iterable[tuple[str, str]]) -> tuple[DataSubject, ...]:
        """:meth:`subject_from_index` for ``(identifier_type, blind_index)`` pairs."""
        return tuple(
            self.subject_from_index(identifier_type=kind, blind_index=index)
            for kind, index in indexes
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
        """Sign a checkpoint over all committed entries (``None`` if nothing is new), then ask
        the witnesses to cosign the latest checkpoint (also when nothing was new: a witness
        that was down is asked again)."""
        try:
            view = self._sign(session_factory)
        except SignerReplaced as exc:
            # A rotation announced a new key (audit.rotation): take it from the key directory
            # once it is installed there; until then sign nothing.
            if not self._take_announced_key(exc.announced):
                raise
            view = self._sign(session_factory)
        if self.witnessing is not None:
            self.witnessing.cosign_latest(session_factory)
        return view

    def _sign(self, session_factory: sessionmaker[Session]) -> CheckpointView | None:
        return sign_checkpoint(
            session_factory,
            self.signer,
            origin=self.origin,
            pseudonym_key=self.pseudonymiser.keyed_digest(PSEUDONYM_KEY_CHECK)[:32],
        )

    def _take_announced_key(self, announced: str) -> bool:
        if self.key_dir is None:
            return False
        try:
            installed = load_signer(self.key_dir)
        except (OSError, ValueError):
            return False
        if installed.vkey(self.origin) != announced:
            return False
        self.signer = installed
        return True

    def receipt(self, session: Session, index: int) -> Receipt:
        """:func:`receipt_for` with this log's configured witnesses and quorum."""
        witnesses = [w.verifier for w in self.witnessing.witnesses] if self.witnessing else []
        return receipt_for(session, index=index, witnesses=witnesses, quorum=self.quorum)

    @property
    def quorum(self) -> int:
        return self.witnessing.quorum if self.witnessing is not None else 0

    def public_key(self) -> PublicKeyView:
        return PublicKeyView(
            key_id=self.signer.key_id,
            public_key=public_key_text(self.signer.public_key),
            vkey=self.signer.vkey(self.origin),
        )


def leaf_withheld(session: Session, index: int, partner_id: str) -> bool:
    """Whether the receipt of entry ``index`` is withheld from ``partner_id`` (True for an
    index with no entry): an entry written
    before entries held a salt (docs/audit.md, "The salt") hashes to a leaf anyone may
    recompute, so a reader shown it with parts hidden (a data owner that is no party, review4
    F1; the coordinating officer reading a rewritten reason, review3 finding 1) could confirm
    a guess of them against its leaf hash. Its receipt goes only to its parties, the
    requester and the recipient, who read it whole. Withheld from every other partner for
    every unsalted entry alike, so the refusal says nothing of what an entry hides."""
    record = session.get(AuditRecord, index)
    if record is None:
        return True
    if partner_id in (record.requester_partner, record.recipient_partner):
        return False
    return SALT_FIELD not in json.loads(record.body)


def receipt_for(
    session: Session,
    *,
    index: int,
    witnesses: Sequence[Verifier] = (),
    quorum: int = 0,
) -> Receipt:
    """The receipt of entry ``index``, with its inclusion proof against the latest trusted
    checkpoint that covers it: one with valid cosignatures of at least ``quorum`` of the
    configured ``witnesses``, carried in the receipt as a C2SP signed note so a partner can
    verify it offline. ``witnessed`` says whether such a checkpoint covers the entry; it is
    never true without witnesses (quorum 0: the checkpoint is only the gateway's own word)."""
    record = session.get(AuditRecord, index)
    if record is None:
        raise EntryNotFound(f"There is no audit entry {index}.")
    receipt = Receipt(
        index=record.index,
        leaf_hash=record.leaf_hash.hex(),
        recorded_at=record.recorded_at,
        witness_quorum=quorum,
    )
    found = trusted_checkpoint(session, witnesses=witnesses, quorum=quorum)
    if found is None or found.row.tree_size <= index:
        return receipt
    proof = inclusion_proof(DbNodeReader(session), index, found.row.tree_size)
    view = checkpoint_view(found.row, found.signatures)
    return receipt.model_copy(
        update={
            "checkpoint": view.model_copy(update={"cosignatures": len(found.cosigners)}),
            "inclusion_proof": [node.hex() for node in proof],
            "witnessed": quorum > 0 and len(found.cosigners) >= quorum,
        }
    )


@dataclass(frozen=True)
class TrustedCheckpoint:
    row: AuditCheckpoint
    #: The signed note's signature lines as stored (the log's, then cosignatures).
    signatures: list[str]
    #: The configured witnesses whose cosignature verified with their configured key.
    cosigners: set[str]


#: Checkpoints read per query while looking for the latest trusted one.
_CANDIDATES_PER_QUERY = 20


def trusted_checkpoint(
    session: Session, *, witnesses: Sequence[Verifier] = (), quorum: int
) -> TrustedCheckpoint | None:
    """The latest checkpoint with valid cosignatures of at least ``quorum`` of ``witnesses``
    (each checked with the configured witness key: a line someone added to the database does
    not count), its signature lines and the witnesses that cosigned it.

    Only checkpoints with stored cosignature lines of at least ``quorum`` configured witnesses
    are candidates (found in SQL), newest first, however far back: after a long witness outage
    the newest witnessed checkpoint may be many checkpoints old. Each candidate's lines are
    then verified; a forged line only costs a verification, it never counts."""
    if quorum > len(witnesses):
        return None
    candidates = select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size.desc())
    if quorum > 0:
        cosigned = (
            select(AuditNoteSignature.tree_size)
            .where(AuditNoteSignature.signer.in_(sorted({w.name for w in witnesses})))
            .group_by(AuditNoteSignature.tree_size)
            .having(func.count() >= quorum)
        )
        candidates = candidates.where(AuditCheckpoint.tree_size.in_(cosigned))
    below: int | None = None
    while True:
        page = candidates if below is None else candidates.where(AuditCheckpoint.tree_size < below)
        rows = list(session.execute(page.limit(_CANDIDATES_PER_QUERY)).scalars())
        for row in rows:
            signatures = note_signatures(session, row.tree_size)
            cosigners = witness_cosigners(stored_checkpoint(row, signatures), witnesses)
            if quorum == 0 or len(cosigners) >= quorum:
                return TrustedCheckpoint(row, signatures, cosigners)
        if len(rows) < _CANDIDATES_PER_QUERY:
            return None
        below = rows[-1].tree_size


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
        first=checkpoint_view(rows[first], note_signatures(session, first)),
        second=checkpoint_view(rows[second], note_signatures(session, second)),
        proof=[node.hex() for node in proof],
    )
