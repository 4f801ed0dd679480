"""Property tests for the RFC 6962 / RFC 9162 core, and its refusals of bad input."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labkit.errors import CheckpointError, ProofError
from labkit.keys import generate
from labkit.lab import Lab
from labkit.tlog import merkle
from labkit.tlog.checkpoint import Checkpoint, sign_note, verify_note
from labkit.tlog.entries import EntryProof, LogEntry, explain_entry

N = 1500
LEAVES = [merkle.leaf_hash(b"leaf %d" % i) for i in range(N)]
TREE = merkle.MemoryTree(LEAVES)
PROPS = settings(max_examples=150, deadline=None)


def _flip(value: bytes, bit: int) -> bytes:
    b = bytearray(value)
    b[bit // 8] ^= 1 << (bit % 8)
    return bytes(b)


def _reference_root(leaves: list[bytes]) -> bytes:
    """MTH straight from RFC 6962 §2.1's recursive definition."""
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return merkle.node_hash(_reference_root(leaves[:k]), _reference_root(leaves[k:]))


@given(size=st.integers(1, 200))
@PROPS
def test_root_matches_rfc6962_definition(size: int) -> None:
    assert TREE.root(size) == _reference_root(LEAVES[:size]) == merkle.tree_root(LEAVES[:size])


@st.composite
def index_and_size(draw: st.DrawFn) -> tuple[int, int]:
    size = draw(st.integers(1, N))
    return draw(st.integers(0, size - 1)), size


@given(index_and_size())
@PROPS
def test_every_inclusion_proof_verifies(case: tuple[int, int]) -> None:
    index, size = case
    proof = TREE.inclusion_proof(index, size)
    assert merkle.root_from_inclusion_proof(index, size, LEAVES[index], proof) == TREE.root(size)
    merkle.verify_inclusion(index, size, LEAVES[index], proof, TREE.root(size))


@given(index_and_size(), st.data())
@PROPS
def test_any_bit_flip_in_inclusion_inputs_is_rejected(case: tuple[int, int], data: st.DataObject) -> None:
    index, size = case
    proof = TREE.inclusion_proof(index, size)
    root = TREE.root(size)
    target = data.draw(st.sampled_from(["proof", "root", "leaf", "index"] if proof else ["root", "leaf", "index"]))
    with pytest.raises(ProofError):
        if target == "proof":
            i = data.draw(st.integers(0, len(proof) - 1))
            bad = list(proof)
            bad[i] = _flip(bad[i], data.draw(st.integers(0, 255)))
            merkle.verify_inclusion(index, size, LEAVES[index], bad, root)
        elif target == "root":
            merkle.verify_inclusion(index, size, LEAVES[index], proof, _flip(root, data.draw(st.integers(0, 255))))
        elif target == "leaf":
            merkle.verify_inclusion(index, size, _flip(LEAVES[index], data.draw(st.integers(0, 255))), proof, root)
        else:
            merkle.verify_inclusion(index ^ (1 << data.draw(st.integers(0, 63))), size, LEAVES[index], proof, root)


@given(index_and_size(), st.integers(0, 63))
@PROPS
def test_bit_flip_in_tree_size_is_rejected_by_the_checkpoint(case: tuple[int, int], bit: int) -> None:
    """The size is bound by the signed checkpoint, as RFC 9162 binds it by the STH.

    The inclusion check alone cannot catch every size change: index 0 has the
    same audit-path shape in trees of 5 and 7 leaves. An entry's proof is
    therefore checked together with its checkpoint's (size, root).
    """
    index, size = case
    key = _LOG_KEY
    note = sign_note(Checkpoint("lab - 1", size, TREE.root(size)), "lab", key).to_text()
    bad_size = size ^ (1 << bit)
    proof = EntryProof(index, bad_size, TREE.root(size), tuple(TREE.inclusion_proof(index, size)), note)
    entry = LogEntry(index, b"x", 0, key.public_key().key_id(), b"", proof)
    result = explain_entry(entry, key.public_key())
    failed = {s.id for s in result.steps if s.status == "failed"}
    assert failed & {"tlog.inclusion_proof", "tlog.checkpoint"}
    # and rewriting the checkpoint's size line to match breaks the log's signature
    forged = note.replace(f"\n{size}\n", f"\n{bad_size}\n", 1)
    with pytest.raises(CheckpointError):
        verify_note(forged, "lab", key.public_key())


_LOG_KEY = generate("ecdsa-p256", lab=Lab(seed="merkle"), label="log")


@st.composite
def two_sizes(draw: st.DrawFn) -> tuple[int, int]:
    size2 = draw(st.integers(2, N))
    return draw(st.integers(1, size2 - 1)), size2


@given(two_sizes())
@PROPS
def test_every_consistency_proof_verifies(case: tuple[int, int]) -> None:
    size1, size2 = case
    proof = TREE.consistency_proof(size1, size2)
    merkle.verify_consistency(size1, size2, TREE.root(size1), TREE.root(size2), proof)
    assert merkle.roots_from_consistency_proof(size1, size2, TREE.root(size1), proof) == (
        TREE.root(size1),
        TREE.root(size2),
    )


@given(two_sizes(), st.data())
@PROPS
def test_any_bit_flip_in_consistency_inputs_is_rejected(case: tuple[int, int], data: st.DataObject) -> None:
    size1, size2 = case
    proof = TREE.consistency_proof(size1, size2)
    r1, r2 = TREE.root(size1), TREE.root(size2)
    target = data.draw(st.sampled_from(["proof", "root1", "root2"]))
    bit = data.draw(st.integers(0, 255))
    with pytest.raises(ProofError):
        if target == "proof":
            bad = list(proof)
            i = data.draw(st.integers(0, len(bad) - 1))
            bad[i] = _flip(bad[i], bit)
            merkle.verify_consistency(size1, size2, r1, r2, bad)
        elif target == "root1":
            merkle.verify_consistency(size1, size2, _flip(r1, bit), r2, proof)
        else:
            merkle.verify_consistency(size1, size2, r1, _flip(r2, bit), proof)


def test_root_mismatch_names_both_roots() -> None:
    proof = TREE.inclusion_proof(3, 10)
    wrong = hashlib.sha256(b"wrong").digest()
    with pytest.raises(merkle.RootMismatchError) as err:
        merkle.verify_inclusion(3, 10, LEAVES[3], proof, wrong)
    assert wrong.hex() in err.value.message and TREE.root(10).hex() in err.value.message


@pytest.mark.parametrize(
    "index, size, proof_len, match",
    [
        (-1, 10, 4, "negative"),
        (10, 10, 4, "not below"),
        (2**64, 2**64 + 1, 4, "overflows"),
        (3, 10, 3, "too few"),
        (3, 10, 5, "too many"),
    ],
)
def test_bad_inclusion_inputs(index: int, size: int, proof_len: int, match: str) -> None:
    proof = (TREE.inclusion_proof(3, 10) + [LEAVES[0]])[:proof_len]
    with pytest.raises(ProofError, match=match):
        merkle.verify_inclusion(index, size, LEAVES[3], proof, TREE.root(10))


def test_bad_hash_lengths() -> None:
    with pytest.raises(ProofError, match="32 bytes"):
        merkle.verify_inclusion(0, 2, LEAVES[0], [b"short"], TREE.root(2))
    with pytest.raises(ProofError, match="32 bytes"):
        merkle.verify_inclusion(0, 2, LEAVES[0], [LEAVES[1]], b"")
    with pytest.raises(ProofError, match="empty tree"):
        merkle.verify_consistency(0, 5, merkle.empty_root(), TREE.root(5), [])
    with pytest.raises(ProofError):
        merkle.verify_consistency(3, 2, TREE.root(3), TREE.root(2), [])


def _reference_path(leaves: list[bytes], index: int) -> list[bytes]:
    """PATH(m, D[n]) straight from RFC 6962 §2.1.1's recursion."""
    if len(leaves) == 1:
        return []
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    if index < k:
        return _reference_path(leaves[:k], index) + [_reference_root(leaves[k:])]
    return _reference_path(leaves[k:], index - k) + [_reference_root(leaves[:k])]


def test_inclusion_proof_equals_rfc6962_path_for_every_leaf_of_small_trees() -> None:
    for size in range(1, 70):
        for index in range(size):
            assert TREE.inclusion_proof(index, size) == _reference_path(LEAVES[:size], index)
