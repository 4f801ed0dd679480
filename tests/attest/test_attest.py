"""Attest and verify, blobs and images, key-based and keyless, for every built-in type."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from labkit.attest import (
    attest_blob,
    attest_image,
    explain_blob_attestation,
    explain_image_attestation,
    keyless_signer,
    register_predicate_type,
    samples,
    unregister_predicate_type,
    verify_blob_attestation,
    verify_image_attestation,
)
from labkit.attest.attest import DSSE_LAYER_MEDIA_TYPE
from labkit.bundle import Bundle
from labkit.errors import AttestationError, VerificationError
from labkit.keyless.instance import Instance
from labkit.keys import generate
from labkit.oci.layout import OCILayout
from labkit.oci.signatures import list_signatures
from labkit.payloads import INTOTO_PAYLOAD_TYPE, Statement, Subject, sign_envelope
from labkit.verify.policy import Identity
from tests.attest.test_predicates import GOOD


@pytest.fixture(scope="module")
def inst(tmp_path_factory: pytest.TempPathFactory) -> Instance:
    return Instance.create(tmp_path_factory.mktemp("inst") / "i", seed="attest-tests")


@pytest.fixture(scope="module")
def root(inst: Instance) -> bytes:
    return inst.trusted_root_json()


def _key(inst: Instance, label: str = "release") -> Any:
    assert inst.lab is not None
    return generate("ecdsa-p256", lab=inst.lab, label=label)


BLOB = b"release artefact\n"


@pytest.mark.parametrize("name", sorted(GOOD))
def test_blob_round_trip_every_builtin(inst: Instance, root: bytes, name: str) -> None:
    key = _key(inst)
    bundle = attest_blob(BLOB, name, GOOD[name], key, instance=inst, subject_name="a.txt")
    assert bundle.to_dict()["dsseEnvelope"]["payloadType"] == INTOTO_PAYLOAD_TYPE
    # The bundle survives its JSON form (what --bundle writes).
    again = Bundle.from_json(bundle.to_json())
    r = verify_blob_attestation(again, BLOB, name, trusted_root=root, key=key.public_key())
    assert r.verified and r.predicate == GOOD[name]
    assert r.statement is not None and r.statement.subjects[0].name == "a.txt"
    # Another type is never satisfied by this attestation.
    other = "custom" if name != "custom" else "vuln"
    bad = explain_blob_attestation(bundle, BLOB, other, trusted_root=root, key=key.public_key())
    assert not bad.verified and bad.failed_step is not None and bad.failed_step.id == "predicate.type"


def test_blob_wrong_key_and_wrong_blob(inst: Instance, root: bytes) -> None:
    key = _key(inst)
    bundle = attest_blob(BLOB, "cyclonedx", GOOD["cyclonedx"], key, instance=inst)
    r = explain_blob_attestation(bundle, BLOB, "cyclonedx", trusted_root=root, key=_key(inst, "other").public_key())
    assert not r.verified and r.failed_step is not None and r.failed_step.id == "bundle.verify"
    r = explain_blob_attestation(bundle, b"another blob", "cyclonedx", trusted_root=root, key=key.public_key())
    assert not r.verified and r.failed_step is not None and r.failed_step.id == "bundle.verify"
    with pytest.raises(VerificationError) as err:
        verify_blob_attestation(bundle, b"another blob", "cyclonedx", trusted_root=root, key=key.public_key())
    assert err.value.step == "bundle.verify"


def test_blob_file_and_predicate_file(inst: Instance, root: bytes, tmp_path: Path) -> None:
    key = _key(inst)
    blob = tmp_path / "artifact.bin"
    blob.write_bytes(BLOB)
    bundle = attest_blob(blob, "custom", b"built on a Tuesday\n", key, instance=inst)
    r = verify_blob_attestation(bundle, blob, "custom", trusted_root=root, key=key.public_key())
    assert r.predicate["Data"] == "built on a Tuesday\n"
    assert r.statement is not None and r.statement.subjects[0].name == "artifact.bin"


def test_invalid_predicate_is_refused_before_signing(inst: Instance) -> None:
    size = inst.tlog.size
    with pytest.raises(AttestationError, match="not a valid slsaprovenance1"):
        attest_blob(BLOB, "slsaprovenance1", {"runDetails": {}}, _key(inst), instance=inst)
    assert inst.tlog.size == size  # nothing was logged


def test_signed_predicate_that_does_not_parse_as_its_type_fails(inst: Instance, root: bytes) -> None:
    # GHSA-w6c6-c85g-mmv6: a correctly signed statement whose predicate is not a valid member of its type.
    from labkit.attest.attest import Signer, _sign_and_log

    key = _key(inst)
    st = Statement([Subject("blob", {"sha256": __import__("hashlib").sha256(BLOB).hexdigest()})],
                   "https://cyclonedx.org/bom", {"bomFormat": "nonsense"})
    _env, bundle, _entry = _sign_and_log(st, Signer(key), inst)
    r = explain_blob_attestation(bundle, BLOB, "cyclonedx", trusted_root=root, key=key.public_key())
    assert any(s.id == "bundle.verify" and not s.failed for s in r.steps)
    assert not r.verified and r.failed_step is not None and r.failed_step.id == "predicate.schema"


def test_not_an_attestation(inst: Instance, root: bytes) -> None:
    from labkit.sign import sign_blob

    bundle = sign_blob(BLOB, _key(inst))
    r = explain_blob_attestation(bundle, BLOB, "custom", trusted_root=root, key=_key(inst).public_key())
    assert r.failed_step is not None and r.failed_step.id == "attestation.envelope"
    r = explain_blob_attestation(b"{not json", BLOB, "custom", trusted_root=root, key=_key(inst).public_key())
    assert r.failed_step is not None and r.failed_step.id == "bundle.parse"


def test_explain_never_raises_on_bad_request(root: bytes) -> None:
    r = explain_blob_attestation(b"{}", BLOB, "no-such-type", trusted_root=root, key=None)
    assert not r.verified and r.failed_step is not None and r.failed_step.id == "input"


@pytest.fixture(scope="module")
def image(inst: Instance, tmp_path_factory: pytest.TempPathFactory) -> tuple[OCILayout, Any]:
    store = OCILayout.init(tmp_path_factory.mktemp("oci") / "layout")
    built = samples.build_demo_image(store)
    return store, built


def test_image_key_and_keyless(inst: Instance, root: bytes, image: tuple[OCILayout, Any]) -> None:
    store, built = image
    key = _key(inst)
    contents = samples.read_image(store, "v1")
    prov = samples.slsa_provenance(contents, clock=inst.clock)
    a = attest_image(store, built.descriptor, "slsaprovenance1", prov, key,
                     docker_reference=samples.DEMO_IMAGE_NAME, instance=inst)
    # Stored twice: an OCI 1.1 referrer with the bundle, and a layer of sha256-<hex>.att.
    from labkit.attest import image_attestations

    assert ("https://slsa.dev/provenance/v1", a.bundle.to_json().encode()) in image_attestations(
        store, built.descriptor
    )
    (att,) = [x for x in list_signatures(store, built.digest, suffix="att")
              if x.descriptor.annotations["predicateType"] == "https://slsa.dev/provenance/v1"]
    assert att.descriptor.media_type == DSSE_LAYER_MEDIA_TYPE
    assert att.descriptor.annotations["dev.cosignproject.cosign/signature"] == ""
    assert "dev.sigstore.cosign/bundle" in att.descriptor.annotations

    r = verify_image_attestation(store, built.descriptor, "slsaprovenance1", trusted_root=root, key=key.public_key())
    assert r.predicate["runDetails"]["builder"]["id"] == samples.BUILDER_ID

    # GHSA-vjxv-45g9-9296: no SBOM attached yet, so --type cyclonedx must fail.
    r = explain_image_attestation(store, built.descriptor, "cyclonedx", trusted_root=root, key=key.public_key())
    assert not r.verified and r.failed_step is not None and r.failed_step.id == "attestation.found"

    signer = keyless_signer(inst, identity="builder@lab.test")
    attest_image(store, built.descriptor, "cyclonedx", samples.cyclonedx_sbom(contents, clock=inst.clock), signer,
                 docker_reference=samples.DEMO_IMAGE_NAME, instance=inst)
    ident = Identity(identity="builder@lab.test", issuer=inst.issuer.url)
    r = verify_image_attestation(store, built.descriptor, "cyclonedx", trusted_root=root, identity=ident)
    assert r.predicate["bomFormat"] == "CycloneDX"
    wrong = Identity(identity="mallory@lab.test", issuer=inst.issuer.url)
    r = explain_image_attestation(store, built.descriptor, "cyclonedx", trusted_root=root, identity=wrong)
    assert not r.verified and r.failed_step is not None and r.failed_step.id == "bundle.verify"
    # The provenance signed with a key does not satisfy a keyless identity.
    r = explain_image_attestation(store, built.descriptor, "slsaprovenance1", trusted_root=root, identity=ident)
    assert not r.verified


def test_image_other_digest_has_nothing(root: bytes, image: tuple[OCILayout, Any], inst: Instance) -> None:
    store, _ = image
    r = explain_image_attestation(store, "sha256:" + "0" * 64, "slsaprovenance1", trusted_root=root,
                                  key=_key(inst).public_key())
    assert r.failed_step is not None and r.failed_step.id == "attestation.found"


def test_registered_type_round_trip(inst: Instance, root: bytes, image: tuple[OCILayout, Any]) -> None:
    store, built = image
    uri = "https://example.org/test-result/v1"
    register_predicate_type(uri, name="test-result",
                            schema={"type": "object", "required": ["passed", "failed"]},
                            policy=lambda p: p["failed"] == 0 or f"{p['failed']} tests failed")
    try:
        key = _key(inst)
        attest_image(store, built.descriptor, "test-result", {"passed": 10, "failed": 0}, key,
                     docker_reference=samples.DEMO_IMAGE_NAME, instance=inst)
        r = verify_image_attestation(store, built.descriptor, "test-result", trusted_root=root, key=key.public_key())
        assert [s.id for s in r.steps][-2:] == ["predicate.schema", "predicate.policy"]
        # A failing policy is refused at attest time...
        with pytest.raises(AttestationError, match="2 tests failed"):
            attest_image(store, built.descriptor, "test-result", {"passed": 8, "failed": 2}, key,
                         docker_reference=samples.DEMO_IMAGE_NAME, instance=inst)
    finally:
        unregister_predicate_type(uri)


def test_envelope_signed_outside_labkit_is_checked(inst: Instance, root: bytes) -> None:
    # A DSSE envelope with no log entry does not verify.
    key = _key(inst)
    from labkit.attest.attest import Signer, _sign_and_log

    st = Statement([Subject("b", {"sha256": __import__("hashlib").sha256(BLOB).hexdigest()})],
                   "https://cosign.sigstore.dev/attestation/v1", GOOD["custom"])
    _e, bundle, _ = _sign_and_log(st, Signer(key), None)
    r = explain_blob_attestation(bundle, BLOB, "custom", trusted_root=root, key=key.public_key())
    assert not r.verified and r.failed_step is not None and r.failed_step.id == "bundle.verify"
    assert callable(sign_envelope)  # imported for readers: the same call attest uses
