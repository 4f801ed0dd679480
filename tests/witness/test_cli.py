"""`labkit witness serve|quorum|proof`: a witness process cosigns a tile log's checkpoints; proofs verify offline."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from labkit.cli import main
from labkit.witness.cosignature import Cosigner, log_vkey, parse_vkey
from labkit.witness.service import merge_cosignatures, submit
from tests.witness.helpers import ORIGIN, raw_key, seed, setup


def test_serve_cosigns_and_refuses_a_rewind(tmp_path: Path, spawn: Callable[..., subprocess.Popen[str]],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    s = setup(tmp_path)
    log = s.log
    proc = spawn([sys.executable, "-m", "labkit.cli", "witness", "serve", "--dir", str(tmp_path / "wd"), "--port", "0",
                  "--name", "cli.witness", "--log", log_vkey(ORIGIN, raw_key(log))],
                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().startswith(f"serving witness cli.witness for {ORIGIN} at http://127.0.0.1:")
    url = proc.stdout.readline().removeprefix("url: ").strip()
    vkey = proc.stdout.readline().split(": ", 1)[1].strip()
    assert parse_vkey(vkey).name == "cli.witness"
    assert oct((tmp_path / "wd" / "ed25519.seed").stat().st_mode & 0o777) == "0o600"
    log.append([b"a", b"b", b"c"])
    first = submit(url, 0, [], log.signed_checkpoint())
    assert first.status == 200
    log.append([b"d"])
    cosigned = merge_cosignatures(log.signed_checkpoint(),
                                  submit(url, 3, log.consistency_proof(3), log.signed_checkpoint()).text)
    assert submit(url, 0, [], log.signed_checkpoint()).text == "4\n"  # 409 with the witness's size
    others = s.witnesses[0].cosign_note(cosigned, 0, [])
    policy = tmp_path / "policy.txt"
    policy.write_text(f"log {log_vkey(ORIGIN, raw_key(log))}\nwitness a {vkey}\n"
                      f"witness b {s.witnesses[0].cosigners[0].public.vkey()}\ngroup g all a b\nquorum g\n")
    note = tmp_path / "cosigned.txt"
    note.write_text(others)
    assert main(["witness", "quorum", "--policy", str(policy), "--checkpoint", str(note)]) == 0
    assert "quorum.met" in capsys.readouterr().out
    out = tmp_path / "e2.tlog-proof"
    assert main(["witness", "proof", "export", "--dir", str(log.directory), "--index", "2", "--checkpoint", str(note),
                 "-o", str(out)]) == 0
    assert main(["witness", "proof", "export", "--dir", str(log.directory), "--index", "2", "--checkpoint", str(note),
                 "-o", str(out)]) != 0  # refuses to overwrite
    entry = tmp_path / "entry"
    entry.write_bytes(b"c")
    assert (
        main(["witness", "proof", "verify", "--proof", str(out), "--entry", str(entry), "--policy", str(policy)]) == 0
    )
    entry.write_bytes(b"x")
    assert (
        main(["witness", "proof", "verify", "--proof", str(out), "--entry", str(entry), "--policy", str(policy)]) == 1
    )
    assert "tlog.inclusion_proof" in capsys.readouterr().out


def test_serve_needs_logs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["witness", "serve", "--dir", str(tmp_path / "w"), "--port", "0"]) != 0
    assert "--policy" in capsys.readouterr().err
    bad = Cosigner.ed25519("w", seed("w")).public.vkey().replace("+", "+0", 1)
    assert main(["witness", "serve", "--dir", str(tmp_path / "w"), "--log", bad]) != 0
