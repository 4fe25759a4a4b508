"""Verifying the whole log against its signed checkpoints, from the database or an export.

One streaming pass: each entry's leaf hash is recomputed from its stored body and compared,
its index checked against its position, and the tree grown in a :class:`CompactRange` whose
root is compared with every checkpoint on the way. Checkpoint signatures are checked with the
trusted public keys (never with keys read from the database). The first problem per kind is
reported by index and in words: changed, missing, reordered, bad signature.

Keys: the first checkpoint must be signed by a pinned key; every later one by the same key,
until a checkpoint signed by it announces its successor (``next-key``, a key rotation) with
the quorum of witness cosignatures; from then on only by the successor. A checkpoint signed
by another key, pinned or not, is a silent key swap and is refused.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.columns import MalformedBody, StoredColumns, column_mismatches
from audit.keys import public_key_id, verify_signature
from audit.merkle import CompactRange, leaf_hash
from audit.note import (
    NoteError,
    Verifier,
    announced_next_key,
    is_legacy_note,
    parse_checkpoint,
    parse_note,
    parse_signature_line,
    parse_vkey,
    verify_cosignature,
)

ProblemKind = Literal[
    "changed",
    "missing",
    "reordered",
    "bad-signature",
    "malformed",
    "search-column",
    "missing-checkpoint",
    "witness",
    "key-rotation",
    "backdated",
]

#: How much earlier than a witness's cosignature of a checkpoint that does not contain it an
#: entry's ``recordedAt`` may be before it is reported ``backdated``. The gateway stamps an
#: entry when it takes its index, and a checkpoint covers only the committed prefix, so an
#: entry whose transaction was still open while a checkpoint below it was signed and cosigned
#: is legitimately a little older than that cosignature (a hole is voided once a later entry
#: has been committed for ``gateway.audit.log.VOID_GRACE_SECONDS``, 10 s; the appender's
#: transaction can stay open longer when nothing follows it); and the gateway's and the
#: witnesses' clocks differ. Five minutes covers both with room; an entry claiming to be older
#: than that was stamped by a clock set back (review8b F4).
BACKDATE_ALLOWANCE_SECONDS = 300


@dataclass(frozen=True)
class Problem:
    kind: ProblemKind
    detail: str
    index: int | None = None
    checkpoint: int | None = None

    def __str__(self) -> str:
        where = f"entry {self.index}" if self.index is not None else f"checkpoint {self.checkpoint}"
        return f"{where}: {self.kind}: {self.detail}"


@dataclass(frozen=True)
class StoredEntry:
    index: int
    leaf_hash: bytes
    body: str
    #: The search copies read from the database with the entry (``None`` in an export).
    columns: StoredColumns | None = None


@dataclass(frozen=True)
class StoredCheckpoint:
    tree_size: int
    root_hash: bytes
    signed_at: str
    key_id: str
    note: str
    signature: bytes
    #: The signed note's signature lines (the log's, then witnesses' cosignatures).
    signatures: tuple[str, ...] = ()


@dataclass(frozen=True)
class Anchor:
    """A checkpoint held outside the log: the latest one a witness cosigned (fetched from the
    witness), or one a partner kept from a receipt. The log must still contain its tree."""

    #: 0: the witness holds no checkpoint of this log (it answered 404).
    tree_size: int
    root_hash: bytes
    #: Who holds it, in words: "witness w.example/w1", "the checkpoint in receipt.txt".
    source: str
    #: The witness's name when it comes from a witness (its earlier cosignatures are compared).
    witness: str | None = None


@dataclass
class VerificationResult:
    entries: int = 0
    checkpoints: int = 0
    #: The largest checkpoint whose root matched the entries.
    verified_tree_size: int = 0
    #: The largest such checkpoint that also has the quorum of witness cosignatures (with a
    #: quorum of 0: the largest verified checkpoint).
    witnessed_tree_size: int = 0
    quorum: int = 0
    anchors: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def unwitnessed(self) -> int:
        """Entries after the last witnessed checkpoint: consistent, but nobody outside the
        gateway vouches for them yet."""
        return max(self.entries - self.witnessed_tree_size, 0)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_problem(self) -> Problem | None:
        """The problem at the lowest entry index (or the first bad checkpoint)."""
        with_index = [p for p in self.problems if p.index is not None]
        if with_index:
            return min(with_index, key=lambda p: p.index or 0)
        return self.problems[0] if self.problems else None


def check_checkpoint(
    checkpoint: StoredCheckpoint,
    trusted: dict[str, Ed25519PublicKey],
    origin: str | None = None,
) -> Problem | None:
    """The signature must be valid and the signed note must say what the row says (and name
    the pinned ``origin``, when one is given)."""

    def bad(detail: str) -> Problem:
        return Problem("bad-signature", detail, checkpoint=checkpoint.tree_size)

    key = trusted.get(checkpoint.key_id)
    if key is None:
        return bad(f"signed by an untrusted key {checkpoint.key_id[:16]}…")
    if not verify_signature(key, checkpoint.signature, checkpoint.note.encode("utf-8")):
        return bad("the signature does not verify over the note")
    try:
        note = parse_note(checkpoint.note)
    except ValueError:
        return bad("the signed note is malformed")
    if note.tree_size != checkpoint.tree_size:
        return bad(f"the signed note says tree size {note.tree_size}")
    if note.root_hash != checkpoint.root_hash:
        return bad("the stored root hash differs from the signed one")
    if is_legacy_note(checkpoint.note):
        if note.signed_at != checkpoint.signed_at:
            return bad("the stored signing time differs from the signed one")
    elif origin is not None and not checkpoint.note.startswith(origin + "\n"):
        return bad(f"the signed note names another log than {origin}")
    return None


def announced_key(checkpoint: StoredCheckpoint) -> Ed25519PublicKey | None:
    """The next signing key a C2SP checkpoint announces (``next-key`` line), if any."""
    next_key = announced_next_key(checkpoint.note)
    return parse_vkey(next_key).public_key if next_key is not None else None


@dataclass
class _KeyChain:
    """Which key must sign the next checkpoint. Before the first good checkpoint: any pinned
    key. After it: the key that signed it, until a checkpoint signed by that key announces
    its successor (``next-key``); from then on only the announced key."""

    pinned: dict[str, Ed25519PublicKey]
    current: Ed25519PublicKey | None = None
    #: The checkpoint that announced ``current`` (``None``: the first key, pinned).
    announced_in: int | None = None
    #: Whether that announcement carries the quorum of witness cosignatures.
    announcement_witnessed: bool = True
    #: The key ``current`` replaced (refused after the announcement).
    replaced: Ed25519PublicKey | None = None

    def check(self, checkpoint: StoredCheckpoint, origin: str | None) -> Problem | None:
        def refuse(kind: ProblemKind, detail: str) -> Problem:
            return Problem(kind, detail, checkpoint=checkpoint.tree_size)

        if self.current is None:
            return check_checkpoint(checkpoint, self.pinned, origin)
        expected = public_key_id(self.current)
        if checkpoint.key_id != expected:
            known = set(self.pinned) | (
                {public_key_id(self.replaced)} if self.replaced is not None else set()
            )
            if checkpoint.key_id not in known:
                return refuse(
                    "bad-signature", f"signed by an untrusted key {checkpoint.key_id[:16]}…"
                )
            if self.replaced is not None and checkpoint.key_id == public_key_id(self.replaced):
                return refuse(
                    "key-rotation",
                    f"signed by the old key {checkpoint.key_id[:16]}… after checkpoint "
                    f"{self.announced_in} announced its replacement by {expected[:16]}…",
                )
            return refuse(
                "key-rotation",
                f"signed by key {checkpoint.key_id[:16]}…, but the log's key here is "
                f"{expected[:16]}… and no checkpoint signed by that key announced the change: "
                "a silent key swap",
            )
        problem = check_checkpoint(checkpoint, {expected: self.current}, origin)
        if problem is None and not self.announcement_witnessed:
            return refuse(
                "key-rotation",
                f"signed by the key {expected[:16]}… that checkpoint {self.announced_in} "
                "announced, but that announcement lacks the quorum of witness cosignatures",
            )
        return problem

    def advance(self, checkpoint: StoredCheckpoint, witnessed: bool) -> None:
        """``checkpoint`` passed :meth:`check`: its key (or the one it announces) is next."""
        if self.current is None:
            self.current = self.pinned[checkpoint.key_id]
        successor = announced_key(checkpoint)
        if successor is not None and public_key_id(successor) != public_key_id(self.current):
            self.replaced = self.current
            self.current = successor
            self.announced_in = checkpoint.tree_size
            self.announcement_witnessed = witnessed


def key_chain(
    checkpoints: Sequence[StoredCheckpoint],
    pinned: Iterable[Ed25519PublicKey],
    origin: str | None = None,
) -> list[Ed25519PublicKey]:
    """The log's signing keys in order: a pinned key that signed the first good checkpoint,
    then each key announced by a checkpoint its predecessor signed. (Witness quorum is not
    considered here; :func:`verify_log` does.) For checking checkpoints held outside the log
    (a witness's latest, a receipt's) that a later key signed."""
    chain = _KeyChain({public_key_id(key): key for key in pinned})
    keys: list[Ed25519PublicKey] = []
    for checkpoint in sorted(checkpoints, key=lambda c: c.tree_size):
        if chain.check(checkpoint, origin) is not None:
            continue
        if chain.current is None:
            keys.append(chain.pinned[checkpoint.key_id])
        chain.advance(checkpoint, witnessed=True)
        assert chain.current is not None
        if public_key_id(keys[-1]) != public_key_id(chain.current):
            keys.append(chain.current)
    return keys or list(chain.pinned.values())


def duplicate_witness_names(witnesses: Sequence[Verifier]) -> list[str]:
    """Names given to more than one configured witness: cosignatures are counted by name, so
    two such witnesses count once and the second is never asked (review8b)."""
    names = [witness.name for witness in witnesses]
    return sorted({name for name in names if names.count(name) > 1})


def witness_cosignature_times(
    checkpoint: StoredCheckpoint, witnesses: Sequence[Verifier]
) -> dict[str, int]:
    """The configured witnesses whose valid cosignature the checkpoint carries, each with its
    cosignature's time (seconds since the epoch, the witness's clock; the earliest if more)."""
    found: dict[str, int] = {}
    for text in checkpoint.signatures:
        try:
            line = parse_signature_line(text)
        except NoteError:
            continue
        for witness in witnesses:
            when = verify_cosignature(checkpoint.note, line, witness)
            if when is not None:
                found[witness.name] = min(when, found.get(witness.name, when))
    return found


def witness_cosigners(checkpoint: StoredCheckpoint, witnesses: Sequence[Verifier]) -> set[str]:
    """The configured witnesses whose valid cosignature the checkpoint carries."""
    return set(witness_cosignature_times(checkpoint, witnesses))


def previous_size(checkpoint: StoredCheckpoint) -> int | None:
    """The checkpoint this one names as its predecessor (C2SP checkpoints only)."""
    if is_legacy_note(checkpoint.note):
        return None
    try:
        return parse_checkpoint(checkpoint.note).previous
    except NoteError:
        return None


_INDEX_MARK = '"format":1,"index":'


def _body_index(body: str) -> int | None:
    # Fast path: in canonical JSON the top-level "index" follows "format" and no later
    # top-level field is free-form, so the last occurrence is the entry's own index.
    at = body.rfind(_INDEX_MARK)
    if at >= 0:
        start = at + len(_INDEX_MARK)
        end = start
        while end < len(body) and body[end].isdigit():
            end += 1
        # A body that ends in the digits is not canonical JSON (review8b F3: it indexed past
        # the end); the slow path below names it malformed.
        if start < end < len(body) and body[end] in ",}":
            return int(body[start:end])
    try:
        value = json.loads(body).get("index")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, int) else None


_RECORDED_MARK = '"recordedAt":"'
_CANONICAL_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


def _recorded_at(body: str) -> str | None:
    """The body's top-level ``recordedAt``. Fast path: the key occurs once (a key cannot occur
    inside a JSON string unescaped); otherwise the body is parsed."""
    at = body.find(_RECORDED_MARK)
    if at >= 0 and body.find(_RECORDED_MARK, at + 1) < 0:
        start = at + len(_RECORDED_MARK)
        end = body.find('"', start)
        return body[start:end] if end > start else None
    try:
        value = json.loads(body).get("recordedAt")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def _earlier(recorded: str | None, bound: _TimeBound) -> bool | None:
    """Whether ``recorded`` (the body's spelling) is before ``bound``'s threshold; None when
    it is no time with a zone (missing, or unreadable), which cannot be placed at all."""
    if recorded is None:
        return None
    if _CANONICAL_TIME.fullmatch(recorded):
        return recorded < bound.threshold  # one spelling per instant: compared as text
    try:
        moment = datetime.fromisoformat(recorded.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment < datetime.fromisoformat(bound.threshold.replace("Z", "+00:00"))


@dataclass(frozen=True)
class _TimeBound:
    """The latest moment a witness vouches that the log had only ``size`` entries."""

    size: int
    seen_at: int
    witness: str
    #: ``seen_at`` minus the allowance, in the entries' spelling.
    threshold: str


def _time_bounds(
    cosigned: Sequence[tuple[int, dict[str, int]]], allowance: float
) -> list[_TimeBound]:
    """Per checkpoint (by size) with a trusted cosignature, the earliest of its witnesses'
    times (one witness with a fast clock cannot make honest entries look back-dated)."""
    bounds = []
    for size, times in sorted(cosigned):
        witness, seen_at = min(times.items(), key=lambda item: item[1])
        threshold = datetime.fromtimestamp(seen_at - allowance, UTC)
        bounds.append(
            _TimeBound(size, seen_at, witness, threshold.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
        )
    return bounds


def _wrong_columns(entry: StoredEntry) -> list[str] | str:
    """The search columns that differ from the body; a string: why the body's fields cannot
    be search columns at all (a field of the wrong type, reported as malformed)."""
    assert entry.columns is not None
    try:
        body = json.loads(entry.body)
    except ValueError:
        return []  # reported as malformed
    if not isinstance(body, dict):
        return []
    try:
        return column_mismatches(body, entry.columns)
    except MalformedBody as exc:
        return str(exc)


def verify_log(
    entries: Iterable[StoredEntry],
    checkpoints: Sequence[StoredCheckpoint],
    trusted_keys: Iterable[Ed25519PublicKey],
    *,
    expected_size: int | None = None,
    progress: Callable[[int], None] | None = None,
    origin: str | None = None,
    witnesses: Sequence[Verifier] = (),
    quorum: int = 0,
    anchors: Sequence[Anchor] = (),
    backdate_allowance: float = BACKDATE_ALLOWANCE_SECONDS,
) -> VerificationResult:
    """Verify ``entries`` (in index order) against ``checkpoints``; see the module docstring.

    ``trusted_keys`` are the pinned keys: one of them signed the first checkpoint (later keys
    are reached only through announcements, see the module docstring).
    ``expected_size`` is the number of entries the log claims (its head); ``progress`` is
    called with the number of entries processed since its previous call. ``witnesses`` and
    ``quorum``: a checkpoint counts as witnessed with cosignatures of ``quorum`` of them.
    ``anchors``: checkpoints held outside the log (by witnesses, from receipts); the entries
    must still hash to their roots. An entry whose ``recordedAt`` is more than
    ``backdate_allowance`` seconds before a trusted witness cosigned a checkpoint that does not
    contain it is ``backdated`` (see :data:`BACKDATE_ALLOWANCE_SECONDS`).
    """
    trusted = {public_key_id(key): key for key in trusted_keys}
    result = VerificationResult(
        checkpoints=len(checkpoints),
        quorum=quorum,
        anchors=sum(1 for anchor in anchors if anchor.tree_size),
    )
    kinds: set[str] = set()

    def report(problem: Problem) -> None:
        if problem.kind not in kinds:
            kinds.add(problem.kind)
            result.problems.append(problem)

    good_checkpoints: list[StoredCheckpoint] = []
    witnessed_sizes: set[int] = set()
    cosigned: list[tuple[int, dict[str, int]]] = []
    keys = _KeyChain(trusted)
    for checkpoint in sorted(checkpoints, key=lambda c: c.tree_size):
        problem = keys.check(checkpoint, origin)
        if problem:
            report(problem)
            continue
        good_checkpoints.append(checkpoint)
        times = witness_cosignature_times(checkpoint, witnesses)
        if times:
            cosigned.append((checkpoint.tree_size, times))
        witnessed = quorum == 0 or len(times) >= quorum
        if witnessed:
            witnessed_sizes.add(checkpoint.tree_size)
        keys.advance(checkpoint, witnessed)
    bounds = _time_bounds(cosigned, backdate_allowance)
    next_bound = 0
    bound: _TimeBound | None = None
    _check_chain(good_checkpoints, {c.tree_size for c in checkpoints}, report)
    _check_anchors_against_log(anchors, good_checkpoints, witnesses, report)
    pending: Iterator[StoredCheckpoint] = iter(good_checkpoints)
    next_checkpoint = next(pending, None)
    held = sorted(anchors, key=lambda a: a.tree_size)
    next_anchor = 0
    compact = CompactRange()
    previous_size_seen = 0
    position = 0
    since_progress = 0
    for entry in entries:
        if entry.index < position:
            # It said "entries 20..18 are missing" (review8b). Not counted again: the entries
            # around it are checked as they stand.
            report(
                Problem(
                    "reordered",
                    f"an entry with index {entry.index} follows entry {position - 1}: a "
                    "duplicate or out of order",
                    index=entry.index,
                )
            )
            continue
        if entry.index != position:
            report(
                Problem(
                    "missing",
                    f"entries {position}..{entry.index - 1} are missing",
                    index=position,
                )
            )
            # Later roots cannot match any more; keep checking the entries themselves.
            next_checkpoint = None
            next_anchor = len(held)
            position = entry.index
        while next_bound < len(bounds) and bounds[next_bound].size <= position:
            # A checkpoint without this entry (and every later one): the latest time seen.
            if bound is None or bounds[next_bound].seen_at >= bound.seen_at:
                bound = bounds[next_bound]
            next_bound += 1
        leaf = leaf_hash(entry.body.encode("utf-8"))
        if leaf != entry.leaf_hash:
            report(Problem("changed", "its content no longer matches its hash", index=position))
        body_index = _body_index(entry.body)
        if body_index is None:
            report(Problem("malformed", "its body is not a log entry", index=position))
        elif body_index != position:
            report(
                Problem(
                    "reordered",
                    f"the entry at this position was recorded as entry {body_index}",
                    index=position,
                )
            )
        if entry.columns is not None:
            wrong = _wrong_columns(entry)
            if isinstance(wrong, str):
                detail = f"its body is not a log entry: {wrong}"
                report(Problem("malformed", detail, index=position))
            elif wrong:
                report(
                    Problem(
                        "search-column",
                        f"its search column(s) {', '.join(wrong)} differ from its hashed body "
                        "(reports and searches that filter on them give wrong answers)",
                        index=position,
                    )
                )
        # After the body's own checks: a body that is no log entry is named as that.
        if bound is not None and body_index is not None:
            recorded = _recorded_at(entry.body)
            earlier = _earlier(recorded, bound)
            if earlier is not False:
                seen = datetime.fromtimestamp(bound.seen_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            if earlier is None:
                what = "missing" if recorded is None else "no time with a zone"
                # Unknown is not "not earlier": a time that cannot be read cannot be shown to
                # come after the checkpoint that does not contain the entry.
                report(
                    Problem(
                        "malformed",
                        f"its recordedAt ({what}) cannot be placed after checkpoint "
                        f"{bound.size}, which witness {bound.witness} cosigned at {seen} "
                        "without it",
                        index=position,
                    )
                )
            elif earlier:
                report(
                    Problem(
                        "backdated",
                        f"it says it was recorded at {recorded}, but witness {bound.witness} "
                        f"cosigned checkpoint {bound.size}, which does not contain it, at "
                        f"{seen}: more than {backdate_allowance:g} s later; its time was set "
                        "back (it was appended after that checkpoint)",
                        index=position,
                    )
                )
        compact.append(leaf)
        position += 1
        while next_checkpoint is not None and next_checkpoint.tree_size == compact.size:
            if compact.root() == next_checkpoint.root_hash:
                result.verified_tree_size = compact.size
                if compact.size in witnessed_sizes:
                    result.witnessed_tree_size = compact.size
                previous_size_seen = compact.size
                next_checkpoint = next(pending, None)
            else:
                report(
                    Problem(
                        "changed",
                        f"an entry in {previous_size_seen}..{compact.size - 1} was altered "
                        f"together with its leaf hash: checkpoint {compact.size}'s signed root "
                        "differs",
                        checkpoint=compact.size,
                    )
                )
                next_checkpoint = None
        while next_anchor < len(held) and held[next_anchor].tree_size <= compact.size:
            anchor = held[next_anchor]
            if anchor.tree_size == compact.size and compact.root() != anchor.root_hash:
                report(
                    Problem(
                        "changed",
                        f"entries 0..{anchor.tree_size - 1} no longer hash to the root of the "
                        f"checkpoint of size {anchor.tree_size} that {anchor.source} holds: "
                        "history was rewritten",
                        checkpoint=anchor.tree_size,
                    )
                )
            next_anchor += 1
        since_progress += 1
        if progress is not None and since_progress >= 10_000:
            progress(since_progress)
            since_progress = 0
    if progress is not None and since_progress:
        progress(since_progress)
    result.entries = position
    claimed = max([expected_size or 0] + [c.tree_size for c in good_checkpoints])
    if claimed > position:
        report(
            Problem(
                "missing",
                f"entries {position}..{claimed - 1} are missing (the log claims {claimed})",
                index=position,
            )
        )
    for anchor in held:
        if anchor.tree_size > position:
            report(
                Problem(
                    "missing",
                    f"{anchor.source} holds a checkpoint of size {anchor.tree_size} but the log "
                    f"has only {position} entries: entries {position}..{anchor.tree_size - 1} "
                    "were deleted",
                    index=position,
                )
            )
            break
    return result


def _check_chain(
    good: Sequence[StoredCheckpoint], present: set[int], report: Callable[[Problem], None]
) -> None:
    """Each C2SP checkpoint names its predecessor; a named one that is gone was deleted."""
    for checkpoint in good:
        previous = previous_size(checkpoint)
        if previous and previous not in present:
            report(
                Problem(
                    "missing-checkpoint",
                    f"checkpoint {previous} is missing: checkpoint {checkpoint.tree_size} was "
                    "signed as its successor",
                    checkpoint=previous,
                )
            )


def _check_anchors_against_log(
    anchors: Sequence[Anchor],
    good: Sequence[StoredCheckpoint],
    witnesses: Sequence[Verifier],
    report: Callable[[Problem], None],
) -> None:
    """A witness's latest checkpoint must be one the log has; and a witness must not hold a
    smaller tree than one it cosigned before (its state was rolled back)."""
    sizes = {c.tree_size for c in good}
    by_name = {w.name: w for w in witnesses}
    for anchor in anchors:
        if anchor.witness is None:
            continue
        if anchor.tree_size and anchor.tree_size not in sizes:
            report(
                Problem(
                    "missing-checkpoint",
                    f"checkpoint {anchor.tree_size}, which {anchor.source} cosigned as the "
                    "latest, is not in the log: it was deleted",
                    checkpoint=anchor.tree_size,
                )
            )
        witness = by_name.get(anchor.witness)
        if witness is None:
            continue
        cosigned = [c.tree_size for c in good if witness.name in witness_cosigners(c, [witness])]
        if cosigned and max(cosigned) > anchor.tree_size:
            held = (
                f"now holds tree size {anchor.tree_size}"
                if anchor.tree_size
                else "holds no checkpoint of this log"
            )
            report(
                Problem(
                    "witness",
                    f"{anchor.source} {held} but cosigned checkpoint {max(cosigned)} before: "
                    "its state was lost or rolled back",
                    checkpoint=max(cosigned),
                )
            )


def signature_from_text(text: str) -> bytes:
    return base64.b64decode(text, validate=True)
