"""sign_blob: bundle v0.3 with a managed key, streamed digests.

Verified by labkit.verify and read by sigstore-python.
"""

from __future__ import annotations

import hashlib
import json
import tracemalloc
from pathlib import Path

import pytest

from labkit.bundle import BUNDLE_V03_MEDIA_TYPE, Bundle
from labkit.errors import InputError, KeyFileError
from labkit.keys import SigningKey, generate
from labkit.lab import Lab
from labkit.sign import open_artifact, public_key_hint, sign_blob, signed_artifact
from labkit.tlog.store import TransparencyLog
from labkit.verify import TrustedRoot, explain_bundle, verify_bundle

ALGS = ["ecdsa-p256", "ecdsa-p384", "ed25519", "rsa-3072"]


def _key(alg: str, lab: Lab) -> SigningKey:
    return generate(alg) if alg.startswith("rsa") else generate(alg, lab=lab)  # seeded RSA is slow


def _root_for(log: TransparencyLog) -> TrustedRoot:
    return TrustedRoot.for_log(f"https://{log.name}", log.public_key, log_id=log.log_id)


@pytest.mark.parametrize("alg", ALGS)
def test_bundle_shape_and_signature(alg: str, lab: Lab, tmp_path: Path) -> None:
    key = _key(alg, lab)
    path = tmp_path / "a.txt"
    path.write_bytes(b"hello labkit\n")
    for source in (b"hello labkit\n", path):
        bundle = sign_blob(source, key)
        doc = json.loads(bundle.to_json())
        assert doc["mediaType"] == BUNDLE_V03_MEDIA_TYPE == "application/vnd.dev.sigstore.bundle.v0.3+json"
        assert doc["verificationMaterial"]["publicKey"] == {"hint": public_key_hint(key.public_key())}
        assert doc["verificationMaterial"]["tlogEntries"] == []
        h = key.algorithm.hash_name
        md = doc["messageSignature"]["messageDigest"]
        assert md["algorithm"] == {"sha256": "SHA2_256", "sha384": "SHA2_384"}[h]
        assert Bundle.from_json(bundle.to_json()).to_json() == bundle.to_json()
        result = explain_bundle(bundle, path, key=key.public_key())
        assert result.step("signature") is not None and result.step("signature").passed  # type: ignore[union-attr]
        assert result.reason == "tlog.missing"  # no log entry yet: the signature is fine, the bundle is not complete
        assert not result.verified


def test_flipped_byte_is_caught(lab: Lab, tmp_path: Path) -> None:
    key = generate("ecdsa-p256", lab=lab)
    path = tmp_path / "a.bin"
    path.write_bytes(b"\x00" * 100)
    bundle = sign_blob(path, key)
    path.write_bytes(b"\x00" * 99 + b"\x01")
    assert explain_bundle(bundle, path, key=key.public_key()).reason == "artifact.digest"


def test_lab_signatures_are_reproducible(tmp_path: Path) -> None:
    a = sign_blob(b"same", generate("ecdsa-p256", lab=Lab("s")))
    b = sign_blob(b"same", generate("ecdsa-p256", lab=Lab("s")))
    assert a.to_json() == b.to_json()


def test_prehashed_signature_equals_message_signature(lab: Lab, tmp_path: Path) -> None:
    key = generate("ecdsa-p256", lab=lab)  # RFC 6979: the same nonce for the same digest
    path = tmp_path / "a.bin"
    path.write_bytes(b"abc" * 10000)
    ms = sign_blob(path, key).message_signature
    assert ms is not None
    assert ms.signature == key.sign(b"abc" * 10000)
    assert ms.digest == hashlib.sha256(b"abc" * 10000).digest()


@pytest.mark.parametrize("alg", ["ecdsa-p256", "ed25519"])
def test_constant_memory(alg: str, lab: Lab, tmp_path: Path) -> None:
    key = generate(alg, lab=lab)
    path = tmp_path / "big.bin"
    with path.open("wb") as fh:
        for i in range(48):
            fh.write(bytes([i]) * (1 << 20))
    tracemalloc.start()
    try:
        bundle = sign_blob(path, key)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20, f"peak {peak} bytes while signing a 48 MiB file"
    assert bundle.message_signature is not None


def test_empty_file(lab: Lab, tmp_path: Path) -> None:
    path = tmp_path / "empty"
    path.write_bytes(b"")
    for alg in ("ecdsa-p256", "ed25519"):
        key = generate(alg, lab=lab)
        result = explain_bundle(sign_blob(path, key), path, key=key.public_key())
        assert result.reason == "tlog.missing"


@pytest.mark.parametrize("alg", ["ecdsa-p256", "ed25519"])
def test_errors(alg: str, lab: Lab, tmp_path: Path) -> None:
    key = generate(alg, lab=lab)
    with pytest.raises(InputError, match="not found"):
        sign_blob(tmp_path / "missing", key)
    with pytest.raises(InputError, match="directory"):
        sign_blob(tmp_path, key)
    with pytest.raises(InputError):
        sign_blob(12, key)  # type: ignore[arg-type]
    with pytest.raises(KeyFileError):
        sign_blob(b"x", key.public_key())  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_signed_artifact_pieces(lab: Lab) -> None:
    key = generate("ecdsa-p384", lab=lab)
    artifact, signed = signed_artifact(b"x", key)
    assert artifact.hash_name == signed.hash_name == "sha384"
    assert open_artifact(b"x", "sha384").digest == hashlib.sha384(b"x").digest()
    key.public_key().verify(signed.signature, b"x")


@pytest.mark.parametrize("alg", ["ecdsa-p256", "ecdsa-p384"])
def test_with_transparency_log(alg: str, lab: Lab, tmp_path: Path) -> None:
    log = TransparencyLog.open(tmp_path / "log", lab=lab)
    key = generate(alg, lab=lab, label="signer")
    for i in range(3):
        sign_blob(b"other %d" % i, key, tlog=log.uploader())
    artifact = tmp_path / "a.txt"
    artifact.write_bytes(b"logged artifact")
    bundle = sign_blob(artifact, key, tlog=log.uploader(), clock=lab.clock)
    entry = bundle.verification_material.tlog_entries[0]
    assert entry.log_index == 3 and entry.inclusion_proof is not None
    doc = json.loads(bundle.to_json())
    tle = doc["verificationMaterial"]["tlogEntries"][0]
    assert isinstance(tle["logIndex"], str) and isinstance(tle["integratedTime"], str)  # int64 as strings
    result = verify_bundle(bundle.to_json(), artifact, _root_for(log), key=key.public_key())
    assert result.verified


def test_sigstore_python_reads_our_bundle(lab: Lab, tmp_path: Path) -> None:
    """sigstore-python's protobuf-specs model parses it, and its Merkle check accepts the proof.

    (`sigstore.models.Bundle` itself refuses every bundle without a certificate, so a
    managed-key bundle is read through the same `sigstore_models` classes it wraps.)
    """
    from sigstore._internal.merkle import verify_merkle_inclusion
    from sigstore.models import TransparencyLogEntry as SigstoreEntry
    from sigstore_models.bundle.v1 import Bundle as ProtoBundle

    log = TransparencyLog.open(tmp_path / "log", lab=lab)
    key = generate("ecdsa-p256", lab=lab, label="signer")
    for i in range(4):
        bundle = sign_blob(b"artifact %d" % i, key, tlog=log.uploader())
    text = bundle.to_json()
    parsed = ProtoBundle.from_json(text)
    assert parsed.media_type == BUNDLE_V03_MEDIA_TYPE
    assert json.loads(parsed.to_json()) == json.loads(text)
    entry = SigstoreEntry(parsed.verification_material.tlog_entries[0])
    verify_merkle_inclusion(entry)
