"""`labkit demo` runs every stage and prints the same text on every run in lab mode."""

from __future__ import annotations

from pathlib import Path

import pytest

from labkit.cli import main


def test_demo_is_reproducible(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    first = capsys.readouterr().out
    assert main(["demo"]) == 0
    assert capsys.readouterr().out == first
    assert "VERIFIED" in first and "REJECTED (artifact.digest)" in first
    # the later stages: keyless identity policy, a signed image, a caught attack
    assert "verify as mallory@example.com: REJECTED (policy.identity)" in first
    assert "sha256-<hex>.sig); verify: VERIFIED" in first
    assert "caught by labkit: binding.digest" in first
    assert first.rstrip().endswith("every stage behaved as expected")
    assert "/tmp" not in first


def test_demo_keeps_files_and_real_mode(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--real", "--dir", str(tmp_path)]) == 0
    assert "REAL mode" in capsys.readouterr().out
    assert {"cosign.key", "cosign.pub", "artifact.txt", "artifact.txt.sigstore.json"} <= {
        p.name for p in tmp_path.iterdir()
    }
