"""Verifying the whole log against its signed checkpoints, from the database or an export.

One streaming pass: each entry's leaf hash is recomputed from its stored body and compared,
its index checked against its position, and the tree grown in a :class:`CompactRange` whose
root is compared with every checkpoint on the way. Checkpoint signatures are checked with the
trusted public keys (never with keys read from the database). The first problem per kind is
reported by index and in words: changed, missing, reordered, bad signature.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.checkpoints import parse_note
from audit.columns import StoredColumns, column_mismatches
from audit.keys import public_key_id, verify_signature
from audit.merkle import CompactRange, leaf_hash

ProblemKind = Literal[
    "changed", "missing", "reordered", "bad-signature", "malformed", "search-column"
]


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


@dataclass
class VerificationResult:
    entries: int = 0
    checkpoints: int = 0
    #: The largest checkpoint whose root matched the entries.
    verified_tree_size: int = 0
    problems: list[Problem] = field(default_factory=list)

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
    checkpoint: StoredCheckpoint, trusted: dict[str, Ed25519PublicKey]
) -> Problem | None:
    """The signature must be valid and the signed note must say what the row says."""

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
    if note.signed_at != checkpoint.signed_at:
        return bad("the stored signing time differs from the signed one")
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
        if end > start and body[end] in ",}":
            return int(body[start:end])
    try:
        value = json.loads(body).get("index")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, int) else None


def _wrong_columns(entry: StoredEntry) -> list[str]:
    assert entry.columns is not None
    try:
        body = json.loads(entry.body)
    except ValueError:
        return []  # reported as malformed
    if not isinstance(body, dict):
        return []
    return column_mismatches(body, entry.columns)


def verify_log(
    entries: Iterable[StoredEntry],
    checkpoints: Sequence[StoredCheckpoint],
    trusted_keys: Iterable[Ed25519PublicKey],
    *,
    expected_size: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> VerificationResult:
    """Verify ``entries`` (in index order) against ``checkpoints``; see the module docstring.

    ``expected_size`` is the number of entries the log claims (its head); ``progress`` is
    called with the number of entries processed since its previous call.
    """
    trusted = {public_key_id(key): key for key in trusted_keys}
    result = VerificationResult(checkpoints=len(checkpoints))
    kinds: set[str] = set()

    def report(problem: Problem) -> None:
        if problem.kind not in kinds:
            kinds.add(problem.kind)
            result.problems.append(problem)

    good_checkpoints: list[StoredCheckpoint] = []
    for checkpoint in sorted(checkpoints, key=lambda c: c.tree_size):
        problem = check_checkpoint(checkpoint, trusted)
        if problem:
            report(problem)
        else:
            good_checkpoints.append(checkpoint)
    pending: Iterator[StoredCheckpoint] = iter(good_checkpoints)
    next_checkpoint = next(pending, None)
    compact = CompactRange()
    previous_size = 0
    position = 0
    since_progress = 0
    for entry in entries:
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
            position = entry.index
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
            if wrong:
                report(
                    Problem(
                        "search-column",
                        f"its search column(s) {', '.join(wrong)} differ from its hashed body "
                        "(reports and searches that filter on them give wrong answers)",
                        index=position,
                    )
                )
        compact.append(leaf)
        position += 1
        while next_checkpoint is not None and next_checkpoint.tree_size == compact.size:
            if compact.root() == next_checkpoint.root_hash:
                result.verified_tree_size = compact.size
                previous_size = compact.size
                next_checkpoint = next(pending, None)
            else:
                report(
                    Problem(
                        "changed",
                        f"an entry in {previous_size}..{compact.size - 1} was altered together "
                        f"with its leaf hash: checkpoint {compact.size}'s signed root differs",
                        checkpoint=compact.size,
                    )
                )
                next_checkpoint = None
        since_progress += 1
        if progress is not None and since_progress >= 10_000:
            progress(since_progress)
            since_progress = 0
    if progress is not None and since_progress:
        progress(since_progress)
    result.entries = position
    claimed = max(
        [expected_size or 0] + [c.tree_size for c in good_checkpoints]
    )
    if claimed > position:
        report(
            Problem(
                "missing",
                f"entries {position}..{claimed - 1} are missing (the log claims {claimed})",
                index=position,
            )
        )
    return result


def signature_from_text(text: str) -> bytes:
    return base64.b64decode(text, validate=True)
