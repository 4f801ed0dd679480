"""C2SP tlog-tiles encoding: paths, entry bundles, and proofs read from tiles match the in-memory tree."""

from __future__ import annotations

import pytest

from labkit.tlog import merkle
from labkit.tlog.tiles import (
    TileError,
    TileId,
    TileNodes,
    decode_bundle,
    encode_bundle,
    encode_index,
    entries_path,
    parse_path,
    split_hashes,
    tile_path,
    tile_root,
    tiles_for_size,
)


@pytest.mark.parametrize(("n", "text"), [(0, "000"), (7, "007"), (999, "999"), (1000, "x001/000"),
                                          (1234067, "x001/x234/067"), (10**9, "x001/x000/x000/000")])
def test_index_encoding_follows_the_spec_example(n: int, text: str) -> None:
    assert encode_index(n) == text
    assert parse_path(f"tile/0/{text}") == TileId(0, n, 256)


def test_paths_full_partial_and_entries() -> None:
    assert tile_path(0, 1234067) == "tile/0/x001/x234/067"
    assert tile_path(2, 5, 17) == "tile/2/005.p/17"
    assert entries_path(3, 255) == "tile/entries/003.p/255"
    assert parse_path("tile/entries/003.p/255") == TileId(None, 3, 255)
    assert parse_path("tile/1/x001/000.p/1").path() == "tile/1/x001/000.p/1"


@pytest.mark.parametrize("bad", ["tile/0/1", "tile/00/001", "tile/0/x000/001", "tile/0/001.p/0", "tile/0/001.p/256",
                                 "tile/0/001.p/07", "tile/64/000", "tile/0/001/", "tile/x/001", "tile/0/../001",
                                 "tile/0/001.p/", "checkpoint", "tile/entries/x1/000"])
def test_non_canonical_paths_are_refused(bad: str) -> None:
    with pytest.raises(TileError):
        parse_path(bad)


def test_spec_example_tile_counts() -> None:
    # tlog-tiles: size 70,000 is 273 full level-0 tiles + width 112, 1 full level-1 + width 17, level-2 width 1.
    assert [tiles_for_size(70000, level) for level in range(3)] == [(273, 112), (1, 17), (0, 1)]
    assert [tiles_for_size(256, level) for level in range(2)] == [(1, 0), (0, 1)]


def test_entry_bundles_are_uint16_length_prefixed() -> None:
    entries = [b"", b"a", b"x" * 300, b"\xff" * 65535]
    data = encode_bundle(entries)
    assert data[:2] == b"\x00\x00" and data[2:5] == b"\x00\x01a" and data[5:7] == b"\x01\x2c"
    assert decode_bundle(data, 4) == entries
    with pytest.raises(TileError):
        encode_bundle([b"x" * 65536])
    with pytest.raises(TileError, match="claims"):
        decode_bundle(b"\x00\x05abc")
    with pytest.raises(TileError, match="length prefix"):
        decode_bundle(b"\x00\x01a\x00")
    with pytest.raises(TileError, match="expected 3"):
        decode_bundle(data, 3)


class _Tree(merkle.MemoryTree):
    def root_size_range(self, start: int, end: int) -> bytes:
        return merkle.subtree_root(self, start, end)


def _tiles_of(tree: _Tree, size: int) -> dict[tuple[int, int, int], bytes]:
    """Every tile of the tree of `size`, built straight from the spec's MTH definition."""
    out = {}
    level = 0
    while size >> (8 * level):
        full, width = tiles_for_size(size, level)
        for n in range(full + (1 if width else 0)):
            w = 256 if n < full else width
            span = 256**level
            hashes = [tree.root_size_range((n * 256 + i) * span, (n * 256 + i + 1) * span) for i in range(w)]
            out[(level, n, w)] = b"".join(hashes)
        level += 1
    return out


@pytest.mark.parametrize("size", [1, 255, 256, 257, 511, 65536, 65537, 70000])
def test_proofs_from_tiles_equal_the_reference_tree(size: int) -> None:
    tree = _Tree([merkle.leaf_hash(str(i).encode()) for i in range(size)])
    tiles = _tiles_of(tree, size)
    nodes = TileNodes(lambda lv, n, w: tiles[(lv, n, w)], size)
    assert nodes.root() == tree.root()
    for index in {0, size // 2, size - 1}:
        assert merkle.inclusion_proof(nodes, index, size) == tree.inclusion_proof(index)
    for old in {1, size // 3 or 1, size - 1 or 1}:
        if old < size:
            assert merkle.consistency_proof(nodes, old, size) == tree.consistency_proof(old)


def test_tile_root_and_split() -> None:
    hashes = [merkle.leaf_hash(bytes([i])) for i in range(256)]
    assert tile_root(hashes) == merkle.tree_root(hashes)
    assert split_hashes(b"".join(hashes[:3]), 3) == hashes[:3]
    with pytest.raises(TileError):
        split_hashes(b"\x00" * 95, 3)
    with pytest.raises(TileError):
        tile_root(hashes[:255])
