"""RFC 6962 / RFC 9162 Merkle trees, IO-free.

Hashing (RFC 6962 §2.1): a leaf is ``SHA-256(0x00 ‖ data)``, an interior node
``SHA-256(0x01 ‖ left ‖ right)``. The two prefixes keep a leaf from ever being
mistaken for a node (second-preimage resistance).

Proof *generation* reads perfect-subtree hashes through a `NodeSource`, so a
store that keeps every perfect subtree answers an inclusion or consistency
proof with O(log n) reads. Proof *verification* is split in two, as in
transparency-dev/merkle: ``root_from_*`` computes the root a proof leads to,
``verify_*`` compares it with the root you expected and raises
`RootMismatchError` naming both.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import NamedTuple, Protocol

from labkit.errors import ProofError

__all__ = [
    "HASH_SIZE", "MemoryTree", "RootMismatchError", "TraceStep", "consistency_proof", "empty_root", "inclusion_proof",
    "leaf_hash", "node_hash", "root_from_inclusion_proof", "subtree_root", "verify_consistency", "verify_inclusion",
]

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"


class RootMismatchError(ProofError):
    """A proof is well formed but leads to a different root than expected."""

    def __init__(self, what: str, expected: bytes, calculated: bytes) -> None:
        super().__init__(
            f"{what}: calculated root {calculated.hex()} does not match expected root {expected.hex()}",
            details={"expected root": expected.hex(), "calculated root": calculated.hex()},
        )
        self.expected = expected
        self.calculated = calculated


def leaf_hash(data: bytes) -> bytes:
    """RFC 6962 leaf hash: SHA-256(0x00 ‖ data)."""
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior node hash: SHA-256(0x01 ‖ left ‖ right)."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def empty_root() -> bytes:
    """The root of the empty tree: SHA-256 of the empty string."""
    return hashlib.sha256(b"").digest()


def _largest_power_of_two_below(n: int) -> int:
    """The largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


class NodeSource(Protocol):
    """Hashes of perfect subtrees.

    ``node(level, index)`` is the root of the subtree over leaves
    ``[index·2^level, (index+1)·2^level)``; level 0 holds the leaf hashes.
    Only subtrees that are complete in the tree being proven are asked for.
    """

    def node(self, level: int, index: int) -> bytes:
        """The hash of one perfect subtree."""
        ...


def subtree_root(source: NodeSource, start: int, end: int) -> bytes:
    """MTH(D[start:end]) for a range that RFC 6962's recursion produces.

    `start` must be a multiple of the largest power of two not above
    ``end - start``; perfect aligned ranges cost one read, a right-border
    range costs O(log n) reads.
    """
    size = end - start
    if size <= 0:
        raise ProofError(f"empty subtree range [{start}, {end})")
    if size & (size - 1) == 0 and start % size == 0:
        level = size.bit_length() - 1
        return source.node(level, start >> level)
    k = _largest_power_of_two_below(size)
    return node_hash(subtree_root(source, start, start + k), subtree_root(source, start + k, end))


def tree_root(source: NodeSource | Sequence[bytes], size: int | None = None) -> bytes:
    """MTH of the first `size` leaves (all of a sequence of leaf hashes by default)."""
    nodes: NodeSource
    if isinstance(source, (list, tuple)):
        size = len(source) if size is None else size
        nodes = MemoryTree(source)
    else:
        nodes = source  # type: ignore[assignment]
    if size is None:
        raise ProofError("tree_root needs a size when given a NodeSource")
    if size == 0:
        return empty_root()
    return subtree_root(nodes, 0, size)


_MAX_SIZE = 1 << 64  # RFC 9162 §2.1: indexes and sizes are 64-bit unsigned integers


def _check_index(index: int, size: int) -> None:
    if isinstance(index, bool) or isinstance(size, bool) or not isinstance(index, int) or not isinstance(size, int):
        raise ProofError("leaf index and tree size must be integers")
    if size < 0 or index < 0:
        raise ProofError(f"negative leaf index {index} or tree size {size}")
    if size >= _MAX_SIZE or index >= _MAX_SIZE:
        raise ProofError(f"leaf index {index} or tree size {size} overflows 64 bits")
    if index >= size:
        raise ProofError(f"leaf index {index} is not below tree size {size}")


def inclusion_proof(
    source: NodeSource, index: int, size: int, *, border: Callable[[int, int], bytes] | None = None
) -> list[bytes]:
    """The audit path for leaf `index` in the tree of `size` leaves (RFC 6962 §2.1.1 PATH), bottom-up.

    Computed by the decomposition RFC 9162 §2.1.3.2 verifies against: below
    level ``inner = bit_length(index XOR (size-1))`` every sibling is a
    perfect subtree (one read each) except possibly the topmost one, which may
    be the partial right-border subtree; above it, the path takes the left
    sibling wherever `index` has a 1 bit. At most one non-perfect subtree is
    computed, so a proof costs O(log n) reads. `border(start, end)` computes that subtree's root
    (default `subtree_root`; a store that keeps such roots passes its cached lookup).
    """
    _check_index(index, size)
    path: list[bytes] = []
    node = source.node
    inner = (index ^ (size - 1)).bit_length()
    for level in range(inner):
        sibling = (index >> level) ^ 1
        if (sibling + 1) << level <= size:
            path.append(node(level, sibling))
        else:
            path.append(border(sibling << level, size) if border else subtree_root(source, sibling << level, size))
    for level in range(inner, size.bit_length()):
        if (index >> level) & 1:
            path.append(node(level, (index >> level) ^ 1))
    return path


def consistency_proof(source: NodeSource, size1: int, size2: int) -> list[bytes]:
    """The consistency proof from `size1` to `size2` (RFC 6962 §2.1.2 PROOF/SUBPROOF)."""
    if size1 < 0 or size2 < 0:
        raise ProofError(f"negative tree size ({size1}, {size2})")
    if size1 > size2:
        raise ProofError(f"old tree size {size1} is larger than new tree size {size2}")
    if size1 == 0 or size1 == size2:
        return []
    proof: list[bytes] = []
    start, end, m, complete = 0, size2, size1, True
    while True:
        n = end - start
        if m == n:
            if not complete:
                proof.append(subtree_root(source, start, end))
            break
        k = _largest_power_of_two_below(n)
        if m <= k:
            proof.append(subtree_root(source, start + k, end))
            end = start + k
        else:
            proof.append(subtree_root(source, start, start + k))
            start, m, complete = start + k, m - k, False
    proof.reverse()
    return proof


def _check_hash(value: bytes, what: str) -> None:
    if not isinstance(value, (bytes, bytearray)) or len(value) != HASH_SIZE:
        got = len(value) if isinstance(value, (bytes, bytearray)) else type(value).__name__
        raise ProofError(f"{what} must be {HASH_SIZE} bytes, got {got}")


class TraceStep(NamedTuple):
    """One step of the RFC 9162 inclusion walk: the node consumed and the hash after it."""

    step: int
    fn: int
    sn: int
    proof_hash: bytes
    side: str  # "left": sibling on the left, r = H(p, r);  "right": r = H(r, p)
    result: bytes


def root_from_inclusion_proof(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], *, trace: list[TraceStep] | None = None
) -> bytes:
    """Compute the root that an inclusion proof leads to (RFC 9162 §2.1.3.2).

    Raises `ProofError` when the proof cannot be right for this index and
    size (wrong length, index out of range); never compares roots. With
    `trace`, each step (fn, sn before it, the sibling's side, r after it) is
    appended there, for teaching.
    """
    _check_index(index, size)
    _check_hash(leaf, "leaf hash")
    for i, p in enumerate(proof):
        if type(p) is not bytes or len(p) != HASH_SIZE:  # the common case passes without a call; others are judged
            _check_hash(p, f"proof hash {i}")
    # 2. fn = leaf_index, sn = tree_size - 1;  3. r = leaf hash
    fn, sn = index, size - 1
    r = bytes(leaf)
    for i, p in enumerate(proof):
        # 4a. if sn is 0, the proof is too long
        if sn == 0:
            raise ProofError(f"inclusion proof has {len(proof)} hashes, too many for index {index} in size {size}")
        before = (fn, sn)
        # 4b. a right child, or the last node of its level: the sibling is on the left
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            side = "left"
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
            side = "right"
        if trace is not None:
            trace.append(TraceStep(i + 1, before[0], before[1], bytes(p), side, r))
        # 4c.
        fn >>= 1
        sn >>= 1
    # 5. every level consumed
    if sn != 0:
        raise ProofError(f"inclusion proof has {len(proof)} hashes, too few for index {index} in size {size}")
    return r


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> None:
    """Raise unless `proof` shows leaf `index` is in the tree of `size` leaves with `root`."""
    _check_hash(root, "root hash")
    calculated = root_from_inclusion_proof(index, size, leaf, proof)
    if calculated != root:
        raise RootMismatchError("inclusion proof", root, calculated)


def roots_from_consistency_proof(
    size1: int, size2: int, root1: bytes, proof: Sequence[bytes]
) -> tuple[bytes, bytes]:
    """Compute (old root, new root) from a consistency proof (RFC 9162 §2.1.4.2).

    Needs ``0 < size1 < size2``; `verify_consistency` handles the trivial
    cases. `root1` is an input because, when `size1` is a power of two, it is
    the first node of the path.
    """
    for name, value in (("size1", size1), ("size2", size2)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value >= _MAX_SIZE:
            raise ProofError(f"{name} must be an integer in 0..2^64-1, got {value!r}")
    _check_hash(root1, "old root")
    for i, p in enumerate(proof):
        _check_hash(p, f"proof hash {i}")
    if size1 > size2:
        raise ProofError(f"old tree size {size1} is larger than new tree size {size2}")
    if size1 == size2 or size1 == 0:
        raise ProofError(f"no consistency proof is computed from {size1} to {size2}; the proof must be empty")
    if not proof:
        raise ProofError(f"consistency proof from {size1} to {size2} is empty")
    path = list(proof)
    # 2. if size1 is an exact power of two, prepend first_hash
    if size1 & (size1 - 1) == 0:
        path.insert(0, bytes(root1))
    # 3. fn = first - 1, sn = second - 1;  4. shift while LSB(fn) set
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # 5. fr = sr = path[0]
    fr = sr = path[0]
    for c in path[1:]:
        # 6a.
        if sn == 0:
            raise ProofError(f"consistency proof has {len(proof)} hashes, too many for {size1} -> {size2}")
        # 6b.
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        # 6c.
        fn >>= 1
        sn >>= 1
    # 7.
    if sn != 0:
        raise ProofError(f"consistency proof has {len(proof)} hashes, too few for {size1} -> {size2}")
    return fr, sr


def verify_consistency(size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]) -> None:
    """Raise unless `proof` shows the tree (size1, root1) is a prefix of (size2, root2)."""
    if not isinstance(size1, int) or not isinstance(size2, int) or size1 < 0 or size2 < 0 or size1 > size2:
        raise ProofError(f"tree sizes must satisfy 0 <= size1 <= size2, got {size1} and {size2}")
    if size2 >= _MAX_SIZE:
        raise ProofError(f"tree size {size2} overflows 64 bits")
    if size1 == 0:
        # As transparency-dev/merkle: every tree extends the empty tree, so such a check proves nothing.
        raise ProofError("a consistency check from the empty tree (size 0) proves nothing and is refused")
    if size1 == size2:
        if proof:
            raise ProofError(f"consistency proof between equal sizes {size1} must be empty, has {len(proof)} hashes")
        if root1 != root2:
            raise RootMismatchError("consistency of equal-size trees", root1, root2)
        return
    _check_hash(root1, "old root")
    _check_hash(root2, "new root")
    old, new = roots_from_consistency_proof(size1, size2, root1, proof)
    if old != root1:
        raise RootMismatchError("consistency proof (old tree)", root1, old)
    if new != root2:
        raise RootMismatchError("consistency proof (new tree)", root2, new)


class MemoryTree:
    """An in-memory tree over leaf hashes that keeps every perfect subtree.

    Appending is amortised O(1); proofs read O(log n) nodes. Useful for
    tests, notebooks and as the reference the durable log is checked against.
    """

    def __init__(self, leaves: Sequence[bytes] = ()) -> None:
        self._levels: list[list[bytes]] = [[]]
        for leaf in leaves:
            self.append_hash(leaf)

    def __len__(self) -> int:
        return len(self._levels[0])

    def append(self, data: bytes) -> int:
        """Append a leaf by its data; returns its index."""
        return self.append_hash(leaf_hash(data))

    def append_hash(self, leaf: bytes) -> int:
        """Append a leaf by its hash; returns its index."""
        _check_hash(leaf, "leaf hash")
        index = len(self._levels[0])
        self._levels[0].append(bytes(leaf))
        level, i = 0, index
        while i & 1:
            if len(self._levels) <= level + 1:
                self._levels.append([])
            self._levels[level + 1].append(node_hash(self._levels[level][i - 1], self._levels[level][i]))
            level, i = level + 1, i >> 1
        return index

    def node(self, level: int, index: int) -> bytes:
        """The hash of node `index` at `level` (0: leaves)."""
        try:
            return self._levels[level][index]
        except IndexError:
            raise ProofError(f"no complete subtree at level {level} index {index}") from None

    def root(self, size: int | None = None) -> bytes:
        """The root of the first `size` leaves (default: all)."""
        size = len(self) if size is None else size
        if size < 0 or size > len(self):
            raise ProofError(f"tree size {size} is outside 0..{len(self)}")
        return empty_root() if size == 0 else subtree_root(self, 0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """Audit path for `index` in the tree of `size` leaves (default: all)."""
        size = len(self) if size is None else size
        if size > len(self):
            raise ProofError(f"tree size {size} is larger than the tree ({len(self)})")
        return inclusion_proof(self, index, size)

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """Consistency proof from `size1` to `size2` (default: all)."""
        size2 = len(self) if size2 is None else size2
        if size2 > len(self):
            raise ProofError(f"tree size {size2} is larger than the tree ({len(self)})")
        return consistency_proof(self, size1, size2)
