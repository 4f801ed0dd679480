"""`labkit log ...`: a real `labkit log serve` process on a free loopback port, queried by the other commands."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from labkit.cli import main
from labkit.keys import generate
from labkit.lab import Lab
from labkit.tlog.client import RekorClient
from labkit.tlog.store import TransparencyLog


@pytest.fixture
def server(tmp_path: Path, spawn: Callable[..., subprocess.Popen[str]]) -> Iterator[str]:
    """`labkit log serve` in a process of its own, stopped by `spawn` whatever the outcome."""
    proc = spawn(
        [
            sys.executable,
            "-m",
            "labkit.cli",
            "log",
            "serve",
            "--dir",
            str(tmp_path / "log"),
            "--port",
            "0",
            "--seed",
            "cli",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("serving "), line
    yield line.rsplit(" ", 1)[1].strip()


def test_serve_and_query(server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    client = RekorClient(server)
    signer = generate("ecdsa-p256", lab=Lab(seed="cli"), label="signer")
    for i in range(4):
        d = hashlib.sha256(b"%d" % i).digest()
        client.upload_hashedrekord(signer.sign_digest(d), signer.public_key().pem(), d)
    assert main(["log", "info", "--url", server]) == 0
    out = capsys.readouterr().out
    assert "tree size: 4" in out and "\u2014 labkit.local " in out
    assert main(["log", "get", "--url", server, "--index", "2"]) == 0
    (entry,) = json.loads(capsys.readouterr().out).values()
    assert entry["logIndex"] == 2
    assert main(["log", "proof", "--url", server, "--first", "1", "--last", "4"]) == 0
    assert len(json.loads(capsys.readouterr().out)["hashes"]) == 2
    assert main(["log", "proof", "--url", server, "--index", "3"]) == 0
    assert json.loads(capsys.readouterr().out)["verified"] is True
    assert main(["log", "search", "--url", server, "--hash", hashlib.sha256(b"1").hexdigest()]) == 0
    assert len(capsys.readouterr().out.split()) == 1
    ck = tmp_path / "old.txt"
    ck.write_text(client.latest_checkpoint())
    d = hashlib.sha256(b"more").digest()
    client.upload_hashedrekord(signer.sign_digest(d), signer.public_key().pem(), d)
    assert main(["log", "witness", "--url", server, "--checkpoint", str(ck)]) == 0
    assert "witness.consistency" in capsys.readouterr().out


def test_local_dir_commands_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = TransparencyLog.open(tmp_path / "log")  # the log's own random key, kept in the directory
    signer = generate("ecdsa-p256", lab=Lab(seed="x"), label="signer")
    for i in range(3):
        digest = hashlib.sha256(b"%d" % i).digest()
        log.upload_hashedrekord(signer.sign_digest(digest), signer.public_key().pem(), digest)
    d = str(tmp_path / "log")
    assert main(["log", "info", "--dir", d]) == 0
    assert "tree size: 3" in capsys.readouterr().out
    assert main(["log", "proof", "--dir", d, "--first", "1", "--last", "3"]) == 0
    assert json.loads(capsys.readouterr().out)["verified"] is True
    assert main(["log", "get", "--dir", d, "--index", "9"]) == 1
    assert "no entry at index 9" in capsys.readouterr().err
    assert main(["log", "info", "--dir", d, "--seed", "wrong"]) == 1
    assert "different log key" in capsys.readouterr().err
    assert main(["log", "info", "--url", "https://rekor.sigstore.dev"]) == 1
    assert main(["log", "serve", "--dir", d, "--host", "0.0.0.0"]) == 1
    assert "loopback" in capsys.readouterr().err
