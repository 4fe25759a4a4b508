"""One verification with pinned keys, for ``ketenpoort-verify``, ``ketenpoort audit verify``
and the privacy officers' "Verificatie" page alike: the same keys, witnesses, quorum and checks,
so the page never says more than the commands would. (The database side,
:func:`gateway.audit.verification.verify_stored`, reads the log and calls the same functions.)

What it trusts comes from configuration or options, never from the key directory or the
database: the pinned log key (the log's first key; later keys only through announcements,
see :mod:`gateway.audit.rotation`), the witness keys, and what each witness holds now (fetched
over HTTP, its cosignature checked). A witness that cannot be asked proves nothing: that is
:class:`CannotVerify`, not a pass.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.anchors import WitnessEndpoint, anchor_from_note, fetch_witness_anchor
from audit.exportfile import ExportError, ExportFile
from audit.keys import public_key_id
from audit.merkle import EMPTY_ROOT
from audit.note import NoteError, Verifier
from audit.verify import Anchor, StoredCheckpoint, VerificationResult, key_chain, verify_log


class CannotVerify(RuntimeError):
    """Verification could not run (a witness unreachable, a checkpoint file unusable, no
    pinned key): the message says why. Never a pass."""


class ExportUnreadable(CannotVerify):
    """The export file is not a readable export (a line of it, named in the message)."""


@dataclass(frozen=True)
class Trust:
    """What the verification trusts, all from outside the log."""

    #: The pinned log key (vkey; its name is the origin). ``None`` with only raw keys.
    log_key: Verifier | None
    #: Further pinned keys (raw, ``--public-key``); the first checkpoint's key is one of these
    #: or ``log_key``.
    extra_keys: Sequence[Ed25519PublicKey] = ()
    #: The witnesses: endpoints are asked what they hold, bare keys only check cosignatures.
    witnesses: Sequence[WitnessEndpoint | Verifier] = ()
    quorum: int = 0

    @property
    def pinned(self) -> list[Ed25519PublicKey]:
        keys = list(self.extra_keys)
        if self.log_key is not None:
            keys.append(self.log_key.public_key)
        return keys

    @property
    def origin(self) -> str | None:
        return self.log_key.name if self.log_key is not None else None

    @property
    def witness_keys(self) -> list[Verifier]:
        return [w.verifier if isinstance(w, WitnessEndpoint) else w for w in self.witnesses]

    @property
    def endpoints(self) -> list[WitnessEndpoint]:
        return [w for w in self.witnesses if isinstance(w, WitnessEndpoint)]


@dataclass(frozen=True)
class WitnessHolding:
    name: str
    #: The tree size of the latest checkpoint it cosigned for this log; ``None``: none yet.
    tree_size: int | None


@dataclass
class Checked:
    """A verification's result and what it compared against."""

    result: VerificationResult
    trust: Trust
    #: The log's keys as followed from the pinned one (ids), first to current.
    key_ids: list[str] = field(default_factory=list)
    holdings: list[WitnessHolding] = field(default_factory=list)
    #: The witnesses were not asked (``--offline``).
    offline: bool = False

    @property
    def rotations(self) -> int:
        return max(len(self.key_ids) - 1, 0)

    @property
    def complete(self) -> bool:
        """Everything verifies and every entry is witnessed (the CLI's exit code 0 without
        ``--accept-unwitnessed``)."""
        return self.result.ok and self.result.unwitnessed == 0


def _log_verifiers(trust: Trust, checkpoints: Sequence[StoredCheckpoint]) -> list[Verifier]:
    """The pinned log key and the keys announced from it, as verifier keys of the origin."""
    assert trust.log_key is not None
    chain = key_chain(checkpoints, trust.pinned, trust.origin)
    return [Verifier(trust.log_key.name, key) for key in chain]


def anchors(
    trust: Trust,
    checkpoints: Sequence[StoredCheckpoint],
    *,
    http: httpx.Client | None,
    notes: Sequence[tuple[str, str]] = (),
) -> tuple[list[Anchor], list[WitnessHolding]]:
    """The checkpoints held outside the log: ``notes`` (source, signed note) seen before, and
    each witness endpoint's latest unless ``http`` is ``None`` (offline)."""
    found: list[Anchor] = []
    holdings: list[WitnessHolding] = []
    if (notes or (http is not None and trust.endpoints)) and trust.log_key is None:
        raise CannotVerify(
            "comparing with checkpoints held outside the log needs the log's verifier key "
            "(--log-key or KETENPOORT_AUDIT_LOG_KEY)"
        )
    if trust.log_key is None:
        return found, holdings
    keys = _log_verifiers(trust, checkpoints)
    for source, note in notes:
        try:
            found.append(anchor_from_note(note, keys, source=source))
        except NoteError as exc:
            raise CannotVerify(f"cannot use {source}: {exc}") from None
    if http is None:
        return found, holdings
    for endpoint in trust.endpoints:
        try:
            anchor = fetch_witness_anchor(endpoint, keys, http)
        except (httpx.HTTPError, NoteError) as exc:
            raise CannotVerify(
                f"witness {endpoint.name} at {endpoint.url} could not be compared ({exc}); a "
                "witness that cannot be asked proves nothing"
            ) from None
        holdings.append(WitnessHolding(endpoint.name, anchor.tree_size if anchor else None))
        if anchor is None:
            # Holding nothing is holding less than any checkpoint it cosigned: compared with
            # the log's cosignatures like any other holding (review8b F2: it was skipped).
            anchor = Anchor(0, EMPTY_ROOT, f"witness {endpoint.name}", endpoint.name)
        found.append(anchor)
    return found, holdings


def checked_result(
    result: VerificationResult,
    trust: Trust,
    checkpoints: Sequence[StoredCheckpoint],
    holdings: list[WitnessHolding],
    offline: bool,
) -> Checked:
    chain = key_chain(checkpoints, trust.pinned, trust.origin)
    return Checked(result, trust, [public_key_id(k) for k in chain], holdings, offline)


def verify_exported(
    exported: ExportFile,
    trust: Trust,
    *,
    http: httpx.Client | None,
    notes: Sequence[tuple[str, str]] = (),
    progress: Callable[[int], None] | None = None,
) -> Checked:
    """Verify an export file (no database); ``http`` as in :func:`verify_stored`."""
    if not trust.pinned:
        raise CannotVerify("no pinned log key (--log-key or --public-key)")
    found, holdings = anchors(trust, exported.checkpoints, http=http, notes=notes)
    try:
        result = verify_log(
            exported.entries(),
            exported.checkpoints,
            trust.pinned,
            expected_size=exported.tree_size,
            progress=progress,
            origin=trust.origin,
            witnesses=trust.witness_keys,
            quorum=trust.quorum,
            anchors=found,
        )
    except ExportError as exc:  # a line the entry stream could not read: no verdict
        raise ExportUnreadable(f"cannot read {exported.path}: {exc}") from None
    return checked_result(result, trust, exported.checkpoints, holdings, http is None)
