"""`convert_document` / `to_v03`: wrappers and old bundles become v0.3 bundles sigstore-python verifies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labkit.analyst.convert import convert_document, to_v03
from labkit.bundle import BUNDLE_V03_MEDIA_TYPE, Bundle, InclusionProof, TransparencyLogEntry
from labkit.errors import BundleFormatError
from tests.analyst.conftest import CONFORMANCE, PEP740, NpmCase

GITHUB = "https://token.actions.githubusercontent.com"
PYPI_ID = "https://github.com/trailofbits/pypi-attestations/.github/workflows/release.yml@refs/tags/v0.0.19"
BEACON = ("https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/"
          "extremely-dangerous-oidc-beacon.yml@refs/heads/main")


def _sigstore_python_verifies(bundle: Bundle, artifact: bytes, identity: str, dsse: bool) -> None:
    """Verify with sigstore-python (offline, its embedded public-good root); raises on failure."""
    sigstore_models = pytest.importorskip("sigstore.models")
    from sigstore.verify import Verifier, policy

    verifier = Verifier.production(offline=True)
    theirs = sigstore_models.Bundle.from_json(bundle.to_json())
    pol = policy.Identity(identity=identity, issuer=GITHUB)
    if dsse:
        verifier.verify_dsse(theirs, pol)
    else:
        verifier.verify_artifact(artifact, theirs, pol)


def test_pep740_provenance_converts_to_a_bundle_sigstore_python_verifies() -> None:
    out = convert_document((PEP740 / "pypi_attestations-0.0.19.tar.gz.provenance").read_bytes())
    assert out.media_type == BUNDLE_V03_MEDIA_TYPE
    _sigstore_python_verifies(out, (PEP740 / "pypi_attestations-0.0.19.tar.gz").read_bytes(), PYPI_ID, dsse=True)


def test_v01_upgrades_to_v03_that_sigstore_python_verifies() -> None:
    out = convert_document((CONFORMANCE / "happy-path-v0.1" / "bundle.sigstore.json").read_bytes())
    assert out.version == (0, 3)
    assert out.verification_material.certificate is not None
    assert out.verification_material.certificate_chain is None
    _sigstore_python_verifies(out, (CONFORMANCE / "a.txt").read_bytes(), BEACON, dsse=False)


def test_npm_response_converts(npm_case: NpmCase) -> None:
    out = convert_document(npm_case.response)
    assert out.to_dict() == npm_case.bundle.to_dict()


def test_several_bundles_need_an_index(npm_case: NpmCase) -> None:
    doc = json.loads(npm_case.response)
    doc["attestations"].append(doc["attestations"][0])
    with pytest.raises(BundleFormatError, match="choose one with --index"):
        convert_document(json.dumps(doc))
    assert convert_document(json.dumps(doc), index=1).media_type == BUNDLE_V03_MEDIA_TYPE
    with pytest.raises(BundleFormatError, match="out of range"):
        convert_document(json.dumps(doc), index=2)


def test_missing_proof_is_taken_from_the_source_or_refused() -> None:
    bundle = Bundle.from_json((CONFORMANCE / "happy-path-v0.1" / "bundle.sigstore.json").read_bytes())
    proof = bundle.verification_material.tlog_entries[0].inclusion_proof
    assert proof is not None
    bundle.verification_material.tlog_entries[0].inclusion_proof = None
    with pytest.raises(BundleFormatError, match="has no inclusion proof"):
        to_v03(bundle)
    got: list[int] = []

    def source(entry: TransparencyLogEntry) -> InclusionProof | None:
        got.append(entry.log_index)
        return proof

    out = to_v03(bundle, source)
    assert got == [bundle.verification_material.tlog_entries[0].log_index]
    assert out.verification_material.tlog_entries[0].inclusion_proof == proof
    assert bundle.verification_material.tlog_entries[0].inclusion_proof is None  # the input is left alone


def test_converted_bundle_reads_back(tmp_path: Path) -> None:
    out = convert_document((PEP740 / "rfc8785-0.1.2-py3-none-any.whl.attestation").read_bytes())
    assert Bundle.from_json(out.to_json()).to_dict() == out.to_dict()
