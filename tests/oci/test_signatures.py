"""cosign-compatible signature storage: format, verification, concurrency."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from labkit.errors import VerificationError
from labkit.keys import generate
from labkit.lab import Lab
from labkit.oci.builder import BuiltImage, build_image
from labkit.oci.descriptor import MT_CONFIG, MT_MANIFEST, parse_manifest
from labkit.oci.digest import Digest
from labkit.oci.layout import OCILayout
from labkit.oci.reference import parse_reference
from labkit.oci.registry import RegistryClient
from labkit.oci.signatures import (
    ANN_BUNDLE,
    ANN_SIGNATURE,
    BUNDLE_ARTIFACT_TYPE,
    COSIGN_SIGN_PREDICATE,
    SIMPLESIGNING_MEDIA_TYPE,
    TAG_WARNING,
    append_signature_racy,
    list_bundles,
    list_signatures,
    make_signature_layer,
    resolve_for_signing,
    sign_image,
    signature_tag,
)
from labkit.payloads import simple_signing_payload
from labkit.verify.image import explain_image_signatures, verify_image
from labkit.verify.trustroot import TrustedRoot
from tests.oci.conftest import Registry

if TYPE_CHECKING:
    from labkit.tlog.store import TransparencyLog

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def layout(tmp_path: Path) -> OCILayout:
    return OCILayout.init(tmp_path / "layout")


@pytest.fixture
def image(layout: OCILayout) -> BuiltImage:
    return build_image(layout, {"app.txt": "v1"}, tag="v1")


def test_signature_tag() -> None:
    d = Digest.of(b"x")
    assert signature_tag(d) == f"sha256-{d.hex}.sig"
    assert signature_tag(str(d), "att") == f"sha256-{d.hex}.att"


def test_legacy_storage_format(layout: OCILayout, image: BuiltImage, lab: Lab) -> None:
    key = generate(lab=lab, label="signer")
    res = sign_image(layout, image.descriptor, key, docker_reference="registry.local/app")
    # the payload is cosign's simple-signing document, byte for byte
    assert res.payload == (
        b'{"critical":{"identity":{"docker-reference":"registry.local/app"},"image":{"docker-manifest-digest":"'
        + str(image.digest).encode()
        + b'"},"type":"cosign container image signature"},"optional":null}'
    )
    data, _ = layout.get_manifest(signature_tag(image.digest))
    manifest = parse_manifest(data)
    doc = json.loads(data)
    assert doc["mediaType"] == MT_MANIFEST and manifest.config.media_type == MT_CONFIG
    assert len(manifest.layers) == 1
    layer = manifest.layers[0]
    assert layer.media_type == SIMPLESIGNING_MEDIA_TYPE
    assert layer.digest == Digest.of(res.payload)
    assert list(layer.annotations) == [ANN_SIGNATURE]
    sig = base64.b64decode(layer.annotations[ANN_SIGNATURE])
    key.public_key().verify(sig, res.payload)
    config = json.loads(layout.get_blob(manifest.config.digest))
    assert config["rootfs"] == {"type": "layers", "diff_ids": [str(layer.digest)]}


def test_sign_verify_and_explain(layout: OCILayout, image: BuiltImage, lab: Lab) -> None:
    key = generate(lab=lab, label="signer")
    other = generate(lab=lab, label="other")
    with pytest.raises(VerificationError) as err:
        verify_image(layout, image.digest, key.public_key())
    assert err.value.step == "signatures.found"
    sign_image(layout, image.descriptor, key, docker_reference="localhost/app", annotations={"env": "prod"})
    report = verify_image(layout, image.digest, key.public_key(), annotations={"env": "prod"})
    assert len(report.verified_signatures) == 1
    with pytest.raises(VerificationError) as err:
        verify_image(layout, image.digest, other.public_key())
    assert err.value.step == "signatures.verified" and err.value.reason == "signature.verify"
    # The image-level row names the per-signature check the verdict's reason comes from (issue 19, item 5).
    failed = explain_image_signatures(layout, image.digest, other.public_key()).step("signatures.verified")
    assert failed is not None and "signature.verify" in failed.detail
    with pytest.raises(VerificationError) as err:
        verify_image(layout, image.digest, key.public_key(), annotations={"env": "dev"})
    assert err.value.reason == "payload.annotation.env"
    report = explain_image_signatures(layout, image.digest, other.public_key())
    assert not report.verified and report.rows()[-1]["status"] == "failed"


def test_signature_copied_to_another_image_fails_binding(layout: OCILayout, image: BuiltImage, lab: Lab) -> None:
    key = generate(lab=lab, label="signer")
    sign_image(layout, image.descriptor, key, docker_reference="localhost/app")
    evil = build_image(layout, {"app.txt": "evil"}, tag="evil")
    sig_desc = layout.resolve(signature_tag(image.digest))
    layout.tag(signature_tag(evil.digest), sig_desc)  # copy .sig onto the evil image
    with pytest.raises(VerificationError) as err:
        verify_image(layout, evil.digest, key.public_key())
    assert err.value.reason == "payload.digest"


def test_tampered_signature_layer(layout: OCILayout, image: BuiltImage, lab: Lab) -> None:
    key = generate(lab=lab, label="signer")
    res = sign_image(layout, image.descriptor, key, docker_reference="localhost/app")
    layout.blob_path(res.layer.digest).write_bytes(res.payload.replace(b"localhost", b"evilhost"))
    report = explain_image_signatures(layout, image.digest, key.public_key())
    assert not report.verified
    assert report.failed_step is not None and report.failed_step.id == "sig.read"


def test_same_signature_not_added_twice(layout: OCILayout, image: BuiltImage, lab: Lab) -> None:
    key = generate(lab=lab, label="signer")
    sign_image(layout, image.descriptor, key, docker_reference="localhost/app")
    sign_image(layout, image.descriptor, key, docker_reference="localhost/app")  # deterministic lab signature
    assert len(list_signatures(layout, image.digest)) == 1


def test_tag_warning(layout: OCILayout, image: BuiltImage) -> None:
    path = str(layout.path)
    desc, warning = resolve_for_signing(layout, parse_reference(f"oci:{path}:v1"))
    assert desc.digest == image.digest and warning == TAG_WARNING.format(ref=f"oci:{path}:v1")
    _, warning = resolve_for_signing(layout, parse_reference(f"oci:{path}@{image.digest}"))
    assert warning is None


def test_new_bundle_format(layout: OCILayout, image: BuiltImage, lab: Lab) -> None:
    key = generate(lab=lab, label="signer")
    res = sign_image(layout, image.descriptor, key, docker_reference="localhost/app", new_bundle_format=True,
                     clock=lab.clock)
    assert res.bundle_referrer is not None
    data, _ = layout.get_manifest(res.bundle_referrer.digest)
    doc = json.loads(data)
    assert doc["artifactType"] == BUNDLE_ARTIFACT_TYPE
    assert doc["config"] == {
        "mediaType": "application/vnd.oci.empty.v1+json",
        "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
        "size": 2,
    }
    assert doc["subject"]["digest"] == str(image.digest)
    assert doc["annotations"] == {
        "dev.sigstore.bundle.content": "dsse-envelope",
        "dev.sigstore.bundle.predicateType": COSIGN_SIGN_PREDICATE,
        "org.opencontainers.image.created": "2026-01-01T12:00:00Z",
    }
    bundles = list_bundles(layout, image.digest)
    assert len(bundles) == 1
    bundle = json.loads(bundles[0][1])
    assert bundle["mediaType"] == BUNDLE_ARTIFACT_TYPE
    assert bundle["dsseEnvelope"]["payloadType"] == "application/vnd.in-toto+json"
    report = verify_image(layout, image.digest, key.public_key())
    assert len(report.verified_signatures) == 2


def test_rekor_bundle_annotation() -> None:
    payload = simple_signing_payload("localhost/app", str(Digest.of(b"m")))
    rekor = {"SignedEntryTimestamp": "c2V0", "Payload": {"body": "Ym9keQ==", "integratedTime": 1,
                                                         "logIndex": 0, "logID": "00" * 32}}
    layer = make_signature_layer(payload, b"sig", rekor_bundle=rekor, certificate=b"PEM")
    assert json.loads(layer.annotations[ANN_BUNDLE]) == rekor
    assert list(layer.annotations) == sorted(layer.annotations)
    assert layer.annotations["dev.sigstore.cosign/chain"] == ""


def test_racy_append_loses_a_signature(layout: OCILayout, image: BuiltImage, lab: Lab) -> None:
    """cosign's read-append-write: two signers at once, one signature survives."""
    layers = []
    for i in range(2):
        key = generate(lab=lab, label=f"racer-{i}")
        payload = simple_signing_payload("localhost/app", str(image.digest))
        layers.append((make_signature_layer(payload, key.sign(payload)), payload))
    threads = [
        threading.Thread(target=append_signature_racy, args=(OCILayout(layout.path), image.digest, la, p),
                         kwargs={"pause": 0.3})
        for la, p in layers
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(list_signatures(layout, image.digest)) == 1


def test_racy_mode_not_reachable_from_cli() -> None:
    source = (ROOT / "labkit" / "cli" / "oci.py").read_text()
    assert "racy" not in source


_SIGNER = """
import os, sys, time
from labkit.keys import generate
from labkit.lab import Lab
from labkit.oci.signatures import sign_image
from labkit.oci.store import open_store
ref, index, go = sys.argv[1], int(sys.argv[2]), sys.argv[3]
store, r = open_store(ref)
desc = store.resolve(r.ref)
key = generate(lab=Lab(seed="concurrency"), label=f"signer-{index}")
while not os.path.exists(go):
    time.sleep(0.002)
sign_image(store, desc, key, docker_reference="localhost/app")
"""


def _run_signers(spawn: Callable[..., subprocess.Popen[bytes]], ref: str, tmp: Path, n: int = 8) -> None:
    """`n` signer processes at once, started through `spawn` (stopped when the test ends, whatever the outcome)."""
    go = tmp / "go"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    procs = [
        spawn([sys.executable, "-c", _SIGNER, ref, str(i), str(go)], env=env,
              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for i in range(n)
    ]
    time.sleep(0.5)
    go.write_text("go")
    for p in procs:
        out, err = p.communicate(timeout=240)
        assert p.returncode == 0, err.decode()[-2000:]


def _check_all_signed(store: OCILayout | object, digest: Digest, n: int = 8) -> None:
    sigs = list_signatures(store, digest)  # type: ignore[arg-type]
    assert len(sigs) == n
    lab = Lab(seed="concurrency")
    for i in range(n):
        key = generate(lab=lab, label=f"signer-{i}")
        verify_image(store, digest, key.public_key())  # type: ignore[arg-type]


@pytest.mark.slow
def test_eight_concurrent_signers_layout(
    layout: OCILayout, image: BuiltImage, tmp_path: Path, spawn: Callable[..., subprocess.Popen[bytes]]
) -> None:
    _run_signers(spawn, f"oci:{layout.path}:v1", tmp_path)
    _check_all_signed(layout, image.digest)
    assert layout.check() == []


@pytest.mark.slow
@pytest.mark.registry
def test_eight_concurrent_signers_registry(
    registry: Registry, tmp_path: Path, spawn: Callable[..., subprocess.Popen[bytes]]
) -> None:
    repo = RegistryClient(registry.url).repository("labkit/race")
    img = build_image(repo, {"app.txt": "v1"}, tag="v1")
    _run_signers(spawn, f"{registry.host}/labkit/race:v1", tmp_path)
    _check_all_signed(repo, img.digest)


@pytest.mark.registry
def test_registry_sign_verify_and_bundle(registry: Registry, lab: Lab) -> None:
    repo = RegistryClient(registry.url).repository("labkit/signed")
    img = build_image(repo, {"app.txt": "v1"}, tag="v1")
    key = generate(lab=lab, label="signer")
    sign_image(repo, img.descriptor, key, docker_reference=repo.name, new_bundle_format=True, clock=lab.clock)
    report = verify_image(repo, img.digest, key.public_key())
    assert len(report.verified_signatures) == 2
    assert [r.artifact_type for r in repo.referrers(img.digest)] == [BUNDLE_ARTIFACT_TYPE]
    # tag swap: the tag now names an unsigned image, whose .sig does not exist
    evil = build_image(repo, {"app.txt": "evil"}, tag="v1")
    with pytest.raises(VerificationError):
        verify_image(repo, repo.resolve("v1").digest, key.public_key())
    assert evil.digest != img.digest
    verify_image(repo, img.digest, key.public_key())


def test_sign_with_transparency_log(layout: OCILayout, image: BuiltImage, lab: Lab, tmp_path: Path) -> None:
    from labkit.tlog.entries import parse_body, verify_set
    from labkit.tlog.store import TransparencyLog

    log = TransparencyLog.open(tmp_path / "log", lab=lab)
    try:
        key = generate(lab=lab, label="signer")
        res = sign_image(layout, image.descriptor, key, docker_reference="localhost/app", tlog=log,
                         new_bundle_format=True, clock=lab.clock)
        sig = list_signatures(layout, image.digest)[0]
        rekor = sig.rekor_bundle
        assert rekor is not None and set(rekor) == {"SignedEntryTimestamp", "Payload"}
        body = base64.b64decode(rekor["Payload"]["body"])
        parsed = parse_body(body)
        assert parsed.kind == "hashedrekord"
        assert json.loads(body)["spec"]["data"]["hash"]["value"] == Digest.of(res.payload).hex
        p = rekor["Payload"]
        verify_set(log.public_key, base64.b64decode(rekor["SignedEntryTimestamp"]), body,
                   p["integratedTime"], p["logID"], p["logIndex"])
        assert res.bundle is not None and len(res.bundle.verification_material.tlog_entries) == 1
        assert res.bundle.verification_material.tlog_entries[0].kind == "dsse"
        assert log.size == 2
    finally:
        log.close()


@pytest.mark.registry
def test_racy_append_loses_a_signature_on_the_registry(registry: Registry, lab: Lab) -> None:
    repo = RegistryClient(registry.url).repository("labkit/racy")
    img = build_image(repo, {"app.txt": "v1"}, tag="v1")
    payload = simple_signing_payload("localhost/app", str(img.digest))
    layers = [make_signature_layer(payload, generate(lab=lab, label=f"racer-{i}").sign(payload)) for i in range(3)]
    threads = [
        threading.Thread(target=append_signature_racy, args=(repo, img.digest, layer, payload), kwargs={"pause": 0.3})
        for layer in layers
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(list_signatures(repo, img.digest)) == 1


def test_keyless_signature_verifies_with_identity(layout: OCILayout, image: BuiltImage, tmp_path: Path) -> None:
    from cryptography import x509

    from labkit.keyless.instance import Instance
    from labkit.keyless.sign import sign_image_keyless
    from labkit.verify.policy import Identity, certificate_identity
    from labkit.verify.trustroot import TrustedRoot

    with Instance.create(tmp_path / "instance", seed="oci-keyless") as instance:
        sign_image_keyless(instance, layout, image.descriptor, docker_reference="localhost/app",
                           identity="alice@example.com")
        root = TrustedRoot.from_json(instance.trusted_root_json())
        sig = list_signatures(layout, image.digest)[0]
        cert = sig.certificate
        assert cert is not None
        who = certificate_identity(x509.load_pem_x509_certificate(cert.encode()))
        good = Identity(identity="alice@example.com", issuer=who.issuer)
        report = verify_image(layout, image.digest, None, trusted_root=root, identity=good, tlog=instance.tlog)
        assert len(report.verified_signatures) == 1
        rows = {r["step"]: r["status"] for r in report.rows()}
        assert rows["keyless.verify"] == "passed"
        wrong = Identity(identity="mallory@example.com", issuer=who.issuer)
        with pytest.raises(VerificationError) as err:
            verify_image(layout, image.digest, None, trusted_root=root, identity=wrong, tlog=instance.tlog)
        assert err.value.reason == "keyless.verify"
        # without the log there is no inclusion proof: labkit's offline verifier refuses
        with pytest.raises(VerificationError):
            verify_image(layout, image.digest, None, trusted_root=root, identity=good)
    report = explain_image_signatures(layout, image.digest, None)
    assert not report.verified and report.failed_step is not None and report.failed_step.id == "policy.present"


# -- verification options: docker-reference, bundle format required, legacy SET against a trusted root --------


def _log_root(log: TransparencyLog, *, start: str = "2020-01-01T00:00:00+00:00") -> TrustedRoot:
    """A TrustedRoot naming `log` (a TransparencyLog), as `labkit log trusted-root` writes it."""
    import datetime as dt

    return TrustedRoot.for_log("https://labkit.local", log.public_key, start=dt.datetime.fromisoformat(start))


def _reason(fn: Callable[[], object]) -> tuple[str, str]:
    with pytest.raises(VerificationError) as err:
        fn()
    return err.value.reason, err.value.step or ""


def test_docker_reference_option(layout: OCILayout, image: BuiltImage, lab: Lab) -> None:
    key = generate(lab=lab, label="signer")
    sign_image(layout, image.descriptor, key, docker_reference="registry.local/sandbox/debug")
    pub = key.public_key()
    # cosign's behaviour (and the default): docker-reference is not checked
    verify_image(layout, image.digest, pub)
    report = verify_image(layout, image.digest, pub, docker_reference="registry.local/sandbox/debug")
    rows = {r["step"]: r for r in report.rows()}
    assert rows["payload.docker_reference"]["status"] == "passed"
    # the .sig replayed in prod/payments: refused, with expected and actual
    report = explain_image_signatures(layout, image.digest, pub, docker_reference="registry.local/prod/payments")
    assert report.reason == "payload.docker_reference"
    failed = report.signatures[0].failed_step
    assert failed is not None and failed.id == "payload.docker_reference"
    assert (failed.expected, failed.actual) == ("registry.local/prod/payments", "registry.local/sandbox/debug")
    assert _reason(lambda: verify_image(layout, image.digest, pub, docker_reference="registry.local/prod/payments")) \
        == ("payload.docker_reference", "signatures.verified")


def test_docker_reference_checks_bundle_subject_names(layout: OCILayout, image: BuiltImage, lab: Lab) -> None:
    key = generate(lab=lab, label="signer")
    sign_image(layout, image.descriptor, key, docker_reference="registry.local/app", new_bundle_format=True,
               clock=lab.clock)
    pub = key.public_key()
    report = verify_image(layout, image.digest, pub, docker_reference="registry.local/app", require_bundle_format=True)
    assert [s.subject.split()[0] for s in report.verified_signatures] == ["bundle"]
    assert _reason(lambda: verify_image(layout, image.digest, pub, docker_reference="registry.local/other",
                                        require_bundle_format=True))[0] == "payload.docker_reference"


def test_require_bundle_format_never_falls_back(layout: OCILayout, image: BuiltImage, lab: Lab) -> None:
    key = generate(lab=lab, label="signer")
    pub = key.public_key()
    sign_image(layout, image.descriptor, key, docker_reference="localhost/app")  # legacy .sig only
    verify_image(layout, image.digest, pub)  # the legacy signature is fine
    report = explain_image_signatures(layout, image.digest, pub, require_bundle_format=True)
    assert report.reason == "format.no_bundle" and report.signatures == []
    steps = [r["step"] for r in report.rows()]
    assert steps == ["format.bundle"]  # .sig is never read
    assert _reason(lambda: verify_image(layout, image.digest, pub, require_bundle_format=True)) \
        == ("format.no_bundle", "format.bundle")
    # a bundle referrer by another key does not let the good .sig count either
    other = generate(lab=lab, label="other")
    sign_image(layout, image.descriptor, other, docker_reference="localhost/app", new_bundle_format=True,
               clock=lab.clock)
    assert _reason(lambda: verify_image(layout, image.digest, pub, require_bundle_format=True))[0] == "signature.verify"
    # with the signer's own bundle it verifies, from the bundle alone
    sign_image(layout, image.descriptor, key, docker_reference="localhost/app", new_bundle_format=True,
               clock=lab.clock)
    report = verify_image(layout, image.digest, pub, require_bundle_format=True)
    assert len(report.verified_signatures) == 1 and all(s.subject.startswith("bundle ") for s in report.signatures)


def test_legacy_set_checked_against_the_trusted_root(layout: OCILayout, image: BuiltImage, lab: Lab,
                                                     tmp_path: Path) -> None:
    from labkit.tlog.store import TransparencyLog

    with TransparencyLog.open(tmp_path / "log", lab=lab) as log, \
            TransparencyLog.open(tmp_path / "other-log", lab=Lab(seed="other log")) as other_log:
        key = generate(lab=lab, label="signer")
        pub = key.public_key()
        sign_image(layout, image.descriptor, key, docker_reference="localhost/app", tlog=log,
                   new_bundle_format=True, clock=lab.clock)
        root = _log_root(log)
        report = verify_image(layout, image.digest, pub, trusted_root=root)
        assert len(report.verified_signatures) == 2  # the bundle (through labkit.verify) and the legacy layer
        legacy = next(s for s in report.signatures if s.subject.startswith("sig["))
        ids = [st.id for st in legacy.steps]
        assert ids[ids.index("signature.verify") + 1:ids.index("payload.parse")] == [
            "tlog.entries", "tlog.entry.parse", "binding.body", "binding.digest", "binding.key", "binding.signature",
            "tlog.log_id", "tlog.inclusion_promise", "tlog.key_validity"]
        # a malformed root is a clear failure
        assert explain_image_signatures(layout, image.digest, pub, trusted_root=b"{}").reason == "trust_root.invalid"
        # a log the verifier does not trust
        assert explain_image_signatures(layout, image.digest, pub, trusted_root=_log_root(other_log)).signatures[1] \
            .reason == "tlog.log_id"
        with pytest.raises(VerificationError) as err:
            verify_image(layout, image.digest, pub, trusted_root=_log_root(other_log))
        assert err.value.reason == "bundle.verify"  # the first signature is the bundle referrer
        # the log key was not yet valid at the integrated time
        late = _log_root(log, start="2030-01-01T00:00:00+00:00")
        assert explain_image_signatures(layout, image.digest, pub, trusted_root=late).signatures[1].reason \
            == "tlog.key_validity"


def _legacy_only(layout: OCILayout, lab: Lab, name: str, rekor: dict[str, object] | None, raw: str | None = None
                 ) -> tuple[BuiltImage, object]:
    """A new image with one key-signed legacy layer carrying `rekor` (or the raw annotation `raw`)."""
    from labkit.oci.signatures import attach_signature

    img = build_image(layout, {"app.txt": name}, tag=name)
    key = generate(lab=lab, label="signer")
    payload = simple_signing_payload("localhost/app", str(img.digest))
    layer = make_signature_layer(payload, key.sign(payload), rekor_bundle=rekor)
    if raw is not None:
        from labkit.oci.descriptor import Descriptor

        layer = Descriptor(
            layer.media_type, layer.digest, layer.size, annotations={**layer.annotations, ANN_BUNDLE: raw}
        )
    attach_signature(layout, img.digest, layer, payload)
    return img, key.public_key()


def test_legacy_set_failures(layout: OCILayout, lab: Lab, tmp_path: Path) -> None:
    from labkit.tlog.store import TransparencyLog

    with TransparencyLog.open(tmp_path / "log", lab=lab) as log:
        root = _log_root(log)
        # no log entry at all: refused once a trusted root is given (accepted without, as --insecure-ignore-tlog)
        img, pub = _legacy_only(layout, lab, "bare", None)
        verify_image(layout, img.digest, pub)  # type: ignore[arg-type]
        assert _reason(lambda: verify_image(layout, img.digest, pub, trusted_root=root))[0] == "tlog.missing"  # type: ignore[arg-type]
        # an annotation that is not a rekorBundle
        img, pub = _legacy_only(layout, lab, "junk", None, raw='{"Payload": 1}')
        assert _reason(lambda: verify_image(layout, img.digest, pub, trusted_root=root))[0] == "tlog.entry.parse"  # type: ignore[arg-type]
        # GHSA-whqx: a genuine entry and SET for someone else's signature, pasted into this layer
        bystander = generate(lab=lab, label="bystander")
        other_payload = b"unrelated artifact"
        entry = log.upload_hashedrekord(bystander.sign(other_payload), bystander.public_key().pem(),
                                        Digest.of(other_payload).hex)
        img, pub = _legacy_only(layout, lab, "forged", entry.rekor_bundle())
        assert _reason(lambda: verify_image(layout, img.digest, pub, trusted_root=root))[0] == "binding.digest"  # type: ignore[arg-type]
        # the right entry with a tampered SET
        key = generate(lab=lab, label="signer")
        tampered_img = build_image(layout, {"app.txt": "tampered"}, tag="tampered")
        payload = simple_signing_payload("localhost/app", str(tampered_img.digest))
        sig = key.sign(payload)
        good = log.upload_hashedrekord(sig, key.public_key().pem(), Digest.of(payload).hex).rekor_bundle()
        bad = dict(good, SignedEntryTimestamp=base64.b64encode(key.sign(b"not a SET")).decode())
        from labkit.oci.signatures import attach_signature

        attach_signature(layout, tampered_img.digest, make_signature_layer(payload, sig, rekor_bundle=bad), payload)
        report = explain_image_signatures(layout, tampered_img.digest, key.public_key(), trusted_root=root)
        assert report.reason == "tlog.inclusion_promise"
        assert report.signatures[0].failed_step is not None and "does not verify" in (
            report.signatures[0].failed_step.actual or ""
        )
        # the same layer with its genuine SET verifies
        attach_signature(layout, tampered_img.digest, make_signature_layer(payload, sig, rekor_bundle=good), payload)
        assert (
            len(verify_image(layout, tampered_img.digest, key.public_key(), trusted_root=root).verified_signatures) == 1
        )


def test_bundle_without_log_entry_refused_with_trusted_root(layout: OCILayout, image: BuiltImage, lab: Lab,
                                                             tmp_path: Path) -> None:
    from labkit.tlog.store import TransparencyLog

    key = generate(lab=lab, label="signer")
    sign_image(layout, image.descriptor, key, docker_reference="localhost/app", new_bundle_format=True, clock=lab.clock)
    verify_image(layout, image.digest, key.public_key(), require_bundle_format=True)  # key only: no log needed
    with TransparencyLog.open(tmp_path / "log", lab=lab) as log:
        report = explain_image_signatures(layout, image.digest, key.public_key(), trusted_root=_log_root(log),
                                          require_bundle_format=True)
    assert report.reason == "bundle.verify"
    failed = report.signatures[0].failed_step
    assert failed is not None and failed.actual == "tlog.missing"
