"""The durable log: appends, proofs, search, checkpoints, concurrency and crash safety."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from labkit.errors import LogError, ProofError, VerificationError
from labkit.keys import SigningKey, generate
from labkit.lab import Lab
from labkit.tlog import merkle
from labkit.tlog.entries import hashedrekord_body, verify_entry
from labkit.tlog.store import DuplicateEntryError, EntryNotFoundError, TransparencyLog

ROOT = Path(__file__).resolve().parents[2]
#: The `spawn` fixture (tests/conftest.py).
Spawn = Callable[..., subprocess.Popen[bytes]]


def _signer(lab: Lab) -> SigningKey:
    return generate("ecdsa-p256", lab=lab, label="signer")


def _fill(log: TransparencyLog, signer: SigningKey, n: int, start: int = 0) -> list[bytes]:
    bodies = []
    for i in range(start, start + n):
        d = hashlib.sha256(b"artifact %d" % i).digest()
        bodies.append(hashedrekord_body(signer.sign_digest(d), signer.public_key().pem(), d))
    log.append_many(bodies)
    return bodies


def test_append_get_search(tmp_path: Path, lab: Lab) -> None:
    log = TransparencyLog.open(tmp_path, lab=lab)
    signer = _signer(lab)
    d = hashlib.sha256(b"hello").digest()
    entry = log.upload_hashedrekord(signer.sign_digest(d), signer.public_key().pem(), d)
    assert entry.log_index == 0 and log.size == 1
    assert entry.log_id == hashlib.sha256(log.public_key.der()).digest()
    assert entry.integrated_time == int(lab.clock.now().timestamp())
    assert entry.explain(log.public_key).verified
    verify_entry(entry, log.public_key)
    forged = dataclasses.replace(entry, integrated_time=entry.integrated_time + 1)
    with pytest.raises(VerificationError) as err:
        verify_entry(forged, log.public_key)
    assert err.value.reason == "tlog.set"
    assert log.get(0).body == entry.body
    assert log.get_by_uuid(entry.uuid).log_index == 0
    assert log.get_by_uuid(entry.entry_id).log_index == 0
    assert log.search(hash=d) == [0] == log.search(hash="sha256:" + d.hex())
    assert log.search(public_key=signer.public_key().pem()) == [0]
    assert log.search(hash=hashlib.sha256(b"x").digest()) == []
    with pytest.raises(DuplicateEntryError):
        log.append(entry.body)
    with pytest.raises(EntryNotFoundError):
        log.get(5)
    with pytest.raises(LogError):
        log.get(-1)
    with pytest.raises(EntryNotFoundError):
        log.get_by_uuid("00" * 32)
    with pytest.raises(LogError):
        log.get_by_uuid("nothex")


def test_bad_bodies_leave_the_log_unchanged(tmp_path: Path, lab: Lab) -> None:
    log = TransparencyLog.open(tmp_path, lab=lab)
    signer = _signer(lab)
    d = hashlib.sha256(b"a").digest()
    good = hashedrekord_body(signer.sign_digest(d), signer.public_key().pem(), d)
    with pytest.raises(LogError, match="canonical"):
        log.append(json.dumps(json.loads(good), indent=2).encode())
    with pytest.raises(LogError, match="does not verify"):
        log.upload_hashedrekord(signer.sign_digest(d), signer.public_key().pem(), hashlib.sha256(b"b").digest())
    with pytest.raises(LogError):
        log.append_many([good, b"{}"])
    assert log.size == 0 and log.check_integrity() == 0


def test_proofs_match_memory_tree(tmp_path: Path, lab: Lab) -> None:
    log = TransparencyLog.open(tmp_path, lab=lab)
    bodies = _fill(log, _signer(lab), 37)
    mem = merkle.MemoryTree([merkle.leaf_hash(b) for b in bodies])
    for size in range(1, 38):
        assert log.root(size) == mem.root(size)
        for index in range(size):
            proof = log.inclusion_proof(index, size)
            assert proof == mem.inclusion_proof(index, size)
            merkle.verify_inclusion(index, size, merkle.leaf_hash(bodies[index]), proof, mem.root(size))
        for size1 in range(1, size):
            merkle.verify_consistency(size1, size, mem.root(size1), mem.root(size), log.consistency_proof(size1, size))
    with pytest.raises(ProofError):
        log.inclusion_proof(0, 38)
    for bad in (-1, 37, True, 2**64):
        with pytest.raises(ProofError):
            log.inclusion_proof(bad, 37)
    with pytest.raises(ProofError):
        log.consistency_proof(5, 3)
    assert log.check_integrity() == 37


def test_proofs_read_log_n_nodes(tmp_path: Path, lab: Lab) -> None:
    log = TransparencyLog.open(tmp_path, lab=lab)
    _fill(log, _signer(lab), 1000)
    worst = max(log.proof_reads(i, 1000) for i in range(0, 1000, 7))
    assert worst <= 2 * 10 + 2


def test_reopen_and_key_mismatch(tmp_path: Path, lab: Lab) -> None:
    log = TransparencyLog.open(tmp_path, lab=lab)
    _fill(log, _signer(lab), 5)
    root = log.root()
    log.close()
    again = TransparencyLog.open(tmp_path, lab=Lab(seed="test"))
    assert again.root() == root and again.size == 5
    with pytest.raises(LogError, match="different log key"):
        TransparencyLog.open(tmp_path, lab=Lab(seed="someone else"))


def test_checkpoints_are_published_and_verify(tmp_path: Path, lab: Lab) -> None:
    log = TransparencyLog.open(tmp_path, lab=lab)
    _fill(log, _signer(lab), 4)
    note = log.checkpoint()
    ck = log.verify_checkpoint(note)
    assert ck.size == 4 and ck.root_hash == log.root() and ck.origin == log.origin
    assert log.checkpoint(2).checkpoint().size == 2
    assert [n.checkpoint().size for n in log.published_checkpoints()] == [2, 4]
    assert log.checkpoint().to_text() == note.to_text()
    info = log.info()
    assert info["treeSize"] == 4 and info["signedTreeHead"] == note.to_text()


def test_ed25519_log_with_c2sp_hints(tmp_path: Path, lab: Lab) -> None:
    key = generate("ed25519", lab=lab, label="tlog")
    log = TransparencyLog.open(tmp_path, key, clock=lab.clock, hint_rule="c2sp", name="log.example")
    _fill(log, _signer(lab), 3)
    log.verify_checkpoint(log.checkpoint())
    assert log.get(1).explain(log.public_key).verified


def test_sigstore_python_verifies_our_entry(tmp_path: Path, lab: Lab) -> None:
    """sigstore-python parses the Rekor API form and checks SET, inclusion proof and checkpoint."""
    from sigstore._internal.trust import Keyring, RekorKeyring
    from sigstore.models import TransparencyLogEntry as SigstoreEntry
    from sigstore_models.common.v1 import PublicKey, PublicKeyDetails

    log = TransparencyLog.open(tmp_path, lab=lab)
    _fill(log, _signer(lab), 6)
    entry = log.get(3)
    ours = SigstoreEntry._from_v1_response({entry.entry_id: entry.to_api()})
    ring = RekorKeyring(Keyring([PublicKey(raw_bytes=base64.b64encode(log.public_key.der()),
                                           key_details=PublicKeyDetails.PKIX_ECDSA_P256_SHA_256)]))
    ours._verify(ring)
    tampered = entry.to_api()
    tampered["integratedTime"] += 1
    with pytest.raises(Exception, match="SET"):
        SigstoreEntry._from_v1_response({entry.entry_id: tampered})._verify(ring)


def test_bundle_entry_and_rekor_bundle(tmp_path: Path, lab: Lab) -> None:
    from labkit.bundle import TransparencyLogEntry

    log = TransparencyLog.open(tmp_path, lab=lab)
    _fill(log, _signer(lab), 3)
    entry = log.get(2)
    be = entry.to_bundle_entry()
    assert be.kind == "hashedrekord" and be.log_index == 2 and be.inclusion_proof is not None
    assert be.inclusion_proof.tree_size == 3 and be.inclusion_proof.checkpoint.startswith(log.origin)
    again = TransparencyLogEntry.from_dict(json.loads(json.dumps(be.to_dict())), "tlogEntries[0]")
    assert again == be
    rb = entry.rekor_bundle()
    assert set(rb) == {"SignedEntryTimestamp", "Payload"}
    assert rb["Payload"]["logID"] == log.log_id.hex() and rb["Payload"]["logIndex"] == 2


def _run_workers(
    spawn: Spawn, directory: Path, tmp_path: Path, workers: int, count: int, first: int = 0
) -> list[subprocess.Popen[bytes]]:
    """Start appender processes through `spawn` (stopped when the test ends, whatever the outcome)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return [
        spawn(
            [sys.executable, "-m", "tests.tlog._worker", str(directory), str(first + w), str(count),
             str(tmp_path / f"out{w}.txt")],
            cwd=ROOT, env=env,
        )
        for w in range(workers)
    ]


def _check_published(log: TransparencyLog, notes: list[str]) -> None:
    """Every checkpoint verifies, and each is consistent with every later one (through the final tree)."""
    cks = sorted({log.verify_checkpoint(n) for n in notes}, key=lambda c: c.size)
    final_size, final_root = log.size, log.root()
    for ck in cks:
        assert log.root(ck.size) == ck.root_hash
        if ck.size < final_size:
            merkle.verify_consistency(ck.size, final_size, ck.root_hash, final_root,
                                      log.consistency_proof(ck.size, final_size))
    for a, b in zip(cks, cks[1:], strict=False):
        if a.size < b.size:
            merkle.verify_consistency(a.size, b.size, a.root_hash, b.root_hash, log.consistency_proof(a.size, b.size))
        else:
            assert a.root_hash == b.root_hash


@pytest.mark.slow
def test_eight_processes_append_500_each(tmp_path: Path, spawn: Spawn) -> None:
    directory = tmp_path / "log"
    procs = _run_workers(spawn, directory, tmp_path, 8, 500)
    for p in procs:
        assert p.wait(timeout=600) == 0
    log = TransparencyLog.open(directory, lab=Lab(seed="concurrency"))
    assert log.size == 4000 and log.check_integrity() == 4000
    lines = [ln.split() for w in range(8) for ln in (tmp_path / f"out{w}.txt").read_text().splitlines()]
    assert sorted(int(i) for i, _ in lines) == list(range(4000))
    mem = merkle.MemoryTree(log.leaf_hashes())
    root = mem.root()
    for index in range(4000):
        merkle.verify_inclusion(index, 4000, mem.node(0, index), log.inclusion_proof(index), root)
    _check_published(log, [base64.b64decode(n).decode() for _, n in lines])
    _check_published(log, [n.to_text() for n in log.published_checkpoints()])


@pytest.mark.slow
def test_sigkill_mid_append_leaves_a_consistent_log(tmp_path: Path, spawn: Spawn) -> None:
    """Kill a busy appender three times at different moments; each time the log reopens whole."""
    directory = tmp_path / "log"
    seen: list[str] = []
    size = 0
    for round_, wait_for in enumerate((150, 40, 97)):
        rdir = tmp_path / f"round{round_}"
        rdir.mkdir()
        (proc,) = _run_workers(spawn, directory, rdir, 1, 100000, first=100 * round_)
        out = rdir / "out0.txt"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if out.exists() and out.read_text().count("\n") >= wait_for:
                break
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        complete_lines = out.read_text().split("\n")[:-1]  # a line cut by the kill has no newline
        seen += [base64.b64decode(ln.split()[1]).decode() for ln in complete_lines]
        log = TransparencyLog.open(directory, lab=Lab(seed="concurrency"))
        new_size = log.check_integrity()
        assert new_size >= size + wait_for
        size = new_size
        _check_published(log, [n.to_text() for n in log.published_checkpoints()] + seen)
        log.close()
    # the log keeps working after the crashes
    log = TransparencyLog.open(directory, lab=Lab(seed="concurrency"))
    _fill(log, generate("ecdsa-p256", lab=Lab(seed="concurrency"), label="other"), 3)
    assert log.check_integrity() == size + 3
