"""The Rekor v1 API subset over a real waitress server on a free loopback port, driven by the client."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from labkit.errors import LogError
from labkit.keys import SigningKey, generate
from labkit.lab import Lab
from labkit.tlog import merkle
from labkit.tlog.checkpoint import verify_note
from labkit.tlog.client import RekorAPIError, RekorClient
from labkit.tlog.entries import LogEntry
from labkit.tlog.server import LogServer
from labkit.tlog.store import TransparencyLog
from labkit.tlog.witness import Witness


@pytest.fixture
def served(tmp_path: Path, lab: Lab) -> Iterator[tuple[TransparencyLog, RekorClient]]:
    log = TransparencyLog.open(tmp_path / "log", lab=lab)
    server = LogServer(log, max_body=64 * 1024).start()
    try:
        yield log, RekorClient(server.url)
    finally:
        server.stop()
        log.close()


def _upload(client: RekorClient, signer: SigningKey, data: bytes) -> LogEntry:
    d = hashlib.sha256(data).digest()
    return client.upload_hashedrekord(signer.sign_digest(d), signer.public_key().pem(), d)


def test_create_get_search(served: tuple[TransparencyLog, RekorClient], lab: Lab) -> None:
    log, client = served
    signer = generate("ecdsa-p256", lab=lab, label="signer")
    first = _upload(client, signer, b"one")
    second = _upload(client, signer, b"two")
    assert (first.log_index, second.log_index) == (0, 1)
    assert second.explain(client.public_key()).verified
    assert client.get_by_index(0).body == first.body
    assert client.get_by_uuid(second.uuid).log_index == 1
    assert client.get_by_uuid(second.entry_id).log_index == 1
    assert client.search(hash=hashlib.sha256(b"two").hexdigest()) == [second.entry_id]
    assert client.search(public_key=signer.public_key().pem()) == [first.entry_id, second.entry_id]
    info = client.log_info()
    assert info["treeSize"] == 2 and info["rootHash"] == log.root().hex()
    ck = verify_note(info["signedTreeHead"], log.name, client.public_key(), origin=log.origin)
    assert ck.size == 2


def test_sigstore_python_reads_the_create_response(served: tuple[TransparencyLog, RekorClient], lab: Lab) -> None:
    from sigstore._internal.trust import Keyring, RekorKeyring
    from sigstore.models import TransparencyLogEntry as SigstoreEntry
    from sigstore_models.common.v1 import PublicKey, PublicKeyDetails

    log, client = served
    signer = generate("ecdsa-p256", lab=lab, label="signer")
    d = hashlib.sha256(b"x").digest()
    body = {"apiVersion": "0.0.1", "kind": "hashedrekord", "spec": {
        "data": {"hash": {"algorithm": "sha256", "value": d.hex()}},
        "signature": {"content": base64.b64encode(signer.sign_digest(d)).decode(),
                      "publicKey": {"content": base64.b64encode(signer.public_key().pem()).decode()}}}}
    resp = requests.post(client.url + "/api/v1/log/entries", json=body, timeout=10)
    assert resp.status_code == 201 and resp.headers["Location"].startswith("/api/v1/log/entries/")
    ring = RekorKeyring(Keyring([PublicKey(raw_bytes=base64.b64encode(log.public_key.der()),
                                           key_details=PublicKeyDetails.PKIX_ECDSA_P256_SHA_256)]))
    SigstoreEntry._from_v1_response(resp.json())._verify(ring)
    dup = requests.post(client.url + "/api/v1/log/entries", json=body, timeout=10)
    assert dup.status_code == 409 and dup.json()["code"] == 409 and "Location" in dup.headers


def test_dsse_upload(served: tuple[TransparencyLog, RekorClient], lab: Lab) -> None:
    _, client = served
    key = generate("ecdsa-p256", lab=lab, label="signer")
    payload, ptype = b'{"_type":"https://in-toto.io/Statement/v1"}', "application/vnd.in-toto+json"
    pae = b"DSSEv1 %d %s %d %s" % (len(ptype), ptype.encode(), len(payload), payload)
    env = json.dumps({"payload": base64.b64encode(payload).decode(), "payloadType": ptype,
                      "signatures": [{"sig": base64.b64encode(key.sign(pae)).decode(), "keyid": ""}]})
    entry = client.upload_dsse(env, [key.public_key().pem()])
    assert entry.kind == "dsse"
    assert client.search(hash=hashlib.sha256(payload).hexdigest()) == [entry.entry_id]


def test_consistency_proof_and_witness(served: tuple[TransparencyLog, RekorClient], lab: Lab) -> None:
    log, client = served
    signer = generate("ecdsa-p256", lab=lab, label="signer")
    for i in range(3):
        _upload(client, signer, b"a%d" % i)
    old = client.latest_checkpoint()
    for i in range(5):
        _upload(client, signer, b"b%d" % i)
    proof = client.consistency_proof(3, 8)
    merkle.verify_consistency(3, 8, log.root(3), log.root(8), proof)
    witness = Witness(log.name, client.public_key(), origin=log.origin)
    assert witness.verify_consistency(old, client).size == 8


def _error(resp: requests.Response, status: int) -> str:
    assert resp.status_code == status, resp.text
    assert resp.headers["Content-Type"] == "application/json"
    doc = resp.json()
    assert doc["code"] == status and isinstance(doc["message"], str)
    return str(doc["message"])


def test_rekor_style_errors(served: tuple[TransparencyLog, RekorClient], lab: Lab) -> None:
    _, client = served
    u = client.url
    _error(requests.get(u + "/api/v1/log/entries", params={"logIndex": "7"}, timeout=10), 404)
    _error(requests.get(u + "/api/v1/log/entries", params={"logIndex": "-1"}, timeout=10), 400)
    _error(requests.get(u + "/api/v1/log/entries", params={"logIndex": "x"}, timeout=10), 400)
    _error(requests.get(u + "/api/v1/log/entries", timeout=10), 400)
    _error(requests.get(u + "/api/v1/log/entries/" + "ab" * 32, timeout=10), 404)
    _error(requests.get(u + "/api/v1/log/entries/zz", timeout=10), 400)
    _error(requests.get(u + "/api/v1/nope", timeout=10), 404)
    _error(requests.delete(u + "/api/v1/log", timeout=10), 405)
    _error(requests.post(u + "/api/v1/log/entries", data=b"not json", timeout=10), 400)
    assert "unknown entry kind" in _error(requests.post(
        u + "/api/v1/log/entries", json={"kind": "rekord", "apiVersion": "0.0.1", "spec": {}}, timeout=10), 400)
    _error(requests.post(u + "/api/v1/log/entries", data=b"{" + b" " * 70000 + b"}", timeout=10), 413)
    _error(requests.get(u + "/api/v1/log/proof", params={"firstSize": "3", "lastSize": "9"}, timeout=10), 400)
    _error(requests.get(u + "/api/v1/log/proof", params={"firstSize": "3", "lastSize": "1"}, timeout=10), 400)
    _error(requests.post(u + "/api/v1/index/retrieve", json={}, timeout=10), 400)
    with pytest.raises(RekorAPIError) as err:
        client.get_by_index(99)
    assert err.value.status == 404


def test_client_refuses_remote_logs() -> None:
    with pytest.raises(LogError, match="loopback"):
        RekorClient("https://rekor.sigstore.dev")
    with pytest.raises(LogError):
        RekorClient("ftp://127.0.0.1/")


def test_client_reports_unreachable_log() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(LogError, match="cannot reach"):
        RekorClient(f"http://127.0.0.1:{port}", timeout=2).log_info()


def test_sign_blob_uploader(served: tuple[TransparencyLog, RekorClient], lab: Lab) -> None:
    from labkit.sign import sign_blob

    log, client = served
    key = generate("ecdsa-p256", lab=lab, label="signer")
    bundle = sign_blob(b"artifact", key, tlog=client.uploader())
    (entry,) = bundle.verification_material.tlog_entries
    assert entry.log_index == 0 and entry.inclusion_proof is not None and entry.inclusion_promise
    local = TransparencyLog.open(log.directory.parent / "local", lab=lab)
    bundle2 = sign_blob(b"artifact", key, tlog=local.uploader())
    assert bundle2.verification_material.tlog_entries[0].canonicalized_body == entry.canonicalized_body


def test_concurrent_clients(served: tuple[TransparencyLog, RekorClient], lab: Lab) -> None:
    from concurrent.futures import ThreadPoolExecutor

    log, client = served
    signer = generate("ecdsa-p256", lab=lab, label="signer")

    def worker(w: int) -> list[int]:
        c = RekorClient(client.url)
        return [_upload(c, signer, b"%d/%d" % (w, i)).log_index for i in range(8)]

    with ThreadPoolExecutor(4) as pool:
        indexes = sorted(i for batch in pool.map(worker, range(4)) for i in batch)
    assert indexes == list(range(32)) and log.check_integrity() == 32
    root = log.root()
    for i in range(32):
        e = client.get_by_index(i)
        assert e.inclusion_proof is not None
        merkle.verify_inclusion(i, e.inclusion_proof.tree_size, merkle.leaf_hash(e.body),
                                list(e.inclusion_proof.hashes), e.inclusion_proof.root_hash)
    assert client.log_info()["rootHash"] == root.hex()
