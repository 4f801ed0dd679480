#!/usr/bin/env python3
"""Benchmark: trust over TUF — a full refresh, a no-op refresh, and what they add to a cold `verify-bundle`.

    python benchmarks/bench_tuf.py [--n 20] [--compare DIR]

A TUF repository (`labkit.tuf.repository`) publishes the public-good trusted root vendored under tests/vendor
and a signing config, served on loopback (`labkit.tuf.server`). In the same run:

* labkit `labkit.tuf.client.refresh`: full (empty cache, bootstrap root) and no-op (warm cache), each in a
  fresh process per labkit tree (first call included, as a command pays it);
* sigstore-python 4.5.1 `ClientTrustConfig.from_tuf(URL, bootstrap_root=...)` (the peer), full and no-op,
  its cache under a temporary XDG dir;
* a cold `labkit verify-bundle` process on the conformance happy-path bundle with ``--trusted-root FILE``
  against ``--instance URL`` with a warm TUF cache: what a no-op refresh adds to each verification, in wall
  time and in the child's CPU time (user + system; steadier than wall time on a loaded machine);
* the same overhead measured inside fresh processes that have already imported what verify-bundle imports
  anyway: importing the TUF client and one no-op refresh (wall and CPU), which the ~0.6 s base of a cold
  process does not drown in noise.

``--compare DIR`` (another labkit tree, e.g. ``git worktree add /tmp/before HEAD~1``) measures that tree the
same way in the same run, the cold commands interleaved with this tree's, so "before" and "after" share the load.
Prints one JSON object per line (median milliseconds) and the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from labkit.tuf.client import refresh  # noqa: E402
from labkit.tuf.repository import TufRepository  # noqa: E402
from labkit.tuf.server import TufServer  # noqa: E402

VENDOR = ROOT / "tests" / "vendor" / "conformance"
PROD_ROOT = VENDOR / "trust-roots" / "production_trusted_root.json"
CASE = VENDOR / "bundle-verify" / "happy-path-v0.3"
IDENTITY = ("https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/"
            "extremely-dangerous-oidc-beacon.yml@refs/heads/main")
ISSUER = "https://token.actions.githubusercontent.com"
CONFIG = b'{"mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json", "caUrls": []}\n'


def _median_ms(fn: Callable[[int], object], n: int) -> float:
    times = []
    for i in range(n):
        start = time.perf_counter()
        fn(i)
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 2)


def _emit(**fields: object) -> None:
    print(json.dumps(fields, sort_keys=True), flush=True)


def _verify(tmp: Path, trust: list[str], env: dict[str, str]) -> tuple[float, float]:
    """One cold ``labkit verify-bundle`` process: (wall ms, CPU ms of the child)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "labkit.cli", "verify-bundle", "--bundle", str(CASE / "bundle.sigstore.json"),
                    "--certificate-identity", IDENTITY, "--certificate-oidc-issuer", ISSUER, "-q", *trust,
                    str(VENDOR / "bundle-verify" / "a.txt")], check=True, cwd=tmp, env=env, capture_output=True)
    wall = (time.perf_counter() - start) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1000
    return wall, cpu


_REFRESH = """
import json, statistics, sys, time
start = time.perf_counter()
from labkit.tuf.client import refresh
imported = time.perf_counter() - start
url, boot, tmp, n = sys.argv[1], open(sys.argv[2], "rb").read(), sys.argv[3], int(sys.argv[4])
def median(fn):
    times = []
    for i in range(n):
        start = time.perf_counter(); fn(i); times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 2)
start = time.perf_counter()
refresh(url, bootstrap_root=boot, cache=f"{tmp}/first")
first = time.perf_counter() - start
start = time.perf_counter()
refresh(url, cache=f"{tmp}/first")
first_noop = time.perf_counter() - start
full = median(lambda i: refresh(url, bootstrap_root=boot, cache=f"{tmp}/full{i}"))
noop = median(lambda i: refresh(url, cache=f"{tmp}/first"))
print(json.dumps({"import_client_ms": round(imported * 1000, 2), "first_full_refresh_ms": round(first * 1000, 2),
                  "first_noop_refresh_ms": round(first_noop * 1000, 2), "full_refresh_ms": full,
                  "noop_refresh_ms": noop}))
"""


_MARGINAL = """
import json, sys, time
import labkit.cli.verify, labkit.verify.verifier  # what a cold verify-bundle imports with or without --instance
w0, c0 = time.perf_counter(), time.process_time()
from labkit.tuf.client import refresh
w1, c1 = time.perf_counter(), time.process_time()
refresh(sys.argv[1], cache=sys.argv[2])
w2, c2 = time.perf_counter(), time.process_time()
print(json.dumps([(w1 - w0) * 1000, (c1 - c0) * 1000, (w2 - w1) * 1000, (c2 - c1) * 1000]))
"""


def _marginal(url: str, trees: dict[str, Path], tmp: Path, runs: int) -> None:
    """What ``--instance URL`` adds inside a cold verify-bundle process (after the imports it makes anyway):
    importing the TUF client and one no-op refresh, wall and CPU, fresh processes interleaved across the trees."""
    samples: dict[str, list[list[float]]] = {name: [] for name in trees}
    for _ in range(runs):
        for name, tree in trees.items():
            out = subprocess.run([sys.executable, "-c", _MARGINAL, url, str(tmp / f"warm-{name}")], check=True,
                                 capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(tree)))
            samples[name].append(json.loads(out.stdout))
    for name, rows in samples.items():
        med = [round(statistics.median(r[i] for r in rows), 1) for i in range(4)]
        _emit(command="verify-bundle --instance URL, added in process", labkit=name, runs=runs,
              import_ms=med[0], import_cpu_ms=med[1], noop_refresh_ms=med[2], noop_refresh_cpu_ms=med[3],
              total_cpu_ms=round(med[1] + med[3], 1), load=round(os.getloadavg()[0], 1))


def _refresh_in(tree: Path, url: str, boot: Path, tmp: Path, n: int) -> dict[str, float]:
    """Full and no-op refresh timed in a fresh process importing the labkit of `tree` (first calls reported too)."""
    tmp.mkdir(parents=True, exist_ok=True)
    out = subprocess.run([sys.executable, "-c", _REFRESH, url, str(boot), str(tmp), str(n)], check=True,
                         capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(tree)))
    result: dict[str, float] = json.loads(out.stdout)
    return result


def _cold(tmp: Path, url: str, trees: dict[str, Path], runs: int) -> None:
    """Cold verify-bundle, --trusted-root FILE and --instance URL, interleaved across the trees."""
    samples: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for _ in range(runs):
        for name, tree in trees.items():
            env = dict(os.environ, PYTHONPATH=str(tree), LABKIT_TUF_CACHE=str(tmp / f"warm-{name}"))
            samples.setdefault((name, "file"), []).append(_verify(tmp, ["--trusted-root", str(PROD_ROOT)], env))
            samples.setdefault((name, "url"), []).append(_verify(tmp, ["--instance", url], env))
    for name in trees:
        wall = {k: statistics.median(w for w, _ in samples[(name, k)]) for k in ("file", "url")}
        cpu = {k: statistics.median(c for _, c in samples[(name, k)]) for k in ("file", "url")}
        _emit(command="cold verify-bundle", labkit=name, runs=runs, trusted_root_file_ms=round(wall["file"], 1),
              instance_url_warm_cache_ms=round(wall["url"], 1), added_ms=round(wall["url"] - wall["file"], 1),
              trusted_root_file_cpu_ms=round(cpu["file"], 1), instance_url_cpu_ms=round(cpu["url"], 1),
              added_cpu_ms=round(cpu["url"] - cpu["file"], 1), load=round(os.getloadavg()[0], 1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--compare", type=Path, default=None, metavar="DIR", help="another labkit tree to measure")
    args = parser.parse_args()
    n = args.n
    trees = {"this": ROOT, **({"compare": args.compare.resolve()} if args.compare else {})}
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        repo = TufRepository.create(tmp / "tuf", {"trusted_root.json": PROD_ROOT.read_bytes(),
                                                  "signing_config.v0.2.json": CONFIG})
        boot = repo.root_bytes()
        (tmp / "root.json").write_bytes(boot)
        server = TufServer(repo.repo_dir)
        server.start()
        try:
            url = server.url
            full = _median_ms(lambda i: refresh(url, bootstrap_root=boot, cache=tmp / f"full{i}"), n)
            refresh(url, bootstrap_root=boot, cache=tmp / "warm")
            noop = _median_ms(lambda i: refresh(url, cache=tmp / "warm"), n)
            _emit(tool="labkit", in_process=True, full_refresh_ms=full, noop_refresh_ms=noop)
            for name, tree in trees.items():
                _emit(tool="labkit", labkit=name, fresh_process=True,
                      **_refresh_in(tree, url, tmp / "root.json", tmp / f"proc-{name}", n))
            os.environ.update(XDG_CACHE_HOME=str(tmp / "xdg-cache"), XDG_DATA_HOME=str(tmp / "xdg-data"))
            from sigstore.models import ClientTrustConfig

            peer_full = _median_ms(lambda i: (os.environ.update(XDG_DATA_HOME=str(tmp / f"xdg{i}")),
                                              ClientTrustConfig.from_tuf(url, bootstrap_root=tmp / "root.json")), n)
            peer_noop = _median_ms(lambda i: ClientTrustConfig.from_tuf(url), n)
            _emit(tool="sigstore-python 4.5.1", full_refresh_ms=peer_full, noop_refresh_ms=peer_noop)
            _emit(ratio="labkit/sigstore-python", full=round(full / peer_full, 2), noop=round(noop / peer_noop, 2))
            for name in trees:
                refresh(url, bootstrap_root=boot, cache=tmp / f"warm-{name}")
            _marginal(url, trees, tmp, n)
            _cold(tmp, url, trees, max(3, n // 4))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
