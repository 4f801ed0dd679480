#!/usr/bin/env python3
"""Signatures per second where the key lives: a key file (in memory), a PKCS#11 token (SoftHSM), a KMS endpoint.

One run, the same digests, ECDSA P-256 (and RSA 3072) for each signer. Prints
one JSON object per line: ``signer``, ``algorithm``, ``n``,
``signatures_per_second``, the median and p95 milliseconds per signature, and
``vs_file`` (the rate as a fraction of the key file's). The token is a fresh
SoftHSM token under a temporary SOFTHSM2_CONF; the KMS is the lab's local
stand-in (moto's server on 127.0.0.1, plain HTTP, one boto3 client), so its
numbers are loopback HTTP plus moto, not a cloud round trip. Token and KMS signers check each signature
against the public key before returning it (the key file signer does not); that is part of their time.

    python benchmarks/bench_signers.py --quick    # a few seconds
    python benchmarks/bench_signers.py            # the full run
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path


def _emit(**fields: object) -> None:
    print(json.dumps(fields, sort_keys=False), flush=True)


def _measure(sign: Callable[[bytes], bytes], n: int) -> tuple[float, float, float]:
    digests = [hashlib.sha256(i.to_bytes(8, "big")).digest() for i in range(n)]
    sign(digests[0])  # warm-up (sessions, connections)
    times = []
    start = time.perf_counter()
    for d in digests:
        t = time.perf_counter()
        sign(d)
        times.append(time.perf_counter() - t)
    total = time.perf_counter() - start
    times.sort()
    return n / total, statistics.median(times) * 1000, times[int(0.95 * (len(times) - 1))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="small run for development")
    parser.add_argument("-n", type=int, default=None, help="signatures per measurement")
    args = parser.parse_args()
    n = args.n or (50 if args.quick else 500)

    from labkit.keys import generate
    from labkit.signers.filekey import FileKeySigner
    from labkit.signers.kmsserver import start_local_kms
    from labkit.signers.pkcs11 import softhsm_module
    from labkit.signers.resolve import create_in_home, signer_for

    util, module = shutil.which("softhsm2-util"), softhsm_module()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        (base / "tokens").mkdir()
        (base / "softhsm2.conf").write_text(f"directories.tokendir = {base / 'tokens'}\nobjectstore.backend = file\n"
                                           "log.level = ERROR\n")
        os.environ["SOFTHSM2_CONF"] = str(base / "softhsm2.conf")
        if util and module:
            subprocess.run([util, "--init-token", "--free", "--label", "bench", "--pin", "1234", "--so-pin", "5678"],
                           check=True, capture_output=True)
        kms = start_local_kms()
        try:
            for alg in ("ecdsa-p256", "rsa-3072"):
                signers: list[tuple[str, Callable[[bytes], bytes], str]] = []
                key = FileKeySigner(generate(alg), "(generated)")
                signers.append(("key file", partial(key.sign_digest, hash_name="sha256"), "in this process"))
                if util and module:
                    uri = f"pkcs11:token=bench;object={alg}?module-path={module}&pin-value=1234"
                    create_in_home(uri, alg)
                    tok = signer_for(uri)
                    signers.append(("pkcs11 (SoftHSM)", partial(tok.sign_digest, hash_name="sha256"), module))
                kuri = kms.uri(f"bench-{alg}")
                create_in_home(kuri, alg)
                remote = signer_for(kuri)
                signers.append(("awskms (local stand-in)", partial(remote.sign_digest, hash_name="sha256"),
                                f"http://{kms.endpoint}"))
                base_rate = None
                for name, sign, where in signers:
                    rate, median, p95 = _measure(sign, n)
                    base_rate = base_rate or rate
                    _emit(signer=name, algorithm=alg, n=n, signatures_per_second=round(rate, 1),
                          median_ms=round(median, 3), p95_ms=round(p95, 3), vs_file=round(rate / base_rate, 4),
                          where=where)
        finally:
            kms.stop()


if __name__ == "__main__":
    main()
