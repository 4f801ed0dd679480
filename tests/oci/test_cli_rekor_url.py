"""`labkit sign --rekor-url`: an image signature logged in a running log server (a shared workshop log)."""

from __future__ import annotations

from pathlib import Path

import pytest

from labkit.cli import main
from labkit.lab import Lab
from labkit.tlog.server import LogServer
from labkit.tlog.store import TransparencyLog


def test_sign_into_a_served_log_then_verify_with_its_trusted_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COSIGN_PASSWORD", "pw")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app.txt").write_text("hi\n")
    assert main(["generate-key-pair"]) == 0
    assert main(["image", "build", "--layout", "layout", "--tag", "v1", "--file", "app.txt:/app/app.txt"]) == 0
    log = TransparencyLog.open(tmp_path / "log", lab=Lab(seed="rekor-url"))
    with LogServer(log) as server:
        assert main(["sign", "--key", "cosign.key", "--rekor-url", server.url, "oci:layout:v1"]) == 0
        assert "tlog entry created with index: 0" in capsys.readouterr().err
        assert main(["log", "trusted-root", "--url", server.url, "-o", "root.json"]) == 0
    log.close()
    assert main(["verify", "--key", "cosign.pub", "--trusted-root", "root.json", "oci:layout:v1"]) == 0
    assert "verified offline" in capsys.readouterr().err


def test_one_log_at_a_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("COSIGN_PASSWORD", "pw")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app.txt").write_text("hi\n")
    assert main(["generate-key-pair"]) == 0
    assert main(["image", "build", "--layout", "layout", "--tag", "v1", "--file", "app.txt:/app/app.txt"]) == 0
    rc = main(
        ["sign", "--key", "cosign.key", "--rekor-url", "http://127.0.0.1:1", "--tlog-dir", "log", "oci:layout:v1"]
    )
    assert rc == 1 and "not both" in capsys.readouterr().err
