"""Keyless signing end to end, judged by sigstore-python 4.5.1 offline (the outside judge)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from labkit.bundle import BUNDLE_V03_MEDIA_TYPE, Bundle
from labkit.errors import KeylessError
from labkit.keyless.checks import IssuanceRefused
from labkit.keyless.instance import Instance
from labkit.keyless.oidc import github_claims
from labkit.keyless.sign import sign_blob_keyless, sign_keyless

if TYPE_CHECKING:
    from sigstore.verify import Verifier

ALICE = "alice@example.com"


def _sigstore_verifier(instance: Instance, tmp_path: Path) -> Verifier:
    from sigstore.models import TrustedRoot
    from sigstore.verify import Verifier

    root = instance.write_trusted_root(tmp_path / "trusted_root.json")
    return Verifier(trusted_root=TrustedRoot.from_file(str(root)))


def _artifact(tmp_path: Path) -> Path:
    path = tmp_path / "artifact.txt"
    path.write_bytes(b"release 1.0\n")
    return path


def test_sigstore_python_accepts_the_right_identity_and_refuses_others(instance: Instance, tmp_path: Path) -> None:
    from sigstore.errors import VerificationError
    from sigstore.models import Bundle as SigstoreBundle
    from sigstore.verify.policy import Identity

    artifact = _artifact(tmp_path)
    bundle_json = sign_blob_keyless(instance, artifact, identity=ALICE).to_json()
    verifier = _sigstore_verifier(instance, tmp_path)
    parsed = SigstoreBundle.from_json(bundle_json)
    verifier.verify_artifact(artifact.read_bytes(), parsed, Identity(identity=ALICE, issuer=instance.issuer.url))
    for policy in (
        Identity(identity="mallory@example.com", issuer=instance.issuer.url),
        Identity(identity=ALICE, issuer="https://accounts.google.com"),
    ):
        with pytest.raises(VerificationError):
            verifier.verify_artifact(artifact.read_bytes(), parsed, policy)
    with pytest.raises(VerificationError):
        verifier.verify_artifact(b"something else\n", parsed, Identity(identity=ALICE, issuer=instance.issuer.url))


def test_sigstore_python_accepts_a_workflow_identity(instance: Instance, tmp_path: Path) -> None:
    from sigstore.models import Bundle as SigstoreBundle
    from sigstore.verify.policy import AllOf, GitHubWorkflowRepository, Identity

    artifact = _artifact(tmp_path)
    bundle = sign_blob_keyless(instance, artifact, claims=github_claims("octo/app"))
    uri = "https://github.com/octo/app/.github/workflows/release.yml@refs/heads/main"
    policy = AllOf([Identity(identity=uri, issuer=instance.issuer.url), GitHubWorkflowRepository("octo/app")])
    _sigstore_verifier(instance, tmp_path).verify_artifact(
        artifact.read_bytes(), SigstoreBundle.from_json(bundle.to_json()), policy
    )


def test_real_mode_instance_verifies_too(tmp_path: Path) -> None:
    from sigstore.models import Bundle as SigstoreBundle
    from sigstore.verify.policy import Identity

    with Instance.create(tmp_path / "real") as inst:
        artifact = _artifact(tmp_path)
        bundle = sign_blob_keyless(inst, artifact, identity=ALICE)
        _sigstore_verifier(inst, tmp_path).verify_artifact(
            artifact.read_bytes(),
            SigstoreBundle.from_json(bundle.to_json()),
            Identity(identity=ALICE, issuer=inst.issuer.url),
        )


def test_labkit_verifier_accepts_it_too(instance: Instance, tmp_path: Path) -> None:
    from labkit.verify import Identity, TrustedRoot, explain_bundle

    artifact = _artifact(tmp_path)
    bundle = sign_blob_keyless(instance, artifact, identity=ALICE)
    root = TrustedRoot.from_json(instance.trusted_root_json())
    ok = explain_bundle(bundle, artifact, root, Identity(identity=ALICE, issuer=instance.issuer.url))
    assert ok.verified, ok.checklist()
    bad = explain_bundle(bundle, artifact, root, Identity(identity="mallory@example.com", issuer=instance.issuer.url))
    assert not bad.verified


def test_bundle_shape(instance: Instance, tmp_path: Path) -> None:
    result = sign_keyless(instance, _artifact(tmp_path), identity=ALICE)
    doc = json.loads(result.bundle.to_json())
    assert doc["mediaType"] == BUNDLE_V03_MEDIA_TYPE
    assert set(doc["verificationMaterial"]) >= {"certificate", "tlogEntries"}
    (entry,) = doc["verificationMaterial"]["tlogEntries"]
    assert entry["kindVersion"] == {"kind": "hashedrekord", "version": "0.0.1"}
    assert entry["inclusionPromise"]["signedEntryTimestamp"] and entry["inclusionProof"]["checkpoint"]["envelope"]
    body = json.loads(base64.b64decode(entry["canonicalizedBody"]))
    assert base64.b64decode(body["spec"]["signature"]["publicKey"]["content"]) == result.certificate.pem()
    cert = result.certificate.certificate
    assert cert.not_valid_before_utc.timestamp() <= int(entry["integratedTime"]) <= cert.not_valid_after_utc.timestamp()
    assert set(result.timings) == {"hash", "token", "key", "certificate", "sign", "log", "bundle"}
    assert Bundle.from_json(result.bundle.to_json()).to_json() == result.bundle.to_json()


def test_lab_signing_is_reproducible(tmp_path: Path) -> None:
    artifact = _artifact(tmp_path)
    outputs = []
    for name in ("a", "b"):
        with Instance.create(tmp_path / name, seed="repro") as inst:
            outputs.append(sign_blob_keyless(inst, artifact, identity=ALICE).to_json())
    assert outputs[0] == outputs[1]


def test_reopened_lab_instance_keeps_signing(tmp_path: Path) -> None:
    artifact = _artifact(tmp_path)
    with Instance.create(tmp_path / "i", seed="reopen") as inst:
        first = sign_keyless(inst, artifact, identity=ALICE)
    with Instance.open(tmp_path / "i") as inst:
        second = sign_keyless(inst, artifact, identity=ALICE)
        assert second.log_entry is not None and first.log_entry is not None
        assert second.log_entry.log_index == first.log_entry.log_index + 1
        assert second.log_entry.integrated_time > first.log_entry.integrated_time


def test_foreign_token_is_refused_and_nothing_is_logged(instance: Instance, tmp_path: Path) -> None:
    with Instance.create(tmp_path / "other", seed="other") as other:
        token = other.issuer.mint(ALICE)
    with pytest.raises(IssuanceRefused) as err:
        sign_blob_keyless(instance, _artifact(tmp_path), identity_token=token)
    assert err.value.step == "token.signature"
    assert instance.tlog.size == 0


def test_identity_token_minted_elsewhere_is_accepted(instance: Instance, tmp_path: Path) -> None:
    token = instance.issuer.mint("https://ci.example.com/job/1")
    bundle = sign_blob_keyless(instance, _artifact(tmp_path), identity_token=token)
    assert bundle.verification_material.certificate


def test_missing_identity_and_missing_file(instance: Instance, tmp_path: Path) -> None:
    with pytest.raises(KeylessError):
        sign_blob_keyless(instance, _artifact(tmp_path))
    from labkit.errors import InputError

    with pytest.raises(InputError):
        sign_blob_keyless(instance, tmp_path / "missing.txt", identity=ALICE)


def test_keyless_image_signature_is_stored_cosign_style(instance: Instance) -> None:
    from sigstore.models import Bundle as SigstoreBundle
    from sigstore.verify.policy import Identity

    from labkit.keyless.sign import sign_image_keyless
    from labkit.oci.builder import build_image
    from labkit.oci.layout import OCILayout
    from labkit.oci.signatures import list_signatures

    store = OCILayout.open(instance.oci_dir)
    image = build_image(store, {"hello.txt": "hi\n"}, tag="v1")
    signed = sign_image_keyless(instance, store, image.descriptor, docker_reference="registry.local/app",
                                identity=ALICE)
    (layer,) = list_signatures(store, image.descriptor.digest)
    assert layer.certificate is not None and layer.certificate.encode() == signed.keyless.certificate.pem()
    assert signed.keyless.log_entry is not None
    assert layer.rekor_bundle == signed.keyless.log_entry.rekor_bundle()
    # The same signature as a bundle over the payload: sigstore-python's verdict.
    root = instance.write_trusted_root(instance.path / "root-copy.json")
    from sigstore.models import TrustedRoot
    from sigstore.verify import Verifier

    Verifier(trusted_root=TrustedRoot.from_file(str(root))).verify_artifact(
        signed.payload, SigstoreBundle.from_json(signed.keyless.bundle.to_json()),
        Identity(identity=ALICE, issuer=instance.issuer.url),
    )


def test_concurrent_signers_lose_nothing(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from labkit.verify import Identity, TrustedRoot, verify_bundle

    artifact = _artifact(tmp_path)
    with Instance.create(tmp_path / "busy", seed="busy") as inst:
        who = [f"user{i}@example.com" for i in range(24)]
        with ThreadPoolExecutor(max_workers=6) as pool:
            bundles = list(pool.map(lambda w: sign_blob_keyless(inst, artifact, identity=w), who))
        assert inst.tlog.size == len(who)
        indices = {b.verification_material.tlog_entries[0].log_index for b in bundles}
        assert indices == set(range(len(who)))
        root = TrustedRoot.from_json(inst.trusted_root_json())
        for w, b in zip(who, bundles, strict=False):
            verify_bundle(b, artifact, root, Identity(identity=w, issuer=inst.issuer.url))
