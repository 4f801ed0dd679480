"""The tile log's parts as tables (notebook 15): every row matches the bytes on disk."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from labkit.errors import LogError
from labkit.lab import Lab
from labkit.tlog import merkle
from labkit.tlog.anatomy import bundle_rows, checkpoint_rows, tile_rows, traced_inclusion_proof
from labkit.tlog.tilelog import TileLog
from labkit.tlog.tiles import encode_bundle


@pytest.fixture
def log(tmp_path: Path) -> TileLog:
    log = TileLog.open(tmp_path / "log", origin="log.lab.test", lab=Lab(seed="anatomy"))
    log.append([f"entry {i}".encode() for i in range(5)])
    return log


def test_checkpoint_rows(log: TileLog) -> None:
    rows = checkpoint_rows(log.read("checkpoint"))
    assert [r["line"] for r in rows[:3]] == ["log.lab.test", "5", merkle_root_b64(log)]
    assert "signature by log.lab.test" in str(rows[-1]["meaning"])


def merkle_root_b64(log: TileLog) -> str:
    return base64.b64encode(log.checkpoint().root_hash).decode()


def test_tile_rows_are_the_leaf_hashes(log: TileLog) -> None:
    rows = tile_rows(log.read("tile/0/000.p/5"), level=0, index=0)
    assert [r["hash"] for r in rows] == [merkle.leaf_hash(f"entry {i}".encode()).hex() for i in range(5)]
    with pytest.raises(LogError):
        tile_rows(b"x" * 33, level=0, index=0)


def test_bundle_rows_read_the_length_prefixes(log: TileLog) -> None:
    rows = bundle_rows(log.read("tile/entries/000.p/5"))
    assert [(r["offset"], r["prefix"], r["length"]) for r in rows][:2] == [(0, "0007", 7), (9, "0007", 7)]
    assert bundle_rows(encode_bundle([b"a" * 300]))[0]["prefix"] == "012c"
    with pytest.raises(LogError):
        bundle_rows(b"\x00\x09abc")


def test_traced_proof_matches_the_log_and_names_its_tiles(log: TileLog) -> None:
    proof, fetched = traced_inclusion_proof(log, 3, 5)
    assert proof == log.inclusion_proof(3, 5)
    assert fetched == ["tile/0/000.p/5"]
    merkle.verify_inclusion(3, 5, merkle.leaf_hash(b"entry 3"), proof, log.checkpoint().root_hash)
