"""labkit._internal.wsgi: both servers answer 4xx (never 500) to out-of-range or deeply nested requests, and drop
stalled clients (issue 12 items 11 and 13). Raw sockets on loopback."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives import serialization

from labkit._internal.wsgi import DEFAULT_TIMEOUTS, Timeouts
from labkit.keyless.ca import CertificateRequest
from labkit.keyless.instance import Instance
from labkit.keyless.server import InstanceServer
from labkit.keys import generate
from labkit.lab import Lab
from labkit.tlog.server import LogServer
from labkit.tlog.store import TransparencyLog

FAST = Timeouts(request=1, idle=1)
DEEP = ("[" * 5000 + "]" * 5000).encode()


@pytest.fixture
def log_server(tmp_path: Path) -> Iterator[LogServer]:
    log = TransparencyLog.open(tmp_path / "log", lab=Lab(seed="wsgi"))
    server = LogServer(log, timeouts=FAST).start()
    try:
        yield server
    finally:
        server.stop()
        log.close()


@pytest.fixture(scope="module")
def instance_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InstanceServer]:
    inst = Instance.create(tmp_path_factory.mktemp("wsgi") / "inst", seed="wsgi")
    server = InstanceServer(inst, timeouts=FAST).start()
    try:
        yield server
    finally:
        server.stop()
        inst.close()


@pytest.mark.parametrize("query", [
    "logIndex=9223372036854775808", "logIndex=99999999999999999999", "logIndex=-1", "logIndex=1e3",
])
def test_out_of_range_log_index_is_400(log_server: LogServer, query: str) -> None:
    r = requests.get(f"{log_server.url}/api/v1/log/entries?{query}", timeout=10)
    assert r.status_code == 400 and r.json()["code"] == 400


def test_largest_int64_index_is_not_found(log_server: LogServer) -> None:
    r = requests.get(f"{log_server.url}/api/v1/log/entries?logIndex=9223372036854775807", timeout=10)
    assert r.status_code == 404


@pytest.mark.parametrize("query", ["lastSize=9223372036854775808", "firstSize=9223372036854775808&lastSize=1"])
def test_out_of_range_proof_sizes_are_400(log_server: LogServer, query: str) -> None:
    assert requests.get(f"{log_server.url}/api/v1/log/proof?{query}", timeout=10).status_code == 400


@pytest.mark.parametrize("path", ["/api/v1/log/entries", "/api/v1/index/retrieve"])
def test_deeply_nested_body_is_400_for_the_log(log_server: LogServer, path: str) -> None:
    r = requests.post(f"{log_server.url}{path}", data=DEEP, headers={"Content-Type": "application/json"}, timeout=10)
    assert r.status_code == 400 and "nested" in r.json()["message"]


def test_deeply_nested_body_is_400_for_the_ca(instance_server: InstanceServer) -> None:
    r = requests.post(f"{instance_server.url}/api/v2/signingCert", data=DEEP,
                      headers={"Content-Type": "application/json", "Authorization": "Bearer x"}, timeout=10)
    assert r.status_code == 400 and "nested" in r.json()["message"]


def test_deeply_nested_token_claims_are_4xx_for_the_ca(instance_server: InstanceServer) -> None:
    import base64

    def part(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    token = ".".join([part(b'{"alg":"EdDSA"}'), part(b'{"a":' + DEEP + b"}"), part(b"sig")])
    csr = CertificateRequest.create_csr(generate("ecdsa-p256")).csr
    assert csr is not None
    pem = csr.public_bytes(serialization.Encoding.PEM)
    r = requests.post(f"{instance_server.url}/api/v2/signingCert",
                      json={"certificateSigningRequest": base64.b64encode(pem).decode()},
                      headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert 400 <= r.status_code < 500, r.text


def _seconds_until_closed(url: str, first_bytes: bytes, drip: bytes = b"", limit: float = 15.0) -> float:
    """Connect, send `first_bytes`, then one byte of `drip` every 0.3 s; seconds until the server hangs up."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    start = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=limit) as sock:
        sock.sendall(first_bytes)
        sock.settimeout(0.3)
        i = 0
        while time.monotonic() - start < limit:
            try:
                if sock.recv(1024) == b"":
                    return time.monotonic() - start
            except TimeoutError:
                pass
            except ConnectionResetError:
                return time.monotonic() - start
            if drip:
                try:
                    sock.sendall(drip[i % len(drip): i % len(drip) + 1])
                except (BrokenPipeError, ConnectionResetError):
                    return time.monotonic() - start
                i += 1
    return limit


@pytest.mark.parametrize(("first", "drip"), [
    (b"", b""),  # connects and says nothing
    (b"GET /api/v1/log HTTP/1.1\r\nHost: x\r\n", b""),  # partial headers, then silence
    (b"GET /api/v1/log HTTP/1.1\r\n", b"X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"),  # drips headers
    (b"POST /api/v1/log/entries HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n", b"{"),  # drips the body
], ids=["silent", "partial-headers", "dripped-headers", "dripped-body"])
def test_stalled_clients_are_disconnected(log_server: LogServer, instance_server: InstanceServer,
                                          first: bytes, drip: bytes) -> None:
    for url in (log_server.url, instance_server.url):
        assert _seconds_until_closed(url, first, drip) < 5.0, url


def test_a_stalled_client_does_not_block_others(log_server: LogServer) -> None:
    host, port = log_server.url.removeprefix("http://").rsplit(":", 1)
    stalled = [socket.create_connection((host, int(port))) for _ in range(8)]
    try:
        for s in stalled:
            s.sendall(b"GET /api/v1/log HTTP/1.1\r\n")
        assert requests.get(f"{log_server.url}/api/v1/log", timeout=10).status_code == 200
    finally:
        for s in stalled:
            s.close()


def test_keep_alive_between_requests_still_works(log_server: LogServer) -> None:
    with requests.Session() as session:
        for _ in range(3):
            assert session.get(f"{log_server.url}/api/v1/log", timeout=10).status_code == 200


def test_default_timeouts_are_bounded() -> None:
    assert 1 <= DEFAULT_TIMEOUTS.request <= 30 and 1 <= DEFAULT_TIMEOUTS.idle <= 30


@pytest.mark.parametrize("bad", [{"request": 0}, {"idle": -1}, {"request": 1.5}])
def test_timeouts_are_whole_positive_seconds(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Timeouts(**bad)  # type: ignore[arg-type]
