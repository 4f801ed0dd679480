#!/usr/bin/env python3
"""Timestamp authority throughput: timestamps per second in process and over loopback HTTP.

Prints one JSON object per line:

* ``tsa_in_process``: `TimestampAuthority.respond` on pre-built requests (parse, TSTInfo, CMS, one ECDSA
  signature), for a lab key (deterministic RFC 6979 ECDSA) and a real P-256 and P-384 key;
* ``tsa_http``: POST ``/api/v1/timestamp`` to the served TSA on 127.0.0.1 over one keep-alive session,
  sequential and with several client threads;
* ``tsa_openssl``: the peer a user would otherwise pick, ``openssl ts -reply`` (one process per request, as a
  shell script or CGI would run it) with the same key, and the in-process ratio against it;
* ``tsa_verify``: labkit's `verify_timestamp` on the responses against rfc3161-client's full verification
  (sigstore-python's path), and the ratio;
* ``keyless_sign_blob``: keyless ``sign-blob`` end to end in a lab instance (hash, token, key, certificate,
  sign, timestamp, log, bundle), without a timestamp, with one from the instance's TSA in process, and with one
  over loopback HTTP: the median of each stage and of the total, and what the timestamp adds.

    python benchmarks/bench_tsa.py --quick    # a few seconds
    python benchmarks/bench_tsa.py            # the full run
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import requests
import rfc3161_client
from cryptography.hazmat.primitives import serialization

from labkit.keyless.trustroot import LogEntryKey, trusted_root, trusted_root_json
from labkit.keys import generate
from labkit.lab import Lab
from labkit.tsa import TimestampAuthority, build_request, create_tsa, tsa_entry
from labkit.tsa.server import QUERY_TYPE, TimestampServer
from labkit.verify.timestamp import verify_timestamp
from labkit.verify.trustroot import TrustedRoot


def _emit(**fields: object) -> None:
    print(json.dumps(fields, sort_keys=False), flush=True)


def _rate(n: int, seconds: float) -> float:
    return round(n / seconds, 1)


def _root_json(tsa: TimestampAuthority) -> bytes:
    """A trusted root listing `tsa` (a lab log key fills the required tlog entry)."""
    key = generate("ecdsa-p256", lab=Lab(seed="bench-log")).public_key()
    start = _dt.datetime(2025, 1, 1, tzinfo=_dt.timezone.utc)
    log = LogEntryKey("https://rekor.labkit.invalid", key, key.key_id(), start)
    return trusted_root_json(trusted_root(tlogs=[log], certificate_authorities=[],
                                          timestamp_authorities=[tsa_entry(tsa.chain)]))


_OPENSSL_TSA_CONFIG = """[ tsa ]
default_tsa = tsa_config1
[ tsa_config1 ]
serial = {dir}/serial
signer_cert = {dir}/leaf.pem
certs = {dir}/chain.pem
signer_key = {dir}/key.pem
signer_digest = sha256
default_policy = 1.2.3.4.1
other_policies = 1.2.3.4.2
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = no
ess_cert_id_alg = sha256
"""


def _openssl_rate(tsa: TimestampAuthority, query: bytes, n: int) -> float | None:
    """Timestamps per second from ``openssl ts -reply`` with `tsa`'s key and chain, or None without openssl."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        (base / "leaf.pem").write_bytes(tsa.chain[0].public_bytes(serialization.Encoding.PEM))
        (base / "chain.pem").write_bytes(tsa.chain_pem())
        (base / "key.pem").write_bytes(tsa.signing_key.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        (base / "serial").write_text("01\n")
        (base / "tsa.cnf").write_text(_OPENSSL_TSA_CONFIG.format(dir=tmp))
        (base / "q.tsq").write_bytes(query)
        cmd = [openssl, "ts", "-reply", "-config", str(base / "tsa.cnf"), "-queryfile", str(base / "q.tsq"),
               "-out", str(base / "r.tsr")]
        t0 = time.perf_counter()
        for _ in range(n):
            subprocess.run(cmd, check=True, capture_output=True)
        return n / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="small run for development")
    parser.add_argument("-n", type=int, default=None, help="timestamps per measurement")
    parser.add_argument("--threads", type=int, default=4, help="client threads for the concurrent HTTP run")
    parser.add_argument("--keyless-only", action="store_true", help="only the keyless sign-blob comparison")
    args = parser.parse_args()
    if args.keyless_only:
        _keyless(args.n or (50 if args.quick else 300))
        return
    n = args.n or (200 if args.quick else 3000)

    requests_der = [build_request(f"signature {i}".encode(), nonce=i) for i in range(n)]
    variants = {
        "lab-p256": TimestampAuthority.create(lab=Lab(seed="bench")),
        "real-p256": TimestampAuthority.create(),
        "real-p384": TimestampAuthority.create(material=create_tsa(algorithm="ecdsa-p384")),
    }
    for name, tsa in variants.items():
        tsa.respond(requests_der[0])
        t0 = time.perf_counter()
        for req in requests_der:
            tsa.respond(req)
        elapsed = time.perf_counter() - t0
        _emit(bench="tsa_in_process", key=name, n=n, per_second=_rate(n, elapsed),
              mean_us=round(elapsed / n * 1e6, 1))

    tsa = variants["real-p256"]
    in_process = n / max(1e-9, _time_respond(tsa, requests_der))
    peer = _openssl_rate(tsa, requests_der[0], min(n, 100))
    if peer is not None:
        _emit(bench="tsa_openssl", key="real-p256", n=min(n, 100), per_second=round(peer, 1),
              labkit_in_process_ratio=round(in_process / peer, 1))
    with TimestampServer(tsa, threads=args.threads) as server:
        session = requests.Session()
        session.headers["Content-Type"] = QUERY_TYPE
        session.post(server.url, data=requests_der[0], timeout=30)
        latencies = []
        t0 = time.perf_counter()
        for req in requests_der:
            t1 = time.perf_counter()
            r = session.post(server.url, data=req, timeout=30)
            latencies.append(time.perf_counter() - t1)
            assert r.status_code == 201
        elapsed = time.perf_counter() - t0
        _emit(bench="tsa_http", mode="sequential", n=n, per_second=_rate(n, elapsed),
              median_ms=round(statistics.median(latencies) * 1e3, 3))

        def worker(chunk: list[bytes]) -> None:
            own = requests.Session()
            own.headers["Content-Type"] = QUERY_TYPE
            for req in chunk:
                assert own.post(server.url, data=req, timeout=30).status_code == 201

        chunks = [requests_der[i :: args.threads] for i in range(args.threads)]
        threads = [threading.Thread(target=worker, args=(c,)) for c in chunks]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
        _emit(bench="tsa_http", mode=f"{args.threads} client threads", n=n, per_second=_rate(n, elapsed))

    root = TrustedRoot.from_json(_root_json(tsa))
    responses = [(tsa.respond(req), f"signature {i}".encode()) for i, req in enumerate(requests_der)]
    verify_timestamp(*responses[0], root)
    t0 = time.perf_counter()
    for reply, signature in responses:
        verify_timestamp(reply, signature, root)
    labkit_rate = n / (time.perf_counter() - t0)
    verifier = rfc3161_client.VerifierBuilder(tsa_certificate=tsa.chain[0], roots=[tsa.chain[-1]]).build()
    t0 = time.perf_counter()
    for reply, signature in responses:
        verifier.verify_message(rfc3161_client.decode_timestamp_response(reply), signature)
    peer_rate = n / (time.perf_counter() - t0)
    _emit(bench="tsa_verify", n=n, labkit_per_second=round(labkit_rate, 1),
          rfc3161_client_per_second=round(peer_rate, 1), ratio=round(labkit_rate / peer_rate, 2))
    _keyless(min(n, 50 if args.quick else 300))


def _keyless(n: int) -> None:
    """Keyless sign-blob stage by stage, without and with a timestamp (in process, over loopback HTTP)."""
    from labkit.keyless.instance import Instance
    from labkit.keyless.sign import sign_keyless
    from labkit.tsa.client import HTTPTimestamper

    with tempfile.TemporaryDirectory() as tmp, Instance.create(Path(tmp) / "inst", seed="bench-keyless") as inst, \
            TimestampServer(inst.tsa) as server:
        modes = {"none": [], "in_process": inst.timestampers(), "http": [HTTPTimestamper(server.url)]}
        baseline = 0.0
        for mode, stampers in modes.items():
            sign_keyless(inst, b"warm-up", identity="bench@example.com", timestampers=stampers)
            runs = []
            for i in range(n):
                t0 = time.perf_counter()
                result = sign_keyless(inst, f"artifact {i}".encode(), identity="bench@example.com",
                                      timestampers=stampers)
                runs.append((time.perf_counter() - t0, result.timings))
            total = statistics.median(t for t, _ in runs) * 1e3
            stages = {k: round(statistics.median(t.get(k, 0.0) for _, t in runs) * 1e3, 3) for k in runs[0][1]}
            if mode == "none":
                baseline = total
            _emit(bench="keyless_sign_blob", timestamp=mode, n=n, median_ms=round(total, 3), stages_ms=stages,
                  added_ms=round(total - baseline, 3), added_pct=round((total - baseline) / baseline * 100, 1))


def _time_respond(tsa: TimestampAuthority, requests_der: list[bytes]) -> float:
    t0 = time.perf_counter()
    for req in requests_der:
        tsa.respond(req)
    return time.perf_counter() - t0


if __name__ == "__main__":
    main()
