"""The signer's side: asking a TSA (in process or over loopback HTTP) and checking what comes back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from labkit._internal import der
from labkit._internal.wsgi import BackgroundServer, Environ, StartResponse
from labkit.lab import Lab
from labkit.tsa import TimestampAuthority
from labkit.tsa.client import HTTPTimestamper, LocalTimestamper, TimestampFailed, check_response
from labkit.tsa.server import TimestampServer
from labkit.verify.timestamp import verify_timestamp
from tests.tsa.conftest import root_with


@pytest.fixture
def served(tsa: TimestampAuthority) -> Iterator[TimestampServer]:
    with TimestampServer(tsa) as server:
        yield server


def test_local_and_http_timestampers_give_verifiable_timestamps(tsa: TimestampAuthority,
                                                                 served: TimestampServer) -> None:
    root = root_with(tsa)
    for stamper in (LocalTimestamper(tsa), HTTPTimestamper(served.url)):
        assert verify_timestamp(stamper.timestamp(b"the signature"), b"the signature", root).time.year == 2026


def test_lab_local_timestamps_are_reproducible() -> None:
    def run() -> bytes:
        return LocalTimestamper(TimestampAuthority.create(lab=Lab(seed="client"))).timestamp(b"sig")

    assert run() == run()


def test_check_response_catches_what_a_client_can_see(tsa: TimestampAuthority) -> None:
    from labkit.tsa import build_request

    good = tsa.respond(build_request(b"sig", nonce=5))
    check_response(good, b"sig", 5)
    with pytest.raises(TimestampFailed, match="other than this signature"):
        check_response(good, b"another signature", 5)
    with pytest.raises(TimestampFailed, match="nonce"):
        check_response(good, b"sig", 6)
    with pytest.raises(TimestampFailed, match="refused"):
        check_response(tsa.respond(b"junk"), b"sig", 5)
    with pytest.raises(TimestampFailed, match="not a TimeStampResp"):
        check_response(b"\x30\x03\x02\x01\x00", b"sig", 5)


def _app(status: str, body: bytes) -> BackgroundServer:
    """A fake TSA answering `body`; past 64 KiB without Content-Length (chunked), to test the unread limit."""
    def app(environ: Environ, start: StartResponse) -> list[bytes]:
        length = [] if len(body) > 64 * 1024 else [("Content-Length", str(len(body)))]
        start(status, [("Content-Type", "application/json"), *length])
        return [body[i : i + 4096] for i in range(0, len(body), 4096)]

    return BackgroundServer(app, ident="fake-tsa")


@pytest.mark.parametrize(("status", "body", "message"), [
    ("400 Bad Request", b'{"code":400,"message":"Weak hash algorithm in timestamp request"}', "Weak hash"),
    ("500 Internal Server Error", b"", "HTTP 500"),
    ("201 Created", b"\x30" * (70 * 1024), "more than 65536 bytes"),
    ("201 Created", der.sequence(der.sequence(der.integer(0))), "no timestamp token"),
])
def test_http_failures_are_one_labkit_error(status: str, body: bytes, message: str) -> None:
    server = _app(status, body).start()
    try:
        with pytest.raises(TimestampFailed, match=message):
            HTTPTimestamper(server.url + "/api/v1/timestamp").timestamp(b"sig")
    finally:
        server.stop()


def test_unreachable_tsa_is_one_labkit_error() -> None:
    with pytest.raises(TimestampFailed, match="cannot reach"):
        HTTPTimestamper("http://127.0.0.1:9/api/v1/timestamp", timeout=2).timestamp(b"sig")
