"""A served seeded instance is usable by real clients (issue 12 item 16).

``labkit init --seed 7`` then ``labkit serve``: the served CA and log, and the
tokens ``labkit token`` mints for them, run on the real clock, so the
unmodified sigstore CLI signs and verifies with ``--trust-config``; CLI signing
in between does not push the instance's clock ahead of real time.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from labkit.keyless.oidc import decode_unverified
from labkit.verify import Artifact, Identity, TrustedRoot, explain_bundle

LABKIT = [sys.executable, "-m", "labkit.cli"]
SIGSTORE = [sys.executable, "-m", "sigstore"]


def _run(args: list[str], cwd: Path) -> str:
    proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, f"{' '.join(args[2:])} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    return proc.stdout


@pytest.fixture
def served_seeded(tmp_path: Path, spawn: Callable[..., subprocess.Popen[str]]) -> Iterator[Path]:
    """``labkit init --seed 7`` and ``labkit serve`` in a subprocess; yields the trust config it wrote."""
    _run([*LABKIT, "init", str(tmp_path / "inst"), "--seed", "7"], tmp_path)
    config = tmp_path / "trust_config.json"
    proc = spawn([*LABKIT, "serve", "--instance", str(tmp_path / "inst"), "--trust-config", str(config)],
                 cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while not config.exists():
        assert proc.poll() is None, proc.stdout.read()
        assert time.monotonic() < deadline, "labkit serve did not write its trust config"
        time.sleep(0.1)
    banner = "".join(proc.stdout.readline() for _ in range(5))
    assert "issuer + CA: http://127.0.0.1:" in banner and "WARNING: LAB instance" in banner, banner
    yield config


def _token(tmp_path: Path, identity: str) -> str:
    token = _run([*LABKIT, "token", "--instance", str(tmp_path / "inst"), "--identity", identity], tmp_path).strip()
    iat = decode_unverified(token).claims["iat"]
    assert abs(iat - time.time()) < 120, f"the token's iat {dt.datetime.fromtimestamp(iat)} is not the real time"
    return token


def test_sigstore_cli_signs_and_verifies_against_a_served_seeded_instance(served_seeded: Path, tmp_path: Path) -> None:
    artifact = tmp_path / "a.txt"
    artifact.write_text("signed by the sigstore CLI against a seeded labkit instance\n")
    # CLI signing first: it must not move the instance's clock away from real time
    _run([*LABKIT, "sign-blob", "--instance", str(tmp_path / "inst"), "--identity", "bob@example.com",
          "--bundle", str(tmp_path / "cli.sigstore.json"), str(artifact)], tmp_path)
    issuer = decode_unverified(_token(tmp_path, "alice@example.com")).claims["iss"]
    bundle = tmp_path / "a.txt.sigstore.json"
    token = _token(tmp_path, "alice@example.com")
    _run([*SIGSTORE, "--trust-config", str(served_seeded), "sign", "--identity-token", token,
          "--bundle", str(bundle), str(artifact)], tmp_path)
    _run([*SIGSTORE, "--trust-config", str(served_seeded), "verify", "identity", "--bundle", str(bundle),
          "--cert-identity", "alice@example.com", "--cert-oidc-issuer", issuer, str(artifact)], tmp_path)
    # The served signing config names labkit's TSA: sigstore-python's bundle carries its timestamp, and labkit
    # verifies it against the instance's trusted root.
    doc = json.loads(bundle.read_text())
    assert len(doc["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"]) == 1
    root = TrustedRoot.from_json(json.dumps(json.loads(served_seeded.read_text())["trustedRoot"]).encode())
    result = explain_bundle(bundle.read_bytes(), Artifact.from_path(artifact), root,
                            policy=Identity(identity="alice@example.com", issuer=issuer))
    assert result.verified, result.checklist()
    assert any(s.id == "timestamp.rfc3161" and s.status.name == "PASSED" for s in result.steps)
