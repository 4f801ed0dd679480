#!/usr/bin/env python3
"""Benchmark: labkit's verifier against sigstore-python 4.5.1, in process and as a cold CLI.

    python benchmarks/bench_verify.py [--quick] [--repeat R]

Prints one JSON object per line. In process, each case is verified end to end
("full": parse the trusted root and the bundle, verify) and with the trusted
root parsed once ("verify"), by both libraries in the same run; "crypto_floor" times
only the signature checks that remain per bundle (the lower bound of "verify"). The CLI rows
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
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "vendor" / "conformance" / "bundle-verify"  # vendored: tests/vendor/README.md
PROD_ROOT = ROOT / "tests" / "vendor" / "conformance" / "trust-roots" / "production_trusted_root.json"
ID = (
    "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/"
    ".github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
)
ISS = "https://token.actions.githubusercontent.com"
IN_PROCESS = ["happy-path-v0.1", "happy-path-intoto-in-dsse-v3", "rekor2-happy-path"]


REPEAT = 1  # --repeat: timing rounds per measurement; the round with the lowest median is kept


def _timeit(fn, n: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """CPU time per call (the machine may be shared): 10th percentile and median, in ms (best of REPEAT rounds)."""
    for _ in range(max(2, n // 10)):
        fn()
    best: dict[str, float] | None = None
    for _ in range(REPEAT):
        samples = []
        for _ in range(n):
            t0 = time.process_time()
            fn()
            samples.append((time.process_time() - t0) * 1000)
        samples.sort()
        row = {"p10_ms": round(samples[n // 10], 3), "median_ms": round(statistics.median(samples), 3)}
        best = row if best is None or row["median_ms"] < best["median_ms"] else best
    assert best is not None
    return best


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
    import hashlib

    from sigstore.dsse import Statement
    from sigstore.hashes import Hashed
    from sigstore.models import Bundle, TrustedRoot
    from sigstore.verify import Verifier
    from sigstore.verify.policy import Identity
    from sigstore_models.common.v1 import HashAlgorithm

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


def crypto_floor(case: str, n: int) -> dict[str, object]:
    """The signature checks no verifier can skip for `case`, timed alone (CPU ms per bundle).

    Per bundle labkit checks the leaf against its issuing CA (the CA chain itself is trust
    material, validated once per TrustedRoot), then one signature each for the artifact,
    the SCT, the SET (v0.1) or RFC 3161 timestamp (Rekor v2), and the checkpoint. The
    SCT/SET/checkpoint/artifact checks are timed as P-256 (or Ed25519) verifies of the
    same size; the timestamp as a verify with the TSA's key type.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    from labkit.bundle import Bundle
    from labkit.verify import TrustedRoot

    bundle = Bundle.from_json((CASES / case / "bundle.sigstore.json").read_bytes())
    root = TrustedRoot.from_json(_root_path(case).read_bytes())
    der = bundle.verification_material.leaf_certificate
    assert der is not None
    leaf = x509.load_der_x509_certificate(der)
    issuer = next(c for ca in root.certificate_authorities for c in ca.certificates() if c.subject == leaf.issuer)
    p256 = ec.generate_private_key(ec.SECP256R1())
    sig256 = p256.sign(b"x" * 64, ec.ECDSA(hashes.SHA256()))
    pub256 = p256.public_key()
    ed = ed25519.Ed25519PrivateKey.generate()
    sig_ed = ed.sign(b"x" * 64)
    pub_ed = ed.public_key()
    checks: list[Callable[[], object]] = [lambda: leaf.verify_directly_issued_by(issuer)]
    checks += [lambda: pub256.verify(sig256, b"x" * 64, ec.ECDSA(hashes.SHA256()))] * 3  # artifact, SCT, SET
    rekor2 = bool(bundle.verification_material.rfc3161_timestamps)
    if rekor2:  # the checkpoint is Ed25519 in this log; the timestamp is signed by the TSA key
        checks[-1] = lambda: pub_ed.verify(sig_ed, b"x" * 64)
        tsa = root.timestamp_authorities[0].certificates()
        tsa_key = tsa[0].public_key()
        if isinstance(tsa_key, ec.EllipticCurvePublicKey):
            tsa_priv = ec.generate_private_key(tsa_key.curve)
            tsa_hash: hashes.HashAlgorithm = hashes.SHA384() if tsa_key.key_size > 256 else hashes.SHA256()
            tsig = tsa_priv.sign(b"x" * 64, ec.ECDSA(tsa_hash))
            tpub = tsa_priv.public_key()
            checks.append(lambda: tpub.verify(tsig, b"x" * 64, ec.ECDSA(tsa_hash)))
    else:
        checks.append(lambda: pub256.verify(sig256, b"x" * 64, ec.ECDSA(hashes.SHA256())))  # checkpoint

    def run() -> None:
        for check in checks:
            check()

    return {"bench": "verify.crypto_floor", "case": case, "signature_checks": len(checks), **_timeit(run, n)}


def cli_times(n: int) -> list[dict[str, object]]:
    case = CASES / "happy-path-v0.1"
    bundle, artifact = str(case / "bundle.sigstore.json"), str(CASES / "a.txt")
    bindir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory(prefix="bench-verify-") as tmp:  # each tool's caches: fresh, then removed
        out = _cli_medians(n, bundle, artifact, bindir, dict(os.environ, XDG_CACHE_HOME=tmp, XDG_DATA_HOME=tmp))
    return [{
        "bench": "verify.cli_cold", "case": "happy-path-v0.1", "runs": n,
        "labkit": out["labkit"], "sigstore_python": out["sigstore"],
        "ratio_sigstore_over_labkit": round(out["sigstore"]["median_ms"] / out["labkit"]["median_ms"], 2),
    }]


def _cli_medians(n: int, bundle: str, artifact: str, bindir: Path, env: dict[str, str]) -> dict[str, dict[str, float]]:
    """Mean and median wall milliseconds of n cold runs of each tool's verify command."""
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
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="few iterations (for development)")
    ap.add_argument("--repeat", type=int, default=1, help="timing rounds per measurement; the best is reported")
    args = ap.parse_args()
    global REPEAT
    REPEAT = max(1, args.repeat)
    n = 20 if args.quick else 200
    cli_n = 3 if args.quick else 15
    import importlib.metadata

    print(json.dumps({"bench": "verify.env", "python": sys.version.split()[0],
                      "sigstore_python": importlib.metadata.version("sigstore"), "iterations": n,
                      "repeat": REPEAT, "loadavg": [round(x, 2) for x in os.getloadavg()]}))
    for case in IN_PROCESS:
        floor = crypto_floor(case, n)
        print(json.dumps(floor), flush=True)
        for mode, parsed in (("full", False), ("verify", True)):
            lk = _timeit(labkit_runner(case, parsed), n)
            sp = _timeit(sigstore_runner(case, parsed), n)
            print(json.dumps({
                "bench": f"verify.in_process.{mode}", "case": case, "labkit": lk, "sigstore_python": sp,
                "ratio_sigstore_over_labkit": round(sp["median_ms"] / lk["median_ms"], 2),
                "labkit_over_crypto_floor": round(lk["median_ms"] / float(floor["median_ms"]), 2),  # type: ignore[arg-type]
            }), flush=True)
    for row in cli_times(cli_n):
        print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
