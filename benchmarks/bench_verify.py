#!/usr/bin/env python3
"""Benchmark: labkit's verifier against sigstore-python 4.5.1, in process and as a cold CLI.

    python benchmarks/bench_verify.py [--quick]

Prints one JSON object per line. In process, each case is verified end to end
("full": parse the trusted root and the bundle, verify) and with the trusted
root parsed once ("verify"), by both libraries in the same run. The CLI rows
time a fresh `labkit verify-bundle` process against a fresh
`sigstore verify identity --offline` process on the same bundle.
Everything is offline; sigstore-python's TUF cache goes to a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT.parent / "shared" / "conformance" / "bundle-verify"
PROD_ROOT = ROOT.parent / "shared" / "conformance" / "trust-roots" / "production_trusted_root.json"
ID = (
    "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/"
    ".github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
)
ISS = "https://token.actions.githubusercontent.com"
IN_PROCESS = ["happy-path-v0.1", "happy-path-intoto-in-dsse-v3", "rekor2-happy-path"]


def _timeit(fn, n: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """CPU time per call (the machine may be shared): 10th percentile and median, in ms."""
    for _ in range(max(2, n // 10)):
        fn()
    samples = []
    for _ in range(n):
        t0 = time.process_time()
        fn()
        samples.append((time.process_time() - t0) * 1000)
    samples.sort()
    return {"p10_ms": round(samples[n // 10], 3), "median_ms": round(statistics.median(samples), 3)}


def _root_path(case: str) -> Path:
    own = CASES / case / "trusted_root.json"
    return own if own.exists() else PROD_ROOT


def labkit_runner(case: str, parsed_root: bool):  # type: ignore[no-untyped-def]
    from labkit.verify import Artifact, Identity, TrustedRoot, explain_bundle

    bundle = (CASES / case / "bundle.sigstore.json").read_bytes()
    root_bytes = _root_path(case).read_bytes()
    artifact = (CASES / "a.txt").read_bytes()
    policy = Identity(identity=ID, issuer=ISS)
    root_obj = TrustedRoot.from_json(root_bytes)

    def run() -> None:
        root = root_obj if parsed_root else TrustedRoot.from_json(root_bytes)
        result = explain_bundle(bundle, Artifact.from_bytes(artifact), root, policy)
        assert result.verified, result.reason

    return run


def sigstore_runner(case: str, parsed_root: bool):  # type: ignore[no-untyped-def]
    from sigstore.dsse import Statement
    from sigstore.hashes import Hashed
    from sigstore.models import Bundle, TrustedRoot
    from sigstore.verify import Verifier
    from sigstore.verify.policy import Identity
    from sigstore_models.common.v1 import HashAlgorithm

    import hashlib

    bundle_text = (CASES / case / "bundle.sigstore.json").read_text()
    root_path = str(_root_path(case))
    artifact = (CASES / "a.txt").read_bytes()
    policy = Identity(identity=ID, issuer=ISS)
    verifier_obj = Verifier(trusted_root=TrustedRoot.from_file(root_path))

    def run() -> None:
        verifier = verifier_obj if parsed_root else Verifier(trusted_root=TrustedRoot.from_file(root_path))
        bundle = Bundle.from_json(bundle_text)
        if bundle._dsse_envelope is not None:
            _, payload = verifier.verify_dsse(bundle, policy)
            hashed = Hashed(algorithm=HashAlgorithm.SHA2_256, digest=hashlib.sha256(artifact).digest())
            assert Statement(payload)._matches_digest(hashed)
        else:
            verifier.verify_artifact(artifact, bundle, policy)

    return run


def cli_times(n: int) -> list[dict[str, object]]:
    case = CASES / "happy-path-v0.1"
    bundle, artifact = str(case / "bundle.sigstore.json"), str(CASES / "a.txt")
    bindir = Path(sys.executable).parent
    tmp = tempfile.mkdtemp(prefix="bench-verify-")
    env = dict(os.environ, XDG_CACHE_HOME=tmp, XDG_DATA_HOME=tmp)
    commands = {
        "labkit": [str(bindir / "labkit"), "verify-bundle", "--quiet", "--bundle", bundle,
                   "--certificate-identity", ID, "--certificate-oidc-issuer", ISS, artifact],
        "sigstore": [str(bindir / "sigstore"), "verify", "identity", "--offline", "--bundle", bundle,
                     "--cert-identity", ID, "--cert-oidc-issuer", ISS, artifact],
    }
    out: dict[str, dict[str, float]] = {}
    for name, cmd in commands.items():
        subprocess.run(cmd, env=env, capture_output=True, check=True)  # warm the page cache, not the process
        samples = []
        for _ in range(n):
            t0 = time.perf_counter()
            subprocess.run(cmd, env=env, capture_output=True, check=True)
            samples.append((time.perf_counter() - t0) * 1000)
        out[name] = {"mean_ms": round(statistics.mean(samples), 1), "median_ms": round(statistics.median(samples), 1)}
    return [{
        "bench": "verify.cli_cold", "case": "happy-path-v0.1", "runs": n,
        "labkit": out["labkit"], "sigstore_python": out["sigstore"],
        "ratio_sigstore_over_labkit": round(out["sigstore"]["median_ms"] / out["labkit"]["median_ms"], 2),
    }]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="few iterations (for development)")
    args = ap.parse_args()
    n = 20 if args.quick else 200
    cli_n = 3 if args.quick else 15
    import importlib.metadata

    print(json.dumps({"bench": "verify.env", "python": sys.version.split()[0],
                      "sigstore_python": importlib.metadata.version("sigstore"), "iterations": n}))
    for case in IN_PROCESS:
        for mode, parsed in (("full", False), ("verify", True)):
            lk = _timeit(labkit_runner(case, parsed), n)
            sp = _timeit(sigstore_runner(case, parsed), n)
            print(json.dumps({
                "bench": f"verify.in_process.{mode}", "case": case, "labkit": lk, "sigstore_python": sp,
                "ratio_sigstore_over_labkit": round(sp["median_ms"] / lk["median_ms"], 2),
            }), flush=True)
    for row in cli_times(cli_n):
        print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
