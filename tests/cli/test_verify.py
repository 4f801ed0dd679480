"""`labkit verify-bundle`: argument rules of the conformance protocol, output modes, exit codes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from labkit.cli import main
from labkit.cli.verify import resolve_artifact
from labkit.verify import STEPS, Artifact
from tests.conftest import SHARED

CASES = SHARED / "conformance" / "bundle-verify"
ID = (
    "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/"
    ".github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
)
ISS = "https://token.actions.githubusercontent.com"
HAPPY = str(CASES / "happy-path-v0.1" / "bundle.sigstore.json")


def test_json_output(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["verify-bundle", "--json", "--bundle", HAPPY, "--certificate-identity", ID,
                 "--certificate-oidc-issuer", ISS, str(CASES / "a.txt")])
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert code == 0 and lines[-1] == {"reason": "", "verified": True}
    assert [x["id"] for x in lines[:-1]] == list(STEPS)


def test_checklist_and_quiet_output(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--bundle", HAPPY, "--certificate-identity", ID, "--certificate-oidc-issuer", ISS, str(CASES / "a.txt")]
    assert main(["verify-bundle", *args]) == 0
    assert capsys.readouterr().out.rstrip().endswith("VERIFIED")
    assert main(["verify-bundle", "--quiet", *args]) == 0
    assert capsys.readouterr().out == "VERIFIED\n"


def test_rejection_exits_1_with_reason(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["verify-bundle", "--bundle", HAPPY, "--certificate-identity", "someone@example.com",
                 "--certificate-oidc-issuer", ISS, str(CASES / "a.txt")])
    out = capsys.readouterr()
    assert code == 1 and "REJECTED (policy.identity)" in out.out and "policy.identity" in out.err


def test_regexp_identity(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["verify-bundle", "--quiet", "--bundle", HAPPY,
                 "--certificate-identity-regexp", r"https://github\.com/sigstore-conformance/.+",
                 "--certificate-oidc-issuer-regexp", r"https://token\.actions\.githubusercontent\.com",
                 str(CASES / "a.txt")])
    assert code == 0, capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["--key", "k", "--certificate-identity", "a", "--certificate-oidc-issuer", "b"], "either --key"),
    ([], "--certificate-identity and --certificate-oidc-issuer"),
    (["--staging", "--key", "k"], "--staging needs --trusted-root"),
])
def test_argument_rules(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify-bundle", "--bundle", HAPPY, *argv, "f"]) == 1
    assert message in capsys.readouterr().err


def test_missing_files_are_errors_not_tracebacks(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify-bundle", "--bundle", "/nonexistent/b.json", "--key", "/nonexistent/k", "f"]) == 1
    assert "not found" in capsys.readouterr().err


def test_file_or_digest_rule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    digest = "sha256:" + hashlib.sha256(b"x").hexdigest()
    assert isinstance(resolve_artifact(digest), Artifact)
    assert resolve_artifact("sha256:abc") == Path("sha256:abc")  # wrong length: a path
    monkeypatch.chdir(tmp_path)
    (tmp_path / digest).write_bytes(b"a file named like a digest")
    assert resolve_artifact(digest) == Path(digest)  # an existing file wins


def test_import_path_stays_light() -> None:
    """verify-bundle must start fast: no pandas, requests or widgets on its import path."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from labkit.cli import main\n"
        f"rc = main(['verify-bundle', '--quiet', '--bundle', {HAPPY!r}, '--certificate-identity', {ID!r},"
        f" '--certificate-oidc-issuer', {ISS!r}, {str(CASES / 'a.txt')!r}])\n"
        "heavy = sorted(m for m in ('pandas', 'requests', 'ipywidgets', 'numpy', 'jsonschema') if m in sys.modules)\n"
        "print(rc, heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip().splitlines()[-1] == "0 []", out.stdout + out.stderr
