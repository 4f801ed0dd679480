"""Issue 12 item 1: ``verify-attestation -a`` checks the signed statement's subject annotations.

cosign's attestation claim verifier ignores the annotations it is given; labkit checks them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from labkit.attest import attest_image, explain_image_attestation, samples
from labkit.cli import main
from labkit.keyfile import save_key_pair
from labkit.keyless.instance import Instance
from labkit.keys import generate
from labkit.oci.layout import OCILayout


@pytest.fixture(scope="module")
def inst(tmp_path_factory: pytest.TempPathFactory) -> Instance:
    return Instance.create(tmp_path_factory.mktemp("inst") / "i", seed="attest-annotations")


def test_attestation_annotations_are_checked(inst: Instance, tmp_path: Path) -> None:
    store = OCILayout.init(tmp_path / "L")
    built = samples.build_demo_image(store)
    assert inst.lab is not None
    key = generate("ecdsa-p256", lab=inst.lab, label="release")
    root = inst.trusted_root_json()
    predicate = {"Data": "x", "Timestamp": "2026-01-01T00:00:00Z"}
    attest_image(store, built.descriptor, "custom", predicate, key, docker_reference=samples.DEMO_IMAGE_NAME,
                 instance=inst, annotations={"env": "staging"})
    ok = explain_image_attestation(store, built.descriptor, "custom", trusted_root=root, key=key.public_key(),
                                   annotations={"env": "staging"})
    assert ok.verified, ok.failed_step
    bad = explain_image_attestation(store, built.descriptor, "custom", trusted_root=root, key=key.public_key(),
                                    annotations={"env": "prod"})
    assert not bad.verified and bad.failed_step is not None and bad.failed_step.id == "payload.annotation.env"
    absent = explain_image_attestation(store, built.descriptor, "custom", trusted_root=root, key=key.public_key(),
                                       annotations={"team": "a"})
    assert absent.failed_step is not None and absent.failed_step.actual == "(absent)"


def test_cli_verify_attestation_a(inst: Instance, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    store = OCILayout.init(tmp_path / "L")
    built = samples.build_demo_image(store)
    assert inst.lab is not None
    save_key_pair(generate(lab=inst.lab, label="cli"), tmp_path / "cosign", password="pw", allow_lab=True,
                  lab=inst.lab)
    monkeypatch.setenv("COSIGN_PASSWORD", "pw")
    predicate = tmp_path / "p.json"
    predicate.write_text('{"data": "x"}')
    image = f"oci:{tmp_path / 'L'}@{built.digest}"
    common = ["--instance", str(inst.path), "--type", "custom"]
    assert main(["attest", *common, "--predicate", str(predicate), "--key", str(tmp_path / "cosign.key"),
                 "-a", "env=staging", image]) == 0
    capsys.readouterr()
    verify = ["verify-attestation", *common, "--key", str(tmp_path / "cosign.pub")]
    assert main([*verify, "-a", "env=prod", image]) == 1
    err = capsys.readouterr().err
    assert "payload.annotation.env" in err and "Traceback" not in err
    assert main([*verify, "-a", "env=staging", image]) == 0
