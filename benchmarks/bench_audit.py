#!/usr/bin/env python3
"""Benchmark: `labkit audit` (every core) against sigstore-python verifying the same bundles in one process.

    python benchmarks/bench_audit.py [--corpus lab|public] [--n 10000] [--jobs N] [--repeat R] [--bound]

Two corpora of N bundles, each beside its artifact:

* ``--corpus lab`` (default): N DISTINCT bundles over N distinct artifacts (1 KiB of random bytes each), signed
  keyless through a local random-key lab instance (`labkit.keyless.instance.Instance`): even ones message
  signatures (hashedrekord, `sign_keyless`), odd ones DSSE in-toto statements (SLSA provenance v1, `attest_blob`),
  each with its own ephemeral key, Fulcio-style certificate (with SCT) and log entry (inclusion proof, checkpoint,
  SET). The signer alternates between two identities (an email and a GitHub workflow URI) every two bundles, so
  both kinds meet both identities. Both tools get the instance's trusted root. Nothing repeats, so no cache keyed
  on input can help either tool. The corpus is built once (about 4 ms a bundle) and cached in
  ``$TMPDIR/labkit-bench-audit-lab-v1-n<N>``; later runs with the same N reuse it (``--rebuild`` to make it anew).
* ``--corpus public``: hard links to two real public-good cases (the conformance hashedrekord bundle over a.txt and
  a PyPI PEP 740 DSSE attestation over its sdist, both vendored under tests/vendor), alternating; real Fulcio and
  Rekor material under the pinned production trusted root, but only two distinct bundles.

Then, in the same run and each in a fresh process:

* labkit: `labkit.audit.audit` with the two identity rules, counts only (``keep_rows=False``);
* sigstore-python 4.5.1: one `Verifier` (trusted root parsed once), `verify_artifact` / `verify_dsse` per bundle
  with an `AnyOf` of the same two identities.

Prints one JSON object per line: wall seconds, bundles per second, bundles verified, peak RSS (parent and
workers, KiB), CPU seconds; then the throughput ratio, with the CPU per bundle of each tool and the ratio that CPU
allows on an idle machine (every core for labkit, one for sigstore-python), and ``all_verified`` (each tool
accepted every bundle: the comparison is void otherwise). With ``--repeat R``, each tool's best of R runs (the
machine may be shared). Memory flatness: labkit also runs on the first N/4 bundles; its peak RSS should not grow
with N. Offline: sigstore-python's TUF cache goes to a temporary folder and is never used (explicit trusted root).

With ``--bound`` (lab corpus), a third fresh process measures the two lower bounds of `audit_bound.py` over the same
bundles: a bare straight-line Python verifier and the five signature verifications alone; the summary adds their CPU
per bundle, the ratios they would allow on this machine's idle cores, and the CPU per bundle 3x would need
(docs/adr/0007-audit-throughput-bound.md).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
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
#: The lab corpus's two signers.
LAB_IDENTITIES = (
    "release-bot@example.com",
    "https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.0.0",
)
#: Bump when the lab corpus changes, so an old cached one is not reused.
LAB_VERSION = "v1"
CORPUS_FILE = "corpus.json"


def _write_corpus(folder: Path, trusted_root: Path, issuer: str, identities: tuple[str, ...]) -> None:
    """What both tools need to judge the corpus: its folders (big: N, small: N/4), trusted root and policy."""
    (folder / CORPUS_FILE).write_text(json.dumps({
        "big": "big", "small": "small", "trusted_root": str(trusted_root), "issuer": issuer,
        "identities": list(identities),
    }, indent=2))


def _read_corpus(folder: Path) -> dict[str, object]:
    doc: dict[str, object] = json.loads((folder / CORPUS_FILE).read_text())
    root = Path(str(doc["trusted_root"]))
    doc["trusted_root"] = str(root if root.is_absolute() else folder / root)
    return doc


def build_public(folder: Path, n: int) -> None:
    """n bundles: even ones hashedrekord over a.txt, odd ones the PEP 740 attestation (as a v0.3 bundle, which
    sigstore-python reads; `labkit bundle convert`) over the sdist; the first n/4 again in ``small``."""
    from labkit.analyst.convert import convert_document

    folder.mkdir(parents=True)
    converted = folder / "pep740.sigstore.json"
    converted.write_text(convert_document(PEP740[0].read_bytes()).to_json())
    for sub, count in (("big", n), ("small", max(2, n // 4))):
        (folder / sub).mkdir(parents=True)
        for i in range(count):
            bundle, artifact = HASHED if i % 2 == 0 else (converted, PEP740[1])
            name = f"{i:06d}-{artifact.name}"
            os.link(artifact, folder / sub / name)
            os.link(bundle, folder / sub / f"{name}.sigstore.json")
    _write_corpus(folder, PROD_ROOT, ISSUER, IDENTITIES)


def _lab_predicate(i: int) -> dict[str, object]:
    return {"buildDefinition": {"buildType": "https://example.com/build/v1", "externalParameters": {"run": i}},
            "runDetails": {"builder": {"id": "https://github.com/actions/runner"}}}


def _sign_lab_corpus(work: Path, n: int) -> None:
    """n distinct artifacts and their bundles in ``work/big`` (random-key instance in ``work/instance``)."""
    from labkit.attest.attest import attest_blob, keyless_signer
    from labkit.keyless.instance import Instance
    from labkit.keyless.sign import sign_blob_keyless

    big = work / "big"
    big.mkdir()
    with Instance.create(work / "instance") as instance:
        for i in range(n):
            identity = LAB_IDENTITIES[(i // 2) % 2]
            data = f"artifact {i}\n".encode() + os.urandom(1024)
            name = f"{i:06d}-release.tar.gz"
            if i % 2 == 0:
                bundle = sign_blob_keyless(instance, data, identity=identity)
            else:
                signer = keyless_signer(instance, identity=identity)
                bundle = attest_blob(data, "slsaprovenance1", _lab_predicate(i), signer, instance=instance,
                                     subject_name=name)
            (big / name).write_bytes(data)
            (big / f"{name}.sigstore.json").write_text(bundle.to_json())
        instance.write_trusted_root(work / "trusted_root.json")
        issuer = instance.issuer.url
    _write_corpus(work, Path("trusted_root.json"), issuer, LAB_IDENTITIES)


def build_lab(n: int, rebuild: bool = False) -> Path:
    """The cached lab corpus for n (built, in a scratch folder renamed into place, when missing)."""
    cache = Path(tempfile.gettempdir()) / f"labkit-bench-audit-lab-{LAB_VERSION}-n{n}"
    if rebuild and cache.exists():
        shutil.rmtree(cache)
    if (cache / CORPUS_FILE).exists():
        return cache
    work = Path(tempfile.mkdtemp(prefix=cache.name + ".", dir=cache.parent))
    t0 = time.perf_counter()
    _sign_lab_corpus(work, n)
    small = work / "small"
    small.mkdir()
    for i in range(max(2, n // 4)):  # the first n/4 bundles (hard links): the memory-flatness run
        for name in (f"{i:06d}-release.tar.gz", f"{i:06d}-release.tar.gz.sigstore.json"):
            os.link(work / "big" / name, small / name)
    print(json.dumps({"built": str(cache), "bundles": n, "seconds": round(time.perf_counter() - t0, 1)}),
          file=sys.stderr)
    try:
        work.rename(cache)
    except OSError:  # another run built it meanwhile: use that one
        shutil.rmtree(work)
    return cache


def _peak_rss_kib() -> int:
    """This process's peak RSS (VmHWM: reset at exec, unlike ``ru_maxrss`` of RUSAGE_SELF, which keeps the peak of
    the parent that forked it, here the corpus builder)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # not Linux: the best there is


def _rss() -> dict[str, float]:
    """Peak RSS of this process and of its largest (finished) worker, and CPU seconds (user + system) of both."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"maxrss_self_kib": _peak_rss_kib(), "maxrss_workers_kib": kids.ru_maxrss,
            "cpu_s": round(me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime, 2)}


def run_labkit(folder: Path, corpus: dict[str, object], jobs: int | None) -> dict[str, object]:
    from labkit.audit import AnyOf, AuditPolicy, audit
    from labkit.verify.policy import Identity

    issuer, identities = str(corpus["issuer"]), list(corpus["identities"])  # type: ignore[call-overload]
    rules = AnyOf(tuple(Identity(identity=i, issuer=issuer) for i in identities))
    policy = AuditPolicy(rules, Path(str(corpus["trusted_root"])).read_bytes())
    t0 = time.perf_counter()
    summary = audit([folder], policy, jobs=jobs, keep_rows=False, chunksize=64)
    seconds = time.perf_counter() - t0
    return {"tool": "labkit audit", "corpus": folder.name, "jobs": jobs or os.cpu_count(), "bundles": summary.total,
            "verified": summary.verified, "failed": dict(summary.failed), "seconds": round(seconds, 2),
            "bundles_per_s": round(summary.total / seconds, 1), **_rss()}


def run_sigstore(folder: Path, corpus: dict[str, object]) -> dict[str, object]:
    """The same checks as the audit: a DSSE bundle's statement must also name the artifact beside it (labkit's
    ``artifact.digest`` step; sigstore-python's `verify_dsse` leaves that to the caller, as `sigstore verify` does)."""
    import hashlib
    from collections import Counter

    from sigstore.dsse import Statement
    from sigstore.hashes import Hashed
    from sigstore.models import Bundle, TrustedRoot
    from sigstore.verify import Verifier
    from sigstore.verify.policy import AnyOf, Identity
    from sigstore_models.common.v1 import HashAlgorithm

    issuer, identities = str(corpus["issuer"]), list(corpus["identities"])  # type: ignore[call-overload]
    verifier = Verifier(trusted_root=TrustedRoot.from_file(str(corpus["trusted_root"])))
    policy = AnyOf([Identity(identity=i, issuer=issuer) for i in identities])
    t0 = time.perf_counter()
    total = verified = 0
    failed: Counter[str] = Counter()
    for path in sorted(folder.glob("*.sigstore.json")):
        total += 1
        try:
            bundle = Bundle.from_json(path.read_bytes())
            artifact = path.with_name(path.name[: -len(".sigstore.json")]).read_bytes()
            if bundle._dsse_envelope is not None:  # noqa: SLF001 - sigstore-python has no public accessor in 4.5
                _, payload = verifier.verify_dsse(bundle, policy)
                hashed = Hashed(algorithm=HashAlgorithm.SHA2_256, digest=hashlib.sha256(artifact).digest())
                if not Statement(payload)._matches_digest(hashed):  # noqa: SLF001 - as bench_verify.py
                    failed["subject digest"] += 1
                    continue
            else:
                verifier.verify_artifact(artifact, bundle, policy)
            verified += 1
        except Exception as exc:  # noqa: BLE001 - count failures, as the audit does
            failed[type(exc).__name__] += 1
    seconds = time.perf_counter() - t0
    return {"tool": "sigstore-python (one process)", "corpus": folder.name, "jobs": 1, "bundles": total,
            "verified": verified, "failed": dict(failed), "seconds": round(seconds, 2),
            "bundles_per_s": round(total / seconds, 1), **_rss()}


def run_bound(folder: Path, corpus: dict[str, object]) -> dict[str, object]:
    """The two lower bounds of `audit_bound.py` over the same bundles (lab corpus only)."""
    sys.path.insert(0, str(Path(__file__).parent))
    from audit_bound import Trust, bare_verify, crypto_only, pairs

    trust = Trust.load(Path(str(corpus["trusted_root"])), str(corpus["issuer"]),
                       list(corpus["identities"]))  # type: ignore[call-overload]
    t0 = time.perf_counter()
    total = verified = 0
    for bundle, artifact in pairs(folder):
        total += 1
        verified += bare_verify(trust, bundle, artifact)
    seconds = time.perf_counter() - t0
    row = {"tool": "bare Python bound (audit_bound.py, one process)", "corpus": folder.name, "jobs": 1,
           "bundles": total, "verified": verified, "failed": {}, "seconds": round(seconds, 2),
           "bundles_per_s": round(total / seconds, 1), **_rss()}
    row["crypto_only_ms_per_bundle"] = round(crypto_only(trust, folder) * 1000, 3)
    return row


def _child(mode: str, corpus: Path, which: str, jobs: int | None, home: Path) -> dict[str, object]:
    cmd = [sys.executable, __file__, "--child", mode, "--dir", str(corpus), "--which", which]
    cmd += ["--jobs", str(jobs)] if jobs else []
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HOME": str(home)}  # sigstore-python cache: temp
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _compare(corpus: Path, args: argparse.Namespace, home: Path) -> list[dict[str, object]]:
    """Each tool's best of --repeat runs: labkit on N/4, labkit on N, sigstore-python on N (in that order)."""
    modes = [("labkit", "small", args.jobs), ("labkit", "big", args.jobs), ("sigstore", "big", None)]
    modes += [("bound", "big", None)] if args.bound else []
    runs = [[_child(mode, corpus, which, jobs, home) for mode, which, jobs in modes]
            for _ in range(max(1, args.repeat))]
    return [max((run[i] for run in runs), key=lambda r: float(r["bundles_per_s"]))  # type: ignore[arg-type]
            for i in range(len(modes))]


def _bounds(bound: dict[str, object], ref_cpu: float) -> dict[str, object]:
    """The best ratio any Python verifier (bare) and any verifier at all (crypto only) could reach here."""
    bare = float(bound["cpu_s"]) / float(bound["bundles"]) * 1000  # type: ignore[arg-type]
    crypto = float(bound["crypto_only_ms_per_bundle"])  # type: ignore[arg-type]
    cpus = os.cpu_count() or 1
    return {"bound_cpu_ms_per_bundle": {"bare_python": round(bare, 3), "crypto_only": round(crypto, 3)},
            "ratio_bound_bare_python": round(cpus * ref_cpu / bare, 2),
            "ratio_bound_crypto_only": round(cpus * ref_cpu / crypto, 2),
            "cpu_ms_per_bundle_for_3x": round(cpus * ref_cpu / 3, 3)}


def _report(rows: list[dict[str, object]], args: argparse.Namespace) -> dict[str, object]:
    quarter, lab, ref = rows[:3]
    # CPU per bundle (whole process: start-up, trusted root, walk, workers, summary) and the ratio it allows on
    # an idle machine: every core busy for labkit, one for sigstore-python.
    lab_cpu, ref_cpu = (float(r["cpu_s"]) / float(r["bundles"]) * 1000 for r in (lab, ref))  # type: ignore[arg-type]
    return {
        "corpus": args.corpus, "n": args.n,
        "all_verified": all(r["verified"] == r["bundles"] for r in rows),
        "throughput_ratio": round(float(lab["bundles_per_s"]) / float(ref["bundles_per_s"]), 2),  # type: ignore[arg-type]
        "cpu_ms_per_bundle": {"labkit": round(lab_cpu, 3), "sigstore_python": round(ref_cpu, 3)},
        "ratio_bound_idle_machine": round((os.cpu_count() or 1) * ref_cpu / lab_cpu, 2),
        "labkit_rss_growth_kib": int(lab["maxrss_self_kib"]) - int(quarter["maxrss_self_kib"]),  # type: ignore[call-overload]
        "labkit_worker_rss_growth_kib": int(lab["maxrss_workers_kib"]) - int(quarter["maxrss_workers_kib"]),  # type: ignore[call-overload]
        **(_bounds(rows[3], ref_cpu) if len(rows) > 3 else {}),
        "cpus": os.cpu_count(), "repeat": max(1, args.repeat), "loadavg": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", choices=("lab", "public"), default="lab",
                    help="lab: N distinct keyless bundles from a local instance (cached); public: two real ones")
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--jobs", type=int, default=None)
    ap.add_argument("--repeat", type=int, default=1, help="runs per tool; the fastest is reported")
    ap.add_argument("--rebuild", action="store_true", help="sign the cached lab corpus anew")
    ap.add_argument("--bound", action="store_true",
                    help="also measure the lower bounds of audit_bound.py (lab corpus): bare Python, crypto only")
    ap.add_argument("--child", choices=("labkit", "sigstore", "bound"), default=None)
    ap.add_argument("--dir", type=Path, default=None)
    ap.add_argument("--which", choices=("big", "small"), default="big")
    args = ap.parse_args()
    if args.child:
        corpus = _read_corpus(args.dir)
        folder = args.dir / str(corpus[args.which])
        runners = {"labkit": lambda: run_labkit(folder, corpus, args.jobs),
                   "sigstore": lambda: run_sigstore(folder, corpus), "bound": lambda: run_bound(folder, corpus)}
        row = runners[args.child]()
        print(json.dumps(row))
        return 0
    if args.bound and args.corpus != "lab":
        ap.error("--bound measures the lab corpus only")
    with tempfile.TemporaryDirectory(prefix="labkit-bench-audit-") as tmp:
        if args.corpus == "lab":
            folder = build_lab(args.n, args.rebuild)
        else:
            folder = Path(tmp) / "public"
            build_public(folder, args.n)
        rows = _compare(folder, args, Path(tmp))
    for row in rows:
        print(json.dumps(row))
    summary = _report(rows, args)
    print(json.dumps(summary))
    return 0 if summary["all_verified"] else 1


if __name__ == "__main__":
    sys.exit(main())
