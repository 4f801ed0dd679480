"""Streaming hashes of files and streams in constant memory.

A multi-GB artifact is read in fixed-size chunks (``CHUNK_SIZE``) into one
hash object, so memory stays flat whatever the file's size. The algorithms
are the ones Sigstore names in `HashAlgorithm` (protobuf-specs
``sigstore_common.proto``): SHA2_256, SHA2_384, SHA2_512.

    >>> import io
    >>> hash_stream(io.BytesIO(b"abc")).hex()[:16]
    'ba7816bf8f01cfea'
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from labkit._internal.fsutil import open_for_reading
from labkit.errors import InputError

__all__ = ["CHUNK_SIZE", "digest_file", "new_hash", "proto_name"]

#: Bytes read per step: big enough for throughput, small enough to be constant memory.
CHUNK_SIZE = 1 << 20

#: labkit name -> protobuf-specs `HashAlgorithm` enum name.
HASH_ALGORITHMS: dict[str, str] = {"sha256": "SHA2_256", "sha384": "SHA2_384", "sha512": "SHA2_512"}


def _normalise(name: str) -> str:
    n = name.strip().lower().replace("-", "").replace("_", "")
    aliases = {"sha2256": "sha256", "sha2384": "sha384", "sha2512": "sha512"}
    n = aliases.get(n, n)
    if n not in HASH_ALGORITHMS:
        raise InputError(
            f"unsupported hash algorithm {name!r}; choose one of {', '.join(HASH_ALGORITHMS)}",
            hint="Sigstore signs with SHA-256, SHA-384 or SHA-512.",
        )
    return n


def new_hash(name: str = "sha256") -> hashlib._Hash:
    """A fresh hash object for ``sha256``/``sha384``/``sha512`` (also ``SHA2_256`` etc.)."""
    return hashlib.new(_normalise(name))


def proto_name(name: str) -> str:
    """The protobuf-specs enum name (``SHA2_256``) for a hash name."""
    return HASH_ALGORITHMS[_normalise(name)]


def hash_stream(
    stream: BinaryIO,
    algorithm: str = "sha256",
    *,
    chunk_size: int = CHUNK_SIZE,
    progress: Callable[[int], None] | None = None,
) -> bytes:
    """Digest everything left in `stream`, reading `chunk_size` bytes at a time.

    `progress`, if given, is called with the running byte count after each chunk.
    """
    h = new_hash(algorithm)
    buf = bytearray(chunk_size)
    view = memoryview(buf)
    total = 0
    readinto = getattr(stream, "readinto", None)
    while True:
        if readinto is not None:
            n = readinto(view)
            if not n:
                break
            h.update(view[:n])
        else:
            chunk = stream.read(chunk_size)
            if not chunk:
                break
            n = len(chunk)
            h.update(chunk)
        total += n
        if progress is not None:
            progress(total)
    return h.digest()


def hash_file(path: str | os.PathLike[str], algorithm: str = "sha256", *, chunk_size: int = CHUNK_SIZE) -> bytes:
    """Digest the file at `path` in constant memory; a missing file is an `InputError`."""
    return digest_file(path, algorithm, chunk_size=chunk_size).digest


@dataclass(frozen=True)
class FileDigest:
    """A digest with its algorithm and the number of bytes hashed."""

    algorithm: str
    digest: bytes
    size: int

    @property
    def hex(self) -> str:
        """Lower-case hex digest."""
        return self.digest.hex()

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.hex}"


def digest_file(
    path: str | os.PathLike[str], algorithm: str = "sha256", *, chunk_size: int = CHUNK_SIZE
) -> FileDigest:
    """Digest and size of the file at `path`, read in `chunk_size` steps."""
    name = _normalise(algorithm)
    p = Path(path)
    size = 0

    def count(n: int) -> None:
        nonlocal size
        size = n

    with open_for_reading(p, buffering=0) as fh:
        try:
            digest = hash_stream(fh, name, chunk_size=chunk_size, progress=count)
        except OSError as exc:
            raise InputError(f"cannot read file {path}: {exc.strerror}") from None
    return FileDigest(name, digest, size)
