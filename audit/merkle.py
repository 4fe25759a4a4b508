"""RFC 6962 / RFC 9162 Merkle tree hashing, proofs and their verification.

Pure functions, no database: the log (``audit.proofs``) and offline verification use the same
code. A tree over ``n`` leaves is split as the RFC says: the left subtree holds the largest
power of two strictly below ``n`` leaves. Every node of such a tree covers a range
``[start, end)`` whose ``start`` is a multiple of a power of two at least ``end - start``;
such a range is a right-fold of perfect subtrees, which is how :func:`range_hash` computes it
from a :class:`NodeReader` that can only hand out perfect subtrees.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Protocol

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
HASH_SIZE = 32

_sha256 = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    """MTH({d}) = SHA-256(0x00 || d)."""
    return _sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """MTH(D[n]) = SHA-256(0x01 || MTH(left) || MTH(right))."""
    return _sha256(NODE_PREFIX + left + right).digest()


EMPTY_ROOT = _sha256(b"").digest()


def split_point(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n`` >= 2)."""
    if n < 2:
        raise ValueError("a split needs at least two leaves")
    return 1 << ((n - 1).bit_length() - 1)


def perfect_root(hashes: Sequence[bytes]) -> bytes:
    """Root of a perfect subtree given its ``2**k`` bottom nodes (leaf or node hashes)."""
    level = list(hashes)
    if not level or len(level) & (len(level) - 1):
        raise ValueError("a perfect subtree has a power-of-two number of nodes")
    while len(level) > 1:
        level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


class CompactRange:
    """The roots of the perfect subtrees covering leaves ``[0, size)``, largest first.

    Appending a leaf costs amortised O(1) hashes and the root is a right fold of at most
    log2(size) hashes, so a whole log is verified in one streaming pass.
    """

    __slots__ = ("size", "_stack")

    def __init__(self) -> None:
        self.size = 0
        self._stack: list[bytes] = []

    def append(self, leaf: bytes) -> None:
        node = leaf
        size = self.size
        while size & 1:
            node = node_hash(self._stack.pop(), node)
            size >>= 1
        self._stack.append(node)
        self.size += 1

    def extend(self, leaves: Iterable[bytes]) -> None:
        for leaf in leaves:
            self.append(leaf)

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        node = self._stack[-1]
        for left in reversed(self._stack[:-1]):
            node = node_hash(left, node)
        return node


def root_of(leaves: Sequence[bytes]) -> bytes:
    compact = CompactRange()
    compact.extend(leaves)
    return compact.root()


class NodeReader(Protocol):
    """Hands out roots of perfect subtrees: level ``k``, index ``i`` covers leaves
    ``[i * 2**k, (i + 1) * 2**k)``. Level 0 are the leaf hashes."""

    def perfect_nodes(self, level: int, start: int, end: int) -> list[bytes]:
        """The level-``level`` nodes with indexes ``[start, end)``."""
        ...


class LeafListReader:
    """A :class:`NodeReader` over leaf hashes held in memory (tests, offline use)."""

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self._leaves = leaves

    def perfect_nodes(self, level: int, start: int, end: int) -> list[bytes]:
        width = 1 << level
        leaves = self._leaves
        return [perfect_root(leaves[i * width : (i + 1) * width]) for i in range(start, end)]


def range_hash(reader: NodeReader, start: int, end: int) -> bytes:
    """The hash of the RFC 6962 node covering leaves ``[start, end)``.

    ``start`` must be aligned: a multiple of the smallest power of two >= ``end - start``.
    """
    size = end - start
    if size <= 0:
        raise ValueError("empty range")
    parts: list[bytes] = []
    position = start
    for bit in reversed(range(size.bit_length())):
        if size >> bit & 1:
            width = 1 << bit
            if position % width:
                raise ValueError(f"range [{start}, {end}) is not aligned")
            parts.append(reader.perfect_nodes(bit, position // width, position // width + 1)[0])
            position += width
    node = parts[-1]
    for left in reversed(parts[:-1]):
        node = node_hash(left, node)
    return node


def tree_root(reader: NodeReader, size: int) -> bytes:
    return EMPTY_ROOT if size == 0 else range_hash(reader, 0, size)


def inclusion_proof(reader: NodeReader, index: int, size: int) -> list[bytes]:
    """PATH(m, D[n]) of RFC 6962 §2.1.1, bottom node first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of size {size}")
    path: list[bytes] = []
    start, end = 0, size
    # Walk down from the root, then reverse: the RFC lists the path from the leaf upwards.
    while end - start > 1:
        k = split_point(end - start)
        if index - start < k:
            path.append(range_hash(reader, start + k, end))
            end = start + k
        else:
            path.append(range_hash(reader, start, start + k))
            start = start + k
    path.reverse()
    return path


def consistency_proof(reader: NodeReader, old_size: int, new_size: int) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 6962 §2.1.2."""
    if not 0 < old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to {new_size}")
    if old_size == new_size:
        return []
    path: list[bytes] = []
    start, end, m = 0, new_size, old_size
    complete = True  # b in SUBPROOF(m, D[n], b)
    while True:
        n = end - start
        if m == n:
            if not complete:
                path.append(range_hash(reader, start, end))
            break
        k = split_point(n)
        if m <= k:
            path.append(range_hash(reader, start + k, end))
            end = start + k
        else:
            path.append(range_hash(reader, start, start + k))
            start, m, complete = start + k, m - k, False
    path.reverse()
    return path


class ProofError(ValueError):
    """A proof does not verify."""


def root_from_inclusion_proof(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """RFC 9162 §2.1.3.2: the root the proof leads to, or :class:`ProofError`."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of size {size}")
    fn, sn = index, size - 1
    node = leaf
    for sibling in proof:
        if sn == 0:
            raise ProofError("the proof is too long")
        if fn & 1 or fn == sn:
            node = node_hash(sibling, node)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            node = node_hash(node, sibling)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the proof is too short")
    return node


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Raise :class:`ProofError` unless ``leaf`` is entry ``index`` of the tree with ``root``."""
    if root_from_inclusion_proof(index, size, leaf, proof) != root:
        raise ProofError("the inclusion proof leads to a different root")


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 §2.1.4.2: raise :class:`ProofError` unless the old tree is a prefix of the new."""
    if not 0 < old_size <= new_size:
        raise ProofError(f"no consistency from size {old_size} to {new_size}")
    if old_size == new_size:
        if proof:
            raise ProofError("equal sizes need an empty proof")
        if old_root != new_root:
            raise ProofError("equal sizes with different roots")
        return
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is the first node
        path.insert(0, old_root)
    if not path:
        raise ProofError("the proof is empty")
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for node in path[1:]:
        if sn == 0:
            raise ProofError("the proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(node, fr)
            sr = node_hash(node, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, node)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the proof is too short")
    if fr != old_root:
        raise ProofError("the proof does not lead to the old root")
    if sr != new_root:
        raise ProofError("the proof does not lead to the new root")
