"""Streaming hashes: same digests as hashlib, constant memory, clear errors."""

from __future__ import annotations

import hashlib
import io
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labkit.errors import InputError
from labkit.hashing import digest_file, hash_file, hash_stream, new_hash, proto_name


@settings(max_examples=40, deadline=None)
@given(data=st.binary(max_size=5000), chunk=st.integers(min_value=1, max_value=700))
def test_stream_matches_hashlib(data: bytes, chunk: int) -> None:
    for name in ("sha256", "sha384", "sha512"):
        assert hash_stream(io.BytesIO(data), name, chunk_size=chunk) == hashlib.new(name, data).digest()


def test_file_digest_and_size(tmp_path: Path) -> None:
    p = tmp_path / "a.bin"
    p.write_bytes(b"abc" * 1000)
    d = digest_file(p)
    assert d.digest == hashlib.sha256(b"abc" * 1000).digest()
    assert d.size == 3000
    assert str(d) == "sha256:" + d.hex
    assert hash_file(p, "SHA2_384") == hashlib.sha384(b"abc" * 1000).digest()


def test_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "empty"
    p.write_bytes(b"")
    assert digest_file(p).size == 0
    assert hash_file(p) == hashlib.sha256(b"").digest()


def test_constant_memory(tmp_path: Path) -> None:
    p = tmp_path / "big.bin"
    with p.open("wb") as fh:
        block = b"\x5a" * (1 << 20)
        for _ in range(32):
            fh.write(block)
    tracemalloc.start()
    try:
        hash_file(p, chunk_size=1 << 16)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20, f"peak {peak} bytes for a 32 MiB file"


def test_stream_without_readinto() -> None:
    class Reader:
        def __init__(self) -> None:
            self.buf = io.BytesIO(b"x" * 10)

        def read(self, n: int) -> bytes:
            return self.buf.read(min(n, 3))

    assert hash_stream(Reader(), chunk_size=3) == hashlib.sha256(b"x" * 10).digest()  # type: ignore[arg-type]


def test_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        hash_file(tmp_path / "missing")
    with pytest.raises(InputError, match="directory"):
        hash_file(tmp_path)
    with pytest.raises(InputError, match="unsupported hash"):
        new_hash("md5")
    assert proto_name("sha-512") == "SHA2_512"
