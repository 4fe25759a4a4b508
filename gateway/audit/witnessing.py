"""The gateway's side of witnessing: ask each configured witness to cosign the latest
checkpoint (C2SP ``tlog-witness`` ``add-checkpoint``), verify the cosignature it returns with
the witness key from configuration, and store it (``audit_note_signature``).

A checkpoint is trusted (receipts carry it, ``audit verify`` counts it as witnessed) once it
has cosignatures from :attr:`Witnessing.quorum` of the configured witnesses. A witness that is
down is asked again at the next run of the checkpoint job, with the newest checkpoint: it keeps
only its latest anyway. A witness that answers with a size below one it cosigned before has
lost or rolled back its state: that is logged as an error, the witness is not fed the log again
from the smaller size (that would get fresh cosignatures over whatever the log holds then), and
``audit verify`` reports it.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Sequence

import httpx
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from audit.anchors import WitnessEndpoint
from audit.merkle import consistency_proof
from audit.note import (
    NoteError,
    is_legacy_note,
    parse_signature_line,
    verify_cosignature,
)
from audit.verify import duplicate_witness_names
from gateway.audit.checkpoints import DbNodeReader, latest_checkpoint, note_signatures
from gateway.audit.models import AuditNoteSignature
from gateway.db import transaction, utcnow

log = logging.getLogger("ketenpoort.audit")


class WitnessRefused(RuntimeError):
    """A witness would not cosign (its answer is in the message)."""


def add_checkpoint_body(old_size: int, proof: Sequence[bytes], signed_note: str) -> bytes:
    lines = [f"old {old_size}"] + [base64.b64encode(node).decode("ascii") for node in proof]
    return ("\n".join(lines) + "\n\n" + signed_note).encode("utf-8")


class Witnessing:
    """Collects cosignatures for the latest checkpoint from the configured witnesses."""

    def __init__(
        self,
        witnesses: Sequence[WitnessEndpoint],
        *,
        quorum: int,
        http: httpx.Client | None = None,
        timeout: float = 5.0,
    ) -> None:
        if not 0 <= quorum <= len(witnesses):
            raise ValueError(f"a quorum of {quorum} needs at least {quorum} witnesses")
        same = duplicate_witness_names([w.verifier for w in witnesses])
        if same:
            raise ValueError(
                f"two configured witnesses have the same name {same[0]}: cosignatures are "
                "counted by name, so they would count once (KETENPOORT_AUDIT_WITNESSES; each "
                "witness needs its own name, 'ketenpoort witness init --name')"
            )
        self.witnesses = list(witnesses)
        self.quorum = quorum
        self._http = http or httpx.Client(timeout=timeout)
        #: Per witness, the last problem (``None`` after a cosignature): for readiness and logs.
        self.last_problem: dict[str, str | None] = {}

    @property
    def http(self) -> httpx.Client:
        """The client that reaches the witnesses (verification asks them through it too)."""
        return self._http

    def close(self) -> None:
        self._http.close()

    def cosign_latest(self, session_factory: sessionmaker[Session]) -> int:
        """Ask every witness that has not cosigned the latest checkpoint; returns how many
        configured witnesses have cosigned it now."""
        with session_factory() as session:
            latest = latest_checkpoint(session)
            if latest is None or is_legacy_note(latest.note):
                return 0
            size, text = latest.tree_size, latest.note
            signed_note = text + "\n" + "".join(note_signatures(session, size))
            held = self._cosigned(session, size)
        for witness in self.witnesses:
            if witness.name in held:
                continue
            try:
                line = self._ask(session_factory, witness, size, signed_note)
            except (httpx.HTTPError, WitnessRefused, NoteError) as exc:
                self.last_problem[witness.name] = str(exc)
                log.warning("witness %s did not cosign checkpoint %d: %s", witness.name, size, exc)
                continue
            if verify_cosignature(text, parse_signature_line(line), witness.verifier) is None:
                self.last_problem[witness.name] = "its cosignature does not verify"
                log.error("witness %s returned a cosignature that does not verify", witness.name)
                continue
            try:
                with transaction(session_factory) as session:
                    session.add(
                        AuditNoteSignature(
                            tree_size=size, signer=witness.name, line=line, signed_at=utcnow()
                        )
                    )
            except IntegrityError:
                pass  # another replica stored this witness's cosignature first
            self.last_problem[witness.name] = None
            held.add(witness.name)
        return len(held)

    def _cosigned(self, session: Session, size: int) -> set[str]:
        names = {w.name for w in self.witnesses}
        rows = session.execute(
            select(AuditNoteSignature.signer).where(AuditNoteSignature.tree_size == size)
        ).scalars()
        return {name for name in rows if name in names}

    def _last_cosigned_size(self, session: Session, witness: WitnessEndpoint) -> int:
        size = session.execute(
            select(func.max(AuditNoteSignature.tree_size)).where(
                AuditNoteSignature.signer == witness.name
            )
        ).scalar_one_or_none()
        return int(size or 0)

    def _ask(
        self,
        session_factory: sessionmaker[Session],
        witness: WitnessEndpoint,
        size: int,
        signed_note: str,
    ) -> str:
        with session_factory() as session:
            old = self._last_cosigned_size(session, witness)
        for _ in range(2):
            with session_factory() as session:
                proof = (
                    consistency_proof(DbNodeReader(session), old, size) if 0 < old < size else []
                )
            response = self._http.post(
                witness.url.rstrip("/") + "/add-checkpoint",
                content=add_checkpoint_body(old, proof, signed_note),
            )
            if response.status_code == 200:
                lines = [ln for ln in response.text.splitlines() if ln.startswith("\u2014 ")]
                mine = [ln for ln in lines if ln.split(" ")[1] == witness.name]
                if not mine:
                    raise WitnessRefused("its answer holds no cosignature of its own")
                return mine[0] + "\n"
            if response.status_code != 409 or not response.text.strip().isdigit():
                raise WitnessRefused(f"HTTP {response.status_code}: {response.text.strip()}")
            held = int(response.text.strip())
            if held > size:
                raise WitnessRefused(
                    f"it holds tree size {held}, larger than the log's {size}: the log lost "
                    "entries or checkpoints it had (run 'ketenpoort audit verify')"
                )
            if held < old:
                # It provably held more (its cosignature of ``old`` is in the log): feeding
                # it again from ``held`` would give fresh cosignatures over whatever the log
                # says now, and 'audit verify' could no longer tell (review8b F2). Refused;
                # the operator's step is in docs/audit.md ("A witness that lost its state").
                log.error(
                    "witness %s holds tree size %d but cosigned %d before: its state was lost "
                    "or rolled back; it is not fed this log again (docs/audit.md: a witness "
                    "that lost its state)",
                    witness.name,
                    held,
                    old,
                )
                raise WitnessRefused(
                    f"it holds tree size {held} but cosigned {old} before: its state was lost "
                    "or rolled back (not fed again from there; see docs/audit.md)"
                )
            old = held
        raise WitnessRefused("it kept answering 409 Conflict")
