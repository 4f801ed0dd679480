"""A served labkit instance delivers its trust over TUF to the unmodified sigstore CLI and to labkit.

``labkit init --seed 7``, ``labkit serve`` (prints ``tuf: URL``), ``labkit tuf root -o root.json``; then
``sigstore --instance URL trust-instance root.json`` and ``sigstore --instance URL sign|verify identity``:
sigstore-python finds the CA, the log and the TSA in the signing config it got over TUF.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from labkit.keyless.oidc import decode_unverified

LABKIT = [sys.executable, "-m", "labkit.cli"]
SIGSTORE = [sys.executable, "-m", "sigstore"]

pytestmark = pytest.mark.slow


def _env(tmp_path: Path) -> dict[str, str]:
    """HOME and the XDG dirs in tmp: sigstore-python's TUF cache and labkit's stay inside the test."""
    env = dict(os.environ)
    env.update(HOME=str(tmp_path / "home"), XDG_CACHE_HOME=str(tmp_path / "cache"),
               XDG_DATA_HOME=str(tmp_path / "data"), LABKIT_TUF_CACHE=str(tmp_path / "labkit-tuf"))
    return env


def _run(args: list[str], tmp_path: Path, *, ok: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=180, env=_env(tmp_path))
    if ok:
        assert proc.returncode == 0, f"{' '.join(args[2:])} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    return proc


@pytest.fixture
def served(tmp_path: Path, spawn: Callable[..., subprocess.Popen[str]]) -> Iterator[str]:
    """A seeded instance served by ``labkit serve``; yields the URL of its ``tuf:`` line."""
    _run([*LABKIT, "init", str(tmp_path / "inst"), "--seed", "7"], tmp_path)
    proc = spawn([*LABKIT, "serve", "--instance", str(tmp_path / "inst")], cwd=tmp_path, env=_env(tmp_path),
                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    lines: list[str] = []
    while not any(line.startswith("tuf:") for line in lines):
        assert proc.poll() is None and time.monotonic() < deadline, "".join(lines) + proc.stdout.read()
        lines.append(proc.stdout.readline())
    url = next(line for line in lines if line.startswith("tuf:")).split()[1]
    _run([*LABKIT, "tuf", "root", "--instance", str(tmp_path / "inst"), "-o", str(tmp_path / "root.json")], tmp_path)
    yield url


def _token(tmp_path: Path, identity: str) -> str:
    return _run([*LABKIT, "token", "--instance", str(tmp_path / "inst"), "--identity", identity],
                tmp_path).stdout.strip()


def test_sigstore_cli_signs_and_verifies_with_trust_from_tuf(served: str, tmp_path: Path) -> None:
    artifact = tmp_path / "a.txt"
    artifact.write_text("signed by the sigstore CLI with trust delivered over TUF\n")
    bundle = tmp_path / "a.txt.sigstore.json"
    token = _token(tmp_path, "alice@example.com")
    issuer = decode_unverified(token).claims["iss"]
    _run([*SIGSTORE, "--instance", served, "trust-instance", str(tmp_path / "root.json")], tmp_path)
    _run([*SIGSTORE, "--instance", served, "sign", "--identity-token", token, "--bundle", str(bundle),
          str(artifact)], tmp_path)
    _run([*SIGSTORE, "--instance", served, "verify", "identity", "--bundle", str(bundle),
          "--cert-identity", "alice@example.com", "--cert-oidc-issuer", issuer, str(artifact)], tmp_path)
    # labkit as the client: bootstrap, then verify and sign with what the URL delivered
    out = _run([*LABKIT, "trust", "update", "--instance", served, "--root", str(tmp_path / "root.json")], tmp_path)
    assert "root v1" in out.stdout and "timestamp v" in out.stdout, out.stdout
    _run([*LABKIT, "verify-blob", "--instance", served, "--bundle", str(bundle),
          "--certificate-identity", "alice@example.com", "--certificate-oidc-issuer", issuer, str(artifact)],
         tmp_path)
    _run([*LABKIT, "verify-bundle", "--instance", served, "--bundle", str(bundle),
          "--certificate-identity", "alice@example.com", "--certificate-oidc-issuer", issuer, str(artifact)],
         tmp_path)
    mine = tmp_path / "labkit.sigstore.json"
    _run([*LABKIT, "sign-blob", "--instance", served, "--identity-token", _token(tmp_path, "bob@example.com"),
          "--bundle", str(mine), str(artifact)], tmp_path)
    _run([*SIGSTORE, "--instance", served, "verify", "identity", "--bundle", str(mine),
          "--cert-identity", "bob@example.com", "--cert-oidc-issuer", issuer, str(artifact)], tmp_path)


def test_labkit_refuses_an_unbootstrapped_instance_url(served: str, tmp_path: Path) -> None:
    proc = _run([*LABKIT, "trust", "update", "--instance", served], tmp_path, ok=False)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "no trusted TUF root" in proc.stderr + proc.stdout
