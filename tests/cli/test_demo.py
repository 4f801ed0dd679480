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


def test_real_demo_never_prints_a_fixed_password(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import stat

    from labkit.keyfile import load_private_key

    monkeypatch.delenv("COSIGN_PASSWORD", raising=False)
    assert main(["demo", "--real", "--dir", str(tmp_path / "a")]) == 0
    out = capsys.readouterr().out
    stored = (tmp_path / "a" / "cosign.password").read_text().strip()
    assert "'demo'" not in out and stored not in out and "cosign.password" in out
    assert stat.S_IMODE((tmp_path / "a" / "cosign.password").stat().st_mode) == 0o600
    load_private_key(tmp_path / "a" / "cosign.key", stored)

    monkeypatch.setenv("COSIGN_PASSWORD", "s3cret-from-env")
    assert main(["demo", "--real", "--dir", str(tmp_path / "b")]) == 0
    out = capsys.readouterr().out
    assert "COSIGN_PASSWORD" in out and "s3cret-from-env" not in out
    assert not (tmp_path / "b" / "cosign.password").exists()
    load_private_key(tmp_path / "b" / "cosign.key", "s3cret-from-env")
