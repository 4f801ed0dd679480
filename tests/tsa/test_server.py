"""The TSA served on loopback through a real socket: sigstore's routes, status codes and media types."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
import rfc3161_client
from cryptography import x509

from labkit._internal import der
from labkit.lab import Lab
from labkit.tsa import MAX_REQUEST_BYTES, FailureInfo, TimestampAuthority, build_request
from labkit.tsa.server import QUERY_TYPE, REPLY_TYPE, TimestampServer
from labkit.verify.timestamp import verify_timestamp
from tests.tsa.conftest import response_status as _status
from tests.tsa.conftest import root_with


@pytest.fixture
def served() -> Iterator[TimestampServer]:
    with TimestampServer(TimestampAuthority.create(lab=Lab(seed="served"))) as server:
        yield server


def _post(server: TimestampServer, body: bytes, content_type: str | None = QUERY_TYPE) -> requests.Response:
    headers = {"Content-Type": content_type} if content_type else {}
    return requests.post(server.url, data=body, headers=headers, timeout=30)


def test_granted_over_http(served: TimestampServer) -> None:
    r = _post(served, build_request(b"sig", nonce=42))
    assert r.status_code == 201 and r.headers["Content-Type"] == REPLY_TYPE
    assert verify_timestamp(r.content, b"sig", root_with(served.authority)).time.year == 2026
    assert rfc3161_client.decode_timestamp_response(r.content).tst_info.nonce == 42
    assert _post(served, build_request(b"sig"), f"{QUERY_TYPE}; charset=binary").status_code == 201


def test_sigstore_python_client_gets_a_timestamp(served: TimestampServer) -> None:
    """sigstore-python 4.5.1's own TSA client (what `sigstore sign` uses) talks to the served TSA."""
    from sigstore._internal.timestamp import TimestampAuthorityClient

    reply = TimestampAuthorityClient(served.url).request_timestamp(b"signature bytes")
    assert verify_timestamp(reply.as_bytes(), b"signature bytes", root_with(served.authority))


@pytest.mark.parametrize(("body", "fail_info"), [
    (b"\x30\x03\x02\x01\x01", FailureInfo.BAD_DATA_FORMAT),
    (b"not DER at all", FailureInfo.BAD_DATA_FORMAT),
    (build_request(b"x", policy="1.2.3"), FailureInfo.UNACCEPTED_POLICY),
    (der.sequence(der.integer(1), der.sequence(der.sequence(der.oid("1.3.14.3.2.26")), der.octet_string(bytes(20)))),
     FailureInfo.BAD_ALG),
])
def test_refused_requests_are_400_with_an_rfc3161_failure(served: TimestampServer, body: bytes,
                                                          fail_info: FailureInfo) -> None:
    r = _post(served, body)
    assert r.status_code == 400 and r.headers["Content-Type"] == REPLY_TYPE
    assert _status(r.content) == (2, fail_info, False)


@pytest.mark.parametrize("content_type", [None, "application/json", "application/timestamp-reply", "text/plain"])
def test_wrong_content_type_is_415(served: TimestampServer, content_type: str | None) -> None:
    r = _post(served, build_request(b"x"), content_type)
    assert r.status_code == 415 and r.json()["code"] == 415


def test_oversize_is_413_and_never_read(served: TimestampServer) -> None:
    r = _post(served, bytes(MAX_REQUEST_BYTES + 1))
    assert r.status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer encoding
        for _ in range(8):
            yield bytes(MAX_REQUEST_BYTES)

    r = requests.post(served.url, data=chunks(), headers={"Content-Type": QUERY_TYPE}, timeout=30)
    assert r.status_code == 413


def test_certchain_and_routing(served: TimestampServer) -> None:
    r = requests.get(served.base_url + "/api/v1/timestamp/certchain", timeout=30)
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/pem-certificate-chain"
    assert x509.load_pem_x509_certificates(r.content) == list(served.authority.chain)
    assert requests.get(served.url, timeout=30).status_code == 405
    assert requests.post(served.base_url + "/api/v1/timestamp/certchain", timeout=30).status_code == 405
    assert requests.get(served.base_url + "/nope", timeout=30).status_code == 404


def test_the_wsgi_app_never_answers_500_to_bad_input() -> None:
    """Straight through the WSGI app: odd environs give 4xx, never a traceback."""
    import io

    from labkit.tsa.server import make_app

    app = make_app(TimestampAuthority.create(lab=Lab(seed="wsgi")))
    statuses: list[str] = []

    def start(status: str, headers: list[tuple[str, str]]) -> None:
        statuses.append(status)

    for environ in (
        {"REQUEST_METHOD": "POST", "PATH_INFO": "/api/v1/timestamp", "CONTENT_TYPE": QUERY_TYPE,
         "CONTENT_LENGTH": "abc", "wsgi.input": io.BytesIO(b"")},
        {"REQUEST_METHOD": "POST", "PATH_INFO": "/api/v1/timestamp", "CONTENT_TYPE": QUERY_TYPE,
         "wsgi.input": io.BytesIO(b"\x30")},
        {"REQUEST_METHOD": "POST", "PATH_INFO": "/api/v1/timestamp", "CONTENT_TYPE": QUERY_TYPE,
         "CONTENT_LENGTH": "0", "wsgi.input": io.BytesIO(b"")},
    ):
        app(environ, start)
    assert [s.split()[0] for s in statuses] == ["400", "400", "400"]
