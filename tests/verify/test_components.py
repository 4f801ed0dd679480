"""The verifier's parts on their own: policy, certificates and SCTs, timestamps, binding, tlog checks."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography import x509

from labkit.bundle import Bundle
from labkit.errors import LabkitError
from labkit.verify import Identity, TrustedRoot, binding, certificate_identity
from labkit.verify._certs import build_chain, check_leaf_profile, is_self_signed, verify_scts
from labkit.verify.binding import bind_entry
from labkit.verify.timestamp import verify_timestamp
from labkit.verify.tlog import verify_checkpoint, verify_inclusion_promise, verify_inclusion_proof
from tests.conftest import SHARED

CASES = SHARED / "conformance" / "bundle-verify"
ID = (
    "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/"
    ".github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
)


def _bundle(case: str) -> Bundle:
    return Bundle.from_json((CASES / case / "bundle.sigstore.json").read_bytes())


def _leaf(case: str) -> x509.Certificate:
    der = _bundle(case).verification_material.leaf_certificate
    assert der is not None
    return x509.load_der_x509_certificate(der)


def _root(case: str) -> TrustedRoot:
    path = CASES / case / "trusted_root.json"
    return TrustedRoot.from_json(path.read_bytes()) if path.exists() else TrustedRoot.production()


def test_certificate_identity_reads_san_and_issuer() -> None:
    ci = certificate_identity(_leaf("happy-path-v0.3"))
    assert ci.identity == ID and ci.issuer == "https://token.actions.githubusercontent.com"
    policy = Identity(identity_regexp=r".*@refs/heads/main", issuer_regexp=r"https://token\.actions\..*")
    assert policy.check(_leaf("happy-path-v0.3")).ok
    # fullmatch: a prefix is not enough, and a suffix is not either
    assert not Identity(identity_regexp=r"https://github\.com", issuer_regexp=".*").check(_leaf("happy-path-v0.3")).ok
    assert not Identity(identity_regexp=r".*main\Z.*x", issuer_regexp=".*").check(_leaf("happy-path-v0.3")).ok


def test_chain_profile_and_sct_on_a_real_leaf() -> None:
    bundle = _bundle("happy-path-v0.3")
    leaf = _leaf("happy-path-v0.3")
    root = TrustedRoot.production()
    t = bundle.verification_material.tlog_entries[0].integrated_time
    assert t is not None
    import datetime as dt

    when = dt.datetime.fromtimestamp(t, tz=dt.timezone.utc)
    chain = build_chain(leaf, root, when)
    assert len(chain.chain) >= 2 and not is_self_signed(leaf)
    check_leaf_profile(leaf)
    assert "SCT from" in verify_scts(leaf, chain.chain[1], root)
    with pytest.raises(LabkitError) as info:
        build_chain(leaf, root, when + dt.timedelta(days=3650))
    assert getattr(info.value, "reason", "") == "certificate.chain"
    with pytest.raises(LabkitError) as info:
        check_leaf_profile(chain.chain[1])  # the intermediate is a CA
    assert getattr(info.value, "reason", "") == "certificate.profile"
    with pytest.raises(LabkitError) as info:
        verify_scts(leaf, chain.chain[1], _root("invalid-ct-key_fail"))
    assert getattr(info.value, "reason", "") == "certificate.sct"


def test_sct_with_extensions_verifies() -> None:
    bundle = _bundle("bundle-with-sct-with-extensions")
    root = _root("bundle-with-sct-with-extensions")
    leaf = _leaf("bundle-with-sct-with-extensions")
    issuer = root.certificate_authorities[0].certificates()[0]
    assert "SCT from" in verify_scts(leaf, issuer, root)
    assert bundle.verification_material.rfc3161_timestamps


@pytest.mark.parametrize("case, reason", [
    ("rekor2-happy-path", ""),
    ("rekor2-timestamp-with-expired-cert-chain", ""),
    ("rekor2-timestamp-payload-mismatch_fail", "timestamp.imprint_mismatch"),
    ("rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail", "timestamp.untrusted"),
    ("rekor2-timestamp-outside-tsa-cert-validity_fail", "timestamp.tsa_cert_validity"),
    ("rekor2-timestamp-outside-trust-root-tsa-validity_fail", "timestamp.tsa_validity"),
])
def test_timestamps(case: str, reason: str) -> None:
    bundle = _bundle(case)
    ms = bundle.message_signature
    assert ms is not None
    stamp = bundle.verification_material.rfc3161_timestamps[0]
    if not reason:
        assert verify_timestamp(stamp, ms.signature, _root(case)).time.year == 2025
        return
    with pytest.raises(LabkitError) as info:
        verify_timestamp(stamp, ms.signature, _root(case))
    assert getattr(info.value, "reason", "") == reason


def test_timestamp_garbage_is_malformed() -> None:
    with pytest.raises(LabkitError) as info:
        verify_timestamp(b"\x30\x03\x02\x01\x00", b"sig", TrustedRoot.production())
    assert getattr(info.value, "reason", "") == "timestamp.malformed"


def test_binding_compares_every_field() -> None:
    bundle = _bundle("happy-path-v0.3")
    entry = bundle.verification_material.tlog_entries[0]
    ms = bundle.message_signature
    leaf = bundle.verification_material.leaf_certificate
    assert ms is not None and leaf is not None
    ok = bind_entry(entry.kind, entry.version, entry.canonicalized_body,
                    artifact_digest=("sha256", ms.digest), signer_der=leaf, content=ms)
    assert ok.digest and ok.digest.matches and ok.key and ok.key.matches and ok.signature and ok.signature.matches
    bad = bind_entry(entry.kind, entry.version, entry.canonicalized_body,
                     artifact_digest=("sha256", b"\0" * 32), signer_der=b"other", content=ms)
    assert bad.digest and not bad.digest.matches and bad.key and not bad.key.matches
    assert bind_entry("rekord", "0.0.1", entry.canonicalized_body, artifact_digest=("sha256", ms.digest),
                      signer_der=leaf, content=ms).error
    assert bind_entry(entry.kind, entry.version, b"{not json", artifact_digest=("sha256", ms.digest),
                      signer_der=leaf, content=ms).error


def test_tlog_checks_on_real_entries() -> None:
    root = TrustedRoot.production()
    entry = _bundle("happy-path-v0.3").verification_material.tlog_entries[0]
    log = root.tlog(entry.log_id)
    assert log is not None and entry.inclusion_proof is not None
    verify_inclusion_proof(entry, entry.inclusion_proof)
    cp = verify_checkpoint(entry.inclusion_proof.checkpoint, log)
    assert cp.size == entry.inclusion_proof.tree_size
    assert verify_inclusion_promise(entry, log) == entry.integrated_time
    # Rekor v2: Ed25519 checkpoint with the C2SP key hint, a witness cosignature ignored
    v2 = _bundle("rekor2-checkpoint-origin-not-first").verification_material.tlog_entries[0]
    v2_log = _root("rekor2-checkpoint-origin-not-first").tlog(v2.log_id)
    assert v2_log is not None and v2.inclusion_proof is not None
    assert verify_checkpoint(v2.inclusion_proof.checkpoint, v2_log).origin == v2_log.origin_host


def test_keyless_lab_bundle_verifies(tmp_path: Path) -> None:
    from labkit.keyless.instance import Instance
    from labkit.keyless.sign import sign_blob_keyless
    from labkit.verify import explain_bundle

    instance = Instance.create(tmp_path / "instance", seed="verify-keyless")
    try:
        bundle = sign_blob_keyless(instance, b"keyless artifact\n", identity="alice@example.com")
        root = instance.trusted_root_json()
        issuer = certificate_identity(
            x509.load_der_x509_certificate(bundle.verification_material.leaf_certificate or b"")
        ).issuer
        assert issuer
        result = explain_bundle(
            bundle, b"keyless artifact\n", root, Identity(identity="alice@example.com", issuer=issuer)
        )
        assert result.verified, result.checklist()
        wrong = explain_bundle(
            bundle, b"keyless artifact\n", root, Identity(identity="mallory@example.com", issuer=issuer)
        )
        assert wrong.reason == "policy.identity"
        assert json.loads(bundle.to_json())["mediaType"].endswith("v0.3+json")
        assert base64.b64decode(json.loads(root)["tlogs"][0]["logId"]["keyId"])
    finally:
        instance.close()


def test_binding_dsse_v002_body() -> None:
    """Rekor v2 dsse 0.0.2 entries (protobuf-specs rekor/v2 DSSELogEntryV002) bind payload hash, signature, verifier."""
    import hashlib

    bundle = _bundle("rekor2-dsse-happy-path")
    env = bundle.dsse_envelope
    leaf = bundle.verification_material.leaf_certificate
    assert env is not None and leaf is not None
    body = json.dumps(
        {
            "apiVersion": "0.0.2",
            "kind": "dsse",
            "spec": {
                "dsseV002": {
                    "payloadHash": {
                        "algorithm": "SHA2_256",
                        "digest": base64.b64encode(hashlib.sha256(env.payload).digest()).decode(),
                    },
                    "signatures": [
                        {
                            "content": base64.b64encode(env.signatures[0].sig).decode(),
                            "verifier": {
                                "x509Certificate": {"rawBytes": base64.b64encode(leaf).decode()},
                                "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                            },
                        }
                    ],
                }
            },
        }
    ).encode()
    ok = bind_entry("dsse", "0.0.2", body, artifact_digest=("sha256", b""), signer_der=leaf, content=env)
    assert (
        not ok.error
        and ok.digest
        and ok.digest.matches
        and ok.key
        and ok.key.matches
        and ok.signature
        and ok.signature.matches
    )
    other = bind_entry("dsse", "0.0.2", body, artifact_digest=("sha256", b""), signer_der=b"x", content=env)
    assert other.key and not other.key.matches


def test_timestamp_unknown_signature_algorithm_is_refused() -> None:
    """Found by fuzzing: the CMS signatureAlgorithm is not covered by the signature, so it is checked explicitly."""
    bundle = _bundle("rekor2-happy-path")
    ms = bundle.message_signature
    assert ms is not None
    stamp = bytearray(bundle.verification_material.rfc3161_timestamps[0])
    oid = bytes.fromhex("06082a8648ce3d040302")  # ecdsa-with-SHA256 in the SignerInfo
    at = stamp.rindex(oid)
    stamp[at + 2] = 0x2B  # 1.2.840... becomes 1.3.840...
    with pytest.raises(LabkitError) as info:
        verify_timestamp(bytes(stamp), ms.signature, _root("rekor2-happy-path"))
    assert getattr(info.value, "reason", "") == "timestamp.malformed"


def test_every_supported_kind_has_one_binder() -> None:
    assert tuple(binding._BINDERS) == binding.SUPPORTED_KINDS
