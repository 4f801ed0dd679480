"""The Rekor v2 write path: requests, canonical entries, batching, and bundles a Sigstore verifier accepts."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from labkit.keys import SigningKey, generate
from labkit.lab import Lab
from labkit.tlog import merkle
from labkit.tlog.rekor2 import (
    Rekor2Service,
    RekorRequestError,
    canonical_entry,
    parse_canonical_entry,
    parse_request,
    verify_request,
)
from labkit.tlog.tilelog import TileLog
from tests.conftest import SHARED

LAB = Lab(seed="rekor2-tests")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def request_for(key: SigningKey, data: bytes, details: str = "PKIX_ECDSA_P256_SHA_256", *,
                cert: bytes | None = None) -> dict[str, Any]:
    """A hashedRekordRequestV002 for `data` signed by `key`."""
    hash_name = "sha384" if "384" in details else "sha256"
    digest = hashlib.new(hash_name, data).digest()
    verifier: dict[str, Any] = {"keyDetails": details}
    if cert is not None:
        verifier["x509Certificate"] = {"rawBytes": _b64(cert)}
    else:
        verifier["publicKey"] = {"rawBytes": _b64(key.public_key().der())}
    return {"hashedRekordRequestV002": {"digest": _b64(digest), "signature": {
        "content": _b64(key.sign(data)), "verifier": verifier}}}


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Rekor2Service]:
    log = TileLog.open(tmp_path / "log", origin="rekor2.labkit.invalid", lab=LAB)
    with Rekor2Service(log) as svc:
        yield svc


def test_entry_is_the_canonical_hashedrekord_002_body(service: Rekor2Service) -> None:
    key = generate("ecdsa-p256", lab=LAB, label="signer")
    tle = service.create_entry(json.dumps(request_for(key, b"artifact")).encode())
    body = base64.b64decode(tle["canonicalizedBody"])
    assert body == (
        b'{"apiVersion":"0.0.2","kind":"hashedrekord","spec":{"hashedRekordV002":{"data":{"algorithm":"SHA2_256",'
        b'"digest":"' + _b64(hashlib.sha256(b"artifact").digest()).encode() + b'"},"signature":{"content":"'
        + json.loads(body)["spec"]["hashedRekordV002"]["signature"]["content"].encode()
        + b'","verifier":{"keyDetails":"PKIX_ECDSA_P256_SHA_256","publicKey":{"rawBytes":"'
        + _b64(key.public_key().der()).encode() + b'"}}}}}}'
    )
    assert tle["kindVersion"] == {"kind": "hashedrekord", "version": "0.0.2"}
    assert tle["logIndex"] == "0" and "integratedTime" not in tle and "inclusionPromise" not in tle
    assert base64.b64decode(tle["logId"]["keyId"]) == service.key_id and len(service.key_id) == 32
    proof = tle["inclusionProof"]
    assert proof["treeSize"] == "1" and proof["hashes"] == []
    assert base64.b64decode(proof["rootHash"]) == merkle.leaf_hash(body)
    assert proof["checkpoint"]["envelope"].startswith("rekor2.labkit.invalid\n1\n")


@pytest.mark.parametrize("case", ["rekor2-happy-path", "rekor2-dsse-happy-path", "rekor2-timestamp-with-embedded-cert"])
def test_canonical_form_matches_rekor_tiles_bytes(case: str) -> None:
    """Bodies logged by the real Rekor v2 (conformance bundles) parse and re-canonicalise to the same bytes."""
    path = SHARED / "conformance" / "bundle-verify" / case / "bundle.sigstore.json"
    if not path.exists():
        pytest.skip(f"{path} is not available")
    entry = json.loads(path.read_text())["verificationMaterial"]["tlogEntries"][0]
    body = base64.b64decode(entry["canonicalizedBody"])
    assert canonical_entry(parse_canonical_entry(body)) == body
    with pytest.raises(RekorRequestError, match="canonical"):
        parse_canonical_entry(json.dumps(json.loads(body), indent=1).encode())


@pytest.mark.parametrize(("alg", "details"), [("ecdsa-p256", "PKIX_ECDSA_P256_SHA_256"),
                                              ("ecdsa-p384", "PKIX_ECDSA_P384_SHA_384"),
                                              ("rsa-3072", "PKIX_RSA_PKCS1V15_3072_SHA256")])
def test_supported_algorithms_verify(alg: str, details: str) -> None:
    key = generate(alg, lab=LAB, label="signer")
    verify_request(parse_request(request_for(key, b"data", details)))


def _mutate(doc: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    doc = json.loads(json.dumps(doc))
    *parents, last = path.split(".")
    node = doc
    for p in parents:
        node = node[p]
    if value is _DELETE:
        del node[last]
    else:
        node[last] = value
    return doc


_DELETE = object()
_R = "hashedRekordRequestV002"


@pytest.mark.parametrize(("path", "value", "message"), [
    (f"{_R}.digest", "not base64!", "not valid base64"),
    (f"{_R}.digest", _b64(b"short"), "digest is 5 bytes"),
    (f"{_R}.signature.content", _b64(b"\x30\x00"), "does not verify"),
    (f"{_R}.signature.verifier.keyDetails", "PKIX_ED25519", "pure Ed25519"),
    (f"{_R}.signature.verifier.keyDetails", "PKIX_ECDSA_P384_SHA_384", "curve|digest"),
    (f"{_R}.signature.verifier.keyDetails", "PKIX_RSA_PKCS1V15_2048_SHA256", "not what"),
    (f"{_R}.signature.verifier.keyDetails", "MADE_UP", "unsupported key details"),
    (f"{_R}.signature.verifier.keyDetails", 7, "must be a string"),
    (f"{_R}.signature.verifier.publicKey.rawBytes", _b64(b"junk"), "cannot be parsed"),
    (f"{_R}.signature.verifier.publicKey", _DELETE, "exactly one of publicKey"),
    (f"{_R}.signature.verifier.x509Certificate", {"rawBytes": _b64(b"x")}, "exactly one of publicKey"),
    (f"{_R}.signature", "flat", "must be a JSON object"),
    (f"{_R}.digest", _DELETE, "digest is missing"),
    ("dsseRequestV002", {}, "dsse entries are not accepted"),
    ("extra", 1, "exactly hashedRekordRequestV002"),
])
def test_bad_requests_are_refused_with_one_message(path: str, value: Any, message: str) -> None:
    key = generate("ecdsa-p256", lab=LAB, label="signer")
    with pytest.raises(RekorRequestError, match=message):
        verify_request(parse_request(_mutate(request_for(key, b"data"), path, value)))


def test_pure_ed25519_is_refused(service: Rekor2Service) -> None:
    key = generate("ed25519", lab=LAB, label="ed")
    doc = request_for(key, b"data", "PKIX_ED25519")
    with pytest.raises(RekorRequestError, match="pure Ed25519"):
        service.create_entry(doc)
    assert service.log.size == 0


@pytest.mark.parametrize("raw", [b"", b"{", b"[]", b'{"a": NaN}', b"\xff", b"[" * 100 + b"]" * 100])
def test_malformed_json_is_refused(raw: bytes) -> None:
    with pytest.raises(RekorRequestError):
        parse_request(raw)


def test_snake_case_proto_names_are_accepted() -> None:
    key = generate("ecdsa-p256", lab=LAB, label="signer")
    doc = request_for(key, b"data")[_R]
    snake = {"hashed_rekord_request_v002": {"digest": doc["digest"], "signature": {
        "content": doc["signature"]["content"],
        "verifier": {"key_details": "PKIX_ECDSA_P256_SHA_256",
                     "public_key": {"raw_bytes": doc["signature"]["verifier"]["publicKey"]["rawBytes"]}}}}}
    assert canonical_entry(parse_request(snake)) == canonical_entry(parse_request(request_for(key, b"data")))


def test_duplicates_get_the_first_index(service: Rekor2Service) -> None:
    key = generate("ecdsa-p256", lab=LAB, label="signer")
    first = service.create_entry(request_for(key, b"one"))
    service.create_entry(request_for(key, b"two"))
    again = service.create_entry(request_for(key, b"one"))
    assert again["logIndex"] == first["logIndex"] == "0"
    assert again["inclusionProof"]["treeSize"] == "2" and service.log.size == 2


def test_concurrent_writers_are_batched_and_each_proof_verifies(service: Rekor2Service) -> None:
    keys = [generate("ecdsa-p256", lab=LAB, label=f"signer{i}") for i in range(4)]
    log = service.log
    assert isinstance(log, TileLog)
    results: list[dict[str, Any]] = []
    lock = threading.Lock()

    def write(k: int) -> None:
        for i in range(60):
            tle = service.create_entry(request_for(keys[k], f"{k}/{i}".encode()))
            with lock:
                results.append(tle)

    threads = [threading.Thread(target=write, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(int(r["logIndex"]) for r in results) == list(range(240))
    checkpoints = {r["inclusionProof"]["checkpoint"]["envelope"] for r in results}
    assert len(checkpoints) < 240  # several entries shared a batch
    for r in results:
        p = r["inclusionProof"]
        ck = log.verify_checkpoint(p["checkpoint"]["envelope"])
        merkle.verify_inclusion(int(r["logIndex"]), ck.size, merkle.leaf_hash(base64.b64decode(r["canonicalizedBody"])),
                                [base64.b64decode(h) for h in p["hashes"]], ck.root_hash)


def test_service_restarts_with_its_dedup_index(tmp_path: Path) -> None:
    key = generate("ecdsa-p256", lab=LAB, label="signer")
    log = TileLog.open(tmp_path, origin="restart.example", lab=LAB)
    with Rekor2Service(log) as svc:
        svc.create_entry(request_for(key, b"kept"))
    with Rekor2Service(TileLog.open(tmp_path, lab=LAB)) as svc:
        assert svc.create_entry(request_for(key, b"kept"))["logIndex"] == "0"
        assert svc.log.size == 1
