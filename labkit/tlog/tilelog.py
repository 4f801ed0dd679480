"""A tile-backed transparency log in one directory (C2SP tlog-tiles), crash-safe and servable by any web server.

Layout under the log directory ``D`` (everything outside ``.labkit/`` is public)::

    checkpoint                      C2SP signed note, Ed25519 (tlog-checkpoint)
    tile/<L>/<N>[.p/<W>]            Merkle tiles            (tlog-tiles)
    tile/entries/<N>[.p/<W>]        entry bundles           (tlog-tiles)
    .labkit/log.json                origin, lab flag        (private)
    .labkit/log-key.pem             Ed25519 PKCS#8, 0600    (private; never written for a lab log)
    .labkit/pending                 the batch being integrated (write-ahead)
    .labkit/lock                    one writer at a time

Integrating a batch, under the lock:

1. the batch is written to ``pending`` (temp file + rename, not fsynced: it guards against a killed
   process, whose writes the page cache keeps; after a power loss without it, tiles past the
   checkpoint are simply rewritten, and no checkpoint ever named them);
2. full tiles and bundles, then partial ones, are written (each atomic:
   temp file, fsync, rename); a full tile's bytes are fixed by the entries, so
   rewriting one never changes it;
3. the checkpoint is written last (atomic): a reader that sees it finds
   every tile it needs;
4. partial tiles made obsolete by a full tile are deleted (tlog-tiles allows
   it; clients fall back to the full tile), then ``pending`` is removed.

A SIGKILL anywhere leaves the old checkpoint with its tiles; the next writer
finds ``pending`` and finishes that same batch before anything else, so the
tree only ever extends published checkpoints.

    >>> import tempfile
    >>> from labkit.lab import Lab
    >>> log = TileLog.open(tempfile.mkdtemp(), origin="log.example", lab=Lab(seed="docs"))
    >>> log.append([b"hello"])[0]
    0
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import struct
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from labkit._internal.fsutil import atomic_write, file_lock
from labkit._internal.jsonio import read_json_file
from labkit.errors import CheckpointError, InputError, LogError
from labkit.keys import SigningKey, VerifyingKey, generate
from labkit.lab import Lab
from labkit.tlog import merkle
from labkit.tlog.checkpoint import Checkpoint, sign_note, verify_note
from labkit.tlog.tiles import (
    MAX_ENTRY_SIZE,
    TILE_HEIGHT,
    TILE_WIDTH,
    TileNodes,
    decode_bundle,
    encode_bundle,
    encode_index,
    entries_path,
    split_hashes,
    tile_path,
    tile_root,
    tiles_for_size,
)

__all__ = ["TileLog", "origin_for_url"]

_KEY_LABEL = "tile-log"
_PRIVATE = ".labkit"
_MAX_CACHE = 1024  # tiles kept hashed-up for proofs (about 36 kB each)


def checkpoint_key_id(name: str, key: VerifyingKey) -> bytes:
    """The full C2SP signed-note key ID of an Ed25519 key: SHA-256(name ‖ 0x0A ‖ 0x01 ‖ key), 32 bytes.

    Its first 4 bytes are the signature-line key hint; Rekor v2 uses all 32 as
    the entry's ``logId.keyId`` and the trusted root's ``checkpointKeyId``.
    """
    if not isinstance(key.key, ed25519.Ed25519PublicKey):
        raise CheckpointError("a tile log's checkpoint key is Ed25519 (C2SP tlog-tiles)")
    raw = key.key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(name.encode() + b"\n\x01" + raw).digest()


def _write_unsynced(path: Path, data: bytes) -> None:
    """Temp file + rename, no fsync: whole or absent after a killed process (not after a power loss)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def origin_for_url(url: str) -> str:
    """The checkpoint origin for a log URL: scheme removed, no trailing slash (tlog-tiles §Parameters)."""
    origin = url.split("://", 1)[-1].rstrip("/")
    if not origin or any(c.isspace() for c in origin) or "+" in origin:
        raise LogError(f"cannot make a checkpoint origin from {url!r}")
    return origin


class TileLog:
    """A directory-backed tiled log: `append` integrates a batch and publishes a checkpoint."""

    def __init__(self, directory: Path, origin: str, key: SigningKey) -> None:
        self.directory = directory
        self.origin = origin
        self.key = key
        self.public_key = key.public_key()
        self.key_id = checkpoint_key_id(origin, self.public_key)
        self._private = directory / _PRIVATE
        self._mutex = threading.Lock()
        self._cache: dict[tuple[int, int, int], list[list[bytes]]] = {}
        self._size = -1
        self._right: list[list[bytes]] = []
        self._bundle: list[bytes] = []
        self._note = ""
        self._checkpoint = Checkpoint(origin, 0, merkle.empty_root())

    # -- opening --------------------------------------------------------------------------------

    @classmethod
    def open(cls, directory: str | os.PathLike[str], *, origin: str | None = None, lab: Lab | None = None) -> TileLog:
        """Open the log in `directory`, creating it (with `origin`) if empty.

        The key is random and kept 0600 in ``.labkit/``; with `lab` it is the
        lab's seeded Ed25519 key (label ``tile-log``) and is never written.
        """
        d = Path(directory)
        private = d / _PRIVATE
        config_path = private / "log.json"
        private.mkdir(parents=True, exist_ok=True, mode=0o700)
        with file_lock(private / "lock"):
            if config_path.exists():
                config = read_json_file(config_path, what="tile log config", error=LogError)
                if not isinstance(config, dict) or not isinstance(config.get("origin"), str):
                    raise LogError(f"{config_path} is not a tile log config")
                stored, was_lab = str(config["origin"]), bool(config.get("lab"))
                if origin is not None and origin != stored:
                    raise LogError(f"the log in {d} has origin {stored!r}, not {origin!r}",
                                   hint="A log's origin never changes; open it with its own origin or none.")
                if was_lab != (lab is not None):
                    raise LogError(f"the log in {d} was created {'with' if was_lab else 'without'} a lab seed",
                                   hint="Open a lab log with its Lab, a real log without one.")
                log = cls(d, stored, cls._key(private, lab, create=False))
            else:
                if origin is None:
                    raise LogError(f"no tile log in {d}; give an origin to create one")
                key = cls._key(private, lab, create=True)
                log = cls(d, origin_for_url(origin), key)
                log._publish_empty()
                atomic_write(config_path, json.dumps({"origin": log.origin, "lab": lab is not None}).encode() + b"\n")
            log._refresh()
        return log

    @staticmethod
    def _key(private: Path, lab: Lab | None, *, create: bool) -> SigningKey:
        if lab is not None:
            return generate("ed25519", lab=lab, label=_KEY_LABEL)
        path = private / "log-key.pem"
        if create:
            key = generate("ed25519")
            pem = key.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())
            atomic_write(path, pem, mode=0o600, overwrite=False)
            return key
        try:
            private_key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (OSError, ValueError, TypeError) as exc:
            raise LogError(f"cannot read the log key {path}: {exc}") from None
        if not isinstance(private_key, ed25519.Ed25519PrivateKey):
            raise LogError(f"{path} is not an Ed25519 key")
        return SigningKey(private_key)

    def _publish_empty(self) -> None:
        if not (self.directory / "checkpoint").exists():
            self._write_checkpoint(Checkpoint(self.origin, 0, merkle.empty_root()))

    # -- reading --------------------------------------------------------------------------------

    @property
    def size(self) -> int:
        """Tree size of the latest checkpoint this process has seen."""
        return self._checkpoint.size

    @property
    def lab(self) -> bool:
        """Whether the log key is lab material."""
        return self.key.lab

    def checkpoint(self) -> Checkpoint:
        """The latest checkpoint (as published by this process or read at the last refresh)."""
        return self._checkpoint

    def signed_checkpoint(self) -> str:
        """The latest signed checkpoint note text."""
        return self._note

    def verify_checkpoint(self, note: str) -> Checkpoint:
        """Verify a signed checkpoint from this log (key and origin); raises `CheckpointError`."""
        return verify_note(note, self.origin, self.public_key, rule="c2sp", origin=self.origin)

    def read(self, path: str) -> bytes:
        """The bytes of a public file (``checkpoint``, ``tile/...``); `InputError` if absent."""
        if path.startswith("/") or any(not part or part.startswith(".") for part in path.split("/")):
            raise InputError(f"not a log path: {path!r}")  # never .labkit/, never outside the directory
        try:
            return (self.directory / path).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise InputError(f"{path} is not in the log") from None

    def fetch_tile(self, level: int, index: int, width: int) -> bytes:
        """Tile bytes; a deleted partial tile is cut from the full one (tlog-tiles allows deleting it)."""
        try:
            return self.read(tile_path(level, index, width))
        except InputError:
            if width == TILE_WIDTH:
                raise
            return self.read(tile_path(level, index))[: 32 * width]

    def nodes(self, size: int | None = None) -> TileNodes:
        """A Merkle node source over the published tiles of the tree of `size` (default: latest)."""
        if len(self._cache) > _MAX_CACHE:
            self._cache.clear()
        return TileNodes(self.fetch_tile, self.size if size is None else size, self._cache)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """The inclusion proof of leaf `index` in the tree of `size`, from tiles."""
        n = self.size if size is None else size
        return merkle.inclusion_proof(self.nodes(n), index, n)

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """The consistency proof from `size1` to `size2`, from tiles."""
        n = self.size if size2 is None else size2
        return merkle.consistency_proof(self.nodes(n), size1, n)

    def entry(self, index: int) -> bytes:
        """The entry at `index` (from its entry bundle)."""
        if not 0 <= index < self.size:
            raise LogError(f"entry {index} is outside the log of size {self.size}")
        full, partial = tiles_for_size(self.size, 0)
        n = index >> TILE_HEIGHT
        width = TILE_WIDTH if n < full else partial
        try:
            data = self.read(entries_path(n, width))
        except InputError:
            data = self.read(entries_path(n))
        return decode_bundle(data)[index & (TILE_WIDTH - 1)]

    def leaf_hashes(self, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Leaf hashes [start, end) straight from the level-0 tiles (no hashing, no cache)."""
        end = self.size if end is None else min(end, self.size)
        full, partial = tiles_for_size(self.size, 0)  # tiles of the published tree, sliced to [start, end)
        for n in range(start >> TILE_HEIGHT, ((end - 1) >> TILE_HEIGHT) + 1 if end > start else 0):
            width = TILE_WIDTH if n < full else partial
            hashes = split_hashes(self.fetch_tile(0, n, width), width)
            base = n << TILE_HEIGHT
            yield from hashes[max(start - base, 0) : end - base]

    # -- writing --------------------------------------------------------------------------------

    def append(self, entries: Sequence[bytes]) -> tuple[int, str]:
        """Integrate a batch; returns (index of its first entry, the signed checkpoint covering it)."""
        for e in entries:
            if not isinstance(e, (bytes, bytearray)) or len(e) > MAX_ENTRY_SIZE:
                raise LogError(f"a tile log entry is 0..{MAX_ENTRY_SIZE} bytes")
        with self._mutex, file_lock(self._private / "lock"):
            self._refresh()
            first = self.size
            if entries:
                pending = self._private / "pending"
                _write_unsynced(pending, struct.pack(">Q", first) + encode_bundle(entries))
                self._integrate(list(entries))
                pending.unlink()
            return first, self._note

    def _refresh(self) -> None:
        """Re-read the published state if another writer moved it; finish a crashed batch."""
        note = self.read("checkpoint").decode()
        if note != self._note:
            self._load(note)
        pending = self._private / "pending"
        if pending.exists():
            data = pending.read_bytes()
            (base,) = struct.unpack_from(">Q", data)
            batch = decode_bundle(data[8:])
            if base == self.size:
                self._integrate(batch)  # redo: the same entries give the same tiles
            elif base + len(batch) != self.size:
                raise LogError(f"pending batch at {base} does not fit the log of size {self.size}",
                               hint="The log directory was changed by something other than labkit.")
            pending.unlink()

    def _load(self, note: str) -> None:
        checkpoint = self.verify_checkpoint(note)
        size = checkpoint.size
        right: list[list[bytes]] = []
        level = 0
        while size >> (TILE_HEIGHT * level):
            full, width = tiles_for_size(size, level)
            right.append(split_hashes(self.read(tile_path(level, full, width)), width) if width else [])
            level += 1
        full, width = tiles_for_size(size, 0)
        bundle = decode_bundle(self.read(entries_path(full, width)), width) if width else []
        root = TileNodes(self.fetch_tile, size, {}).root()
        if root != checkpoint.root_hash:
            raise LogError(f"the tiles of {self.directory} do not hash to the checkpoint's root",
                           details={"checkpoint": checkpoint.root_hash.hex(), "tiles": root.hex()})
        self._checkpoint, self._note, self._right, self._bundle = checkpoint, note, right, bundle
        self._cache.clear()

    def _integrate(self, batch: list[bytes]) -> None:
        size, right, bundle = self.size, [list(r) for r in self._right], list(self._bundle)
        completed: list[tuple[int, int]] = []
        for entry in batch:
            right = right or [[]]
            right[0].append(merkle.leaf_hash(entry))
            bundle.append(entry)
            size += 1
            if len(bundle) == TILE_WIDTH:
                atomic_write(self.directory / entries_path((size >> TILE_HEIGHT) - 1), encode_bundle(bundle))
                bundle = []
            level = 0
            while len(right[level]) == TILE_WIDTH:
                index = (size >> (TILE_HEIGHT * (level + 1))) - 1
                atomic_write(self.directory / tile_path(level, index), b"".join(right[level]))
                completed.append((level, index))
                if len(right) == level + 1:
                    right.append([])
                right[level + 1].append(tile_root(right[level]))
                right[level] = []
                level += 1
        full, width = tiles_for_size(size, 0)
        if width:
            atomic_write(self.directory / entries_path(full, width), encode_bundle(bundle))
        for level, hashes in enumerate(right):
            if hashes:
                atomic_write(self.directory / tile_path(level, tiles_for_size(size, level)[0], len(hashes)),
                             b"".join(hashes))

        def fetch(level: int, index: int, width: int) -> bytes:
            if width != TILE_WIDTH and level < len(right) and len(right[level]) == width:
                return b"".join(right[level])
            return self.fetch_tile(level, index, width)

        # The right-border tiles hashed up for the root stay cached for the batch's inclusion proofs;
        # `pending` pins the batch, so a (level, index, width) key never names two contents.
        root = TileNodes(fetch, size, self._cache).root()
        self._write_checkpoint(Checkpoint(self.origin, size, root))
        self._right, self._bundle = right, bundle
        for level, index in completed:
            self._drop_partials(level, index)

    def _write_checkpoint(self, checkpoint: Checkpoint) -> None:
        note = sign_note(checkpoint, self.origin, self.key, rule="c2sp").to_text()
        atomic_write(self.directory / "checkpoint", note.encode())
        self._checkpoint, self._note = checkpoint, note

    def _drop_partials(self, level: int, index: int) -> None:
        for kind in ([str(level)] + (["entries"] if level == 0 else [])):
            with contextlib.suppress(FileNotFoundError):
                shutil.rmtree(self.directory / "tile" / kind / f"{encode_index(index)}.p")

    def __repr__(self) -> str:
        tag = "LAB " if self.lab else ""
        return f"<TileLog {tag}{self.origin} size {self.size} at {self.directory}>"

