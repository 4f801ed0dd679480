"""Analyst fixtures: a seeded keyless lab instance and bundles in the wrappers found in the wild."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from labkit.attest.attest import keyless_signer
from labkit.bundle import BUNDLE_V03_MEDIA_TYPE, Bundle, VerificationMaterial
from labkit.keyless.instance import Instance
from labkit.payloads import INTOTO_PAYLOAD_TYPE, Statement, Subject, sign_envelope
from labkit.tlog.entries import dsse_body

VENDOR = Path(__file__).resolve().parent.parent / "vendor"
PEP740 = VENDOR / "pep740"
CONFORMANCE = VENDOR / "conformance" / "bundle-verify"
IDENTITY = "https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.0.0"
TARBALL = b"npm tarball bytes\n"


@dataclass
class NpmCase:
    """An npm-style attestation response made in the lab, the tarball it is about and the lab's trusted root."""

    response: bytes
    tarball: bytes
    trusted_root: bytes
    bundle: Bundle


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[Instance]:
    inst = Instance.create(tmp_path / "instance", seed="analyst-tests")
    yield inst
    inst.close()


def dsse_bundle(instance: Instance, statement: Statement, identity: str = IDENTITY) -> Bundle:
    """A keyless DSSE bundle v0.3 over `statement`, logged as dsse 0.0.1 in the lab log."""
    signer = keyless_signer(instance, identity=identity)
    envelope = sign_envelope(statement.to_json(), INTOTO_PAYLOAD_TYPE, signer.key)
    entry = instance.log_append(dsse_body(envelope.to_json(), [signer.verifier_pem()]))
    assert signer.certificate_der is not None
    material = VerificationMaterial(certificate=signer.certificate_der, tlog_entries=[entry.to_bundle_entry()])
    return Bundle(BUNDLE_V03_MEDIA_TYPE, material, envelope)


@pytest.fixture
def npm_case(instance: Instance) -> NpmCase:
    """npm's shape: subject ``pkg:npm/...`` with the tarball's sha512, SLSA provenance predicate."""
    digest = hashlib.sha512(TARBALL).hexdigest()
    st = Statement([Subject("pkg:npm/acme-app@1.0.0", {"sha512": digest})], "https://slsa.dev/provenance/v1",
                   {"buildDefinition": {"buildType": "https://example.com/npm"}})
    bundle = dsse_bundle(instance, st)
    response = {"attestations": [{"predicateType": st.predicate_type, "bundle": bundle.to_dict()}]}
    return NpmCase(json.dumps(response).encode(), TARBALL, instance.trusted_root_json(), bundle)
