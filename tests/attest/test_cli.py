"""The attest / verify-attestation / attest-blob / verify-blob-attestation commands, end to end."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from labkit.cli import main
from labkit.keyfile import save_key_pair
from labkit.keyless.instance import Instance
from labkit.keys import generate
from labkit.lab import Lab
from labkit.oci.builder import build_image
from labkit.oci.layout import OCILayout
from tests.attest.test_predicates import GOOD


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    inst_dir = tmp_path / "inst"
    Instance.create(inst_dir, seed="cli-attest").close()
    monkeypatch.setenv("LABKIT_HOME", str(inst_dir))
    monkeypatch.setenv("COSIGN_PASSWORD", "pw")
    lab = Lab(seed="cli-attest")
    save_key_pair(generate("ecdsa-p256", lab=lab, label="k"), tmp_path / "cosign", password="pw",
                  allow_lab=True, lab=lab, n=32768)
    save_key_pair(generate("ecdsa-p256", lab=lab, label="other"), tmp_path / "other", password="pw",
                  allow_lab=True, lab=lab, n=32768)
    layout = OCILayout.init(tmp_path / "oci")
    build_image(layout, {"hello.txt": "hi\n"}, tag="v1")
    (tmp_path / "prov.json").write_text(json.dumps(GOOD["slsaprovenance1"]))
    (tmp_path / "bad.json").write_text(json.dumps({"bomFormat": "nope"}))
    (tmp_path / "blob.txt").write_text("artifact\n")
    return {"dir": tmp_path, "image": Path(f"oci:{tmp_path / 'oci'}:v1")}


def test_image_attest_and_verify(env: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    d, image = env["dir"], str(env["image"])
    assert main(["attest", "--type", "slsaprovenance1", "--predicate", str(d / "prov.json"),
                 "--key", str(d / "cosign.key"), image]) == 0
    capsys.readouterr()
    assert main(["verify-attestation", "--type", "slsaprovenance1", "--key", str(d / "cosign.pub"), image]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["payloadType"] == "application/vnd.in-toto+json"
    assert json.loads(base64.b64decode(out["payload"]))["predicateType"] == "https://slsa.dev/provenance/v1"
    # No attestation of that type: failure (GHSA-vjxv-45g9-9296).
    assert main(["verify-attestation", "--type", "cyclonedx", "--key", str(d / "cosign.pub"), image]) == 1
    assert "no valid cyclonedx attestation" in capsys.readouterr().err
    # Wrong key.
    assert main(["verify-attestation", "--type", "slsaprovenance1", "--key", str(d / "other.pub"), image]) == 1


def test_image_keyless(env: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    d, image = env["dir"], str(env["image"])
    (d / "notes.txt").write_text("reviewed\n")
    assert main(["attest", "--type", "custom", "--predicate", str(d / "notes.txt"),
                 "--identity", "alice@lab.test", image]) == 0
    issuer = Instance.open(d / "inst").issuer.url
    capsys.readouterr()
    assert main(["verify-attestation", "--type", "custom", "--certificate-identity", "alice@lab.test",
                 "--certificate-oidc-issuer", issuer, "--steps", image]) == 0
    captured = capsys.readouterr()
    statement = json.loads(base64.b64decode(json.loads(captured.out)["payload"]))
    assert statement["predicate"]["Data"] == "reviewed\n"
    assert "predicate.schema" in captured.err
    assert main(["verify-attestation", "--type", "custom", "--certificate-identity", "bob@lab.test",
                 "--certificate-oidc-issuer", issuer, image]) == 1


def test_blob_attest_and_verify(env: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    d = env["dir"]
    bundle = d / "att.json"
    assert main(["attest-blob", "--type", "slsaprovenance1", "--predicate", str(d / "prov.json"),
                 "--key", str(d / "cosign.key"), "--bundle", str(bundle), str(d / "blob.txt")]) == 0
    assert json.loads(bundle.read_text())["mediaType"] == "application/vnd.dev.sigstore.bundle.v0.3+json"
    assert main(["verify-blob-attestation", "--type", "slsaprovenance1", "--key", str(d / "cosign.pub"),
                 "--bundle", str(bundle), str(d / "blob.txt")]) == 0
    assert main(["verify-blob-attestation", "--type", "spdx", "--key", str(d / "cosign.pub"),
                 "--bundle", str(bundle), str(d / "blob.txt")]) == 1
    (d / "blob.txt").write_text("tampered\n")
    assert main(["verify-blob-attestation", "--type", "slsaprovenance1", "--key", str(d / "cosign.pub"),
                 "--bundle", str(bundle), str(d / "blob.txt")]) == 1


def test_bad_predicate_refused_cleanly(env: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    d = env["dir"]
    assert main(["attest-blob", "--type", "cyclonedx", "--predicate", str(d / "bad.json"),
                 "--key", str(d / "cosign.key"), "--bundle", str(d / "x.json"), str(d / "blob.txt")]) == 1
    err = capsys.readouterr().err
    assert "error: predicate is not a valid cyclonedx" in err and "WARNING" not in err and "Traceback" not in err
    assert not (d / "x.json").exists()
    assert main(["attest-blob", "--type", "nosuch", "--predicate", str(d / "prov.json"),
                 "--key", str(d / "cosign.key"), "--bundle", str(d / "x.json"), str(d / "blob.txt")]) == 1
    assert "unknown predicate type" in capsys.readouterr().err


def test_predicate_types_lists_builtins(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["predicate-types"]) == 0
    out = capsys.readouterr().out
    for uri in ("https://slsa.dev/provenance/v1", "https://cyclonedx.org/bom", "https://spdx.dev/Document"):
        assert uri in out
