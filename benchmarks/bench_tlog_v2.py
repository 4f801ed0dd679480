#!/usr/bin/env python3
"""Rekor v2 tile-log benchmark, next to the SQLite (Rekor v1 style) log in the same run.

Prints one JSON object per line:

* ``v2.append_service``: sustained entries/s through the v2 write path in process (`Rekor2Service.create_entry`:
  request parsing, ECDSA verification over the digest, canonical body, dedup, batched integration with
  tiles + checkpoint written and fsynced, inclusion proof from tiles), `--writers` concurrent callers;
  ``batches`` is how many checkpoints were published (group commit: mean batch = entries / batches).
* ``v2.append_http``: the same over loopback HTTP (waitress, keep-alive connections, one per writer thread);
  the clients run in separate processes (time includes starting them) and share the 2 cores with the server.
* ``v1.append_api``: single ``upload_hashedrekord`` calls on the SQLite log (each answers with a proof and a
  signed checkpoint), the v1 analogue of the write call.
* ``v2.append_bulk`` / ``v1.append_bulk``: entries/s growing each log to every size (batches of 10,000, no
  signature check) and bytes on disk per entry (v2: public tiles, bundles and checkpoint; v1: the database).
* ``v2.inclusion`` / ``v2.consistency``: proof-from-tiles latency (p50/p99, µs) read from the directory
  (``cold``: a fresh client per proof, every tile read from disk and hashed up; ``warm``: one client whose
  tile cache is shared), next to ``v1.inclusion`` (SQLite node reads).

    python benchmarks/bench_tlog_v2.py --quick
    python benchmarks/bench_tlog_v2.py --sizes 1000,100000,1000000
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import json
import logging
import multiprocessing
import os
import random
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from labkit.keys import SigningKey, generate
from labkit.lab import Lab
from labkit.tlog import merkle
from labkit.tlog.entries import hashedrekord_body
from labkit.tlog.rekor2 import Rekor2Service, canonical_entry, parse_request
from labkit.tlog.rekor2_server import serve_rekor2
from labkit.tlog.store import TransparencyLog
from labkit.tlog.tileclient import DirectorySource, TileClient
from labkit.tlog.tilelog import TileLog

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


def requests_for(key: SigningKey, tag: str, n: int) -> list[bytes]:
    """`n` signed hashedRekordRequestV002 bodies for distinct artifacts (signed before timing)."""
    der = base64.b64encode(key.public_key().der()).decode()
    out = []
    for i in range(n):
        digest = hashlib.sha256(f"{tag} {i}".encode()).digest()
        doc = {"hashedRekordRequestV002": {"digest": base64.b64encode(digest).decode(), "signature": {
            "content": base64.b64encode(key.sign_digest(digest)).decode(),
            "verifier": {"publicKey": {"rawBytes": der}, "keyDetails": "PKIX_ECDSA_P256_SHA_256"}}}}
        out.append(json.dumps(doc).encode())
    return out


Call = Callable[[int, bytes], dict[str, Any]]


def run_writers(writers: int, work: list[bytes], call: Call) -> tuple[float, set[str]]:
    """Split `work` over `writers` threads calling `call(writer, body)`; (seconds, distinct checkpoints)."""
    notes: set[str] = set()
    lock = threading.Lock()

    def worker(w: int) -> None:
        mine = set()
        for body in work[w::writers]:
            mine.add(call(w, body)["inclusionProof"]["checkpoint"]["envelope"])
        with lock:
            notes.update(mine)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(writers)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0, notes


def bench_service(workdir: Path, lab: Lab, n: int, writers: int) -> None:
    key = generate("ecdsa-p256", lab=lab, label="v2-service")
    work = requests_for(key, "service", n)
    log = TileLog.open(workdir / "v2-service", origin="bench.labkit.invalid", lab=lab)
    with Rekor2Service(log) as svc:
        svc.create_entry(requests_for(key, "warmup", 1)[0])
        seconds, notes = run_writers(writers, work, lambda _w, body: svc.create_entry(body))
    emit(bench="v2.append_service", entries=n, writers=writers, entries_per_s=round(n / seconds, 1),
         batches=len(notes), mean_batch=round(n / max(1, len(notes)), 1))


def _client_process(host: str, port: int, work: list[bytes], writers: int, out: Any) -> None:
    """One client process: `writers` keep-alive connections posting `work`; sends back the checkpoints seen."""
    conns = [http.client.HTTPConnection(host, port, timeout=60) for _ in range(writers)]

    def call(w: int, body: bytes) -> dict[str, Any]:
        conns[w].request("POST", "/api/v2/log/entries", body=body, headers={"Content-Type": "application/json"})
        resp = conns[w].getresponse()
        data = resp.read()
        if resp.status != 201:
            raise RuntimeError(f"{resp.status}: {data[:200]!r}")
        result: dict[str, Any] = json.loads(data)
        return result

    _, notes = run_writers(writers, work, call)
    out.send(sorted(notes))
    out.close()


def bench_http(workdir: Path, lab: Lab, n: int, writers: int, procs: int = 2) -> None:
    """Clients in `procs` separate processes (their own GIL), as real clients would be."""
    key = generate("ecdsa-p256", lab=lab, label="v2-http")
    work = requests_for(key, "http", n)
    ctx = multiprocessing.get_context("fork")
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "Task queue depth" notices under load
    with serve_rekor2(workdir / "v2-http", lab=lab, threads=writers + 4) as srv:
        host, port = srv.server.host, srv.server.port
        pipes = [ctx.Pipe(duplex=False) for _ in range(procs)]
        children = [ctx.Process(target=_client_process, args=(host, port, work[p::procs], max(1, writers // procs),
                                                               pipes[p][1])) for p in range(procs)]
        t0 = time.perf_counter()
        for c in children:
            c.start()
        notes: set[str] = set()
        for recv, _ in pipes:
            notes.update(recv.recv())
        seconds = time.perf_counter() - t0
        for c in children:
            c.join()
        assert srv.log.size == n, f"{srv.log.size} entries logged, expected {n}"
    emit(bench="v2.append_http", entries=n, writers=writers, client_processes=procs,
         entries_per_s=round(n / seconds, 1), batches=len(notes), mean_batch=round(n / max(1, len(notes)), 1))


def bench_v1_api(workdir: Path, lab: Lab, n: int) -> None:
    signer = generate("ecdsa-p256", lab=lab, label="api-signer")
    log = TransparencyLog.open(workdir / "v1-api", lab=lab)
    digests = [hashlib.sha256(b"api %d" % i).digest() for i in range(n)]
    sigs = [signer.sign_digest(d) for d in digests]
    pem = signer.public_key().pem()
    t0 = time.perf_counter()
    for d, s in zip(digests, sigs, strict=False):
        log.upload_hashedrekord(s, pem, d)
    seconds = time.perf_counter() - t0
    log.close()
    emit(bench="v1.append_api", entries=n, entries_per_s=round(n / seconds, 1))


class Bodies:
    """Distinct canonical bodies for both logs, from one signed template each (no per-entry signing)."""

    def __init__(self, lab: Lab) -> None:
        key = generate("ecdsa-p256", lab=lab, label="bench-signer")
        digest = hashlib.sha256(b"template").digest()
        sig = key.sign_digest(digest)
        v1 = hashedrekord_body(sig, key.public_key().pem(), digest)
        self.v1 = v1.split(digest.hex().encode())
        v2 = canonical_entry(parse_request(requests_for(key, "template", 1)[0]))
        b64 = json.loads(v2)["spec"]["hashedRekordV002"]["data"]["digest"]
        self.v2 = v2.split(b64.encode())
        assert len(self.v1) == 2 and len(self.v2) == 2

    def body_v1(self, i: int) -> bytes:
        return self.v1[0] + hashlib.sha256(b"artifact %d" % i).hexdigest().encode() + self.v1[1]

    def body_v2(self, i: int) -> bytes:
        digest = base64.b64encode(hashlib.sha256(b"artifact %d" % i).digest())
        return self.v2[0] + digest + self.v2[1]


def public_bytes(directory: Path) -> int:
    total = 0
    for root, dirs, files in os.walk(directory):
        dirs[:] = [d for d in dirs if d != ".labkit"]
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    return total


def bench_sizes(workdir: Path, lab: Lab, sizes: list[int], samples: int, skip_v1_above: int) -> None:
    bodies = Bodies(lab)
    rng = random.Random(6962)
    v2 = TileLog.open(workdir / "v2-bulk", origin="bench.labkit.invalid", lab=lab)
    v1 = TransparencyLog.open(workdir / "v1-bulk", lab=lab)
    size = 0
    for target in sizes:
        t0 = time.perf_counter()
        for lo in range(size, target, BATCH):
            v2.append([bodies.body_v2(i) for i in range(lo, min(target, lo + BATCH))])
        seconds = time.perf_counter() - t0
        emit(bench="v2.append_bulk", size=target, appended=target - size,
             entries_per_s=round((target - size) / seconds, 1),
             bytes_per_entry=round(public_bytes(v2.directory) / target, 1))
        v1_here = target <= skip_v1_above
        if v1_here:
            t0 = time.perf_counter()
            for lo in range(size, target, BATCH):
                v1.append_many([bodies.body_v1(i) for i in range(lo, min(target, lo + BATCH))], verify_signature=False)
            seconds = time.perf_counter() - t0
            v1._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            emit(bench="v1.append_bulk", size=target, appended=target - size,
                 entries_per_s=round((target - size) / seconds, 1), bytes_per_entry=round(v1.db_bytes() / target, 1))
        else:
            emit(bench="v1.append_bulk", size=target, skipped=f"larger than --v1-max {skip_v1_above}")
        size = target
        proofs(v2, v1 if v1_here else None, bodies, size, samples, rng)
    v1.close()


def proofs(v2: TileLog, v1: TransparencyLog | None, bodies: Bodies, size: int, samples: int,
           rng: random.Random) -> None:
    checkpoint = v2.checkpoint()
    source = DirectorySource(v2.directory)
    warm = TileClient(source, origin=v2.origin, key=v2.public_key)
    idx = [rng.randrange(size) for _ in range(samples)]
    cold, hot, ver, old = [], [], [], []
    for i in idx:
        proof: list[bytes] = []
        fresh = TileClient(source, origin=v2.origin, key=v2.public_key)
        cold.append(timed(lambda: fresh.inclusion_proof(i, size)))
        hot.append(timed(lambda: proof.extend(warm.inclusion_proof(i, size))))
        leaf = merkle.leaf_hash(bodies.body_v2(i))
        ver.append(timed(lambda: merkle.verify_inclusion(i, size, leaf, proof, checkpoint.root_hash)))
        if v1 is not None:
            old.append(timed(lambda: v1.inclusion_proof(i, size)))
    emit(bench="v2.inclusion", size=size, samples=samples,
         cold_p50_us=round(pct(cold, 0.5), 1), cold_p99_us=round(pct(cold, 0.99), 1),
         warm_p50_us=round(pct(hot, 0.5), 1), warm_p99_us=round(pct(hot, 0.99), 1),
         verify_p50_us=round(pct(ver, 0.5), 1))
    if v1 is not None:
        emit(bench="v1.inclusion", size=size, samples=samples,
             gen_p50_us=round(pct(old, 0.5), 1), gen_p99_us=round(pct(old, 0.99), 1))
    cons, cver = [], []
    for _ in range(samples):
        s1 = rng.randrange(1, size) if size > 1 else 1
        if s1 >= size:
            break
        fresh = TileClient(source, origin=v2.origin, key=v2.public_key)
        r1 = fresh.nodes(size).root(s1)
        cproof: list[bytes] = []
        cons.append(timed(lambda: cproof.extend(fresh.consistency_proof(s1, size))))
        cver.append(timed(lambda: merkle.verify_consistency(s1, size, r1, checkpoint.root_hash, cproof)))
    if cons:
        emit(bench="v2.consistency", size=size, samples=len(cons),
             cold_p50_us=round(pct(cons, 0.5), 1), cold_p99_us=round(pct(cons, 0.99), 1),
             verify_p50_us=round(pct(cver, 0.5), 1))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000,100000,1000000", help="comma-separated log sizes")
    ap.add_argument("--samples", type=int, default=500, help="proofs timed per size")
    ap.add_argument("--appends", type=int, default=6000, help="entries sent through the write path")
    ap.add_argument("--writers", type=int, default=96,
                    help="concurrent writers on the write path (waitress accepts 100 connections)")
    ap.add_argument("--v1-api-appends", type=int, default=1000, help="single v1 API appends timed")
    ap.add_argument("--v1-max", type=int, default=1_000_000, help="largest size also built in the SQLite log")
    ap.add_argument("--quick", action="store_true", help="sizes 1000,10000; 1000 appends; 200 samples")
    ap.add_argument("--dir", help="where to build the logs (default: a temporary directory, removed after)")
    args = ap.parse_args()
    sizes = [1000, 10_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    samples = 200 if args.quick else args.samples
    appends = 1000 if args.quick else args.appends
    lab = Lab(seed="bench-v2")
    workdir = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="labkit-bench-tlog-v2-"))
    emit(bench="machine", cpus=os.cpu_count(), python=sys.version.split()[0])
    try:
        bench_service(workdir, lab, appends, args.writers)
        bench_http(workdir, lab, appends, args.writers)
        bench_v1_api(workdir, lab, min(appends, args.v1_api_appends))
        bench_sizes(workdir, lab, sizes, samples, args.v1_max)
    finally:
        if not args.dir:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
