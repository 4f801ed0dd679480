#!/usr/bin/env python3
"""Keyless sign-blob end to end: signatures per second and the time split by stage.

Prints one JSON object per line:

* ``keyless_sign``: labkit keyless signing (hash, token, certificate with SCT,
  signature, log append with proof and checkpoint, bundle), per second, with
  the median time of every stage;
* ``keyed_sign``: the same file signed with a long-lived key and logged in the
  same kind of log (what a user picks without keyless), and the ratio;
* ``verify``: the keyless bundles verified by sigstore-python 4.5.1 and by
  labkit's verifier (the peer a user would otherwise pick), and the ratio.

    python benchmarks/bench_keyless.py --quick    # a few seconds
    python benchmarks/bench_keyless.py            # the full run
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path


def _emit(**fields: object) -> None:
    print(json.dumps(fields, sort_keys=False), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="small run for development")
    parser.add_argument("-n", type=int, default=None, help="signatures per measurement")
    args = parser.parse_args()
    n = args.n or (20 if args.quick else 300)

    from labkit.keyless.instance import Instance
    from labkit.keyless.sign import sign_keyless

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        artifact = base / "artifact.bin"
        artifact.write_bytes(b"x" * 4096)

        # -- keyless, lab instance (seeded keys, deterministic ECDSA) -----------------------
        inst = Instance.create(base / "lab", seed="bench")
        sign_keyless(inst, artifact, identity="warmup@example.com")
        stages: dict[str, list[float]] = {}
        bundles = []
        t0 = time.perf_counter()
        for i in range(n):
            res = sign_keyless(inst, artifact, identity=f"user{i}@example.com")
            bundles.append((res.bundle.to_json(), f"user{i}@example.com"))
            for stage, secs in res.timings.items():
                stages.setdefault(stage, []).append(secs)
        elapsed = time.perf_counter() - t0
        keyless_rate = n / elapsed
        _emit(
            bench="keyless_sign", mode="lab", n=n, per_second=round(keyless_rate, 1),
            ms_per_signature=round(1000 * elapsed / n, 3),
            stage_median_ms={k: round(1000 * statistics.median(v), 3) for k, v in stages.items()},
            stage_share={k: round(sum(v) / elapsed, 3) for k, v in stages.items()},
        )

        # -- keyless, real mode (random keys, system clock) ---------------------------------
        real = Instance.create(base / "real")
        sign_keyless(real, artifact, identity="warmup@example.com")
        t0 = time.perf_counter()
        for i in range(n):
            sign_keyless(real, artifact, identity=f"user{i}@example.com")
        real_elapsed = time.perf_counter() - t0
        _emit(bench="keyless_sign", mode="real", n=n, per_second=round(n / real_elapsed, 1),
              ms_per_signature=round(1000 * real_elapsed / n, 3))

        # -- peer: a long-lived key, same log ------------------------------------------------
        from labkit.keys import generate
        from labkit.sign import SignedArtifact, sign_blob
        from labkit.tlog.entries import hashedrekord_body
        from labkit.tlog.store import TransparencyLog

        log = TransparencyLog.open(base / "keyed-log", key=generate("ecdsa-p256"))
        key = generate("ecdsa-p256")

        def upload(signed: SignedArtifact):  # type: ignore[no-untyped-def]
            body = hashedrekord_body(signed.signature, signed.verifying_key.pem(), signed.digest)
            return log.append(body).to_bundle_entry()

        t0 = time.perf_counter()
        for i in range(n):
            artifact.write_bytes(b"x" * 4096 + i.to_bytes(4, "big"))  # a new entry each time
            sign_blob(artifact, key, tlog=upload)
        keyed_elapsed = time.perf_counter() - t0
        artifact.write_bytes(b"x" * 4096)
        _emit(bench="keyed_sign", n=n, per_second=round(n / keyed_elapsed, 1),
              keyless_over_keyed_time=round(real_elapsed / keyed_elapsed, 2))
        log.close()

        # -- verification: sigstore-python vs labkit on the keyless bundles ------------------
        from sigstore.models import Bundle as SBundle
        from sigstore.models import TrustedRoot as STrustedRoot
        from sigstore.verify import Verifier
        from sigstore.verify.policy import Identity as SIdentity

        from labkit.verify import Identity, TrustedRoot, verify_bundle

        root_path = inst.write_trusted_root(base / "trusted_root.json")
        data = artifact.read_bytes()
        verifier = Verifier(trusted_root=STrustedRoot.from_file(str(root_path)))
        t0 = time.perf_counter()
        for bundle_json, who in bundles:
            verifier.verify_artifact(
                data, SBundle.from_json(bundle_json), SIdentity(identity=who, issuer=inst.issuer.url)
            )
        sp = time.perf_counter() - t0
        root = TrustedRoot.from_json(root_path.read_bytes())
        t0 = time.perf_counter()
        for bundle_json, who in bundles:
            verify_bundle(bundle_json, data, root, Identity(identity=who, issuer=inst.issuer.url))
        lk = time.perf_counter() - t0
        _emit(bench="verify", n=len(bundles), sigstore_python_ms=round(1000 * sp / len(bundles), 3),
              labkit_ms=round(1000 * lk / len(bundles), 3), labkit_over_sigstore_time=round(lk / sp, 2))
        inst.close()
        real.close()


if __name__ == "__main__":
    main()
