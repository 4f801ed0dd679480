#!/usr/bin/env python3
"""Benchmark: trust over TUF — a full refresh, a no-op refresh, and what they add to a cold `verify-bundle`.

    python benchmarks/bench_tuf.py [--n 20]

A TUF repository (`labkit.tuf.repository`) publishes the public-good trusted root vendored under tests/vendor
and a signing config, served on loopback (`labkit.tuf.server`). In the same run:

* labkit `labkit.tuf.client.refresh`: full (empty cache, bootstrap root) and no-op (warm cache);
* sigstore-python 4.5.1 `ClientTrustConfig.from_tuf(URL, bootstrap_root=...)` (the peer), full and no-op,
  its cache under a temporary XDG dir;
* a cold `labkit verify-bundle` process on the conformance happy-path bundle with ``--trusted-root FILE``
  against ``--instance URL`` with a warm TUF cache (what a no-op refresh adds to each verification).

Prints one JSON object per line (median milliseconds) and the ratios.
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


def _verify(tmp: Path, trust: list[str], env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-m", "labkit.cli", "verify-bundle", "--bundle", str(CASE / "bundle.sigstore.json"),
                    "--certificate-identity", IDENTITY, "--certificate-oidc-issuer", ISSUER, "-q", *trust,
                    str(VENDOR / "bundle-verify" / "a.txt")], check=True, cwd=tmp, env=env, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20)
    n = parser.parse_args().n
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        repo = TufRepository.create(tmp / "tuf", {"trusted_root.json": PROD_ROOT.read_bytes(),
                                                  "signing_config.v0.2.json": CONFIG})
        boot = repo.root_bytes()
        server = TufServer(repo.repo_dir)
        server.start()
        try:
            url = server.url
            full = _median_ms(lambda i: refresh(url, bootstrap_root=boot, cache=tmp / f"full{i}"), n)
            refresh(url, bootstrap_root=boot, cache=tmp / "warm")
            noop = _median_ms(lambda i: refresh(url, cache=tmp / "warm"), n)
            _emit(tool="labkit", full_refresh_ms=full, noop_refresh_ms=noop)
            os.environ.update(XDG_CACHE_HOME=str(tmp / "xdg-cache"), XDG_DATA_HOME=str(tmp / "xdg-data"))
            from sigstore.models import ClientTrustConfig

            (tmp / "root.json").write_bytes(boot)
            peer_full = _median_ms(lambda i: (os.environ.update(XDG_DATA_HOME=str(tmp / f"xdg{i}")),
                                              ClientTrustConfig.from_tuf(url, bootstrap_root=tmp / "root.json")), n)
            peer_noop = _median_ms(lambda i: ClientTrustConfig.from_tuf(url), n)
            _emit(tool="sigstore-python 4.5.1", full_refresh_ms=peer_full, noop_refresh_ms=peer_noop)
            _emit(ratio="labkit/sigstore-python", full=round(full / peer_full, 2), noop=round(noop / peer_noop, 2))
            env = dict(os.environ, PYTHONPATH=str(ROOT), LABKIT_TUF_CACHE=str(tmp / "warm"))
            runs = max(3, n // 4)
            cold_file = _median_ms(lambda i: _verify(tmp, ["--trusted-root", str(PROD_ROOT)], env), runs)
            cold_tuf = _median_ms(lambda i: _verify(tmp, ["--instance", url], env), runs)
            _emit(command="cold verify-bundle", trusted_root_file_ms=cold_file, instance_url_warm_cache_ms=cold_tuf,
                  added_ms=round(cold_tuf - cold_file, 2))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
