from __future__ import annotations

import tempfile

import pytest

from labkit.attacks import RegistryTarget, run_scenario
from labkit.attacks.sandbox import SandboxRegistry
from labkit.attacks.vulnerable import LegacySignature
from labkit.errors import RegistryError
from labkit.keys import generate
from labkit.lab import Lab
from labkit.oci.registry import RegistryClient
from labkit.payloads import simple_signing_payload
from tests.attacks.helpers import assert_both_halves


def test_racy_storage_on_a_layout() -> None:
    out = run_scenario("racy-storage")
    assert_both_halves(out, "cosign-read-append-write", reason="signatures.all_kept")
    assert out.evidence["cosign-read-append-write: signatures kept"] == "1 of 2"
    assert out.evidence["labkit: signatures kept"] == "2 of 2"


@pytest.mark.registry
def test_racy_storage_against_the_real_registry(registry_target: RegistryTarget) -> None:
    out = run_scenario("racy-storage", registry=registry_target)
    assert_both_halves(out, "cosign-read-append-write", reason="signatures.all_kept")
    assert out.evidence["labkit: signatures kept"] == "2 of 2"
    assert "labkit: errors" not in out.evidence


@pytest.mark.registry
def test_labkit_rides_out_the_registrys_answers_during_a_concurrent_commit(
    registry_target: RegistryTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race behind the flaky registry test, made deterministic.

    While another signer commits the same payload and config blobs,
    distribution rewrites their link files in place and answers 500 to a
    HEAD, or MANIFEST_BLOB_UNKNOWN to a manifest PUT, for a moment. labkit's
    claim write is idempotent and rides that out; every signature is kept.
    """
    lab = Lab(seed="test-racy-transient")
    failed: set[str] = set()
    head, put = RegistryClient.blob_exists, RegistryClient.put_manifest

    def once(kind: str, status: int, text: str) -> None:
        if kind not in failed:
            failed.add(kind)
            raise RegistryError(f"{kind}: registry answered {status} ({text})", details={"status": status})

    def flaky_head(self: RegistryClient, repo: str, digest: object) -> bool:
        once("HEAD", 500, "HTTP 500")
        return head(self, repo, digest)  # type: ignore[arg-type]

    def flaky_put(self: RegistryClient, repo: str, ref: object, data: bytes, media_type: str) -> object:
        if ".claim-" in str(ref):
            once("PUT", 400, "MANIFEST_BLOB_UNKNOWN: blob unknown to registry")
        return put(self, repo, ref, data, media_type)  # type: ignore[arg-type]

    with tempfile.TemporaryDirectory() as tmp:
        reg = SandboxRegistry(tmp, lab, registry=registry_target.url, storage=registry_target.storage)
        digest = reg.push_image("transient/app", b"app 1.0\n", tag="1.0")
        payload = simple_signing_payload(f"{reg.host}/transient/app", digest)
        sigs = [LegacySignature(payload, generate("ecdsa-p256", lab=lab, label=who).sign(payload))
                for who in ("release-team", "security-team")]
        monkeypatch.setattr(RegistryClient, "blob_exists", flaky_head)
        monkeypatch.setattr(RegistryClient, "put_manifest", flaky_put)
        for sig in sigs:
            reg.attach_signature("transient/app", digest, sig, actor="signer")
        monkeypatch.undo()
        assert failed == {"HEAD", "PUT"}
        kept = {s.signature for s in reg.signatures("transient/app", digest)}
    assert kept == {s.signature for s in sigs}
