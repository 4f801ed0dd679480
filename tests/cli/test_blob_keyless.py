"""`labkit sign-blob` / `verify-blob` without --key: keyless against a lab instance."""

from __future__ import annotations

from pathlib import Path

import pytest

from labkit.cli import main

ISSUER = "https://oidc.labkit.invalid"


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("keyless-cli")
    assert main(["init", str(work / "inst"), "--seed", "cli-test"]) == 0
    (work / "a.txt").write_bytes(b"hello keyless\n")
    rc = main(["sign-blob", "--instance", str(work / "inst"), "--identity", "alice@example.com",
               "--bundle", str(work / "a.json"), str(work / "a.txt")])
    assert rc == 0
    return work


def _verify(work: Path, *extra: str, file: str = "a.txt") -> int:
    return main(["verify-blob", "--instance", str(work / "inst"), "--bundle", str(work / "a.json"),
                 *extra, str(work / file)])


def test_right_identity_and_issuer_verify(signed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _verify(signed, "--certificate-identity", "alice@example.com", "--certificate-oidc-issuer", ISSUER) == 0
    assert "Verified OK" in capsys.readouterr().out


def test_whole_identity_regexp_verifies(signed: Path) -> None:
    assert _verify(signed, "--certificate-identity-regexp", r"[a-z]+@example\.com",
                   "--certificate-oidc-issuer", ISSUER) == 0


@pytest.mark.parametrize("extra", [
    ("--certificate-identity", "bob@example.com", "--certificate-oidc-issuer", ISSUER),
    ("--certificate-identity", "alice@example.com", "--certificate-oidc-issuer", "https://accounts.example.com"),
    ("--certificate-identity-regexp", "alice", "--certificate-oidc-issuer", ISSUER),  # must match the whole identity
], ids=["wrong-identity", "wrong-issuer", "partial-regexp"])
def test_wrong_policy_is_refused(signed: Path, extra: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    assert _verify(signed, *extra) == 1
    assert "error:" in capsys.readouterr().err


def test_tampered_artifact_is_refused(signed: Path) -> None:
    (signed / "b.txt").write_bytes(b"hello keyless!\n")
    assert _verify(signed, "--certificate-identity", "alice@example.com", "--certificate-oidc-issuer", ISSUER,
                   file="b.txt") == 1


def test_policy_flags_are_required(signed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _verify(signed) == 1
    assert "--certificate-identity" in capsys.readouterr().err


def test_keyless_sign_needs_an_identity(signed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sign-blob", "--instance", str(signed / "inst"), str(signed / "a.txt")]) == 1
    assert "--identity" in capsys.readouterr().err
