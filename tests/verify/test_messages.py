"""Failure messages name the defect in labkit's words, never a library's internals (issue 12 #18)."""

from __future__ import annotations

import contextlib
import io
import json

import pytest

from labkit.cli import main
from labkit.verify import Artifact, Identity, explain_bundle
from tests.conftest import SHARED

CASES = SHARED / "conformance" / "bundle-verify"
ID = (
    "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/"
    ".github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
)
ISS = "https://token.actions.githubusercontent.com"


def _cli(*argv: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        main(list(argv))
    return out.getvalue() + err.getvalue()


def test_a_corrupt_key_file_gets_our_message() -> None:
    case = CASES / "managed-key-wrong-key_fail"
    result = explain_bundle((case / "bundle.sigstore.json").read_bytes(), Artifact.from_path(CASES / "a.txt"), None,
                            key=(case / "key.pub").read_bytes())
    step = result.failed_step
    assert result.reason == "key.invalid" and step is not None
    assert "not a usable public key" in step.detail
    assert (step.expected, step.actual) == ("a PEM or DER public key", "data that does not parse as one")
    text = _cli("verify-bundle", "--bundle", str(case / "bundle.sigstore.json"), "--key", str(case / "key.pub"),
                str(CASES / "a.txt"))
    assert "not a usable public key" in text
    for leak in ("InvalidData", "Invalid last symbol", "cryptography.io", "Unable to load PEM"):
        assert leak not in text


@pytest.mark.parametrize("line", ["origin", "size", "root-hash"])
def test_each_missing_checkpoint_line_is_named(line: str) -> None:
    case = CASES / f"rekor2-checkpoint-missing-{line}_fail"
    result = explain_bundle((case / "bundle.sigstore.json").read_bytes(), Artifact.from_path(CASES / "a.txt"),
                            (case / "trusted_root.json").read_bytes(), Identity(identity=ID, issuer=ISS))
    step = result.failed_step
    assert result.reason == "tlog.checkpoint.format" and step is not None
    missing = {"origin": "origin", "size": "tree size", "root-hash": "root hash"}[line]
    assert f"missing the {missing} line" in step.detail, step.detail
    assert step.expected == "origin, tree size, root hash"
    assert step.actual is not None and missing not in step.actual.split(", ")


def test_a_wrong_issuer_is_reported_as_a_wrong_issuer() -> None:
    happy = CASES / "happy-path-v0.3" / "bundle.sigstore.json"
    result = explain_bundle(happy.read_bytes(), Artifact.from_path(CASES / "a.txt"), None,
                            Identity(identity=ID, issuer="https://accounts.google.com"))
    step = result.failed_step
    assert result.reason == "policy.issuer" and step is not None
    assert "OIDC issuer is not the expected one" in step.detail and "identity" not in step.detail
    assert step.expected == "issuer == https://accounts.google.com" and step.actual == f"issuer == {ISS}"
    # the step checks both: its title says so, so a wrong issuer is never reported as an identity alone
    assert step.id == "policy.identity" and "OIDC issuer" in step.title, step.title
    assert "OIDC issuer" in str(result.error(step)).split(":", 1)[0]
    text = _cli("verify-bundle", "--json", "--bundle", str(happy), "--certificate-identity", ID,
                "--certificate-oidc-issuer", "https://accounts.google.com", str(CASES / "a.txt"))
    last = json.loads([ln for ln in text.splitlines() if ln.startswith("{")][-1])
    assert last["reason"] == "policy.issuer"
    # a wrong identity keeps its own words
    other = explain_bundle(happy.read_bytes(), Artifact.from_path(CASES / "a.txt"), None,
                           Identity(identity="someone@example.com", issuer=ISS))
    assert other.reason == "policy.identity" and other.failed_step is not None
    assert "identity is not the expected one" in other.failed_step.detail
