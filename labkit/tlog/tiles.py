"""C2SP tlog-tiles, IO-free: tile paths, entry bundles, and a Merkle node source over tiles.

A tiled log (c2sp.org/tlog-tiles) publishes its tree as static files:

* ``tile/<L>/<N>``: 256 consecutive hashes (8,192 bytes) at tree height ``8·L``;
  tile ``N`` at level ``L`` holds ``MTH(D[(N·256+i)·256^L : (N·256+i+1)·256^L])``.
* ``tile/<L>/<N>.p/<W>``: the rightmost, partial tile of ``W`` hashes (1..255);
  for a tree of size ``s`` its width is ``floor(s / 256^L) mod 256``.
* ``tile/entries/<N>[.p/<W>]``: the entries behind level-0 tile ``N``, each
  prefixed by its length as a big-endian uint16.

``N`` is written as zero-padded 3-digit path elements, all but the last
prefixed with ``x``: 1234067 is ``x001/x234/067``.

`TileNodes` turns "fetch a tile" into the `merkle.NodeSource` that proof
generation reads, so inclusion and consistency proofs come from tiles alone.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from labkit.errors import LogError, ProofError
from labkit.tlog.merkle import HASH_SIZE, empty_root, node_hash, subtree_root

__all__ = []

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
MAX_ENTRY_SIZE = 0xFFFF  # a uint16 length prefix
MAX_LEVEL = 63
_SPEC = "C2SP tlog-tiles"


class TileError(LogError):
    """A tile path, tile or entry bundle that does not follow C2SP tlog-tiles."""

    hint = "Check the tile path or the tile's bytes against c2sp.org/tlog-tiles."


def encode_index(n: int) -> str:
    """``N`` as 3-digit path elements, all but the last ``x``-prefixed (1234067 → ``x001/x234/067``)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise TileError(f"tile index must be a non-negative integer, got {n!r}")
    parts = [f"{n % 1000:03d}"]
    n //= 1000
    while n:
        parts.append(f"x{n % 1000:03d}")
        n //= 1000
    return "/".join(reversed(parts))


def _suffix(width: int) -> str:
    if isinstance(width, bool) or not isinstance(width, int) or not 1 <= width <= TILE_WIDTH:
        raise TileError(f"tile width must be 1..{TILE_WIDTH}, got {width!r}")
    return "" if width == TILE_WIDTH else f".p/{width}"


def tile_path(level: int, index: int, width: int = TILE_WIDTH) -> str:
    """``tile/<L>/<N>[.p/<W>]``."""
    if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= MAX_LEVEL:
        raise TileError(f"tile level must be 0..{MAX_LEVEL}, got {level!r}")
    return f"tile/{level}/{encode_index(index)}{_suffix(width)}"


def entries_path(index: int, width: int = TILE_WIDTH) -> str:
    """``tile/entries/<N>[.p/<W>]``."""
    return f"tile/entries/{encode_index(index)}{_suffix(width)}"


@dataclass(frozen=True)
class TileId:
    """A parsed tile path: `level` is None for an entry bundle."""

    level: int | None
    index: int
    width: int

    def path(self) -> str:
        """The tile's path under the log's base URL."""
        if self.level is None:
            return entries_path(self.index, self.width)
        return tile_path(self.level, self.index, self.width)


_DEC = r"(?:0|[1-9][0-9]*)"
_PATH = re.compile(rf"tile/(?P<level>{_DEC}|entries)/(?P<n>(?:x[0-9]{{3}}/)*[0-9]{{3}})(?:\.p/(?P<w>{_DEC}))?")


def parse_path(path: str) -> TileId:
    """Parse ``tile/<L>/<N>[.p/<W>]`` or ``tile/entries/<N>[.p/<W>]`` in canonical form only."""
    m = _PATH.fullmatch(path)
    if m is None:
        raise TileError(f"not a tile path: {path!r}")
    parts = m["n"].split("/")
    if len(parts) > 1 and parts[0] == "x000":
        raise TileError(f"tile index has a leading zero element: {path!r}")
    index = int("".join(p.lstrip("x") for p in parts))
    width = TILE_WIDTH if m["w"] is None else int(m["w"])
    if not 1 <= width < TILE_WIDTH + (m["w"] is None):
        raise TileError(f"partial tile width must be 1..{TILE_WIDTH - 1}: {path!r}")
    level = None if m["level"] == "entries" else int(m["level"])
    if level is not None and level > MAX_LEVEL:
        raise TileError(f"tile level must be 0..{MAX_LEVEL}: {path!r}")
    return TileId(level, index, width)


def tiles_for_size(size: int, level: int) -> tuple[int, int]:
    """(number of full tiles, width of the partial tile or 0) at `level` for a tree of `size`."""
    nodes = size >> (TILE_HEIGHT * level)
    return nodes >> TILE_HEIGHT, nodes & (TILE_WIDTH - 1)


def encode_bundle(entries: Iterable[bytes]) -> bytes:
    """Concatenate entries, each prefixed by its big-endian uint16 length."""
    out = bytearray()
    for e in entries:
        if len(e) > MAX_ENTRY_SIZE:
            raise TileError(f"an entry of {len(e)} bytes does not fit a uint16 length prefix")
        out += struct.pack(">H", len(e)) + e
    return bytes(out)


def decode_bundle(data: bytes, width: int | None = None) -> list[bytes]:
    """Split an entry bundle; with `width`, it must hold exactly that many entries."""
    out: list[bytes] = []
    pos = 0
    while pos < len(data):
        if pos + 2 > len(data):
            raise TileError(f"entry bundle ends inside a length prefix at byte {pos}")
        (n,) = struct.unpack_from(">H", data, pos)
        if pos + 2 + n > len(data):
            raise TileError(f"entry {len(out)} of the bundle claims {n} bytes; only {len(data) - pos - 2} remain")
        out.append(data[pos + 2 : pos + 2 + n])
        pos += 2 + n
    if width is not None and len(out) != width:
        raise TileError(f"entry bundle holds {len(out)} entries, expected {width}")
    return out


def split_hashes(data: bytes, width: int) -> list[bytes]:
    """The `width` hashes of a tile; the byte length must be exactly ``32·width``."""
    if len(data) != HASH_SIZE * width:
        raise TileError(f"tile is {len(data)} bytes, expected {HASH_SIZE * width} for width {width}")
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


def _levels(hashes: Sequence[bytes]) -> list[list[bytes]]:
    """Every complete subtree inside one tile: levels[k][j] covers hashes [j·2^k, (j+1)·2^k)."""
    levels = [list(hashes)]
    while len(levels[-1]) > 1:
        below = levels[-1]
        levels.append([node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)])
    return levels


def tile_root(hashes: Sequence[bytes]) -> bytes:
    """The hash a full tile contributes to the level above: the root of its 256 hashes."""
    if len(hashes) != TILE_WIDTH:
        raise TileError(f"only a full tile ({TILE_WIDTH} hashes) has a root in the level above, got {len(hashes)}")
    return _levels(hashes)[-1][0]


TileFetch = Callable[[int, int, int], bytes]
"""fetch(level, index, width) → the tile's bytes (raises a `LabkitError` when it is unavailable)."""


class TileNodes:
    """A `merkle.NodeSource` for the tree of `size` leaves, read from tiles through `fetch`.

    ``node(h, i)`` with ``h = 8·L + k`` is the root of ``2^k`` consecutive hashes of a
    level-L tile, hashed up inside that tile. Tiles are fetched once and kept in
    `cache` (keyed by level, index, width), which may be shared between sources:
    a full tile never changes, and a partial tile is named by its width.
    """

    def __init__(self, fetch: TileFetch, size: int, cache: dict[tuple[int, int, int], list[list[bytes]]] | None = None):
        self.fetch = fetch
        self.size = size
        self.cache: dict[tuple[int, int, int], list[list[bytes]]] = {} if cache is None else cache

    def _tile(self, level: int, index: int) -> list[list[bytes]]:
        full, partial = tiles_for_size(self.size, level)
        if index < full:
            width = TILE_WIDTH
        elif index == full and partial:
            width = partial
        else:
            raise ProofError(f"tile {level}/{index} is beyond the tree of size {self.size}")
        key = (level, index, width)
        levels = self.cache.get(key)
        if levels is None:
            levels = _levels(split_hashes(self.fetch(level, index, width), width))
            self.cache[key] = levels
        return levels

    def node(self, level: int, index: int) -> bytes:
        """The hash of node `index` at `level`, read from tiles."""
        tile_level, k = divmod(level, TILE_HEIGHT)
        first = index << k  # position of the subtree's first hash among level-`tile_level` tile hashes
        levels = self._tile(tile_level, first >> TILE_HEIGHT)
        try:
            return levels[k][(first & (TILE_WIDTH - 1)) >> k]
        except IndexError:
            raise ProofError(f"no complete subtree at height {level} index {index} "
                             f"in the tree of size {self.size}") from None

    def root(self, size: int | None = None) -> bytes:
        """The root hash (RFC 6962 MTH) of the first `size` leaves (default: all), from this tree's tiles."""
        size = self.size if size is None else size
        if not 0 <= size <= self.size:
            raise ProofError(f"tree size {size} is outside 0..{self.size}")
        return empty_root() if size == 0 else subtree_root(self, 0, size)
