"""The bundle model: every conformance bundle parses and round-trips; malformed ones raise BundleFormatError."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from labkit._internal.protojson import proto_name
from labkit.bundle import (
    BUNDLE_MEDIA_TYPES,
    BUNDLE_V01_MEDIA_TYPE,
    BUNDLE_V02_MEDIA_TYPE,
    BUNDLE_V03_MEDIA_TYPE,
    Bundle,
    InclusionProof,
)
from labkit.errors import BundleFormatError
from labkit.verify import Identity, explain_bundle
from tests.conftest import SHARED

ID = (
    "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/"
    ".github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
)

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


@pytest.mark.parametrize(
    "doc",
    [
        b"",
        b"[]",
        b'{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json"}',
        b'{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "verificationMaterial": {}, '
        b'"messageSignature": {}}',
        b"[" * 100000,
    ],
)
def test_garbage_is_a_format_error(doc: bytes) -> None:
    with pytest.raises(BundleFormatError):
        Bundle.from_json(doc)


def test_snake_case_field_names_are_accepted() -> None:
    proof = InclusionProof.from_dict({"log_index": "1", "root_hash": "AA==", "tree_size": "2", "hashes": []}, "p")
    assert proof.log_index == 1 and proof.tree_size == 2


# -- strict proto3 JSON (issue 12 items 8, 17, 22) --------------------------------------------------


def _doc(case: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((CASES / case / "bundle.sigstore.json").read_text())
    return doc


def _snake_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {proto_name(k): _snake_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_snake_keys(v) for v in value]
    return value


@pytest.mark.parametrize("case", ["happy-path-v0.1", "rekor2-happy-path", "happy-path-intoto-in-dsse-v3"])
def test_proto_field_names_alone_read_as_the_json_names(case: str) -> None:
    doc = _doc(case)
    assert Bundle.from_json(json.dumps(_snake_keys(doc))) == Bundle.from_dict(doc)


def _entry(doc: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = doc["verificationMaterial"]["tlogEntries"][0]
    return entry


MUTANTS: dict[str, tuple[str, Callable[[dict[str, Any]], object]]] = {
    "payloadType and payload_type": (
        "happy-path-intoto-in-dsse-v3", lambda d: d["dsseEnvelope"].update(payload_type="text/plain")),
    "logIndex and log_index": ("happy-path-v0.3", lambda d: _entry(d).update(log_index="1")),
    "space in int64": ("happy-path-v0.3", lambda d: _entry(d).update(logIndex=" 1")),
    "full-width digits": ("happy-path-v0.3", lambda d: _entry(d).update(logIndex="\uff10")),
    "leading zero": ("happy-path-v0.3", lambda d: _entry(d).update(logIndex="01")),
    "object for a list": ("rekor2-happy-path", lambda d: d["verificationMaterial"]["timestampVerificationData"].update(
        rfc3161Timestamps={})),
    "object for tlogEntries": ("happy-path-v0.3", lambda d: d["verificationMaterial"].update(tlogEntries={})),
    "unknown hash algorithm": (
        "happy-path-v0.3", lambda d: d["messageSignature"]["messageDigest"].update(algorithm="MD5")),
}


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_proto3_json_mutants_are_refused(name: str) -> None:
    case, mutate = MUTANTS[name]
    doc = _doc(case)
    mutate(doc)
    with pytest.raises(BundleFormatError):
        Bundle.from_json(json.dumps(doc))


@pytest.mark.parametrize("text", [
    lambda t: t.replace('"mediaType"', '"comment": NaN, "mediaType"', 1),
    lambda t: t.encode("utf-16"),
    lambda t: t.replace('"kind": "hashedrekord"', '"kind": "hashedrekord\\ud800"'),
    lambda t: t.replace('"mediaType"', '"mediaType": "x", "mediaType"', 1),
])
def test_non_json_text_is_refused(text: Callable[[str], str | bytes]) -> None:
    original = (CASES / "happy-path-v0.3" / "bundle.sigstore.json").read_text()
    mutated = text(original)
    assert mutated != original
    with pytest.raises(BundleFormatError):
        Bundle.from_json(mutated)


def test_enum_number_reads_as_its_name() -> None:
    doc = _doc("happy-path-v0.3")
    doc["messageSignature"]["messageDigest"]["algorithm"] = 1
    ms = Bundle.from_dict(doc).message_signature
    assert ms is not None and ms.algorithm == "SHA2_256"


def test_line_wrapped_and_urlsafe_base64_read_as_protojson_does() -> None:
    doc = _doc("happy-path-v0.3")
    want = Bundle.from_dict(doc)
    sig = doc["messageSignature"]["signature"]
    doc["messageSignature"]["signature"] = "\n".join(sig[i:i + 76] for i in range(0, len(sig), 76))
    body = _entry(doc)["canonicalizedBody"]
    _entry(doc)["canonicalizedBody"] = body.rstrip("=").replace("+", "-").replace("/", "_")
    assert Bundle.from_json(json.dumps(doc)) == want


# -- the declared version must agree with the content (item 8) ------------------------------------------


def test_a_v03_bundle_relabelled_v01_is_refused() -> None:
    doc = _doc("happy-path-v0.3")
    doc["mediaType"] = BUNDLE_V01_MEDIA_TYPE
    with pytest.raises(BundleFormatError, match=r"version 0\.1 .*single `certificate` form exists from v0\.3"):
        Bundle.from_json(json.dumps(doc))
    doc["mediaType"] = BUNDLE_V02_MEDIA_TYPE
    with pytest.raises(BundleFormatError, match=r"version 0\.2"):
        Bundle.from_json(json.dumps(doc))


def test_a_v01_bundle_relabelled_v03_is_refused() -> None:
    doc = _doc("happy-path-v0.1")
    doc["mediaType"] = BUNDLE_V03_MEDIA_TYPE
    with pytest.raises(BundleFormatError, match=r"version 0\.3 .*never an x509CertificateChain"):
        Bundle.from_json(json.dumps(doc))


def test_a_v01_bundle_needs_an_inclusion_promise_in_every_entry() -> None:
    doc = _doc("happy-path-v0.1")
    del _entry(doc)["inclusionPromise"]
    with pytest.raises(BundleFormatError, match=r"version 0\.1 .*requires an inclusion promise"):
        Bundle.from_json(json.dumps(doc))
    doc = _doc("happy-path-v0.2")  # v0.2 may rely on its inclusion proof instead
    del _entry(doc)["inclusionPromise"]
    assert Bundle.from_json(json.dumps(doc)).verification_material.tlog_entries[0].inclusion_promise is None


def test_the_relabelled_bundle_fails_verification_at_parse() -> None:
    doc = _doc("happy-path-v0.3")
    ident = Identity(identity=ID, issuer="https://token.actions.githubusercontent.com")
    assert explain_bundle(json.dumps(doc), CASES / "a.txt", None, ident).verified
    doc["mediaType"] = BUNDLE_V01_MEDIA_TYPE
    result = explain_bundle(json.dumps(doc), CASES / "a.txt", None, ident)
    assert not result.verified and result.reason == "bundle.parse"
