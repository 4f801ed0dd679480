"""One --key resolver behind every signing and verify command: a token key signs and verifies everywhere."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from labkit.cli import main
from labkit.keyless.instance import Instance
from labkit.oci.builder import build_image
from labkit.oci.layout import OCILayout
from labkit.signers import KeyURIError
from labkit.signers.resolve import create_in_home
from tests.signers.conftest import Token

pytest.importorskip("pkcs11", reason="python-pkcs11 (the 'keys' extra) is not installed")


def test_every_command_takes_a_token_key(softhsm: Token, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = softhsm.uri("every-command")
    with contextlib.suppress(KeyURIError):
        create_in_home(key, "ecdsa-p256")
    public = softhsm.uri("every-command", pin=None)  # verifiers need no PIN
    Instance.create(tmp_path / "inst", seed="signers-cli").close()
    built = build_image(OCILayout.init(tmp_path / "oci"), {"a.txt": "a\n"}, tag="v1")
    image = f"oci:{tmp_path / 'oci'}@{built.digest}"
    blob, pred, inst = tmp_path / "file.txt", tmp_path / "pred.json", str(tmp_path / "inst")
    blob.write_bytes(b"hello\n")
    pred.write_text('{"note": "hi"}')
    signing = [
        ["sign", "--key", key, "--tlog-upload=false", image],
        ["sign-blob", "--key", key, "--tlog-upload=false", "--bundle", str(tmp_path / "b.json"), str(blob)],
        ["attest", "--key", key, "--instance", inst, "--type", "custom", "--predicate", str(pred), image],
        ["attest-blob", "--key", key, "--instance", inst, "--type", "custom", "--predicate", str(pred),
         "--bundle", str(tmp_path / "att.json"), str(blob)],
    ]
    for argv in signing:
        capsys.readouterr()
        assert main(argv) == 0, (argv[0], capsys.readouterr().err)
        assert "only the digest leaves this process" in capsys.readouterr().err
    verifying = [
        ["verify", "--key", public, "--insecure-ignore-tlog", image],
        ["verify-blob", "--key", public, "--insecure-ignore-tlog", "--bundle", str(tmp_path / "b.json"), str(blob)],
        ["verify-attestation", "--key", public, "--instance", inst, "--type", "custom", image],
        ["verify-blob-attestation", "--key", public, "--instance", inst, "--type", "custom",
         "--bundle", str(tmp_path / "att.json"), str(blob)],
    ]
    for argv in verifying:
        capsys.readouterr()
        assert main(argv) == 0, (argv[0], capsys.readouterr().err)
