#!/usr/bin/env python3
"""Signing benchmark: sign-blob / verify-blob of a large file against plain hashlib, and key ops per second.

Prints one JSON object per line:

* ``sign.file``: for one file (1 GiB by default), the throughput (MiB/s) and peak RSS of
  ``hashlib.sha256`` read in 1 MiB chunks (the baseline a user would write), of ``labkit.sign.sign_blob``
  (ECDSA P-256 over the streamed digest) and of verify-blob (streamed digest + ``labkit.verify``), each in
  its own child process so each peak RSS is its own; ``ratio_vs_hashlib`` = labkit time / hashlib time.
  ``sign.file.ed25519`` does the same for Ed25519, which must sign the whole message: the file is
  memory-mapped, so its peak RSS counts file-backed page-cache pages, not Python heap.
* ``sign.ops``: key generation, sign and verify operations per second per algorithm (real random keys),
  labkit next to the same operation done with ``cryptography`` directly (``ratio`` = labkit/cryptography
  throughput; 1.0 means no overhead).

    python benchmarks/bench_sign.py --quick          # 64 MiB file, short op timings
    python benchmarks/bench_sign.py                  # 1 GiB file
    python benchmarks/bench_sign.py --size-mib 4096
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

MIB = 1 << 20


def emit(**fields: Any) -> None:
    print(json.dumps(fields, sort_keys=True), flush=True)


# -- child process: one measured operation on the file ---------------------------------------------------


def _child(op: str, path: str, workdir: str) -> None:
    # Module imports are a fixed start-up cost, not file throughput: timed apart (`import_ms`), so the
    # ratio compares the work per byte. (Where verify-blob's time went: ~100 ms of imports, issue 13 item 10.)
    t_import = time.perf_counter()
    from labkit.hashing import digest_file
    from labkit.keys import generate
    from labkit.lab import Lab
    from labkit.sign import sign_blob
    from labkit.verify import Artifact, explain_bundle

    import_s = time.perf_counter() - t_import
    key = generate("ed25519" if op.endswith("ed25519") else "ecdsa-p256", lab=Lab(seed="bench"))
    bundle_path = Path(workdir) / f"bundle-{key.algorithm.value}.json"
    t0 = time.perf_counter()
    if op == "hashlib":
        h = hashlib.sha256()
        with open(path, "rb", buffering=0) as fh:
            buf = bytearray(MIB)
            view = memoryview(buf)
            while n := fh.readinto(view):
                h.update(view[:n])
        h.digest()
    elif op.startswith("sign"):
        bundle_path.write_text(sign_blob(path, key).to_json())
    elif op.startswith("verify"):
        # the verifier needs the bytes for Ed25519; a digest otherwise
        ed25519 = key.algorithm.value == "ed25519"
        artifact = Artifact.from_path(path) if ed25519 else Artifact(digest_file(path).digest)
        result = explain_bundle(bundle_path.read_bytes(), artifact, key=key.public_key())
        step = result.step("signature")
        if step is None or not step.passed:
            raise SystemExit(f"verification failed: {result.checklist()}")
    else:
        raise SystemExit(f"unknown op {op}")
    seconds = time.perf_counter() - t0
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "import_ms": round(import_s * 1000, 1),
                      "peak_rss_mib": round(peak_kib / 1024, 1)}))


def _run_child(op: str, path: Path, workdir: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", op, str(path), str(workdir)],
        check=True, capture_output=True, text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _baseline_rss(workdir: Path) -> float:
    out = subprocess.run(
        [sys.executable, "-c",
         "import resource, labkit.sign, labkit.verify; "
         "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"],
        check=True, capture_output=True, text=True, cwd=workdir,
    )
    return round(int(out.stdout.strip()) / 1024, 1)


def _make_file(path: Path, size: int) -> None:
    block = os.urandom(MIB)
    with path.open("wb") as fh:
        left = size
        while left > 0:
            n = min(left, MIB)
            fh.write(block[:n])
            left -= n


def bench_file(size_mib: int, workdir: Path, *, ed25519: bool) -> None:
    path = workdir / "big.bin"
    _make_file(path, size_mib * MIB)
    _run_child("hashlib", path, workdir)  # warm the page cache so every contender reads from memory
    base = _baseline_rss(workdir)
    rows: dict[str, dict[str, Any]] = {}
    for op in ("hashlib", "sign", "verify"):
        rows[op] = _run_child(op, path, workdir)
    h = rows["hashlib"]["seconds"]
    emit(
        bench="sign.file", algorithm="ecdsa-p256", size_mib=size_mib,
        baseline_import_rss_mib=base,
        hashlib_mib_s=round(size_mib / h, 1), hashlib_peak_rss_mib=rows["hashlib"]["peak_rss_mib"],
        sign_mib_s=round(size_mib / rows["sign"]["seconds"], 1), sign_peak_rss_mib=rows["sign"]["peak_rss_mib"],
        sign_ratio_vs_hashlib=round(rows["sign"]["seconds"] / h, 3),
        verify_mib_s=round(size_mib / rows["verify"]["seconds"], 1),
        verify_peak_rss_mib=rows["verify"]["peak_rss_mib"],
        verify_ratio_vs_hashlib=round(rows["verify"]["seconds"] / h, 3),
        verify_import_ms=rows["verify"]["import_ms"],
    )
    if ed25519:
        s = _run_child("sign-ed25519", path, workdir)
        emit(
            bench="sign.file.ed25519", size_mib=size_mib, hashlib_mib_s=round(size_mib / h, 1),
            sign_mib_s=round(size_mib / s["seconds"], 1), sign_peak_rss_mib=s["peak_rss_mib"],
            sign_ratio_vs_hashlib=round(s["seconds"] / h, 3),
            note="Ed25519 signs the message (two SHA-512 passes over the mmapped file); RSS includes mapped pages",
        )
    path.unlink()


# -- operations per second -------------------------------------------------------------------------------


def _rate(fn: Callable[[], object], budget: float, minimum: int = 3) -> float:
    n = 0
    t0 = time.perf_counter()
    while True:
        fn()
        n += 1
        elapsed = time.perf_counter() - t0
        if n >= minimum and elapsed >= budget:
            return n / elapsed


def bench_ops(budget: float) -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

    from labkit.keys import generate

    msg = b"benchmark message" * 4

    def raw_keygen(alg: str) -> Callable[[], object]:
        if alg == "ecdsa-p256":
            return lambda: ec.generate_private_key(ec.SECP256R1())
        if alg == "ecdsa-p384":
            return lambda: ec.generate_private_key(ec.SECP384R1())
        if alg == "ed25519":
            return ed25519.Ed25519PrivateKey.generate
        return lambda: rsa.generate_private_key(65537, 3072)

    for alg in ("ecdsa-p256", "ecdsa-p384", "ed25519", "rsa-3072"):
        key = generate(alg)
        pub = key.public_key()
        sig = key.sign(msg)
        raw = key.key
        raw_pub = raw.public_key()
        if isinstance(raw, ec.EllipticCurvePrivateKey):
            h: Any = hashes.SHA384() if alg == "ecdsa-p384" else hashes.SHA256()
            raw_sign: Callable[[], object] = lambda: raw.sign(msg, ec.ECDSA(h))  # noqa: E731
            raw_verify: Callable[[], object] = lambda: raw_pub.verify(sig, msg, ec.ECDSA(h))  # noqa: E731
        elif isinstance(raw, ed25519.Ed25519PrivateKey):
            raw_sign = lambda: raw.sign(msg)  # noqa: E731
            raw_verify = lambda: raw_pub.verify(sig, msg)  # noqa: E731
        else:
            raw_sign = lambda: raw.sign(msg, padding.PKCS1v15(), hashes.SHA256())  # noqa: E731
            raw_verify = lambda: raw_pub.verify(sig, msg, padding.PKCS1v15(), hashes.SHA256())  # noqa: E731
        kg_budget = budget if not alg.startswith("rsa") else max(budget, 1.0)
        rates = {
            "keygen": (_rate(lambda: generate(alg), kg_budget), _rate(raw_keygen(alg), kg_budget)),
            "sign": (_rate(lambda: key.sign(msg), budget), _rate(raw_sign, budget)),
            "verify": (_rate(lambda: pub.verify(sig, msg), budget), _rate(raw_verify, budget)),
        }
        for op, (ours, theirs) in rates.items():
            emit(bench="sign.ops", algorithm=alg, op=op, labkit_ops_s=round(ours, 1),
                 cryptography_ops_s=round(theirs, 1), ratio=round(ours / theirs, 3))


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3], sys.argv[4])
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="64 MiB file and short op timings")
    ap.add_argument("--size-mib", type=int, default=None, help="file size in MiB (default 1024, quick 64)")
    ap.add_argument("--no-ed25519", action="store_true", help="skip the Ed25519 large-file run")
    ap.add_argument("--skip-file", action="store_true", help="only the operations-per-second part")
    args = ap.parse_args()
    size = args.size_mib or (64 if args.quick else 1024)
    with tempfile.TemporaryDirectory(prefix="labkit-bench-sign-") as tmp:
        if not args.skip_file:
            bench_file(size, Path(tmp), ed25519=not args.no_ed25519)
    bench_ops(0.2 if args.quick else 1.0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
