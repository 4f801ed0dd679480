#!/usr/bin/env python3
"""Benchmark: `labkit audit` (every core) against sigstore-python verifying the same bundles in one process.

    python benchmarks/bench_audit.py [--n 10000] [--jobs N] [--repeat R]

Builds a directory of N bundles with their artifacts (hard links to two real public-good cases: the
conformance hashedrekord bundle over a.txt and a PyPI PEP 740 DSSE attestation over its sdist, both vendored
under tests/vendor), then, in the same run and each in a fresh process:

* labkit: `labkit.audit.audit` with two identity rules, counts only (``keep_rows=False``);
* sigstore-python 4.5.1: one `Verifier` (trusted root parsed once), `verify_artifact` / `verify_dsse` per bundle
  with an `AnyOf` of the same two identities.

Prints one JSON object per line: wall seconds, bundles per second, peak RSS (parent and workers, KiB), CPU
seconds, and the throughput ratio, with the CPU per bundle of each tool and the ratio that CPU allows on an idle
machine (every core for labkit, one for sigstore-python); with ``--repeat R``, each tool's best of R runs (the
machine may be shared). Memory flatness: labkit also runs on N/4 bundles; its peak RSS should not grow with N.
Offline: sigstore-python's TUF cache goes to a temporary folder and is never used (explicit trusted root).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "tests" / "vendor"
PROD_ROOT = VENDOR / "conformance" / "trust-roots" / "production_trusted_root.json"
HASHED = (VENDOR / "conformance" / "bundle-verify" / "happy-path-v0.3" / "bundle.sigstore.json",
          VENDOR / "conformance" / "bundle-verify" / "a.txt")
PEP740 = (VENDOR / "pep740" / "pypi_attestations-0.0.19.tar.gz.publish.attestation",
          VENDOR / "pep740" / "pypi_attestations-0.0.19.tar.gz")
ISSUER = "https://token.actions.githubusercontent.com"
IDENTITIES = (
    "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/"
    "extremely-dangerous-oidc-beacon.yml@refs/heads/main",
    "https://github.com/trailofbits/pypi-attestations/.github/workflows/release.yml@refs/tags/v0.0.19",
)


def build(folder: Path, n: int) -> None:
    """n bundles: even ones hashedrekord over a.txt, odd ones the PEP 740 attestation (as a v0.3 bundle, which
    sigstore-python reads; `labkit bundle convert`) over the sdist."""
    from labkit.analyst.convert import convert_document

    folder.mkdir(parents=True, exist_ok=True)
    converted = folder.parent / f"{folder.name}-pep740.sigstore.json"
    converted.write_text(convert_document(PEP740[0].read_bytes()).to_json())
    for i in range(n):
        bundle, artifact = HASHED if i % 2 == 0 else (converted, PEP740[1])
        name = f"{i:06d}-{artifact.name}"
        os.link(artifact, folder / name)
        os.link(bundle, folder / f"{name}.sigstore.json")


def _rss() -> dict[str, float]:
    """Peak RSS and CPU seconds (user + system), of this process and of its (finished) workers."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"maxrss_self_kib": me.ru_maxrss, "maxrss_workers_kib": kids.ru_maxrss,
            "cpu_s": round(me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime, 2)}


def run_labkit(folder: Path, jobs: int | None) -> dict[str, object]:
    from labkit.audit import AnyOf, AuditPolicy, audit
    from labkit.verify.policy import Identity

    policy = AuditPolicy(AnyOf(tuple(Identity(identity=i, issuer=ISSUER) for i in IDENTITIES)), PROD_ROOT.read_bytes())
    t0 = time.perf_counter()
    summary = audit([folder], policy, jobs=jobs, keep_rows=False, chunksize=64)
    seconds = time.perf_counter() - t0
    return {"tool": "labkit audit", "jobs": jobs or os.cpu_count(), "bundles": summary.total,
            "verified": summary.verified, "seconds": round(seconds, 2),
            "bundles_per_s": round(summary.total / seconds, 1), **_rss()}


def run_sigstore(folder: Path) -> dict[str, object]:
    """The same checks as the audit: a DSSE bundle's statement must also name the artifact beside it (labkit's
    ``artifact.digest`` step; sigstore-python's `verify_dsse` leaves that to the caller, as `sigstore verify` does)."""
    import hashlib

    from sigstore.dsse import Statement
    from sigstore.hashes import Hashed
    from sigstore.models import Bundle, TrustedRoot
    from sigstore.verify import Verifier
    from sigstore.verify.policy import AnyOf, Identity
    from sigstore_models.common.v1 import HashAlgorithm

    verifier = Verifier(trusted_root=TrustedRoot.from_file(str(PROD_ROOT)))
    policy = AnyOf([Identity(identity=i, issuer=ISSUER) for i in IDENTITIES])
    t0 = time.perf_counter()
    total = verified = 0
    for path in sorted(folder.glob("*.sigstore.json")):
        total += 1
        try:
            bundle = Bundle.from_json(path.read_bytes())
            artifact = path.with_name(path.name[: -len(".sigstore.json")]).read_bytes()
            if bundle._dsse_envelope is not None:  # noqa: SLF001 - sigstore-python has no public accessor in 4.5
                _, payload = verifier.verify_dsse(bundle, policy)
                hashed = Hashed(algorithm=HashAlgorithm.SHA2_256, digest=hashlib.sha256(artifact).digest())
                if not Statement(payload)._matches_digest(hashed):  # noqa: SLF001 - as bench_verify.py
                    continue
            else:
                verifier.verify_artifact(artifact, bundle, policy)
            verified += 1
        except Exception:  # noqa: BLE001 - count failures, as the audit does
            pass
    seconds = time.perf_counter() - t0
    return {"tool": "sigstore-python (one process)", "jobs": 1, "bundles": total, "verified": verified,
            "seconds": round(seconds, 2), "bundles_per_s": round(total / seconds, 1), **_rss()}


def _child(mode: str, folder: Path, jobs: int | None) -> dict[str, object]:
    cmd = [sys.executable, __file__, "--child", mode, "--dir", str(folder)] + (["--jobs", str(jobs)] if jobs else [])
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HOME": str(folder.parent)}  # sigstore-python cache: temp
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--jobs", type=int, default=None)
    ap.add_argument("--child", choices=("labkit", "sigstore"), default=None)
    ap.add_argument("--dir", type=Path, default=None)
    ap.add_argument("--repeat", type=int, default=1, help="runs per tool; the fastest is reported")
    args = ap.parse_args()
    if args.child:
        row = run_labkit(args.dir, args.jobs) if args.child == "labkit" else run_sigstore(args.dir)
        print(json.dumps(row))
        return 0
    with tempfile.TemporaryDirectory(prefix="labkit-bench-audit-") as tmp:
        big, small = Path(tmp) / "big", Path(tmp) / "small"
        build(big, args.n)
        build(small, max(2, args.n // 4))
        runs = [[_child("labkit", small, args.jobs), _child("labkit", big, args.jobs), _child("sigstore", big, None)]
                for _ in range(max(1, args.repeat))]
        rows = [max((run[i] for run in runs), key=lambda r: float(r["bundles_per_s"])) for i in range(3)]  # type: ignore[arg-type]
    for row in rows:
        print(json.dumps(row))
    lab, ref, quarter = rows[1], rows[2], rows[0]
    # CPU per bundle (whole process: start-up, trusted root, walk, workers, summary) and the ratio it allows on
    # an idle machine: every core busy for labkit, one for sigstore-python.
    lab_cpu, ref_cpu = (float(r["cpu_s"]) / float(r["bundles"]) * 1000 for r in (lab, ref))  # type: ignore[arg-type]
    print(json.dumps({
        "throughput_ratio": round(float(lab["bundles_per_s"]) / float(ref["bundles_per_s"]), 2),  # type: ignore[arg-type]
        "cpu_ms_per_bundle": {"labkit": round(lab_cpu, 3), "sigstore_python": round(ref_cpu, 3)},
        "ratio_bound_idle_machine": round((os.cpu_count() or 1) * ref_cpu / lab_cpu, 2),
        "labkit_rss_growth_kib": int(lab["maxrss_self_kib"]) - int(quarter["maxrss_self_kib"]),  # type: ignore[call-overload]
        "labkit_worker_rss_growth_kib": int(lab["maxrss_workers_kib"]) - int(quarter["maxrss_workers_kib"]),  # type: ignore[call-overload]
        "cpus": os.cpu_count(), "repeat": max(1, args.repeat), "loadavg": [round(x, 2) for x in os.getloadavg()],
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
