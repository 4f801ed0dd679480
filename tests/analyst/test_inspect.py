"""`labkit bundle inspect`: every claim decoded with labkit's parsers, nothing verified."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labkit.analyst.inspect import NOT_VERIFIED, inspect_document
from labkit.cli import main
from labkit.errors import BundleFormatError
from tests.analyst.conftest import CONFORMANCE, PEP740, NpmCase


def test_github_identity_and_workflow_extensions_named() -> None:
    [r] = inspect_document((PEP740 / "pypi_attestations-0.0.19.tar.gz.provenance").read_bytes())
    leaf = r.certificates[0]
    assert leaf.san == ["https://github.com/trailofbits/pypi-attestations/.github/workflows/release.yml@refs/tags/v0.0.19"]
    assert leaf.oidc_issuer == "https://token.actions.githubusercontent.com"
    ext = leaf.extensions
    assert ext["runner_environment"] == "github-hosted"
    assert ext["source_repository_uri"] == "https://github.com/trailofbits/pypi-attestations"
    assert ext["build_trigger"] == "release" and ext["source_repository_visibility"] == "public"
    assert r.content.predicate_type == "https://docs.pypi.org/attestations/publish/v1"
    assert r.content.subjects[0]["digest"]["sha256"].startswith("9bb1add0")
    [e] = r.entries
    assert (e.kind, e.version, e.log_index, e.checkpoint_size) == ("dsse", "0.0.1", 153454663, 31550402)
    assert r.source.startswith("PEP 740 provenance") and not r.verified and r.note == NOT_VERIFIED


def test_rekor_v2_entry_and_timestamp() -> None:
    [r] = inspect_document((CONFORMANCE / "rekor2-happy-path" / "bundle.sigstore.json").read_bytes())
    [e] = r.entries
    assert (e.kind, e.version, e.integrated_time) == ("hashedrekord", "0.0.2", None)
    assert e.checkpoint_origin == "log2025-alpha1.rekor.sigstage.dev"
    [t] = r.timestamps
    assert t.time.startswith("2025-06-12") and "sigstore-tsa" in t.tsa
    assert "Rekor v2" in r.text()


def test_chain_bundle_says_who_signed() -> None:
    [r] = inspect_document((CONFORMANCE / "happy-path-v0.1" / "bundle.sigstore.json").read_bytes())
    assert r.material == "certificate chain of 1"
    assert "extremely-dangerous-oidc-beacon" in r.signer and "?" not in r.signer


def test_managed_key_bundle() -> None:
    [r] = inspect_document((CONFORMANCE / "managed-key-happy-path" / "bundle.sigstore.json").read_bytes())
    assert r.certificates == [] and r.signer.startswith("managed key (hint ")


def test_npm_response_sha512_subject(npm_case: NpmCase) -> None:
    [r] = inspect_document(npm_case.response)
    assert "sha512" in r.content.subjects[0]["digest"]
    assert r.source.startswith("npm attestation response attestations[0] (https://slsa.dev/provenance/v1)")


def test_malformed_is_one_error() -> None:
    with pytest.raises(BundleFormatError):
        inspect_document(b"{not json")


def test_cli_text_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(CONFORMANCE / "happy-path-intoto-in-dsse-v3" / "bundle.sigstore.json")
    assert main(["bundle", "inspect", path]) == 0
    out = capsys.readouterr().out
    assert "NOT VERIFIED" in out and "predicate type:" in out
    assert main(["bundle", "inspect", "--json", path]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["verified"] is False and doc["bundles"][0]["content"]["kind"] == "DSSE envelope"


def test_cli_not_a_bundle(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "x.json"
    p.write_text('{"hello": 1}')
    assert main(["bundle", "inspect", str(p)]) == 1
    err = capsys.readouterr().err
    assert "not a Sigstore bundle, PEP 740 attestation or npm attestation response" in err and "Traceback" not in err


def test_cli_convert_refuses_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out.sigstore.json"
    src = str(PEP740 / "pypi_attestations-0.0.19.tar.gz.publish.attestation")
    assert main(["bundle", "convert", src, "-o", str(out)]) == 0
    first = out.read_bytes()
    assert (
        main(["bundle", "convert", str(CONFORMANCE / "happy-path-v0.1" / "bundle.sigstore.json"), "-o", str(out)]) == 1
    )
    assert out.read_bytes() == first
    assert main(["bundle", "convert", src, "-o", str(out), "--force"]) == 0
