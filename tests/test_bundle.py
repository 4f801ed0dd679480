"""The bundle model: every conformance bundle parses and round-trips; malformed ones raise BundleFormatError."""

from __future__ import annotations

import json

import pytest

from labkit.bundle import BUNDLE_MEDIA_TYPES, Bundle, InclusionProof
from labkit.errors import BundleFormatError
from tests.conftest import SHARED

CASES = SHARED / "conformance" / "bundle-verify"
MALFORMED = {
    "bundle-malformed-json_fail", "bundle-unknown-version_fail", "bundle-invalid-base64-signature_fail",
    "bundle-negative-log-index_fail", "bundle-empty-certificate-chain_fail",
}
ALL = sorted(p.name for p in CASES.iterdir() if p.is_dir()) if CASES.is_dir() else []


@pytest.mark.parametrize("case", [c for c in ALL if c not in MALFORMED])
def test_round_trip(case: str) -> None:
    text = (CASES / case / "bundle.sigstore.json").read_text()
    bundle = Bundle.from_json(text)
    again = Bundle.from_json(bundle.to_json())
    assert again == bundle
    assert bundle.version == BUNDLE_MEDIA_TYPES[bundle.media_type]
    # the JSON mapping is the protobuf one: int64 as strings, camelCase
    doc = json.loads(bundle.to_json())
    for entry in doc["verificationMaterial"]["tlogEntries"]:
        assert isinstance(entry["logIndex"], str)


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed(case: str) -> None:
    with pytest.raises(BundleFormatError):
        Bundle.from_json((CASES / case / "bundle.sigstore.json").read_bytes())


@pytest.mark.parametrize("doc", [
    b"", b"[]", b'{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json"}',
    b'{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "verificationMaterial": {}, "messageSignature": {}}',
    b"[" * 100000,
])
def test_garbage_is_a_format_error(doc: bytes) -> None:
    with pytest.raises(BundleFormatError):
        Bundle.from_json(doc)


def test_snake_case_field_names_are_accepted() -> None:
    proof = InclusionProof.from_dict({"log_index": "1", "root_hash": "AA==", "tree_size": "2", "hashes": []}, "p")
    assert proof.log_index == 1 and proof.tree_size == 2
