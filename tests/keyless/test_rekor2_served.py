"""A served Rekor v2 instance: labkit and unmodified sigstore-python 4.5.1 sign through it, and judge each other."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from labkit.cli import main
from labkit.keyless.instance import Instance
from labkit.keyless.server import InstanceServer
from labkit.keyless.sign import sign_blob_keyless
from labkit.verify import Identity, TrustedRoot, verify_bundle

ME = "carol@example.com"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[InstanceServer]:
    """A real-mode Rekor v2 instance (sigstore-python checks tokens against the wall clock) on loopback."""
    inst = Instance.create(tmp_path / "served2", rekor_api=2)
    server = InstanceServer(inst).start()
    try:
        yield server
    finally:
        server.stop()
        inst.close()


def _files(served: InstanceServer, tmp_path: Path) -> tuple[Path, Path, Path]:
    doc = json.loads(served.client_trust_config_json())
    ctc, config, root = tmp_path / "ctc.json", tmp_path / "sc.json", tmp_path / "tr.json"
    ctc.write_text(json.dumps(doc))
    config.write_text(json.dumps(doc["signingConfig"]))
    root.write_text(json.dumps(doc["trustedRoot"]))
    return ctc, config, root


def _entry(bundle_json: str) -> dict[str, object]:
    entries = json.loads(bundle_json)["verificationMaterial"]["tlogEntries"]
    assert len(entries) == 1
    entry: dict[str, object] = entries[0]
    return entry


def test_the_served_config_names_the_v2_log(served: InstanceServer) -> None:
    doc = json.loads(served.client_trust_config_json())
    [log] = doc["signingConfig"]["rekorTlogUrls"]
    assert log == {**log, "url": served.tlog_url, "majorApiVersion": 2}
    assert any("checkpointKeyId" in t for t in doc["trustedRoot"]["tlogs"])


def test_labkit_signs_through_the_served_v2_log(served: InstanceServer, tmp_path: Path) -> None:
    _ctc, config, root = _files(served, tmp_path)
    artifact, bundle = tmp_path / "a.txt", tmp_path / "a.sigstore.json"
    artifact.write_bytes(b"signed through a Rekor v2 signing config\n")
    inst = served.instance
    assert main(["sign-blob", "--signing-config", str(config), "--trusted-root", str(root), "--identity-token",
                 inst.issuer.mint(ME), "--bundle", str(bundle), str(artifact)]) == 0
    data = bundle.read_text()
    assert _entry(data)["kindVersion"] == {"kind": "hashedrekord", "version": "0.0.2"}
    assert inst.rekor2_log.size == 1 and inst.tlog.size == 0
    verify_bundle(data, artifact.read_bytes(), TrustedRoot.from_json(root.read_bytes()),
                  Identity(identity=ME, issuer=inst.issuer.url))




def test_keyed_sign_blob_through_a_v2_signing_config(served: InstanceServer, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A keyed signature logged through the v2 log the config selects (by its majorApiVersion), plus a timestamp."""
    _ctc, config, root = _files(served, tmp_path)
    monkeypatch.setenv("COSIGN_PASSWORD", "pw")
    assert main(["generate-key-pair", "--output-key-prefix", str(tmp_path / "cosign")]) == 0
    artifact, bundle = tmp_path / "k.txt", tmp_path / "k.sigstore.json"
    artifact.write_bytes(b"keyed, Rekor v2\n")
    assert main(["sign-blob", "--key", str(tmp_path / "cosign.key"), "--signing-config", str(config),
                 "--trusted-root", str(root), "--bundle", str(bundle), str(artifact)]) == 0
    data = bundle.read_text()
    assert _entry(data)["kindVersion"] == {"kind": "hashedrekord", "version": "0.0.2"}
    assert json.loads(data)["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"]
    assert main(["verify-blob", "--key", str(tmp_path / "cosign.pub"), "--trusted-root", str(root),
                 "--bundle", str(bundle), str(artifact)]) == 0


def _sigstore(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sigstore", *args], capture_output=True, text=True, timeout=180)


def test_sigstore_python_signs_with_rekor_v2_and_labkit_verifies(served: InstanceServer, tmp_path: Path) -> None:
    ctc, _config, root = _files(served, tmp_path)
    artifact = tmp_path / "py.txt"
    artifact.write_bytes(b"signed by sigstore-python through labkit's Rekor v2 log\n")
    inst = served.instance
    out = _sigstore("--trust-config", str(ctc), "sign", "--rekor-version", "2", "--identity-token",
                    inst.issuer.mint(ME), "--bundle", str(tmp_path / "py.sigstore.json"), str(artifact))
    assert out.returncode == 0, out.stderr
    data = (tmp_path / "py.sigstore.json").read_text()
    assert _entry(data)["kindVersion"] == {"kind": "hashedrekord", "version": "0.0.2"}
    assert inst.rekor2_log.size == 1
    verify_bundle(data, artifact.read_bytes(), TrustedRoot.from_json(root.read_bytes()),
                  Identity(identity=ME, issuer=inst.issuer.url))


def test_sigstore_python_verifies_labkit_v2_bundles_offline(tmp_path: Path) -> None:
    inst_dir = tmp_path / "inst"
    assert main(["init", str(inst_dir), "--seed", "rekor2-judge", "--rekor-api", "2"]) == 0
    ctc = tmp_path / "ctc.json"
    assert main(["trusted-root", "--instance", str(inst_dir), "--client-trust-config", "-o", str(ctc)]) == 0
    artifact, bundle = tmp_path / "a.txt", tmp_path / "a.txt.sigstore.json"
    artifact.write_text("hello v2\n")
    with Instance.open(inst_dir) as inst:
        bundle.write_text(sign_blob_keyless(inst, artifact, identity=ME).to_json())
        issuer = inst.issuer.url
    assert _entry(bundle.read_text())["kindVersion"] == {"kind": "hashedrekord", "version": "0.0.2"}

    def verify(identity: str) -> subprocess.CompletedProcess[str]:
        return _sigstore("--trust-config", str(ctc), "verify", "identity", "--offline", "--bundle", str(bundle),
                         "--cert-identity", identity, "--cert-oidc-issuer", issuer, str(artifact))

    ok = verify(ME)
    assert ok.returncode == 0, ok.stderr
    assert verify("mallory@example.com").returncode != 0


def test_keyed_image_sign_through_a_v2_signing_config(served: InstanceServer, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """``labkit sign --key --new-bundle-format --signing-config``: the bundle referrer's entry is in the v2 log."""
    from labkit.oci.layout import OCILayout
    from labkit.oci.signatures import list_bundles
    from tests.oci.test_cli import _build

    _ctc, config, root = _files(served, tmp_path)
    layout, digest = _build(tmp_path, capsys)
    monkeypatch.setenv("COSIGN_PASSWORD", "pw")
    assert main(["generate-key-pair", "--output-key-prefix", str(tmp_path / "cosign")]) == 0
    sign = ["sign", "--key", str(tmp_path / "cosign.key"), "--signing-config", str(config), "--trusted-root", str(root)]
    assert main([*sign, f"oci:{layout}@{digest}"]) == 1  # the legacy .sig has no room for a v2 entry
    assert "--new-bundle-format" in capsys.readouterr().err
    assert main([*sign, "--new-bundle-format", f"oci:{layout}@{digest}"]) == 0
    [(_ref, data)] = list_bundles(OCILayout.open(layout), digest)
    assert _entry(data.decode())["kindVersion"] == {"kind": "hashedrekord", "version": "0.0.2"}
    assert main(["verify", "--key", str(tmp_path / "cosign.pub"), "--trusted-root", str(root),
                 "--require-bundle-format", f"oci:{layout}@{digest}"]) == 0


def test_attest_and_verify_attestation_on_a_v2_instance(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.oci.test_cli import _build

    layout, digest = _build(tmp_path, capsys)
    inst = str(tmp_path / "att")
    assert main(["init", inst, "--seed", "rekor2-attest", "--rekor-api", "2"]) == 0
    predicate = tmp_path / "p.json"
    predicate.write_text(json.dumps({"buildDefinition": {"buildType": "x", "externalParameters": {}},
                                     "runDetails": {"builder": {"id": "b"}}}))
    capsys.readouterr()
    assert main(["attest", "--instance", inst, "--identity", ME, "--type", "slsaprovenance1", "--predicate",
                 str(predicate), f"oci:{layout}@{digest}"]) == 0
    capsys.readouterr()
    assert main(["verify-attestation", "--instance", inst, "--type", "slsaprovenance1", "--certificate-identity", ME,
                 "--certificate-oidc-issuer-regexp", ".*", f"oci:{layout}@{digest}"]) == 0


def test_sigstore_python_verifies_a_labkit_v2_attestation_offline(tmp_path: Path) -> None:
    """A DSSE envelope logged as a hashedrekord 0.0.2 over its PAE: sigstore-python accepts the entry."""
    inst_dir = tmp_path / "inst"
    assert main(["init", str(inst_dir), "--seed", "rekor2-dsse-judge", "--rekor-api", "2"]) == 0
    ctc = tmp_path / "ctc.json"
    assert main(["trusted-root", "--instance", str(inst_dir), "--client-trust-config", "-o", str(ctc)]) == 0
    artifact, bundle, predicate = tmp_path / "a.txt", tmp_path / "a.intoto.json", tmp_path / "p.json"
    artifact.write_text("attested in a tile log\n")
    predicate.write_text(json.dumps({"buildDefinition": {"buildType": "x", "externalParameters": {}},
                                     "runDetails": {"builder": {"id": "b"}}}))
    assert main(["attest-blob", "--instance", str(inst_dir), "--identity", ME, "--type", "slsaprovenance1",
                 "--predicate", str(predicate), "--bundle", str(bundle), str(artifact)]) == 0
    with Instance.open(inst_dir) as inst:
        issuer = inst.issuer.url
    ok = _sigstore("--trust-config", str(ctc), "verify", "identity", "--offline", "--bundle", str(bundle),
                   "--cert-identity", ME, "--cert-oidc-issuer", issuer, str(artifact))
    assert ok.returncode == 0, ok.stderr
