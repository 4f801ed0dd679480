"""A tile log byte by byte: tables that name every part of a checkpoint, a tile, an entry bundle and a proof.

What notebook 15 shows, kept here where tests reach it (C2SP tlog-tiles,
tlog-checkpoint, signed-note; RFC 6962 §2.1 for the hashes)::

    checkpoint_rows(log.read("checkpoint"))        # origin, size, root hash, signature lines
    tile_rows(log.read("tile/0/000.p/5"), level=0, index=0)
    bundle_rows(log.read("tile/entries/000.p/5"))  # big-endian uint16 length prefixes
    proof, fetched = traced_inclusion_proof(log, index=3, size=5)   # which tiles a proof needs

Every function reads bytes and returns plain rows (lists of dicts): nothing
here writes or trusts anything.
"""

from __future__ import annotations

import struct

from labkit.errors import LogError
from labkit.tlog import merkle
from labkit.tlog.checkpoint import SignedNote
from labkit.tlog.tilelog import TileLog
from labkit.tlog.tiles import TILE_WIDTH, TileNodes, split_hashes, tile_path

__all__ = ["bundle_rows", "checkpoint_rows", "tile_rows", "traced_inclusion_proof"]

Row = dict[str, object]


def checkpoint_rows(note: bytes | str) -> list[Row]:
    """One row per line of a signed checkpoint: what the line is and what it holds."""
    text = note.decode() if isinstance(note, bytes) else note
    parsed = SignedNote.parse(text)
    body = parsed.text.split("\n")
    names = ["origin (the log's identity, tied to its URL)", "tree size (decimal)", "root hash (base64, 32 bytes)"]
    rows: list[Row] = [{"line": line, "meaning": names[i] if i < 3 else "extension line"}
                       for i, line in enumerate(body) if line]
    rows.append({"line": "", "meaning": "blank line: the signed text ends here"})
    for sig in parsed.signatures:
        rows.append({"line": sig.line()[:60] + "…",
                     "meaning": f"signature by {sig.name}: 4-byte key hint {sig.key_hint.hex()} "
                                f"+ {len(sig.signature)}-byte signature"})
    return rows


def tile_rows(data: bytes, *, level: int, index: int) -> list[Row]:
    """One row per 32-byte hash of a tile: its position in the tree and the hash (level 0: leaf hashes)."""
    if len(data) % 32 or not 0 < len(data) <= 32 * TILE_WIDTH:
        raise LogError(f"a tile is 1..{TILE_WIDTH} hashes of 32 bytes, not {len(data)} bytes")
    hashes = split_hashes(data, len(data) // 32)
    first = index * TILE_WIDTH
    return [{"offset": 32 * i, "tree level": 8 * level, "node index": first + i, "hash": h.hex()}
            for i, h in enumerate(hashes)]


def bundle_rows(data: bytes) -> list[Row]:
    """One row per entry of an entry bundle: offset, the two length bytes, the length, the entry's first bytes."""
    rows: list[Row] = []
    at = 0
    while at < len(data):
        if at + 2 > len(data):
            raise LogError(f"entry bundle ends inside a length prefix at byte {at}")
        (length,) = struct.unpack(">H", data[at:at + 2])
        entry = data[at + 2:at + 2 + length]
        if len(entry) != length:
            raise LogError(f"entry bundle ends inside the entry at byte {at} ({len(entry)} of {length} bytes)")
        rows.append({"offset": at, "prefix": data[at:at + 2].hex(), "length": length,
                     "leaf hash": merkle.leaf_hash(entry).hex()[:16] + "…",
                     "starts with": entry[:40].decode("utf-8", "replace")})
        at += 2 + length
    return rows


def traced_inclusion_proof(log: TileLog, index: int, size: int) -> tuple[list[bytes], list[str]]:
    """The inclusion proof of `index` in the tree of `size`, built from tiles alone, and the tile paths it read."""
    fetched: list[str] = []

    def fetch(level: int, n: int, width: int) -> bytes:
        fetched.append(tile_path(level, n, width))
        return log.fetch_tile(level, n, width)

    proof = merkle.inclusion_proof(TileNodes(fetch, size), index, size)
    return proof, fetched

