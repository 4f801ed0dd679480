#!/usr/bin/env python3
"""Timestamp authority throughput: timestamps per second in process and over loopback HTTP.

Prints one JSON object per line:

* ``tsa_in_process``: `TimestampAuthority.respond` on pre-built requests (parse, TSTInfo, CMS, one ECDSA
  signature), for a lab key (deterministic RFC 6979 ECDSA) and a real P-256 and P-384 key;
* ``tsa_http``: POST ``/api/v1/timestamp`` to the served TSA on 127.0.0.1 over one keep-alive session,
  sequential and with several client threads;
* ``tsa_verify``: labkit's `verify_timestamp` on the responses (what a verifier pays per timestamp).

    python benchmarks/bench_tsa.py --quick    # a few seconds
    python benchmarks/bench_tsa.py            # the full run
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time


def _emit(**fields: object) -> None:
    print(json.dumps(fields, sort_keys=False), flush=True)


def _rate(n: int, seconds: float) -> float:
    return round(n / seconds, 1)


def _root_json(tsa: object) -> bytes:
    """A trusted root listing `tsa` (a lab log key fills the required tlog entry)."""
    import datetime as dt

    from labkit.keyless.trustroot import LogEntryKey, trusted_root, trusted_root_json
    from labkit.keys import generate
    from labkit.lab import Lab
    from labkit.tsa import TimestampAuthority, tsa_entry

    assert isinstance(tsa, TimestampAuthority)
    key = generate("ecdsa-p256", lab=Lab(seed="bench-log")).public_key()
    log = LogEntryKey("https://rekor.labkit.invalid", key, key.key_id(), dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc))
    return trusted_root_json(trusted_root(tlogs=[log], certificate_authorities=[],
                                          timestamp_authorities=[tsa_entry(tsa.chain)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="small run for development")
    parser.add_argument("-n", type=int, default=None, help="timestamps per measurement")
    parser.add_argument("--threads", type=int, default=4, help="client threads for the concurrent HTTP run")
    args = parser.parse_args()
    n = args.n or (200 if args.quick else 3000)

    import requests

    from labkit.lab import Lab
    from labkit.tsa import TimestampAuthority, build_request, create_tsa
    from labkit.tsa.server import QUERY_TYPE, TimestampServer
    from labkit.verify.timestamp import verify_timestamp
    from labkit.verify.trustroot import TrustedRoot

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
    _emit(bench="tsa_verify", n=n, per_second=_rate(n, time.perf_counter() - t0))


if __name__ == "__main__":
    main()
