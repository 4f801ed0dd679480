"""Signed payloads: simple-signing byte-exact, DSSE/PAE against securesystemslib, in-toto Statement v1."""

from __future__ import annotations

import base64
import contextlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from securesystemslib.dsse import Envelope as SslibEnvelope
from securesystemslib.signer import CryptoSigner, SSlibKey

from labkit.errors import PayloadError, VerificationError
from labkit.keys import generate
from labkit.lab import Lab
from labkit.payloads import (
    INTOTO_PAYLOAD_TYPE,
    Envelope,
    EnvelopeSignature,
    Statement,
    Subject,
    go_json,
    pae,
    parse_simple_signing,
    sign_envelope,
    simple_signing_payload,
    verify_envelope,
)

DIGEST = "sha256:" + "d34db33f" * 8

# --- simple signing ---------------------------------------------------------------------------


def test_simple_signing_byte_exact_without_annotations() -> None:
    # sigstore/sigstore pkg/signature/payload: Go struct order, compact, "optional":null, no newline.
    expected = (
        '{"critical":{"identity":{"docker-reference":"example.com/test/image"},'
        '"image":{"docker-manifest-digest":"' + DIGEST + '"},'
        '"type":"cosign container image signature"},"optional":null}'
    ).encode()
    assert simple_signing_payload("example.com/test/image", DIGEST) == expected
    assert simple_signing_payload("example.com/test/image", DIGEST, {}) == expected


def test_simple_signing_annotations_sorted_and_go_escaped() -> None:
    got = simple_signing_payload("r.local/app", DIGEST, {"z": "1", "a": "<b>&", "m": "é"})
    assert got.endswith(b'"optional":{"a":"\\u003cb\\u003e\\u0026","m":"\xc3\xa9","z":"1"}}')
    parsed = parse_simple_signing(got)
    assert parsed.annotations == {"a": "<b>&", "m": "é", "z": "1"}
    assert (parsed.docker_reference, parsed.manifest_digest) == ("r.local/app", DIGEST)


def test_simple_signing_round_trip() -> None:
    parsed = parse_simple_signing(simple_signing_payload("example.com/x", DIGEST))
    assert parsed.annotations is None


@pytest.mark.parametrize(
    ("ref", "digest"),
    [("r/x", "sha256:abc"), ("r/x", "SHA256:" + "a" * 64), ("r/x", "sha256:" + "A" * 64), ("", DIGEST)],
)
def test_simple_signing_refuses_bad_input(ref: str, digest: str) -> None:
    with pytest.raises(PayloadError):
        simple_signing_payload(ref, digest)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"[]",
        b'{"critical":{}}',
        b'{"critical":{"identity":{"docker-reference":"r"},"image":{"docker-manifest-digest":"d"},"type":"other"}}',
        b'{"critical":{"identity":{"docker-reference":1},"image":{"docker-manifest-digest":"d"},'
        b'"type":"cosign container image signature"}}',
        b'{"critical":{"identity":{"docker-reference":"r"},"image":{"docker-manifest-digest":"d"},'
        b'"type":"cosign container image signature"},"optional":[]}',
    ],
)
def test_parse_simple_signing_refuses(data: bytes) -> None:
    with pytest.raises(PayloadError):
        parse_simple_signing(data)


def test_go_json_escapes() -> None:
    assert go_json({"k": "<>&\u2028\u2029"}) == b'{"k":"\\u003c\\u003e\\u0026\\u2028\\u2029"}'


# --- DSSE -------------------------------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(payload_type=st.text(max_size=40), payload=st.binary(max_size=300))
def test_pae_equals_securesystemslib(payload_type: str, payload: bytes) -> None:
    assert pae(payload_type, payload) == SslibEnvelope(payload, payload_type, {}).pae()


def test_pae_spec_example() -> None:
    # secure-systems-lab/dsse protocol.md test vector.
    assert pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )


@pytest.mark.parametrize("alg", ["ed25519", "ecdsa-p256", "ecdsa-p384"])
def test_envelope_interoperates_with_securesystemslib(alg: str, lab: Lab) -> None:
    key = generate(alg, lab=lab)
    sslib_key = SSlibKey.from_crypto(key.public_key().key)
    payload = Statement([Subject("a.txt", {"sha256": "ab" * 32})], "https://example.com/p", {"x": 1}).to_json()

    # labkit signs, securesystemslib verifies.
    env = sign_envelope(payload, INTOTO_PAYLOAD_TYPE, key, keyid=sslib_key.keyid)
    theirs = SslibEnvelope.from_dict(json.loads(env.to_json()))
    assert theirs.pae() == env.pae()
    assert set(theirs.verify([sslib_key], 1)) == {sslib_key.keyid}
    assert json.dumps(theirs.to_dict(), sort_keys=True) == json.dumps(env.to_dict(), sort_keys=True)

    # securesystemslib signs, labkit verifies.
    signer = CryptoSigner(key.key, sslib_key)
    other = SslibEnvelope(payload, INTOTO_PAYLOAD_TYPE, {})
    other.sign(signer)
    ours = Envelope.from_dict(other.to_dict())
    verify_envelope(ours, key.public_key())
    if alg == "ed25519":  # deterministic on both sides: byte-equal envelopes
        assert ours.to_dict() == env.to_dict()


def test_envelope_rejections(lab: Lab) -> None:
    key = generate("ed25519", lab=lab)
    env = sign_envelope(b"{}", INTOTO_PAYLOAD_TYPE, key)
    verify_envelope(env, key.public_key())
    with pytest.raises(VerificationError):
        verify_envelope(Envelope(b"{ }", env.payload_type, env.signatures), key.public_key())
    with pytest.raises(VerificationError):  # the type is signed too (PAE)
        verify_envelope(Envelope(env.payload, "text/plain", env.signatures), key.public_key())
    with pytest.raises(VerificationError, match="exactly one"):
        verify_envelope(Envelope(env.payload, env.payload_type, env.signatures * 2), key.public_key())
    with pytest.raises(VerificationError, match="exactly one"):
        verify_envelope(Envelope(env.payload, env.payload_type, []), key.public_key())
    bare = generate("ed25519", lab=lab, label="other").sign(env.payload)
    with pytest.raises(VerificationError):  # a signature over the bare payload is not a DSSE signature
        verify_envelope(Envelope(env.payload, env.payload_type, [EnvelopeSignature(bare)]), key.public_key())


def test_envelope_json_round_trip(lab: Lab) -> None:
    env = sign_envelope(b"\x00\xffdata", "application/x", generate("ecdsa-p256", lab=lab), keyid="k1")
    assert Envelope.from_json(env.to_json()) == env
    assert Envelope.from_json(env.to_json().encode()) == env


@pytest.mark.parametrize(
    "doc",
    [
        "not json",
        "[]",
        '{"payload":"AA=="}',
        '{"payloadType":"x","signatures":[]}',
        '{"payloadType":"x","payload":"%%%","signatures":[]}',
        '{"payloadType":"x","payload":"AA==","signatures":{}}',
        '{"payloadType":"x","payload":"AA==","signatures":[{"keyid":"a"}]}',
        '{"payloadType":"x","payload":"AA==","signatures":[{"sig":"AA==","keyid":5}]}',
        '{"payloadType":"","payload":"AA==","signatures":[]}',
    ],
)
def test_envelope_parse_errors(doc: str) -> None:
    with pytest.raises(PayloadError):
        Envelope.from_json(doc)


# --- in-toto Statement v1 ---------------------------------------------------------------------


def test_statement_v1_shape() -> None:
    st_ = Statement([Subject("app", {"sha512": "00", "sha256": "ff"})], "https://slsa.dev/provenance/v1", {"a": [1]})
    doc = json.loads(st_.to_json())
    assert list(doc) == ["_type", "subject", "predicateType", "predicate"]
    assert doc["_type"] == "https://in-toto.io/Statement/v1"
    assert doc["subject"] == [{"name": "app", "digest": {"sha256": "ff", "sha512": "00"}}]
    assert Statement.from_json(st_.to_json()) == Statement(
        [Subject("app", {"sha256": "ff", "sha512": "00"})], "https://slsa.dev/provenance/v1", {"a": [1]}
    )


def test_statement_in_dsse_round_trip(lab: Lab) -> None:
    key = generate("ecdsa-p256", lab=lab)
    st_ = Statement([Subject("a", {"sha256": "ab" * 32})], "https://example.com/t", {})
    env = sign_envelope(st_.to_json(), INTOTO_PAYLOAD_TYPE, key)
    verify_envelope(env, key.public_key())
    assert Statement.from_json(env.payload) == st_
    assert base64.b64decode(env.to_dict()["payload"]) == st_.to_json()


@pytest.mark.parametrize(
    "doc",
    [
        b"",
        b"[]",
        b'{"_type":"https://in-toto.io/Statement/v9","subject":[{"digest":{"sha256":"a"}}],"predicateType":"p"}',
        b'{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"p"}',
        b'{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a"}],"predicateType":"p"}',
        b'{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":1}}],"predicateType":"p"}',
        b'{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"a"}}]}',
        b'{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"a"}}],"predicateType":"p",'
        b'"predicate":[]}',
    ],
)
def test_statement_parse_errors(doc: bytes) -> None:
    with pytest.raises(PayloadError):
        Statement.from_json(doc)


@settings(max_examples=60, deadline=None)
@given(data=st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode)))
def test_parsers_raise_only_payload_errors(data: bytes) -> None:
    for parse in (parse_simple_signing, Envelope.from_json, Statement.from_json):
        with contextlib.suppress(PayloadError):
            parse(data)


def test_deep_nesting_is_a_payload_error() -> None:
    deep = b"[" * 100000 + b"]" * 100000
    for parse in (parse_simple_signing, Envelope.from_json, Statement.from_json):
        with pytest.raises(PayloadError):
            parse(deep)
