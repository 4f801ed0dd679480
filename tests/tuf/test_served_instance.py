"""A served labkit instance delivers its trust over TUF to the unmodified sigstore CLI and to labkit.

``labkit init --seed 7``, ``labkit serve`` (prints ``tuf: URL``), ``labkit tuf root -o root.json``; then
``sigstore --instance URL trust-instance root.json`` and ``sigstore --instance URL sign|verify identity``:
sigstore-python finds the CA, the log and the TSA in the signing config it got over TUF.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from labkit.keyless.oidc import decode_unverified
from tests.tuf.serving import LABKIT, SIGSTORE, run, serve

pytestmark = pytest.mark.slow


@pytest.fixture
def served(tmp_path: Path, spawn: Callable[..., subprocess.Popen[str]]) -> Iterator[str]:
    """A seeded instance served by ``labkit serve``; yields the URL of its ``tuf:`` line."""
    yield serve(spawn, tmp_path)


def _token(tmp_path: Path, identity: str) -> str:
    return run([*LABKIT, "token", "--instance", str(tmp_path / "inst"), "--identity", identity],
                tmp_path).stdout.strip()


def test_sigstore_cli_signs_and_verifies_with_trust_from_tuf(served: str, tmp_path: Path) -> None:
    artifact = tmp_path / "a.txt"
    artifact.write_text("signed by the sigstore CLI with trust delivered over TUF\n")
    bundle = tmp_path / "a.txt.sigstore.json"
    token = _token(tmp_path, "alice@example.com")
    issuer = decode_unverified(token).claims["iss"]
    run([*SIGSTORE, "--instance", served, "trust-instance", str(tmp_path / "root.json")], tmp_path)
    run([*SIGSTORE, "--instance", served, "sign", "--identity-token", token, "--bundle", str(bundle),
          str(artifact)], tmp_path)
    run([*SIGSTORE, "--instance", served, "verify", "identity", "--bundle", str(bundle),
          "--cert-identity", "alice@example.com", "--cert-oidc-issuer", issuer, str(artifact)], tmp_path)
    # labkit as the client: bootstrap, then verify and sign with what the URL delivered
    out = run([*LABKIT, "trust", "update", "--instance", served, "--root", str(tmp_path / "root.json")], tmp_path)
    assert "root v1" in out.stdout and "timestamp v" in out.stdout, out.stdout
    run([*LABKIT, "verify-blob", "--instance", served, "--bundle", str(bundle),
          "--certificate-identity", "alice@example.com", "--certificate-oidc-issuer", issuer, str(artifact)],
         tmp_path)
    run([*LABKIT, "verify-bundle", "--instance", served, "--bundle", str(bundle),
          "--certificate-identity", "alice@example.com", "--certificate-oidc-issuer", issuer, str(artifact)],
         tmp_path)
    mine = tmp_path / "labkit.sigstore.json"
    run([*LABKIT, "sign-blob", "--instance", served, "--identity-token", _token(tmp_path, "bob@example.com"),
          "--bundle", str(mine), str(artifact)], tmp_path)
    run([*SIGSTORE, "--instance", served, "verify", "identity", "--bundle", str(mine),
          "--cert-identity", "bob@example.com", "--cert-oidc-issuer", issuer, str(artifact)], tmp_path)


def test_labkit_refuses_an_unbootstrapped_instance_url(served: str, tmp_path: Path) -> None:
    proc = run([*LABKIT, "trust", "update", "--instance", served], tmp_path, ok=False)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "no trusted TUF root" in proc.stderr + proc.stdout
