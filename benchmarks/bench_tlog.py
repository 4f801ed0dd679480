#!/usr/bin/env python3
"""Transparency-log benchmark: append throughput, disk per entry, proof latency, and pymerkle in the same run.

Prints one JSON object per line:

* ``tlog.append_bulk``: entries/s growing the SQLite log to each size (``append_many`` in batches of
  10,000: canonical-body check, SET signature, tree nodes, search index; the submitter's signature check
  is off for the filler entries), and bytes on disk per entry after a WAL checkpoint.
* ``tlog.append_api``: entries/s of single ``upload_hashedrekord`` calls (signature check, SET, inclusion
  proof and signed checkpoint returned), as the HTTP API does it.
* ``tlog.inclusion`` / ``tlog.consistency``: proof generation and verification latency (p50/p99, µs) at
  each size and the most stored nodes one proof read (O(log n)).
* ``tlog.vs_pymerkle``: the same inclusion-proof workload against pymerkle's ``InmemoryTree`` built from the
  same entries, and the ratio pymerkle/labkit (higher is better for labkit).
* ``tlog.vs_pymerkle_sqlite``: durable against durable, pymerkle's ``SqliteTree`` (50 of the same leaves).

    python benchmarks/bench_tlog.py --quick
    python benchmarks/bench_tlog.py --sizes 1000,100000,1000000
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from labkit.keys import generate
from labkit.lab import Lab
from labkit.tlog import merkle
from labkit.tlog.entries import hashedrekord_body
from labkit.tlog.store import TransparencyLog

BATCH = 10_000


def emit(**fields: Any) -> None:
    print(json.dumps(fields, sort_keys=True), flush=True)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def timed(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1e6


class Bodies:
    """Distinct canonical hashedrekord bodies, built from one template checked against `hashedrekord_body`."""

    def __init__(self, lab: Lab) -> None:
        key = generate("ecdsa-p256", lab=lab, label="bench-signer")
        self.pem = key.public_key().pem()
        digest = hashlib.sha256(b"template").digest()
        self.sig = key.sign_digest(digest)
        real = hashedrekord_body(self.sig, self.pem, digest)
        self.prefix, self.suffix = real.split(digest.hex().encode())
        assert self.body(0) != real and self.prefix + digest.hex().encode() + self.suffix == real

    def body(self, i: int) -> bytes:
        return self.prefix + hashlib.sha256(b"artifact %d" % i).hexdigest().encode() + self.suffix


def grow(log: TransparencyLog, bodies: Bodies, start: int, end: int) -> float:
    t0 = time.perf_counter()
    for lo in range(start, end, BATCH):
        log.append_many([bodies.body(i) for i in range(lo, min(end, lo + BATCH))], verify_signature=False)
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000,100000,1000000", help="comma-separated log sizes")
    ap.add_argument("--samples", type=int, default=1000, help="proofs timed per size")
    ap.add_argument("--quick", action="store_true", help="sizes 1000,10000 and 200 samples")
    ap.add_argument("--api-appends", type=int, default=1000, help="single API-path appends timed")
    ap.add_argument("--pymerkle-max", type=int, default=100_000, help="largest size also built in pymerkle")
    ap.add_argument("--dir", help="where to build the log (default: a temporary directory, removed after)")
    args = ap.parse_args()
    sizes = [1000, 10_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    samples = 200 if args.quick else args.samples
    rng = random.Random(6962)
    lab = Lab(seed="bench")
    workdir = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="labkit-bench-tlog-"))
    try:
        log = TransparencyLog.open(workdir / "log", lab=lab)
        bodies = Bodies(lab)
        signer = generate("ecdsa-p256", lab=lab, label="api-signer")

        # single appends through the API path (signature check, SET, proof, checkpoint)
        n_api = 200 if args.quick else args.api_appends
        api_log = TransparencyLog.open(workdir / "api-log", lab=lab)
        digests = [hashlib.sha256(b"api %d" % i).digest() for i in range(n_api)]
        sigs = [signer.sign_digest(d) for d in digests]
        pem = signer.public_key().pem()
        t0 = time.perf_counter()
        for d, s in zip(digests, sigs, strict=False):
            api_log.upload_hashedrekord(s, pem, d)
        dt = time.perf_counter() - t0
        emit(bench="tlog.append_api", entries=n_api, entries_per_s=round(n_api / dt, 1),
             us_per_entry=round(dt / n_api * 1e6, 1))
        api_log.close()

        size = 0
        for target in sizes:
            seconds = grow(log, bodies, size, target)
            grown = target - size
            size = target
            log._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            emit(bench="tlog.append_bulk", size=size, appended=grown, entries_per_s=round(grown / seconds, 1),
                 bytes_per_entry=round(log.db_bytes() / size, 1), verify_signature=False)

            root = log.root(size)
            pm = build_pymerkle(bodies, size, log) if size <= args.pymerkle_max else None
            gen, ver, reads, pm_gen = [], [], [], []
            idx = [rng.randrange(size) for _ in range(samples)]
            for i in idx:
                proof: list[bytes] = []
                # interleaved with pymerkle, so both see the same machine load
                gen.append(timed(lambda: proof.extend(log.inclusion_proof(i, size))))
                if pm is not None:
                    pm_gen.append(timed(lambda: pm[0].prove_inclusion(i + 1, size)))  # pymerkle counts from 1
                leaf = merkle.leaf_hash(bodies.body(i))
                ver.append(timed(lambda: merkle.verify_inclusion(i, size, leaf, proof, root)))
            for i in idx[:50]:
                reads.append(log.proof_reads(i, size))
            emit(bench="tlog.inclusion", size=size, samples=samples,
                 gen_p50_us=round(pct(gen, 0.5), 1), gen_p99_us=round(pct(gen, 0.99), 1),
                 verify_p50_us=round(pct(ver, 0.5), 1), verify_p99_us=round(pct(ver, 0.99), 1),
                 max_nodes_read=max(reads))
            if pm is not None:
                report_pymerkle(size, pm[1], gen, pm_gen)
                compare_pymerkle_sqlite(workdir, bodies, size, idx[:50], gen[:50])
            elif size > args.pymerkle_max:
                emit(bench="tlog.vs_pymerkle", size=size, skipped=f"larger than --pymerkle-max {args.pymerkle_max}")

            cgen, cver = [], []
            for _ in range(samples):
                s1 = rng.randrange(1, size)
                r1 = log.root(s1)
                cproof: list[bytes] = []
                cgen.append(timed(lambda: cproof.extend(log.consistency_proof(s1, size))))
                cver.append(timed(lambda: merkle.verify_consistency(s1, size, r1, root, cproof)))
            emit(bench="tlog.consistency", size=size, samples=samples,
                 gen_p50_us=round(pct(cgen, 0.5), 1), gen_p99_us=round(pct(cgen, 0.99), 1),
                 verify_p50_us=round(pct(cver, 0.5), 1), verify_p99_us=round(pct(cver, 0.99), 1))

        log.close()
    finally:
        if not args.dir:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


def build_pymerkle(bodies: Bodies, size: int, log: TransparencyLog) -> tuple[Any, float] | None:
    """pymerkle's InmemoryTree over the same entries (None if pymerkle is missing); checks it agrees on the root."""
    try:
        from pymerkle import InmemoryTree
        from pymerkle import verify_inclusion as pm_verify
    except ImportError:
        emit(bench="tlog.vs_pymerkle", size=size, skipped="pymerkle is not installed")
        return None
    t0 = time.perf_counter()
    tree = InmemoryTree(algorithm="sha256")
    for i in range(size):
        tree.append_entry(bodies.body(i))
    build = time.perf_counter() - t0
    root = tree.get_root(size)
    assert root == log.root(size), "pymerkle and labkit disagree on the RFC 6962 root"
    pm_verify(tree.get_leaf(1), root, tree.prove_inclusion(1, size))
    return tree, build


def compare_pymerkle_sqlite(workdir: Path, bodies: Bodies, size: int, idx: list[int], labkit_gen: list[float]) -> None:
    """Durable against durable: pymerkle's SqliteTree over the same entries, same leaves asked."""
    try:
        from pymerkle import SqliteTree
    except ImportError:
        return
    t0 = time.perf_counter()
    tree = SqliteTree(str(workdir / f"pymerkle-{size}.db"), algorithm="sha256")
    for lo in range(0, size, BATCH):
        tree.append_entries([bodies.body(i) for i in range(lo, min(size, lo + BATCH))])
    build = time.perf_counter() - t0
    pm_gen = [timed(lambda: tree.prove_inclusion(i + 1, size)) for i in idx]
    p50_l, p50_p = pct(labkit_gen, 0.5), pct(pm_gen, 0.5)
    emit(bench="tlog.vs_pymerkle_sqlite", size=size, samples=len(idx),
         pymerkle_build_entries_per_s=round(size / build, 1),
         labkit_gen_p50_us=round(p50_l, 1), pymerkle_gen_p50_us=round(p50_p, 1),
         labkit_gen_p99_us=round(pct(labkit_gen, 0.99), 1), pymerkle_gen_p99_us=round(pct(pm_gen, 0.99), 1),
         ratio_p50=round(p50_p / p50_l, 1))


def report_pymerkle(size: int, build: float, labkit_gen: list[float], pm_gen: list[float]) -> None:
    p50_l, p50_p = pct(labkit_gen, 0.5), pct(pm_gen, 0.5)
    p99_l, p99_p = pct(labkit_gen, 0.99), pct(pm_gen, 0.99)
    emit(bench="tlog.vs_pymerkle", size=size, samples=len(pm_gen), pymerkle_build_entries_per_s=round(size / build, 1),
         labkit_gen_p50_us=round(p50_l, 1), pymerkle_gen_p50_us=round(p50_p, 1),
         labkit_gen_p99_us=round(p99_l, 1), pymerkle_gen_p99_us=round(p99_p, 1),
         ratio_p50=round(p50_p / p50_l, 2), ratio_p99=round(p99_p / p99_l, 2),
         ratio_mean=round(statistics.fmean(pm_gen) / statistics.fmean(labkit_gen), 2))


if __name__ == "__main__":
    sys.exit(main())
