"""Rekor v1 entry bodies, SETs, and the entry record."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest
import rfc8785

from labkit.errors import LogError, VerificationError
from labkit.keys import generate
from labkit.lab import Lab
from labkit.tlog.entries import (
    dsse_body,
    entry_uuid,
    hashedrekord_body,
    parse_body,
    proposed_to_body,
    set_payload,
    sign_set,
    verify_set,
)
from tests.conftest import SHARED

CASES = SHARED / "conformance" / "bundle-verify"


def _entry(case: str) -> tuple[dict[str, Any], dict[str, Any]]:
    bundle = json.loads((CASES / case / "bundle.sigstore.json").read_text())
    return dict(bundle["verificationMaterial"]["tlogEntries"][0]), bundle


def test_real_hashedrekord_body_is_rebuilt_byte_for_byte() -> None:
    entry, bundle = _entry("happy-path-v0.3")
    body = base64.b64decode(entry["canonicalizedBody"])
    parsed = parse_body(body)
    assert parsed.kind == "hashedrekord" and parsed.version == "0.0.1"
    (sig, pem), = parsed.signatures()
    digest = parsed.spec["data"]["hash"]["value"]
    assert hashedrekord_body(sig, pem, digest) == body
    assert parsed.artifact_digest == "sha256:" + digest
    assert parsed.index_keys[0] == "sha256:" + digest


def test_real_dsse_body_parses_and_signatures_are_rebuilt() -> None:
    entry, bundle = _entry("happy-path-intoto-in-dsse-v3")
    body = base64.b64decode(entry["canonicalizedBody"])
    parsed = parse_body(body)
    assert parsed.kind == "dsse"
    env = bundle["dsseEnvelope"]
    cert_der = base64.b64decode(bundle["verificationMaterial"]["certificate"]["rawBytes"])
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    pem = x509.load_der_x509_certificate(cert_der).public_bytes(serialization.Encoding.PEM)
    ours = json.loads(dsse_body(json.dumps(env).encode(), [pem]))
    theirs = json.loads(body)
    assert ours["spec"]["signatures"] == theirs["spec"]["signatures"]
    assert ours["spec"]["payloadHash"] == theirs["spec"]["payloadHash"]


def test_hashedrekord_signature_checked_on_proposal(lab: Lab) -> None:
    key = generate("ecdsa-p256", lab=lab, label="signer")
    digest = hashlib.sha256(b"artifact").digest()
    sig = key.sign_digest(digest)
    body = hashedrekord_body(sig, key.public_key().pem(), digest)
    assert proposed_to_body(json.loads(body)) == body
    bad = json.loads(hashedrekord_body(sig, key.public_key().pem(), hashlib.sha256(b"other").digest()))
    with pytest.raises(LogError, match="does not verify"):
        proposed_to_body(bad)


def test_ed25519_hashedrekord_is_refused_clearly(lab: Lab) -> None:
    key = generate("ed25519", lab=lab, label="signer")
    digest = hashlib.sha256(b"artifact").digest()
    body = json.loads(hashedrekord_body(key.sign(b"artifact"), key.public_key().pem(), digest))
    with pytest.raises(LogError, match="Ed25519"):
        proposed_to_body(body)


def test_dsse_body_from_envelope(lab: Lab) -> None:
    key = generate("ecdsa-p256", lab=lab, label="signer")
    payload = b'{"_type":"https://in-toto.io/Statement/v1"}'
    ptype = "application/vnd.in-toto+json"
    pae = b"DSSEv1 %d %s %d %s" % (len(ptype), ptype.encode(), len(payload), payload)
    env = json.dumps({"payload": base64.b64encode(payload).decode(), "payloadType": ptype,
                      "signatures": [{"sig": base64.b64encode(key.sign(pae)).decode(), "keyid": ""}]})
    body = dsse_body(env, [key.public_key().pem()])
    parsed = parse_body(body)
    assert parsed.spec["envelopeHash"]["value"] == hashlib.sha256(env.encode()).hexdigest()
    proposed = {"apiVersion": "0.0.1", "kind": "dsse", "spec": {"proposedContent": {
        "envelope": env, "verifiers": [base64.b64encode(key.public_key().pem()).decode()]}}}
    assert proposed_to_body(proposed) == body
    other = generate("ecdsa-p256", lab=lab, label="other")
    with pytest.raises(LogError, match="does not verify"):
        dsse_body(env, [other.public_key().pem()])


def _good_body(lab: Lab) -> bytes:
    key = generate("ecdsa-p256", lab=lab, label="signer")
    digest = hashlib.sha256(b"a").digest()
    return hashedrekord_body(key.sign_digest(digest), key.public_key().pem(), digest)


def test_bad_bodies(lab: Lab) -> None:
    body = _good_body(lab)
    value = json.loads(body)
    with pytest.raises(LogError, match="canonical"):
        parse_body(json.dumps(value, indent=1).encode())
    with pytest.raises(LogError, match="unknown entry kind"):
        parse_body(rfc8785.dumps({**value, "kind": "rekord"}))
    with pytest.raises(LogError, match="version"):
        parse_body(rfc8785.dumps({**value, "apiVersion": "0.0.2"}))
    with pytest.raises(LogError, match="not UTF-8"):
        parse_body(b"\xff")
    v2 = json.loads(body)
    v2["spec"]["data"]["hash"]["value"] = "ABC"
    with pytest.raises(LogError, match="hex"):
        parse_body(rfc8785.dumps(v2))
    v3 = json.loads(body)
    del v3["spec"]["signature"]
    with pytest.raises(LogError):
        parse_body(rfc8785.dumps(v3))
    with pytest.raises(LogError, match="unknown entry kind"):
        proposed_to_body({"kind": "intoto", "apiVersion": "0.0.1", "spec": {}})


def test_set_payload_is_jcs_and_verifies(lab: Lab) -> None:
    log_key = generate("ecdsa-p256", lab=lab, label="log")
    body = _good_body(lab)
    payload = set_payload(body, 1700000000, "ab" * 32, 12)
    assert payload == (b'{"body":"' + base64.b64encode(body) + b'","integratedTime":1700000000,"logID":"'
                       + b"ab" * 32 + b'","logIndex":12}')
    sig = sign_set(log_key, body, 1700000000, "ab" * 32, 12)
    verify_set(log_key.public_key(), sig, body, 1700000000, "ab" * 32, 12)
    with pytest.raises(VerificationError):
        verify_set(log_key.public_key(), sig, body, 1700000001, "ab" * 32, 12)
    assert entry_uuid(body) == hashlib.sha256(b"\x00" + body).hexdigest()


def test_real_set_verifies() -> None:
    """The SET construction checks a production Rekor SET (key from the shared trusted root)."""
    entry, _ = _entry("happy-path-v0.3")
    roots = sorted((SHARED / "conformance" / "trust-roots").glob("*.json"))
    from labkit.keys import load_public_key

    keys = []
    for r in roots:
        for tlog in json.loads(r.read_text()).get("tlogs", []):
            keys.append(load_public_key(base64.b64decode(tlog["publicKey"]["rawBytes"])))
    log_id = base64.b64decode(entry["logId"]["keyId"])
    key = next(k for k in keys if k.key_id() == log_id)
    verify_set(key, base64.b64decode(entry["inclusionPromise"]["signedEntryTimestamp"]),
               base64.b64decode(entry["canonicalizedBody"]), int(entry["integratedTime"]), log_id.hex(),
               int(entry["logIndex"]))


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from labkit.tlog.entries import canonical_json  # noqa: E402

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.text(st.characters(exclude_categories=["Cs"]), max_size=8),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(st.characters(exclude_categories=["Cs"]), max_size=6), inner, max_size=4),
    max_leaves=20,
)


@given(_JSON)
@settings(max_examples=400, deadline=None)
def test_canonical_json_is_rfc8785(value: Any) -> None:
    assert canonical_json(value) == rfc8785.dumps(value)


def test_canonical_json_floats_and_big_ints_use_rfc8785() -> None:
    assert canonical_json({"b": 1.5, "a": 1e21}) == rfc8785.dumps({"b": 1.5, "a": 1e21})
    with pytest.raises(LogError):
        canonical_json({"n": 2**60})
