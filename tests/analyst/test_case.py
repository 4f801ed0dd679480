"""Notebook 12's logic: any input (missing, broken, someone else's) gets a checklist, the signer and the prose."""

from __future__ import annotations

from pathlib import Path

import pytest

from labkit.analyst import case
from labkit.analyst.case import analyse, entry_rows, log_lookup, narrative, read_case, signer_rows
from tests.analyst.conftest import CONFORMANCE, PEP740

BEACON = ("https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/"
          "extremely-dangerous-oidc-beacon.yml@refs/heads/main")
GITHUB = "https://token.actions.githubusercontent.com"


def test_everything_empty() -> None:
    case = analyse(read_case())
    assert case.result is not None and case.result.reason == "bundle.parse"
    assert any("no bundle was given" in n for n in case.notes)
    assert signer_rows(case) == [("signer", "unknown: the bundle does not parse")]
    assert entry_rows(case) == [] and "no log entry" in log_lookup(case)
    assert "rejected at `bundle.parse`" in narrative(case)


def test_malformed_bundle_is_red_at_parse(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sigstore.json"
    bad.write_text('{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "verificationMaterial": [')
    case = analyse(read_case(bad, artifact="sha256:" + "0" * 64))
    assert case.result is not None and case.result.steps[1].id == "bundle.parse" and case.result.steps[1].failed
    assert "bad.sigstore.json" in narrative(case)


def test_artifact_none_is_a_red_row_not_a_crash() -> None:
    case = analyse(read_case(CONFORMANCE / "happy-path-v0.3" / "bundle.sigstore.json", identity=BEACON, issuer=GITHUB))
    assert case.result is not None and case.result.reason == "artifact.input"
    assert "no artifact was given" in case.result.failed_step.detail  # type: ignore[union-attr]
    assert any("no artifact was given" in n for n in case.notes)


def test_unreadable_paths_become_notes(tmp_path: Path) -> None:
    case = read_case(tmp_path / "nope.json", tmp_path / "root.json", tmp_path / "artifact", key=tmp_path / "k")
    assert len([n for n in case.notes if "could not be read" in n]) == 4


def test_incomplete_identity_is_a_note() -> None:
    case = read_case(identity="someone@example.com")
    assert case.policy is None and any("IDENTITY and ISSUER" in n for n in case.notes)


def test_someone_elses_bundle_tells_their_story() -> None:
    case = analyse(read_case(PEP740 / "pypi_attestations-0.0.19.tar.gz.provenance",
                             artifact=PEP740 / "pypi_attestations-0.0.19.tar.gz",
                             identity=BEACON, issuer=GITHUB))
    text = narrative(case)
    assert "pypi_attestations-0.0.19.tar.gz.provenance" in text and "release-bot" not in text
    assert "rejected at `policy.identity`" in text
    rows = dict(signer_rows(case))
    assert rows["identity (SAN)"].startswith("https://github.com/trailofbits/pypi-attestations/")
    assert rows["runner environment"] == "github-hosted" and rows["verdict"].startswith("NOT VERIFIED")
    assert "logIndex=153454663" in log_lookup(case) and "index 31550401" in log_lookup(case)


@pytest.mark.parametrize("folder, artifact, kind", [
    ("happy-path-v0.1", "a.txt", "hashedrekord 0.0.1"),
    ("rekor2-happy-path", "a.txt", "hashedrekord 0.0.2"),
    ("rekor2-dsse-happy-path", None, "hashedrekord 0.0.2"),
    ("intoto-with-custom-trust-root", "intoto-with-custom-trust-root/artifact", "intoto 0.0.2"),
    ("happy-path-intoto-in-dsse-v3", None, "dsse 0.0.1"),
])
def test_entry_against_bundle_for_every_kind(folder: str, artifact: str | None, kind: str) -> None:
    case = analyse(read_case(CONFORMANCE / folder / "bundle.sigstore.json",
                             artifact=None if artifact is None else CONFORMANCE / artifact))
    rows = entry_rows(case)
    assert rows and all(r["entry"].endswith(kind) for r in rows)
    assert all(r["match"] == "yes" for r in rows if r["field"] != "data.hash" or artifact is not None), rows


def test_entry_mismatch_shows_no() -> None:
    case = analyse(read_case(CONFORMANCE / "intoto-log-entry-mismatch_fail" / "bundle.sigstore.json"))
    assert any(r["match"] == "NO" for r in entry_rows(case))


def test_rekor_v2_lookup_from_the_index() -> None:
    case = analyse(read_case(CONFORMANCE / "rekor2-happy-path" / "bundle.sigstore.json",
                             CONFORMANCE / "rekor2-happy-path" / "trusted_root.json"))
    text = log_lookup(case)
    assert "index **735**" in text and "/api/v2/tile/entries/002" in text and "position 223" in text


def test_the_command_lines_follow_the_inputs_by_file_name() -> None:
    command = case.verify_command("/home/a/x.sigstore.json", "/tmp/r.json", "/tmp/dist/x.whl", "me@example.com",
                                  "https://issuer.example", None)
    assert command == ("labkit -v verify-bundle --bundle x.sigstore.json --trusted-root r.json "
                       "--certificate-identity me@example.com --certificate-oidc-issuer https://issuer.example x.whl")
    digest = "sha256:" + "ab" * 32
    assert case.verify_command(None, None, digest, None, None, "k.pub").endswith(f"--key k.pub {digest}")
    assert case.verify_command(None, None, None, None, None, None) == "labkit -v verify-bundle --bundle BUNDLE ARTIFACT"
    assert case.inspect_command("/a b/odd name.json") == "labkit bundle inspect 'odd name.json'"
