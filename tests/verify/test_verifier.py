"""explain_bundle / verify_bundle: the explain-and-enforce pair, on labkit's own bundles and suite cases."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import pytest

from labkit.errors import InputError, LabkitError, VerificationError
from labkit.keys import generate
from labkit.lab import Lab
from labkit.verify import (
    STEPS,
    AnyIdentity,
    Artifact,
    BundleVerificationError,
    Identity,
    StepStatus,
    explain_bundle,
    verify_bundle,
)
from tests.conftest import SHARED
from tests.verify.helpers import signed_bundle

DATA = b"hello, verifier\n"
CASES = SHARED / "conformance" / "bundle-verify"
ID = (
    "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/"
    ".github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
)
ISS = "https://token.actions.githubusercontent.com"


def test_managed_key_bundle_verifies_with_every_step(tmp_path: Path) -> None:
    bundle, key, root = signed_bundle(tmp_path)
    result = explain_bundle(bundle, DATA, root, key=key.public_key())
    assert result.verified, result.checklist()
    assert [s.id for s in result.steps] == list(STEPS)
    assert result.step("certificate.chain").status is StepStatus.SKIPPED  # type: ignore[union-attr]
    assert result.signer and result.signer.startswith("key sha256:")
    # digest input, PEM key bytes and JSON text work too
    again = verify_bundle(
        bundle.to_json(), f"sha256:{hashlib.sha256(DATA).hexdigest()}", root, key=key.public_key().pem()
    )
    assert again.verified


def test_wrong_artifact_names_the_step(tmp_path: Path) -> None:
    bundle, key, root = signed_bundle(tmp_path)
    result = explain_bundle(bundle, b"other", root, key=key.public_key())
    assert not result.verified and result.reason == "artifact.digest"
    with pytest.raises(BundleVerificationError) as info:
        verify_bundle(bundle, b"other", root, key=key.public_key())
    assert info.value.reason == "artifact.digest" and info.value.step == "artifact.digest"
    assert isinstance(info.value, VerificationError)


def test_a_changed_artifact_shows_the_signed_digest_as_expected(tmp_path: Path) -> None:
    """Expected is what the bundle signs, actual the artifact given (issue 19: a tampered digest sat under expected)."""
    bundle, key, root = signed_bundle(tmp_path)
    step = explain_bundle(bundle, b"other", root, key=key.public_key()).step("artifact.digest")
    assert step is not None and step.failed
    assert step.expected == f"sha256:{hashlib.sha256(DATA).hexdigest()}"
    assert step.actual == f"sha256:{hashlib.sha256(b'other').hexdigest()}"


def test_wrong_key_is_a_signature_failure(tmp_path: Path) -> None:
    bundle, _, root = signed_bundle(tmp_path)
    other = generate("ecdsa-p256", lab=Lab(seed="someone-else"))
    assert explain_bundle(bundle, DATA, root, key=other.public_key()).reason == "signature"


def test_bundle_without_log_entry_is_refused(tmp_path: Path) -> None:
    bundle, key, root = signed_bundle(tmp_path)
    bundle.verification_material.tlog_entries.clear()
    assert explain_bundle(bundle, DATA, root, key=key.public_key()).reason == "tlog.missing"


def test_swapped_log_entry_is_caught_by_binding(tmp_path: Path) -> None:
    """GHSA-whqx-f9j3-ch6m: a valid entry for another artifact must not vouch for this one."""
    a, key, root = signed_bundle(tmp_path / "a")
    b, _, _ = signed_bundle(tmp_path / "a2", b"another artifact")
    forged = copy.deepcopy(a)
    forged.verification_material.tlog_entries = b.verification_material.tlog_entries
    result = explain_bundle(forged, DATA, root, key=key.public_key())
    assert result.reason == "binding.digest"
    assert result.failed_step is not None and result.failed_step.expected != result.failed_step.actual


def test_log_key_window_is_closed_at_the_end(tmp_path: Path) -> None:
    from labkit.tlog.store import TransparencyLog
    from tests.verify.helpers import trusted_root_for

    bundle, key, _ = signed_bundle(tmp_path)
    log = TransparencyLog.open(tmp_path / "log", lab=Lab(seed="verify-tests"))
    t = bundle.verification_material.tlog_entries[0].integrated_time
    assert t is not None
    import datetime as dt

    end = dt.datetime.fromtimestamp(t, tz=dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    before = dt.datetime.fromtimestamp(t - 1, tz=dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert explain_bundle(bundle, DATA, trusted_root_for(log, end=end), key=key.public_key()).verified
    late = explain_bundle(bundle, DATA, trusted_root_for(log, end=before), key=key.public_key())
    assert late.reason == "tlog.key_validity"
    log.close()


def test_ed25519_key_needs_the_artifact_not_its_digest(tmp_path: Path) -> None:
    from labkit.sign import sign_blob

    key = generate("ed25519", lab=Lab(seed="ed"))
    bundle = sign_blob(DATA, key)  # no log entry: a Rekor hashedrekord cannot hold pure Ed25519
    _, _, root = signed_bundle(tmp_path)
    with_data = explain_bundle(bundle, DATA, root, key=key.public_key())
    assert with_data.step("signature").status is StepStatus.PASSED  # type: ignore[union-attr]
    assert with_data.reason == "tlog.missing"
    digest = f"sha256:{hashlib.sha256(DATA).hexdigest()}"
    assert explain_bundle(bundle, digest, root, key=key.public_key()).reason == "signature.needs_artifact"


def test_bad_inputs_never_raise() -> None:
    for bundle in (b"", b"{", b"[]", b'{"mediaType": 5}', "\udcff"):
        result = explain_bundle(bundle, DATA, None, Identity(identity="a", issuer="b"))
        assert not result.verified and result.reason == "bundle.parse"
    happy = (CASES / "happy-path-v0.3" / "bundle.sigstore.json").read_bytes()
    assert explain_bundle(happy, DATA, b"not json", Identity(identity="a", issuer="b")).reason == "trust_root.invalid"
    assert explain_bundle(happy, "sha256:zz", None, Identity(identity="a", issuer="b")).reason == "artifact.input"
    assert explain_bundle(happy, DATA, None, None).reason == "policy.missing"
    assert explain_bundle(happy, DATA, None, key=b"garbage").reason == "key.invalid"


def test_identity_policy_on_a_real_bundle() -> None:
    happy = (CASES / "happy-path-v0.3" / "bundle.sigstore.json").read_bytes()
    artifact = Artifact.from_path(CASES / "a.txt")
    assert explain_bundle(happy, artifact, None, Identity(identity=ID, issuer=ISS)).verified
    assert explain_bundle(happy, artifact, None, AnyIdentity()).verified
    regexp = Identity(identity_regexp=r"https://github\.com/sigstore-conformance/.*", issuer=ISS)
    assert explain_bundle(happy, artifact, None, regexp).verified
    # the regexp must match the whole identity, not a prefix
    partial = Identity(identity_regexp=r"https://github\.com/sigstore-conformance/", issuer=ISS)
    assert explain_bundle(happy, artifact, None, partial).reason == "policy.identity"
    wrong_issuer = Identity(identity=ID, issuer="https://accounts.google.com")
    result = explain_bundle(happy, artifact, None, wrong_issuer)
    assert result.reason == "policy.issuer"
    assert result.failed_step is not None and "token.actions" in (result.failed_step.actual or "")


def test_checklist_text_names_the_failure() -> None:
    bundle = (CASES / "checkpoint-wrong-roothash_fail" / "bundle.sigstore.json").read_bytes()
    result = explain_bundle(bundle, Artifact.from_path(CASES / "a.txt"), None, Identity(identity=ID, issuer=ISS))
    text = result.checklist()
    assert "[FAIL] tlog.checkpoint.root" in text and "expected: size" in text
    assert text.endswith("REJECTED (tlog.checkpoint.root)")


def test_identity_policy_validates_its_arguments() -> None:
    with pytest.raises(InputError):
        Identity(identity="a")
    with pytest.raises(InputError):
        Identity(identity="a", identity_regexp="a", issuer="b")
    with pytest.raises(InputError):
        Identity(identity_regexp="(", issuer="b")
    assert issubclass(InputError, LabkitError)


def test_verify_error_carries_expected_and_actual() -> None:
    bundle = (CASES / "wrong-hashedrekord-entry_fail" / "bundle.sigstore.json").read_bytes()
    with pytest.raises(BundleVerificationError) as info:
        verify_bundle(bundle, Artifact.from_path(CASES / "a.txt"), None, Identity(identity=ID, issuer=ISS))
    assert info.value.reason == "binding.digest"
    assert "expected" in info.value.details and "actual" in info.value.details
    assert "Reason code: binding.digest" in info.value.diagnostics()


def test_certificate_field_must_match_the_bundle_version() -> None:
    doc = json.loads((CASES / "happy-path-v0.3" / "bundle.sigstore.json").read_text())
    vm = doc["verificationMaterial"]
    vm["x509CertificateChain"] = {"certificates": [vm.pop("certificate")]}
    policy = Identity(identity=ID, issuer=ISS)
    artifact = Artifact.from_path(CASES / "a.txt")
    result = explain_bundle(json.dumps(doc), artifact, None, policy)
    assert result.reason == "bundle.parse" and "v0.3" in (result.failed_step.detail if result.failed_step else "")
    doc["mediaType"] = "application/vnd.dev.sigstore.bundle+json;version=0.2"
    assert explain_bundle(json.dumps(doc), artifact, None, policy).verified
