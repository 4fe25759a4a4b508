"""The Merkle code against a straightforward transcription of RFC 6962 §2.1."""

from __future__ import annotations

import hashlib

import pytest

from audit.merkle import (
    EMPTY_ROOT,
    LeafListReader,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_of,
    tree_root,
    verify_consistency,
    verify_inclusion,
)


# -- the reference: RFC 6962 §2.1 word for word, recursive over the data -----------------------
def ref_mth(data: list[bytes]) -> bytes:
    n = len(data)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + data[0]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + ref_mth(data[:k]) + ref_mth(data[k:])).digest()


def ref_path(m: int, data: list[bytes]) -> list[bytes]:
    n = len(data)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return ref_path(m, data[:k]) + [ref_mth(data[k:])]
    return ref_path(m - k, data[k:]) + [ref_mth(data[:k])]


def ref_subproof(m: int, data: list[bytes], b: bool) -> list[bytes]:
    n = len(data)
    if m == n:
        return [] if b else [ref_mth(data)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return ref_subproof(m, data[:k], b) + [ref_mth(data[k:])]
    return ref_subproof(m - k, data[k:], False) + [ref_mth(data[:k])]


def data_of(n: int) -> list[bytes]:
    return [f"entry {i}".encode() for i in range(n)]


SIZES = [*range(1, 34), 63, 64, 65, 127, 128, 129, 255, 256, 257, 1000]


@pytest.mark.parametrize("size", [0, *SIZES])
def test_roots_match_the_rfc_for_every_tree_size(size: int) -> None:
    data = data_of(size)
    leaves = [leaf_hash(d) for d in data]
    assert root_of(leaves) == ref_mth(data)
    assert tree_root(LeafListReader(leaves), size) == ref_mth(data)
    if size == 0:
        assert root_of(leaves) == EMPTY_ROOT


@pytest.mark.parametrize("size", SIZES)
def test_inclusion_proofs_match_the_rfc_and_verify(size: int) -> None:
    data = data_of(size)
    leaves = [leaf_hash(d) for d in data]
    reader = LeafListReader(leaves)
    root = ref_mth(data)
    for index in sorted({0, size // 3, size // 2, size - 1}):
        proof = inclusion_proof(reader, index, size)
        assert proof == ref_path(index, data)
        verify_inclusion(index, size, leaves[index], proof, root)


@pytest.mark.parametrize("new_size", [*range(1, 20), 64, 100, 257])
def test_consistency_proofs_match_the_rfc_and_verify(new_size: int) -> None:
    data = data_of(new_size)
    reader = LeafListReader([leaf_hash(d) for d in data])
    for old_size in range(1, new_size + 1):
        proof = consistency_proof(reader, old_size, new_size)
        expected = [] if old_size == new_size else ref_subproof(old_size, data, True)
        assert proof == expected
        verify_consistency(old_size, new_size, ref_mth(data[:old_size]), ref_mth(data), proof)


def test_a_proof_for_another_leaf_or_root_is_rejected() -> None:
    data = data_of(11)
    leaves = [leaf_hash(d) for d in data]
    reader = LeafListReader(leaves)
    proof = inclusion_proof(reader, 4, 11)
    with pytest.raises(ProofError):
        verify_inclusion(5, 11, leaves[4], proof, ref_mth(data))
    with pytest.raises(ProofError):
        verify_inclusion(4, 11, leaves[5], proof, ref_mth(data))
    with pytest.raises(ProofError):
        verify_inclusion(4, 11, leaves[4], proof[:-1], ref_mth(data))
    consistency = consistency_proof(reader, 6, 11)
    with pytest.raises(ProofError):
        verify_consistency(6, 11, ref_mth(data[:5]), ref_mth(data), consistency)
    with pytest.raises(ProofError):
        verify_consistency(6, 11, ref_mth(data[:6]), ref_mth(data[:10]), consistency)


def test_leaf_and_node_hashes_are_domain_separated() -> None:
    # A two-leaf tree's root must not equal the leaf hash of the concatenated children.
    data = data_of(2)
    left, right = leaf_hash(data[0]), leaf_hash(data[1])
    assert root_of([left, right]) != leaf_hash(left + right)
