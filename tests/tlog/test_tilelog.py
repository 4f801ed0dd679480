"""The directory tile log: tiles and checkpoints on disk, one writer at a time, crash-safe integration."""

from __future__ import annotations

import base64
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from labkit._internal import fsutil
from labkit.errors import InputError, LogError
from labkit.lab import Lab
from labkit.tlog import merkle
from labkit.tlog.checkpoint import Checkpoint
from labkit.tlog.tileclient import DirectorySource, TileClient
from labkit.tlog.tilelog import TileLog, checkpoint_key_id, origin_for_url
from labkit.tlog.tiles import decode_bundle

ROOT = Path(__file__).resolve().parents[2]
LAB = Lab(seed="tile-kill")


def _entries(start: int, count: int) -> list[bytes]:
    return [f"entry {i}".encode() * 4 for i in range(start, start + count)]


def _client(log: TileLog) -> TileClient:
    return TileClient(DirectorySource(log.directory), origin=log.origin, key=log.public_key)


def test_layout_matches_the_spec_for_70000_entries(tmp_path: Path) -> None:
    log = TileLog.open(tmp_path, origin="https://log.example/", lab=LAB)
    assert log.origin == "log.example"
    for start in range(0, 70000, 9000):
        log.append(_entries(start, min(9000, 70000 - start)))
    assert log.size == 70000
    files = {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file() and ".labkit" not in p.parts}
    # 273 full level-0 tiles + width 112, 1 full level-1 + width 17, level-2 width 1; obsolete partials deleted.
    assert {f for f in files if ".p/" in f} == {"tile/0/273.p/112", "tile/entries/273.p/112", "tile/1/001.p/17",
                                               "tile/2/000.p/1"}
    assert len([f for f in files if f.startswith("tile/0/") and ".p" not in f]) == 273
    assert "tile/1/000" in files and "checkpoint" in files
    assert decode_bundle((tmp_path / "tile/entries/273.p/112").read_bytes(), 112)[0] == _entries(69888, 1)[0]
    tree = merkle.MemoryTree([merkle.leaf_hash(e) for e in _entries(0, 70000)])
    assert log.checkpoint().root_hash == tree.root()
    client = _client(log)
    checkpoint, _ = client.checkpoint()
    for index in (0, 255, 256, 65535, 65536, 69999):
        assert client.verify_inclusion(index, _entries(index, 1)[0], checkpoint) == tree.inclusion_proof(index)
        assert client.entry(index, 70000) == _entries(index, 1)[0]
    old = Checkpoint(log.origin, 9000, tree.root(9000))
    assert client.verify_consistency(old, checkpoint) == tree.consistency_proof(9000)


def test_key_is_random_0600_and_reopens(tmp_path: Path) -> None:
    log = TileLog.open(tmp_path / "a", origin="http://127.0.0.1:3000")
    other = TileLog.open(tmp_path / "b", origin="http://127.0.0.1:3000")
    assert log.public_key.der() != other.public_key.der() and not log.lab
    key_file = tmp_path / "a" / ".labkit" / "log-key.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    log.append([b"x"])
    again = TileLog.open(tmp_path / "a")
    assert again.public_key.der() == log.public_key.der() and again.size == 1
    assert again.key_id == checkpoint_key_id("127.0.0.1:3000", log.public_key)
    with pytest.raises(LogError, match="origin"):
        TileLog.open(tmp_path / "a", origin="elsewhere")
    with pytest.raises(LogError, match="lab seed"):
        TileLog.open(tmp_path / "a", lab=LAB)
    with pytest.raises(LogError, match="give an origin"):
        TileLog.open(tmp_path / "c")
    assert origin_for_url("https://log2025-1.rekor.sigstore.dev") == "log2025-1.rekor.sigstore.dev"


@pytest.mark.parametrize("path", [".labkit/log-key.pem", "tile/../.labkit/log.json", "/etc/passwd", "tile//0",
                                  "tile/0/.hidden"])
def test_private_and_outside_paths_are_not_served(tmp_path: Path, path: str) -> None:
    log = TileLog.open(tmp_path, origin="private.example")
    with pytest.raises(InputError):
        log.read(path)
    with pytest.raises(LogError):
        DirectorySource(tmp_path).get(path, 1 << 16)


def test_two_handles_share_one_log(tmp_path: Path) -> None:
    a = TileLog.open(tmp_path, origin="two.example", lab=LAB)
    b = TileLog.open(tmp_path, lab=LAB)
    assert a.append(_entries(0, 300))[0] == 0
    assert b.append(_entries(300, 10))[0] == 300  # b sees a's checkpoint before writing
    assert a.append(_entries(310, 1))[0] == 310
    tree = merkle.MemoryTree([merkle.leaf_hash(e) for e in _entries(0, 311)])
    assert TileLog.open(tmp_path, lab=LAB).checkpoint().root_hash == tree.root()


def test_a_crash_mid_batch_is_finished_by_the_next_writer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = TileLog.open(tmp_path, origin="crash.example", lab=LAB)
    log.append(_entries(0, 200))
    published = log.signed_checkpoint()
    real_write = fsutil.atomic_write
    calls = {"n": 0}

    def dying_write(path: str | os.PathLike[str], data: bytes, **kw: object) -> Path:
        calls["n"] += 1
        if calls["n"] == 4:  # a full bundle, a full tile, the partial bundle written; die before the rest
            raise KeyboardInterrupt("simulated crash")
        return real_write(path, data, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr("labkit.tlog.tilelog.atomic_write", dying_write)
    with pytest.raises(KeyboardInterrupt):
        log.append(_entries(200, 100))
    monkeypatch.setattr("labkit.tlog.tilelog.atomic_write", real_write)
    assert (tmp_path / "checkpoint").read_text() == published  # nothing published yet
    assert (tmp_path / ".labkit" / "pending").exists()
    reopened = TileLog.open(tmp_path, lab=LAB)
    assert reopened.size == 300 and not (tmp_path / ".labkit" / "pending").exists()
    tree = merkle.MemoryTree([merkle.leaf_hash(e) for e in _entries(0, 300)])
    assert reopened.checkpoint().root_hash == tree.root()
    assert reopened.append(_entries(300, 1))[0] == 300


def test_tampered_tiles_refuse_to_open(tmp_path: Path) -> None:
    log = TileLog.open(tmp_path, origin="tamper.example", lab=LAB)
    log.append(_entries(0, 10))
    tile = tmp_path / "tile/0/000.p/10"
    tile.write_bytes(b"\x00" * 32 + tile.read_bytes()[32:])
    with pytest.raises(LogError, match="do not hash to the checkpoint"):
        TileLog.open(tmp_path, lab=LAB)


@pytest.mark.slow
def test_sigkill_during_integration_leaves_a_valid_consistent_log(
        tmp_path: Path, spawn: Callable[..., subprocess.Popen[bytes]]) -> None:
    """Kill a busy batch appender several times; each time the directory is a valid log extending every checkpoint."""
    directory = tmp_path / "log"
    seen: list[str] = []
    size = 0
    mid_batch = 0
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for round_, lines in enumerate((3, 6, 9, 5)):
        out = tmp_path / f"out{round_}.txt"
        proc = spawn([sys.executable, "-m", "tests.tlog._tile_worker", str(directory), str(10**7 * round_),
                      str(out)], cwd=ROOT, env=env)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (out.exists() and out.read_text().count("\n") >= lines):
            time.sleep(0.005)
        time.sleep(0.003 * round_)  # land the kill at different points of a batch
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        mid_batch += (directory / ".labkit" / "pending").exists()
        seen += [base64.b64decode(ln).decode() for ln in out.read_text().split("\n")[:-1]]
        log = TileLog.open(directory, lab=LAB)  # verifies root == checkpoint, finishes a pending batch
        assert log.size >= size
        size = log.size
        client = _client(log)
        final, _ = client.checkpoint()
        for note in seen:
            client.verify_consistency(client.verify_checkpoint(note), final)
        assert client.entry(size - 1, size)  # the newest entry is readable and hashes to its tile
    assert TileLog.open(directory, lab=LAB).append([b"after the crashes"])[0] == size
    assert mid_batch, "no kill landed inside a batch; the recovery path was not exercised"


def test_leaf_hashes_slice_the_published_tiles(tmp_path: Path) -> None:
    log = TileLog.open(tmp_path, origin="leaves.example", lab=LAB)
    entries = _entries(0, 1000)
    log.append(entries[:600])
    log.append(entries[600:])
    leaves = [merkle.leaf_hash(e) for e in entries]
    for start, end in [(0, 1000), (0, 256), (3, 700), (256, 257), (999, 1000), (500, 500), (3, 990), (990, 5000)]:
        assert list(log.leaf_hashes(start, end)) == leaves[start:end]
