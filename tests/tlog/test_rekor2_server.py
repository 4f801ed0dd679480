"""The Rekor v2 log over HTTP: write call, tile API, and the same directory behind a plain static web server."""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import http.server
import io
import json
import random
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from labkit.bundle import BUNDLE_V03_MEDIA_TYPE, Bundle, TransparencyLogEntry, VerificationMaterial
from labkit.errors import LogError
from labkit.keyless.trustroot import trusted_root_json
from labkit.keys import SigningKey, generate
from labkit.lab import Lab
from labkit.payloads import Statement, Subject, sign_envelope
from labkit.sign import sign_blob
from labkit.tlog import merkle
from labkit.tlog.rekor2 import Rekor2Service, dsse_request, trusted_root_tlog
from labkit.tlog.rekor2_client import Rekor2Client, Rekor2Error
from labkit.tlog.rekor2_server import Rekor2App, Rekor2Server, serve_rekor2
from labkit.tlog.tileclient import DirectorySource, HTTPSource, TileClient
from labkit.tlog.tilelog import TileLog
from labkit.tlog.tiles import decode_bundle
from labkit.tsa import TimestampAuthority, tsa_entry
from labkit.tsa.client import LocalTimestamper
from labkit.verify import StepStatus, explain_bundle, verify_bundle
from tests.tlog.test_rekor2 import request_for

LAB = Lab(seed="rekor2-server-tests")
BUNDLE_V03 = "application/vnd.dev.sigstore.bundle.v0.3+json"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Rekor2Server]:
    with serve_rekor2(tmp_path / "log", lab=LAB) as srv:
        yield srv


@pytest.fixture
def signer() -> SigningKey:
    return generate("ecdsa-p256", lab=LAB, label="signer")


def _post(server: Rekor2Server, body: bytes | dict[str, Any]) -> requests.Response:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return requests.post(f"{server.url}/api/v2/log/entries", data=data, timeout=30,
                         headers={"Content-Type": "application/json"})


def test_create_entry_over_http(server: Rekor2Server, signer: SigningKey) -> None:
    resp = _post(server, request_for(signer, b"over http"))
    assert resp.status_code == 201, resp.text
    tle = resp.json()
    assert tle["logIndex"] == "0" and tle["kindVersion"]["version"] == "0.0.2"
    host = server.url.split("://")[1]
    assert tle["inclusionProof"]["checkpoint"]["envelope"].startswith(f"{host}\n1\n")
    ck = requests.get(f"{server.url}/api/v2/checkpoint", timeout=10)
    assert ck.status_code == 200 and ck.headers["Content-Type"].startswith("text/plain")
    assert ck.text == tle["inclusionProof"]["checkpoint"]["envelope"]
    tile = requests.get(f"{server.url}/api/v2/tile/0/000.p/1", timeout=10)
    assert tile.status_code == 200 and tile.headers["Content-Type"] == "application/octet-stream"
    assert tile.content == merkle.leaf_hash(base64.b64decode(tle["canonicalizedBody"]))
    bundle = requests.get(f"{server.url}/api/v2/tile/entries/000.p/1", timeout=10)
    assert decode_bundle(bundle.content, 1) == [base64.b64decode(tle["canonicalizedBody"])]


@pytest.mark.parametrize(("method", "path", "body", "status"), [
    ("POST", "/api/v2/log/entries", b"{not json", 400),
    ("POST", "/api/v2/log/entries", b"[]", 400),
    ("POST", "/api/v2/log/entries", b'{"hashedRekordRequestV002": {}}', 400),
    ("POST", "/api/v2/log/entries", b"x" * 70000, 413),
    ("GET", "/api/v2/log/entries", None, 405),
    ("GET", "/api/v2/tile/0/000", None, 404),
    ("GET", "/api/v2/tile/0/000.p/2", None, 404),
    ("GET", "/api/v2/tile/entries/x001/000", None, 404),
    ("GET", "/api/v2/tile/0/01", None, 404),
    ("GET", "/api/v2/tile/0/../../.labkit/log.json", None, 404),
    ("GET", "/api/v2/.labkit/log.json", None, 404),
    ("GET", "/api/v1/log", None, 404),
    ("PUT", "/api/v2/checkpoint", None, 405),
])
def test_bad_requests_get_rekor_style_errors(server: Rekor2Server, signer: SigningKey, method: str, path: str,
                                             body: bytes | None, status: int) -> None:
    assert _post(server, request_for(signer, b"one")).status_code == 201
    resp = requests.request(method, server.url + path, data=body, timeout=10)
    assert resp.status_code == status
    doc = resp.json()
    assert set(doc) == {"code", "message", "details"} and doc["message"]
    if status == 400:
        assert doc["code"] == 3  # gRPC INVALID_ARGUMENT, as grpc-gateway answers


def test_invalid_signature_and_ed25519_are_400(server: Rekor2Server, signer: SigningKey) -> None:
    doc = request_for(signer, b"x")
    doc["hashedRekordRequestV002"]["digest"] = base64.b64encode(hashlib.sha256(b"y").digest()).decode()
    resp = _post(server, doc)
    assert resp.status_code == 400 and "does not verify" in resp.json()["message"]
    ed = generate("ed25519", lab=LAB, label="ed")
    resp = _post(server, request_for(ed, b"x", "PKIX_ED25519"))
    assert resp.status_code == 400 and "Ed25519" in resp.json()["message"]
    assert server.log.size == 0


def _trusted_root(server: Rekor2Server, tsa: TimestampAuthority) -> bytes:
    """A trusted root listing the tile log as Rekor v2 does (Ed25519 key, logId = checkpointKeyId) and the TSA."""
    start = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)
    doc = {
        "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "tlogs": [trusted_root_tlog(server.url, server.log.public_key, server.log.key_id, start)],
        "certificateAuthorities": [],
        "ctlogs": [],
        "timestampAuthorities": [tsa_entry(tsa.chain).to_dict()],
    }
    return trusted_root_json(doc)


def _bundle(data: bytes, tle: dict[str, Any], stamp: bytes) -> str:
    """A v0.3 message-signature bundle around the log's answer (the signature is the logged one)."""
    sig = base64.b64decode(json.loads(base64.b64decode(tle["canonicalizedBody"]))["spec"]["hashedRekordV002"]
                           ["signature"]["content"])
    return json.dumps({
        "mediaType": BUNDLE_V03,
        "verificationMaterial": {
            "publicKey": {"hint": ""},
            "tlogEntries": [tle],
            "timestampVerificationData": {"rfc3161Timestamps": [{"signedTimestamp": base64.b64encode(stamp).decode()}]},
        },
        "messageSignature": {
            "messageDigest": {"algorithm": "SHA2_256",
                              "digest": base64.b64encode(hashlib.sha256(data).digest()).decode()},
            "signature": base64.b64encode(sig).decode(),
        },
    })


def test_a_v03_bundle_from_the_log_verifies_with_labkits_verifier(server: Rekor2Server, signer: SigningKey) -> None:
    tsa = TimestampAuthority.create(lab=LAB)
    data = b"a keyed artifact logged in Rekor v2\n"
    for i in range(300):  # a tree with full and partial tiles
        assert _post(server, request_for(signer, f"filler {i}".encode())).status_code == 201
    tle = _post(server, request_for(signer, data)).json()
    sig = base64.b64decode(request_for(signer, data)["hashedRekordRequestV002"]["signature"]["content"])
    bundle = _bundle(data, tle, LocalTimestamper(tsa).timestamp(sig))
    root = _trusted_root(server, tsa)
    result = verify_bundle(bundle, data, root, key=signer.public_key())
    assert result.verified
    passed = {s.id for s in result.steps if s.status == StepStatus.PASSED}
    assert {"binding.digest", "tlog.inclusion_proof", "tlog.checkpoint.signature", "timestamp.rfc3161"} <= passed
    # the binding is checked: another artifact fails at the digest step
    bad = explain_bundle(bundle, b"other", root, key=signer.public_key())
    assert not bad.verified


def _static_server(directory: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(directory))

    class Quiet(handler.func):  # type: ignore[name-defined,misc]
        def log_message(self, *args: Any) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(directory)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


def test_a_plain_static_server_serves_the_directory_and_proofs_verify(server: Rekor2Server, signer: SigningKey) -> None:
    bodies = []
    for i in range(270):
        tle = _post(server, request_for(signer, f"static {i}".encode())).json()
        bodies.append(base64.b64decode(tle["canonicalizedBody"]))
    old_note = server.log.signed_checkpoint()
    for i in range(270, 600):
        tle = _post(server, request_for(signer, f"static {i}".encode())).json()
        bodies.append(base64.b64decode(tle["canonicalizedBody"]))
    httpd, url = _static_server(server.log.directory)
    try:
        client = TileClient(HTTPSource(url), origin=server.log.origin, key=server.log.public_key)
        new, _ = client.checkpoint()
        old = client.verify_checkpoint(old_note)
        assert (old.size, new.size) == (270, 600)
        client.verify_consistency(old, new)
        for index in (0, 255, 256, 269, 511, 599):
            client.verify_inclusion(index, bodies[index], new)
            client.verify_inclusion(index, bodies[index], old) if index < 270 else None
            assert client.entry(index, new.size) == bodies[index]
        # the partial tiles of the old checkpoint were deleted once full; the client falls back to the full tile
        assert not (server.log.directory / "tile/0/001.p/14").exists()
        client.verify_inclusion(269, bodies[269], old)
        # a bundle whose proof came only through the static server verifies
        tsa = TimestampAuthority.create(lab=LAB)
        data = b"proved through a static server\n"
        tle = _post(server, request_for(signer, data)).json()
        latest, note = client.checkpoint()
        index = int(tle["logIndex"])
        proof = client.verify_inclusion(index, base64.b64decode(tle["canonicalizedBody"]), latest)
        tle["inclusionProof"] = {"logIndex": str(index), "rootHash": base64.b64encode(latest.root_hash).decode(),
                                 "treeSize": str(latest.size), "hashes": [base64.b64encode(h).decode() for h in proof],
                                 "checkpoint": {"envelope": note}}
        sig = base64.b64decode(request_for(signer, data)["hashedRekordRequestV002"]["signature"]["content"])
        bundle = _bundle(data, tle, LocalTimestamper(tsa).timestamp(sig))
        assert verify_bundle(bundle, data, _trusted_root(server, tsa), key=signer.public_key()).verified
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_disk_http_and_static_reads_agree(server: Rekor2Server, signer: SigningKey) -> None:
    for i in range(40):
        _post(server, request_for(signer, f"agree {i}".encode()))
    httpd, url = _static_server(server.log.directory)
    try:
        clients = [TileClient(src, origin=server.log.origin, key=server.log.public_key)
                   for src in (DirectorySource(server.log.directory), HTTPSource(server.url + "/api/v2"),
                               HTTPSource(url))]
        answers = [(c.checkpoint()[1], c.inclusion_proof(17, 40), c.entry(39, 40)) for c in clients]
        assert answers[0] == answers[1] == answers[2]
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_sign_blob_through_the_client_makes_a_verifiable_v2_bundle(server: Rekor2Server, signer: SigningKey) -> None:
    client = Rekor2Client(server.url)
    data = b"signed with sign_blob, logged in Rekor v2\n"
    bundle = sign_blob(data, signer, tlog=client.uploader())
    entry = bundle.verification_material.tlog_entries[0]
    assert (entry.kind, entry.version, entry.integrated_time, entry.inclusion_promise) == ("hashedrekord", "0.0.2",
                                                                                         None, None)
    tsa = TimestampAuthority.create(lab=LAB)
    signature = bundle.message_signature.signature if bundle.message_signature else b""
    bundle.verification_material.rfc3161_timestamps.append(LocalTimestamper(tsa).timestamp(signature))
    assert verify_bundle(bundle, data, _trusted_root(server, tsa), key=signer.public_key()).verified
    ed = generate("ed25519", lab=LAB, label="ed")
    with pytest.raises(Rekor2Error, match="400.*Ed25519"):
        sign_blob(data, ed, tlog=client.uploader())
    with pytest.raises(LogError, match="loopback"):
        Rekor2Client("http://192.0.2.1:80")


def _wsgi(app: Rekor2App, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
    status: list[str] = []
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "CONTENT_LENGTH": str(len(body)),
               "wsgi.input": io.BytesIO(body)}
    out = b"".join(app(environ, lambda s, h: status.append(s)))
    return int(status[0].split()[0]), out


def test_mutated_requests_never_get_a_500(tmp_path: Path, signer: SigningKey) -> None:
    """Random byte and value mutations of a valid request: every answer is 201 or a JSON 4xx, never a 500."""
    log = TileLog.open(tmp_path / "log", origin="fuzz.labkit.invalid", lab=LAB)
    rng = random.Random(15)
    good = json.dumps(request_for(signer, b"fuzz")).encode()
    values: list[Any] = [None, 0, -1, 1.5, True, "", "=", "AAAA", [], {}, "x" * 5000, {"rawBytes": "AAAA"}]
    with Rekor2Service(log) as service:
        app = Rekor2App(log, service)
        for _ in range(300):
            if rng.random() < 0.5:
                data = bytearray(good)
                for _ in range(rng.randint(1, 4)):
                    data[rng.randrange(len(data))] = rng.randrange(256)
                body = bytes(data)
            else:
                doc = json.loads(good)
                node = doc["hashedRekordRequestV002"]
                while isinstance(node, dict) and rng.random() < 0.7:
                    key = rng.choice(list(node))
                    if not isinstance(node[key], dict):
                        break
                    node = node[key]
                node[rng.choice([*node, "extra"])] = rng.choice(values)
                body = json.dumps(doc).encode()
            status, answer = _wsgi(app, "POST", "/api/v2/log/entries", body)
            assert status in (201, 400), (status, answer[:200])
            if status == 400:
                assert json.loads(answer)["code"] == 3


def test_a_dsse_bundle_logged_as_hashedrekord_over_its_pae_verifies(server: Rekor2Server, signer: SigningKey) -> None:
    data = b"an attested artifact\n"
    statement = Statement([Subject("artifact", {"sha256": hashlib.sha256(data).hexdigest()})],
                          "https://example.com/predicate/v1", {"ok": True})
    envelope = sign_envelope(statement.to_json(), "application/vnd.in-toto+json", signer)
    tle = Rekor2Client(server.url).create_entry(dsse_request(envelope, signer.public_key()))
    body = json.loads(base64.b64decode(tle["canonicalizedBody"]))["spec"]["hashedRekordV002"]
    assert base64.b64decode(body["data"]["digest"]) == hashlib.sha256(envelope.pae()).digest()
    tsa = TimestampAuthority.create(lab=LAB)
    material = VerificationMaterial(public_key_hint="", tlog_entries=[TransparencyLogEntry.from_dict(tle, "tle")],
                                    rfc3161_timestamps=[LocalTimestamper(tsa).timestamp(envelope.signatures[0].sig)])
    bundle = Bundle(BUNDLE_V03_MEDIA_TYPE, material, envelope)
    assert verify_bundle(bundle, data, _trusted_root(server, tsa), key=signer.public_key()).verified


def test_a_log_is_served_only_at_its_origin(tmp_path: Path) -> None:
    with serve_rekor2(tmp_path / "log", lab=LAB) as first:
        origin = first.log.origin
        port = first.server.port
    with pytest.raises(LogError, match="origin"):
        serve_rekor2(tmp_path / "log", lab=LAB)  # another port: the checkpoints would name the wrong host
    with serve_rekor2(tmp_path / "log", lab=LAB, port=port) as again:
        assert again.log.origin == origin
