"""Proofs from tiles alone: a tlog-tiles reader over a directory or an HTTP prefix.

Rekor v2 serves no proofs (rekor-tiles ``CLIENTS.md``, "Removing Online
Verification and Search"): a client fetches the checkpoint, verifies it, and
computes inclusion and consistency proofs from the tiles the checkpoint's size
requires. The same `TileClient` reads a log directory on disk, labkit's
server (``http://host:port/api/v2``) or any static web server over the
directory, through one `TileSource`.

    >>> # client = TileClient(DirectorySource("log"), origin="127.0.0.1:3000", key=log_key)
    >>> # checkpoint = client.checkpoint(); client.verify_inclusion(0, body, checkpoint)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

from labkit._internal.net import is_loopback
from labkit.errors import LogError
from labkit.keys import VerifyingKey
from labkit.tlog import merkle
from labkit.tlog.checkpoint import Checkpoint, verify_note
from labkit.tlog.tiles import (
    TILE_HEIGHT,
    TILE_WIDTH,
    TileError,
    TileNodes,
    decode_bundle,
    entries_path,
    tile_path,
    tiles_for_size,
)

if TYPE_CHECKING:
    import requests

__all__ = ["DirectorySource", "HTTPSource", "TileClient"]

MAX_CHECKPOINT_BYTES = 1 << 16
MAX_BUNDLE_BYTES = TILE_WIDTH * (2 + 0xFFFF)


class TileSource(Protocol):
    """Where a log's public files come from."""

    def get(self, path: str, max_bytes: int) -> bytes | None:
        """The file at `path` (``checkpoint``, ``tile/...``), or None if it does not exist."""
        ...


class DirectorySource:
    """A log directory on disk."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def get(self, path: str, max_bytes: int) -> bytes | None:
        """The file at log path `path`, or None when absent (at most `max_bytes`)."""
        if path.startswith("/") or any(not part or part.startswith(".") for part in path.split("/")):
            raise LogError(f"not a log path: {path!r}")
        try:
            with open(self.directory / path, "rb") as fh:
                data = fh.read(max_bytes + 1)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None
        if len(data) > max_bytes:
            raise LogError(f"{path} is larger than {max_bytes} bytes")
        return data

    def __repr__(self) -> str:
        return f"DirectorySource({str(self.directory)!r})"


class HTTPSource:
    """An HTTP prefix serving ``checkpoint`` and ``tile/...`` (labkit's ``/api/v2`` or a static server)."""

    def __init__(self, prefix: str, *, timeout: float = 10.0, allow_remote: bool = False,
                 session: requests.Session | None = None) -> None:
        import requests

        parts = urlsplit(prefix)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise LogError(f"tile prefix must be an http(s) URL, got {prefix!r}")
        if not allow_remote and not is_loopback(parts.hostname):
            raise LogError(f"refusing to contact {parts.hostname}: labkit reads loopback logs only")
        self.prefix = prefix.rstrip("/")
        self.timeout = timeout
        self.session = session or requests.Session()

    def get(self, path: str, max_bytes: int) -> bytes | None:
        """The body at log path `path`, or None on 404 (at most `max_bytes`)."""
        import requests

        try:
            with self.session.get(f"{self.prefix}/{path}", timeout=self.timeout, stream=True) as resp:
                if resp.status_code == 404:
                    return None
                if resp.status_code != 200:
                    raise LogError(f"GET {path} answered {resp.status_code}")
                data = resp.raw.read(max_bytes + 1, decode_content=True)
        except requests.RequestException as exc:
            raise LogError(f"cannot fetch {path} from {self.prefix}: {exc}") from None
        if len(data) > max_bytes:
            raise LogError(f"{path} is larger than {max_bytes} bytes")
        return bytes(data)

    def __repr__(self) -> str:
        return f"HTTPSource({self.prefix!r})"


class TileClient:
    """Verified checkpoints and proofs of one log (its `origin` and Ed25519 `key`) read through `source`."""

    def __init__(self, source: TileSource, *, origin: str, key: VerifyingKey) -> None:
        self.source = source
        self.origin = origin
        self.key = key
        self._cache: dict[tuple[int, int, int], list[list[bytes]]] = {}

    def _need(self, path: str, max_bytes: int) -> bytes:
        data = self.source.get(path, max_bytes)
        if data is None:
            raise LogError(f"the log does not serve {path}")
        return data

    def checkpoint(self) -> tuple[Checkpoint, str]:
        """The latest checkpoint, verified with the log key and origin, and its note text."""
        note = self._need("checkpoint", MAX_CHECKPOINT_BYTES).decode("utf-8", "replace")
        return self.verify_checkpoint(note), note

    def verify_checkpoint(self, note: str) -> Checkpoint:
        """Verify a signed checkpoint of this log; raises `CheckpointError` naming the failed step."""
        return verify_note(note, self.origin, self.key, rule="c2sp", origin=self.origin)

    def _fetch(self, level: int, index: int, width: int) -> bytes:
        data = self.source.get(tile_path(level, index, width), 32 * TILE_WIDTH)
        if data is None and width < TILE_WIDTH:
            # tlog-tiles: a partial tile may be deleted once the full tile exists.
            full = self.source.get(tile_path(level, index), 32 * TILE_WIDTH)
            data = None if full is None else full[: 32 * width]
        if data is None:
            raise LogError(f"the log does not serve {tile_path(level, index, width)}")
        return data

    def nodes(self, size: int) -> TileNodes:
        """Merkle nodes of the tree of `size`, from tiles (cached across calls)."""
        return TileNodes(self._fetch, size, self._cache)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """The inclusion proof of entry `index` in the tree of `size`, from tiles."""
        return merkle.inclusion_proof(self.nodes(size), index, size)

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        """The consistency proof from `size1` to `size2`, from tiles."""
        return merkle.consistency_proof(self.nodes(size2), size1, size2)

    def entry(self, index: int, size: int) -> bytes:
        """Entry `index` of the tree of `size`, checked against its level-0 tile hash."""
        if not 0 <= index < size:
            raise LogError(f"entry {index} is outside the tree of size {size}")
        n = index >> TILE_HEIGHT
        full, partial = tiles_for_size(size, 0)
        width = TILE_WIDTH if n < full else partial
        data = self.source.get(entries_path(n, width), MAX_BUNDLE_BYTES)
        if data is None:
            data = self._need(entries_path(n), MAX_BUNDLE_BYTES)
        entries = decode_bundle(data)
        if len(entries) < width:
            raise TileError(f"entry bundle {n} holds {len(entries)} entries, expected {width}")
        entry = entries[index & (TILE_WIDTH - 1)]
        if merkle.leaf_hash(entry) != self.nodes(size).node(0, index):
            raise TileError(f"entry {index} does not hash to its level-0 tile hash")
        return entry

    def verify_inclusion(self, index: int, body: bytes, checkpoint: Checkpoint) -> list[bytes]:
        """Prove from tiles that `body` is leaf `index` under the verified `checkpoint`; returns the proof."""
        proof = self.inclusion_proof(index, checkpoint.size)
        merkle.verify_inclusion(index, checkpoint.size, merkle.leaf_hash(body), proof, checkpoint.root_hash)
        return proof

    def verify_consistency(self, old: Checkpoint, new: Checkpoint) -> list[bytes]:
        """Prove from tiles that `new` extends `old`; returns the proof."""
        proof = self.consistency_proof(old.size, new.size) if 0 < old.size < new.size else []
        if old.size == 0:
            return proof
        merkle.verify_consistency(old.size, new.size, old.root_hash, new.root_hash, proof)
        return proof
