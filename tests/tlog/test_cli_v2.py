"""`labkit log serve|info|proof --api v2`: a tile log served by a real process and read through TileClient."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from labkit.cli import main
from labkit.tlog.tilelog import TileLog

ORIGIN = "lab.test/log"


def _log(tmp_path: Path, n: int = 300) -> tuple[Path, Path]:
    d = tmp_path / "log"
    log = TileLog.open(d, origin=ORIGIN)
    log.append([b"entry %d" % i for i in range(n)])
    key = tmp_path / "log.pub"
    key.write_bytes(log.public_key.pem())
    return d, key


def test_info_and_proofs_from_a_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d, _ = _log(tmp_path)
    assert main(["log", "info", "--api", "v2", "--dir", str(d)]) == 0
    out = capsys.readouterr().out
    assert "tree size: 300" in out and f"\u2014 {ORIGIN} " in out
    assert main(["log", "proof", "--api", "v2", "--dir", str(d), "--index", "257"]) == 0
    assert json.loads(capsys.readouterr().out)["verified"] is True
    assert main(["log", "proof", "--api", "v2", "--dir", str(d), "--first", "5", "--last", "299"]) == 0
    assert json.loads(capsys.readouterr().out)["verified"] is True


def test_bad_requests_are_one_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d, key = _log(tmp_path, 3)
    assert main(["log", "proof", "--api", "v2", "--dir", str(d), "--first", "4"]) != 0
    assert main(["log", "proof", "--api", "v2", "--url", "http://127.0.0.1:9/", "--index", "0"]) != 0
    assert "--log-key" in capsys.readouterr().err
    other = tmp_path / "other.pub"
    other.write_bytes(TileLog.open(tmp_path / "o", origin=ORIGIN).public_key.pem())
    assert main(["log", "info", "--api", "v2", "--dir", str(d), "--log-key", str(other)]) != 0
    err = capsys.readouterr().err
    assert "Traceback" not in err and "error" in err.lower()
    assert key.exists()


def test_serve_v2_banner_and_reads_over_http(tmp_path: Path, spawn: Callable[..., subprocess.Popen[str]],
                                             capsys: pytest.CaptureFixture[str]) -> None:
    d, key = _log(tmp_path)
    proc = spawn([sys.executable, "-m", "labkit.cli", "log", "serve", "--api", "v2", "--dir", str(d), "--port", "0",
                  "--origin", ORIGIN], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().startswith(f"serving Rekor v2 log {ORIGIN} (300 entries) at http://127.0.0.1:")
    url = proc.stdout.readline().removeprefix("url: ").strip()
    banner = [proc.stdout.readline() for _ in range(6)]
    assert banner[1] == f"origin: {ORIGIN}\n" and banner[2].startswith("-----BEGIN PUBLIC KEY")
    assert main(["log", "info", "--api", "v2", "--url", url, "--origin", ORIGIN, "--log-key", str(key)]) == 0
    assert "tree size: 300" in capsys.readouterr().out
    assert main(["log", "proof", "--api", "v2", "--url", url, "--origin", ORIGIN, "--log-key", str(key),
                 "--index", "299"]) == 0
    assert json.loads(capsys.readouterr().out)["verified"] is True
