"""Keyless ``labkit sign --new-bundle-format``: cosign v3's bundle referrer with a TSA timestamp, verified keyless."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labkit.cli import main
from labkit.oci.layout import OCILayout
from labkit.oci.signatures import list_bundles, list_signatures
from tests.oci.test_cli import _build

ME = "alice@example.com"


@pytest.mark.parametrize("rekor_api", ["1", "2"])
def test_keyless_sign_writes_a_timestamped_bundle_referrer(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                           rekor_api: str) -> None:
    layout, digest = _build(tmp_path, capsys)
    instance = tmp_path / "instance"
    assert main(["init", str(instance), "--seed", f"oci-bundle-{rekor_api}", "--rekor-api", rekor_api]) == 0
    capsys.readouterr()
    assert main(["sign", "--identity", ME, "--instance", str(instance), "--new-bundle-format",
                 f"oci:{layout}@{digest}"]) == 0
    assert "Pushing bundle referrer" in capsys.readouterr().err
    store = OCILayout.open(layout)
    assert list_signatures(store, digest) == []  # cosign v3: the bundle only
    [(_ref, data)] = list_bundles(store, digest)
    doc = json.loads(data)
    vm = doc["verificationMaterial"]
    assert vm["timestampVerificationData"]["rfc3161Timestamps"] and "certificate" in vm
    version = vm["tlogEntries"][0]["kindVersion"]
    assert version == ({"kind": "hashedrekord", "version": "0.0.2"} if rekor_api == "2"
                       else {"kind": "dsse", "version": "0.0.1"})
    base = ["verify", "--instance", str(instance), "--certificate-oidc-issuer-regexp", ".*"]
    assert main([*base, "--certificate-identity", ME, "--require-bundle-format", f"oci:{layout}:v1"]) == 0
    capsys.readouterr()
    assert main([*base, "--certificate-identity", "mallory@example.com", f"oci:{layout}:v1"]) == 1


def test_keyless_sign_through_the_instance_signing_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    layout, digest = _build(tmp_path, capsys)
    instance = tmp_path / "instance"
    assert main(["init", str(instance), "--seed", "oci-bundle-sc", "--rekor-api", "2"]) == 0
    ctc = tmp_path / "ctc.json"
    assert main(["trusted-root", "--instance", str(instance), "--client-trust-config", "-o", str(ctc)]) == 0
    capsys.readouterr()
    sign = ["sign", "--identity", ME, "--instance", str(instance), "--signing-config", str(ctc)]
    assert main([*sign, f"oci:{layout}@{digest}"]) == 1
    assert "--new-bundle-format" in capsys.readouterr().err
    assert main([*sign, "--new-bundle-format", f"oci:{layout}@{digest}"]) == 0
    capsys.readouterr()
    assert main(["verify", "--instance", str(instance), "--certificate-identity", ME,
                 "--certificate-oidc-issuer-regexp", ".*", f"oci:{layout}:v1"]) == 0
