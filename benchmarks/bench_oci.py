#!/usr/bin/env python3
"""Benchmarks for labkit.oci; prints one JSON object per line.

    python benchmarks/bench_oci.py --quick     # 64 MiB blobs, 10 images: seconds
    python benchmarks/bench_oci.py             # 1 GiB layout blob, 256 MiB registry blob, 100 images

Measured:
* layout push/pull of one large blob, streamed: throughput as a ratio to a
  plain sha256 of the same bytes (the baseline and the push both include
  generating the bytes), and the process's peak RSS (bounded memory means it
  stays far below the blob size);
* registry push (monolithic and chunked) and pull on loopback against
  distribution 2.8, next to skopeo copying the same image (the peer a user
  would otherwise pick);
* signing N images end to end (build, resolve, sign, verify) in a layout
  and in the registry.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from labkit import systools  # noqa: E402
from labkit.keys import generate  # noqa: E402
from labkit.lab import Lab  # noqa: E402
from labkit.oci.builder import build_image  # noqa: E402
from labkit.oci.descriptor import MT_CONFIG, MT_LAYER_GZIP, MT_MANIFEST, Manifest  # noqa: E402
from labkit.oci.layout import OCILayout  # noqa: E402
from labkit.oci.registry import RegistryClient  # noqa: E402
from labkit.oci.signatures import sign_image  # noqa: E402
from labkit.verify.image import verify_image  # noqa: E402

MiB = 1 << 20


def emit(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


def peak_rss_mib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def chunks(total: int, size: int = 4 * MiB) -> Iterator[bytes]:
    """Deterministic non-repeating bytes, generated on the fly (never all in memory)."""
    block = hashlib.sha256(b"labkit-bench").digest() * (size // 32)
    n = 0
    i = 0
    while n < total:
        piece = block[: min(size, total - n)]
        # vary every chunk a little so the content is not one repeated block
        piece = i.to_bytes(8, "big") + piece[8:]
        yield piece
        n += len(piece)
        i += 1


def bench_layout(tmp: Path, total: int) -> None:
    t0 = time.perf_counter()
    h = hashlib.sha256()
    for c in chunks(total):
        h.update(c)
    t_hash = time.perf_counter() - t0
    rss_before = peak_rss_mib()
    store = OCILayout.init(tmp / "layout")
    t0 = time.perf_counter()
    desc = store.put_blob_stream(chunks(total), MT_LAYER_GZIP, size=total)
    t_push = time.perf_counter() - t0
    assert desc.digest.hex == h.hexdigest()
    t0 = time.perf_counter()
    n = 0
    for c in store.open_blob(desc.digest, desc.size):
        n += len(c)
    t_pull = time.perf_counter() - t0
    assert n == total
    emit(
        bench="layout_blob", size_mib=total // MiB, sha256_s=round(t_hash, 3),
        push_s=round(t_push, 3), pull_s=round(t_pull, 3),
        push_mib_s=round(total / MiB / t_push, 1), pull_mib_s=round(total / MiB / t_pull, 1),
        push_vs_sha256=round(t_push / t_hash, 2), pull_vs_sha256=round(t_pull / t_hash, 2),
        peak_rss_mib_before=rss_before, peak_rss_mib_after=peak_rss_mib(),
    )
    shutil.rmtree(tmp / "layout")


def start_registry(tmp: Path, binary: str) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (tmp / "storage").mkdir(parents=True, exist_ok=True)
    cfg = tmp / "registry.yml"
    cfg.write_text(
        "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"
        f"storage:\n  filesystem:\n    rootdirectory: {tmp / 'storage'}\n  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )
    proc = subprocess.Popen([binary, "serve", str(cfg)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    for _ in range(500):
        try:
            if requests.get(url + "/v2/", timeout=1).status_code == 200:
                return proc, url
        except requests.RequestException:
            time.sleep(0.02)
    raise SystemExit("registry did not start")


def bench_registry(tmp: Path, url: str, total: int) -> None:
    client = RegistryClient(url)
    data = b"".join(chunks(total))
    for mode in ("monolithic", "chunked", "streamed"):
        repo = f"bench/{mode}"
        t0 = time.perf_counter()
        if mode == "monolithic":
            desc = client.push_blob(repo, data)
        elif mode == "chunked":
            desc = client.push_blob_chunked(repo, chunks(total, 8 * MiB), chunk_size=8 * MiB)
        else:
            desc = client.push_blob_streamed(repo, chunks(total, 8 * MiB))
        t_push = time.perf_counter() - t0
        t0 = time.perf_counter()
        n = sum(len(c) for c in client.open_blob(repo, desc.digest, desc.size))
        t_pull = time.perf_counter() - t0
        assert n == total
        emit(bench="registry_blob", mode=mode, size_mib=total // MiB, push_mib_s=round(total / MiB / t_push, 1),
             pull_mib_s=round(total / MiB / t_pull, 1))
    # labkit copy vs skopeo copy of the same one-layer image, layout -> registry
    layout = OCILayout.init(tmp / "img")
    layer = layout.put_blob(data, MT_LAYER_GZIP)
    config = layout.put_blob(b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}',
                             MT_CONFIG)
    layout.put_manifest(Manifest(config, (layer,), MT_MANIFEST).to_bytes(), MT_MANIFEST, tag="v1")
    del data
    from labkit.oci.store import copy_image

    t0 = time.perf_counter()
    copy_image(layout, "v1", client.repository("bench/labkit-copy"), tag="v1")
    t_labkit = time.perf_counter() - t0
    row: dict[str, object] = {"bench": "copy_layout_to_registry", "size_mib": total // MiB,
                              "labkit_s": round(t_labkit, 3)}
    skopeo = systools.find("skopeo")
    if skopeo:
        host = url.split("://", 1)[1]
        t0 = time.perf_counter()
        subprocess.run([skopeo, "copy", "--quiet", "--dest-tls-verify=false", f"oci:{layout.path}:v1",
                        f"docker://{host}/bench/skopeo-copy:v1"], check=True, capture_output=True)
        t_skopeo = time.perf_counter() - t0
        row.update(skopeo_s=round(t_skopeo, 3), labkit_vs_skopeo=round(t_labkit / t_skopeo, 2))
    emit(**row)
    shutil.rmtree(tmp / "img")


def bench_signing(tmp: Path, url: str | None, n: int) -> None:
    lab = Lab(seed="bench")
    key = generate(lab=lab, label="signer")
    pub = key.public_key()
    targets: list[tuple[str, object]] = [("layout", OCILayout.init(tmp / "sign"))]
    if url:
        targets.append(("registry", RegistryClient(url).repository("bench/sign")))
    for name, store in targets:
        t0 = time.perf_counter()
        for i in range(n):
            img = build_image(store, {"app.txt": f"build {i}"}, tag=f"v{i}")  # type: ignore[arg-type]
            desc = store.resolve(f"v{i}")  # type: ignore[attr-defined]
            sign_image(store, desc, key, docker_reference="localhost/bench")  # type: ignore[arg-type]
            verify_image(store, img.digest, pub)  # type: ignore[arg-type]
        dt = time.perf_counter() - t0
        emit(bench="sign_images", store=name, images=n, total_s=round(dt, 3), ms_per_image=round(dt / n * 1000, 1))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (seconds)")
    args = ap.parse_args()
    layout_size = 64 * MiB if args.quick else 1024 * MiB
    registry_size = 32 * MiB if args.quick else 256 * MiB
    images = 10 if args.quick else 100
    tmp = Path(tempfile.mkdtemp(prefix="bench-oci-"))
    proc = None
    try:
        bench_layout(tmp, layout_size)
        url = None
        binary = systools.find("docker-registry")
        if binary is not None:
            proc, url = start_registry(tmp / "registry", binary)
            bench_registry(tmp, url, registry_size)
        else:
            emit(bench="registry_blob", skipped=systools.missing_message("docker-registry"))
        bench_signing(tmp, url, images)
    finally:
        if proc is not None:
            os.kill(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
