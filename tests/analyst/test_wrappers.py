"""The one recogniser in front of the bundle reader: bundles, PEP 740 objects, npm responses, and what is none."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from labkit._internal.jsonio import JSONValue
from labkit.analyst.wrappers import NOT_A_BUNDLE, unwrap
from labkit.bundle import Bundle
from labkit.errors import BundleFormatError
from labkit.verify.policy import Identity
from labkit.verify.verifier import explain_bundle
from tests.analyst.conftest import CONFORMANCE, IDENTITY, PEP740, NpmCase

GITHUB = "https://token.actions.githubusercontent.com"
PYPI_ID = "https://github.com/trailofbits/pypi-attestations/.github/workflows/release.yml@refs/tags/v0.0.19"


@pytest.mark.parametrize("name", ["pypi_attestations-0.0.19.tar.gz.provenance",
                                  "pypi_attestations-0.0.19.tar.gz.publish.attestation"])
def test_real_pep740_verifies_as_a_bundle_offline(name: str) -> None:
    """A real PyPI attestation (object or provenance) is read by the bundle reader and verifies offline."""
    data = (PEP740 / name).read_bytes()
    result = explain_bundle(
        data, PEP740 / "pypi_attestations-0.0.19.tar.gz", None, Identity(identity=PYPI_ID, issuer=GITHUB)
    )
    assert result.verified, result.checklist()


def test_npm_response_with_sha512_subject_verifies(npm_case: NpmCase) -> None:
    result = explain_bundle(npm_case.response, npm_case.tarball, npm_case.trusted_root,
                            Identity(identity=IDENTITY, issuer_regexp=".*"))
    assert result.verified, result.checklist()
    assert result.step("artifact.digest").expected.startswith("sha512:")  # type: ignore[union-attr]


def test_npm_sha512_subject_of_another_tarball_fails(npm_case: NpmCase) -> None:
    result = explain_bundle(npm_case.response, b"another tarball", npm_case.trusted_root,
                            Identity(identity=IDENTITY, issuer_regexp=".*"))
    assert result.reason == "artifact.subject"


def test_plain_bundle_is_itself() -> None:
    doc = json.loads((CONFORMANCE / "happy-path-v0.3" / "bundle.sigstore.json").read_bytes())
    [u] = unwrap(doc)
    assert u.wrapper == "bundle" and u.doc is doc


@pytest.mark.parametrize("doc, found", [
    ([1, 2], "a JSON array of 2 item(s)"),
    ({"name": "x"}, "keys ['name']"),
    ("text", "a JSON str"),
    ({}, "an empty JSON object"),
])
def test_none_of_them_says_what_it_found(doc: object, found: str) -> None:
    with pytest.raises(BundleFormatError) as err:
        Bundle.from_json(json.dumps(doc))
    assert err.value.message.startswith(NOT_A_BUNDLE) and found in err.value.message


def _pep740() -> dict[str, Any]:
    return json.loads((PEP740 / "pypi_attestations-0.0.19.tar.gz.publish.attestation").read_bytes())  # type: ignore[no-any-return]


@pytest.mark.parametrize("path, field", [
    (("verification_material", "certificate"), "verification_material.certificate"),
    (("verification_material", "transparency_entries"), "verification_material.transparency_entries"),
    (("envelope", "statement"), "envelope.statement"),
    (("envelope",), "envelope"),
])
def test_truncated_pep740_names_wrapper_and_field(path: tuple[str, ...], field: str) -> None:
    doc = _pep740()
    target: dict[str, JSONValue] = doc
    for key in path[:-1]:
        target = target[key]  # type: ignore[assignment]
    del target[path[-1]]
    with pytest.raises(BundleFormatError) as err:
        Bundle.from_dict(doc)
    assert err.value.message == f"PEP 740 attestation: {field} is missing"


def test_pep740_wrong_version_refused() -> None:
    doc = _pep740()
    doc["version"] = 2
    with pytest.raises(BundleFormatError, match="PEP 740 attestation: version is 2"):
        Bundle.from_dict(doc)


def test_pep740_bad_entry_is_the_bundle_readers_error() -> None:
    doc = _pep740()
    doc["verification_material"]["transparency_entries"][0]["logIndex"] = "-1"
    with pytest.raises(BundleFormatError, match="logIndex"):
        Bundle.from_dict(doc)


@pytest.mark.parametrize("doc, message", [
    ({"attestations": []}, "npm attestation response: attestations is empty"),
    ({"attestations": [{"bundle": {}}]}, "npm attestation response: attestations[0].predicateType is missing"),
    ({"attestations": [{"predicateType": "x"}]}, "npm attestation response: attestations[0].bundle is missing"),
    ({"attestations": {"a": 1}}, "npm attestation response: attestations is not a list"),
])
def test_malformed_npm_response(doc: JSONValue, message: str) -> None:
    with pytest.raises(BundleFormatError) as err:
        Bundle.from_dict(doc)
    assert err.value.message.startswith(message)


def test_wrapper_with_several_bundles_refused_for_a_single_read(npm_case: NpmCase) -> None:
    doc = json.loads(npm_case.response)
    doc["attestations"].append(doc["attestations"][0])
    with pytest.raises(BundleFormatError, match="holds 2 bundles"):
        Bundle.from_dict(doc)
    assert len(unwrap(doc)) == 2


def test_provenance_without_attestations(tmp_path: Path) -> None:
    with pytest.raises(BundleFormatError, match="PEP 740 provenance: attestation_bundles holds no attestation"):
        Bundle.from_dict({"version": 1, "attestation_bundles": []})
