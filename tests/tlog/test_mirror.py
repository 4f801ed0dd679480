"""The store's in-memory mirror answers proofs through `merkle.inclusion_proof` itself (issue 13 item 6).

The mirror keeps perfect-subtree hashes and caches right-border subtree roots; the proof decomposition is
the merkle module's one implementation, so it equals the in-memory tree's proof for every index and size.
"""

from __future__ import annotations

import pytest

from labkit.errors import LogError
from labkit.tlog import merkle
from labkit.tlog.store import _Mirror


def _mirror(tree: merkle.MemoryTree) -> _Mirror:
    m = _Mirror()
    m.levels = [list(level) for level in tree._levels]
    m.size = len(tree)
    return m


def test_mirror_proofs_equal_the_tree_proofs() -> None:
    tree = merkle.MemoryTree([merkle.leaf_hash(bytes([i])) for i in range(70)])
    mirror = _mirror(tree)
    for size in range(1, 71):
        for index in range(size):
            assert mirror.inclusion_proof(index, size) == tree.inclusion_proof(index, size), (index, size)
            # twice: the second answer comes from the border-root cache
            assert mirror.inclusion_proof(index, size) == tree.inclusion_proof(index, size), (index, size)


def test_a_reset_mirror_answers_with_a_log_error() -> None:
    mirror = _mirror(merkle.MemoryTree([merkle.leaf_hash(bytes([i])) for i in range(8)]))
    mirror._reset()
    with pytest.raises(LogError):
        mirror.inclusion_proof(3, 8)
