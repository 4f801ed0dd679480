"""`labkit init`, `labkit trusted-root`, `labkit token`, and the sigstore CLI reading what they write."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from labkit.cli import main
from labkit.keyless.instance import Instance
from labkit.keyless.oidc import decode_unverified
from labkit.keyless.sign import sign_blob_keyless


def test_init_token_trusted_root(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inst = str(tmp_path / "inst")
    assert main(["init", inst, "--seed", "cli"]) == 0
    assert "lab (seed 'cli')" in capsys.readouterr().out
    assert main(["init", inst, "--seed", "cli"]) == 1
    assert "already holds" in capsys.readouterr().err
    assert main(["token", "--instance", inst, "--identity", "alice@example.com"]) == 0
    token = capsys.readouterr().out.strip()
    assert decode_unverified(token).claims["email"] == "alice@example.com"
    assert main(["token", "--instance", inst, "--github-repository", "octo/app", "--decode"]) == 0
    assert json.loads(capsys.readouterr().out)["claims"]["repository"] == "octo/app"
    assert main(["token", "--instance", inst]) == 1
    assert main(["trusted-root", "--instance", inst]) == 0
    assert json.loads(capsys.readouterr().out)["mediaType"].startswith("application/vnd.dev.sigstore.trustedroot")
    out = tmp_path / "ctc.json"
    assert main(["trusted-root", "--instance", inst, "--client-trust-config", "-o", str(out)]) == 0
    assert json.loads(out.read_text())["trustedRoot"]["tlogs"]


def test_missing_instance_is_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["trusted-root", "--instance", str(tmp_path / "none")]) == 1
    assert capsys.readouterr().err.startswith("error: ")


def test_sigstore_cli_verifies_with_the_trust_config(tmp_path: Path) -> None:
    """`sigstore --trust-config … verify identity` accepts the right identity and refuses a wrong one."""
    inst_dir = tmp_path / "inst"
    assert main(["init", str(inst_dir), "--seed", "cli-judge"]) == 0
    config = tmp_path / "trust_config.json"
    assert main(["trusted-root", "--instance", str(inst_dir), "--client-trust-config", "-o", str(config)]) == 0
    artifact = tmp_path / "a.txt"
    artifact.write_text("hello\n")
    with Instance.open(inst_dir) as inst:
        bundle = tmp_path / "a.txt.sigstore.json"
        bundle.write_text(sign_blob_keyless(inst, artifact, identity="alice@example.com").to_json())
        issuer = inst.issuer.url

    def run(identity: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "sigstore", "--trust-config", str(config), "verify", "identity",
             "--bundle", str(bundle), "--cert-identity", identity, "--cert-oidc-issuer", issuer, str(artifact)],
            capture_output=True, text=True, timeout=120,
        )

    ok = run("alice@example.com")
    assert ok.returncode == 0, ok.stderr
    bad = run("mallory@example.com")
    assert bad.returncode == 1 and "SANs do not match" in bad.stderr


def test_serve_runs_until_stopped(tmp_path: Path, spawn: Callable[..., subprocess.Popen[str]]) -> None:
    import os
    import signal
    import time

    import requests

    inst_dir = tmp_path / "inst"
    assert main(["init", str(inst_dir)]) == 0
    config = tmp_path / "tc.json"
    proc = spawn(
        [sys.executable, "-c", "import sys; from labkit.cli import main; sys.exit(main(sys.argv[1:]))",
         "serve", "--instance", str(inst_dir), "--trust-config", str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not config.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert config.exists(), proc.stderr.read() if proc.stderr else ""
        ca_url = json.loads(config.read_text())["signingConfig"]["caUrls"][0]["url"]
        assert ca_url.startswith("http://127.0.0.1:")
        assert requests.get(f"{ca_url}/keys", timeout=30).json()["keys"]
    finally:
        os.kill(proc.pid, signal.SIGINT)
        proc.wait(timeout=30)


def test_seeded_instances_say_lab(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lab, real = str(tmp_path / "lab"), str(tmp_path / "real")
    assert main(["init", lab, "--seed", "said"]) == 0
    assert "LAB keys" in capsys.readouterr().out
    assert main(["trusted-root", "--instance", lab]) == 0
    assert "WARNING: LAB instance" in capsys.readouterr().err
    assert main(["init", real]) == 0
    assert "LAB" not in capsys.readouterr().out
    assert main(["trusted-root", "--instance", real]) == 0
    assert "LAB" not in capsys.readouterr().err
