"""Issue 17 item 6: -v/--verbose on every verify command; expected/actual under their [FAIL] row."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from labkit.cli import VERIFY_COMMANDS, build_parser, main

CASES = Path(__file__).resolve().parent.parent / "vendor" / "conformance" / "bundle-verify"
BEACON = ("https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/"
          "extremely-dangerous-oidc-beacon.yml@refs/heads/main")


@pytest.mark.parametrize("command", VERIFY_COMMANDS)
def test_every_verify_command_takes_verbose(command: str) -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    help_text = sub.choices[command].format_help()
    assert "-v, --verbose" in help_text


def test_global_verbose_is_not_reset_by_the_command() -> None:
    args = build_parser().parse_args(["-v", "verify-bundle", "--bundle", "b", "--key", "k", "x"])
    assert args.verbose is True
    args = build_parser().parse_args(["verify-bundle", "--bundle", "b", "--key", "k", "x"])
    assert args.verbose is False


def _run(capsys: pytest.CaptureFixture[str], *extra: str) -> list[str]:
    case = CASES / "checkpoint-wrong-roothash_fail"
    rc = main(["verify-bundle", *extra, "--bundle", str(case / "bundle.sigstore.json"),
               "--certificate-identity", BEACON, "--certificate-oidc-issuer", "https://token.actions.githubusercontent.com",
               str(CASES / "a.txt")])
    assert rc == 1
    return capsys.readouterr().out.splitlines()


def test_values_under_the_failed_row(capsys: pytest.CaptureFixture[str]) -> None:
    lines = _run(capsys)
    fail = next(i for i, line in enumerate(lines) if line.startswith("[FAIL]"))
    assert lines[fail + 1].startswith("  expected: ") and lines[fail + 2].startswith("  actual:   ")
    assert lines[fail + 3].startswith("[skip]")


def test_verbose_adds_reason_spec_and_every_step(capsys: pytest.CaptureFixture[str]) -> None:
    lines = _run(capsys, "-v")
    fail = next(i for i, line in enumerate(lines) if line.startswith("[FAIL]"))
    assert lines[fail + 3].startswith("  reason:   ") and lines[fail + 4].startswith("  spec:     ")
    assert not any("later check(s) not reached" in line for line in lines)
    assert any(line.startswith("[skip] policy.identity") for line in lines)
