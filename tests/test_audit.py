"""`labkit audit`: many bundles, a policy file, verified / failed by reason / unsigned, in parallel."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from labkit.audit import audit, find_inputs, policy_from_doc
from labkit.cli import main
from labkit.errors import InputError

VENDOR = Path(__file__).resolve().parent / "vendor"
PEP740 = VENDOR / "pep740"
CONF = VENDOR / "conformance" / "bundle-verify"
POLICY = """rules:
  - identity_regexp: "https://github.com/trailofbits/.+"
    issuer: https://token.actions.githubusercontent.com
    repo: trailofbits/pypi-attestations
    deny_self_hosted_runners: true
"""


@pytest.fixture
def release(tmp_path: Path) -> Path:
    d = tmp_path / "release"
    d.mkdir()
    shutil.copy(PEP740 / "pypi_attestations-0.0.19.tar.gz", d)
    shutil.copy(PEP740 / "pypi_attestations-0.0.19.tar.gz.publish.attestation", d)
    # a second copy of the artifact signed by someone else (the conformance beacon) -> policy failure
    (d / "a.txt").write_bytes((CONF / "a.txt").read_bytes())
    shutil.copy(CONF / "happy-path-v0.3" / "bundle.sigstore.json", d / "a.txt.sigstore.json")
    (d / "README").write_text("not signed\n")
    (d / "broken.txt.sigstore.json").write_text("{")
    return d


def test_find_inputs(release: Path) -> None:
    kinds = sorted((k, p.name, a.name if a else None) for k, p, a in find_inputs([release]))
    assert kinds == [
        ("bundle", "a.txt.sigstore.json", "a.txt"),
        ("bundle", "broken.txt.sigstore.json", None),
        ("bundle", "pypi_attestations-0.0.19.tar.gz.publish.attestation", "pypi_attestations-0.0.19.tar.gz"),
        ("unsigned", "README", None),
    ]


@pytest.mark.parametrize("jobs", [1, 2])
def test_audit_counts(release: Path, jobs: int) -> None:
    import yaml

    summary = audit([release], policy_from_doc(yaml.safe_load(POLICY)), jobs=jobs)
    assert (summary.total, summary.verified, summary.unsigned) == (4, 1, 1)
    assert dict(summary.failed) == {"policy.identity": 1, "artifact.missing": 1}


def test_policy_errors() -> None:
    with pytest.raises(InputError, match="non-empty `rules`"):
        policy_from_doc({"rules": []})
    with pytest.raises(InputError, match=r"rules\[0\] has unknown key"):
        policy_from_doc({"rules": [{"identity": "x", "issuer": "y", "colour": "red"}]})
    with pytest.raises(InputError, match=r"rules\[0\]"):
        policy_from_doc({"rules": [{"identity": "x"}]})


def test_cli_formats(release: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "audit.yaml"
    policy.write_text(POLICY)
    assert main(["audit", str(release), "--policy", str(policy), "--jobs", "2"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("4 input(s): 1 verified, 2 failed, 1 unsigned") and "policy.identity" in out
    assert main(["audit", str(release), "--policy", str(policy), "--format", "json", "--summary-only"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["verified"] == 1 and doc["rows"] == [] and doc["failed"]["artifact.missing"] == 1
    report = tmp_path / "report.html"
    assert main(["audit", str(release), "--policy", str(policy), "--format", "html", "-o", str(report)]) == 1
    assert "<h1>labkit audit</h1>" in report.read_text()
    assert main(["audit", str(release), "--policy", str(policy), "--format", "html", "-o", str(report)]) == 1
    assert "already exists" in capsys.readouterr().err
