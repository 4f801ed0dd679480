"""Issue 17 item 3: cosign's --certificate-github-workflow-* and gh attestation verify's checks, from Fulcio OIDs."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509

from labkit.bundle import Bundle
from labkit.cli import VERIFY_COMMANDS, build_parser, main
from labkit.errors import InputError
from labkit.verify.policy import ExtensionRule, Identity, github_rules

VENDOR = Path(__file__).resolve().parent.parent / "vendor"
ATTESTATION = VENDOR / "pep740" / "pypi_attestations-0.0.19.tar.gz.publish.attestation"
TARBALL = VENDOR / "pep740" / "pypi_attestations-0.0.19.tar.gz"
GITHUB = "https://token.actions.githubusercontent.com"
SAN = "https://github.com/trailofbits/pypi-attestations/.github/workflows/release.yml@refs/tags/v0.0.19"


@pytest.fixture(scope="module")
def leaf() -> x509.Certificate:
    der = Bundle.from_json(ATTESTATION.read_bytes()).verification_material.leaf_certificate
    assert der is not None
    return x509.load_der_x509_certificate(der)


def _check(leaf: x509.Certificate, **kw: object) -> tuple[bool, str, str]:
    policy = Identity(identity=SAN, issuer=GITHUB, extensions=github_rules(**kw))  # type: ignore[arg-type]
    out = policy.check(leaf)
    return out.ok, out.reason, out.actual


@pytest.mark.parametrize("kw", [
    {"owner": "trailofbits"}, {"owner": "TrailOfBits"}, {"repo": "trailofbits/pypi-attestations"},
    {"signer_workflow": "trailofbits/pypi-attestations/.github/workflows/release.yml"},
    {"signer_repo": "trailofbits/pypi-attestations"}, {"deny_self_hosted_runners": True},
    {"source_ref": "refs/tags/v0.0.19"}, {"source_digest": "08802efe1f8e5fec4ad842d6b8ce97656092ee72"},
    {"workflow_trigger": "release"}, {"workflow_sha": "08802efe1f8e5fec4ad842d6b8ce97656092ee72"},
    {"workflow_name": "release"}, {"workflow_repository": "trailofbits/pypi-attestations"},
    {"workflow_ref": "refs/tags/v0.0.19"},
])
def test_matching_claims_pass(leaf: x509.Certificate, kw: dict[str, object]) -> None:
    assert _check(leaf, **kw)[0]


@pytest.mark.parametrize("kw, actual", [
    ({"owner": "evil"}, "source_repository_owner_uri == https://github.com/trailofbits"),
    ({"repo": "trailofbits/other"}, "source_repository_uri == https://github.com/trailofbits/pypi-attestations"),
    ({"signer_repo": "slsa-framework/slsa-github-generator"}, "build_signer_uri == " + SAN),
    ({"signer_workflow": "trailofbits/pypi-attestations/.github/workflows/other.yml"}, "build_signer_uri == " + SAN),
    ({"source_ref": "refs/heads/main"}, "source_repository_ref == refs/tags/v0.0.19"),
    ({"workflow_trigger": "push"}, "github_workflow_trigger == release"),
    ({"repo": "trailofbits/pypi-attestations", "host": "myorg.ghe.com"},
     "source_repository_uri == https://github.com/trailofbits/pypi-attestations"),
])
def test_mismatch_names_the_claim(leaf: x509.Certificate, kw: dict[str, object], actual: str) -> None:
    ok, reason, got = _check(leaf, **kw)
    assert (ok, reason, got) == (False, "policy.extension", actual)


def test_absent_extension_is_a_mismatch(leaf: x509.Certificate) -> None:
    rule = ExtensionRule("build_config_digest", "x")
    out = Identity(identity=SAN, issuer=GITHUB, extensions=(rule,)).check(leaf)
    assert not out.ok and "build_config_digest" in out.actual
    with pytest.raises(InputError):
        ExtensionRule("no_such_extension", "x")


@pytest.mark.parametrize("command", VERIFY_COMMANDS)
def test_every_verify_command_has_the_github_options(command: str) -> None:
    import argparse

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    text = sub.choices[command].format_help()
    for flag in ("--certificate-github-workflow-trigger", "--certificate-github-workflow-ref", "--owner", "--repo",
                 "--signer-workflow", "--signer-repo", "--deny-self-hosted-runners", "--source-ref"):
        assert flag in text, (command, flag)


def _verify(*extra: str) -> int:
    return main(["verify-bundle", "--bundle", str(ATTESTATION), *extra, str(TARBALL)])


def test_cli_gh_style_owner_and_repo_alone(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        _verify(
            "--owner",
            "trailofbits",
            "--repo",
            "trailofbits/pypi-attestations",
            "--deny-self-hosted-runners",
            "--predicate-type",
            "https://docs.pypi.org/attestations/publish/v1",
        )
        == 0
    )
    assert "VERIFIED" in capsys.readouterr().out


def test_cli_reusable_workflow_signer_repo_mismatch(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        _verify("--repo", "trailofbits/pypi-attestations", "--signer-repo", "slsa-framework/slsa-github-generator") == 1
    )
    out = capsys.readouterr().out
    # As gh: the signer repository becomes the SAN rule, so the calling repository's own workflow is refused.
    assert "REJECTED (policy.identity)" in out and "slsa\\-framework/slsa\\-github\\-generator" in out


def test_cli_cosign_workflow_flags(capsys: pytest.CaptureFixture[str]) -> None:
    assert _verify("--certificate-identity", SAN, "--certificate-oidc-issuer", GITHUB,
                   "--certificate-github-workflow-trigger", "push") == 1
    assert "github_workflow_trigger == release" in capsys.readouterr().out


def test_cli_predicate_type_mismatch(capsys: pytest.CaptureFixture[str]) -> None:
    assert _verify("--owner", "trailofbits", "--predicate-type", "https://slsa.dev/provenance/v1") == 1
    assert "REJECTED (policy.predicate_type)" in capsys.readouterr().out


def test_cli_github_options_with_a_key_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert _verify("--key", str(TARBALL), "--owner", "x") == 1
    assert "a --key signature has none" in capsys.readouterr().err
