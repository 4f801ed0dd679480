"""`labkit policy evaluate`: allow/deny per image, non-zero exit on any deny, clear errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from labkit.attest import sign_image_bundle
from labkit.cli import main
from labkit.keyless.instance import Instance
from labkit.keys import generate
from labkit.oci.builder import build_image
from labkit.oci.layout import OCILayout
from tests.policy.helpers import indent


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    inst = Instance.create(tmp_path / "inst", seed="cli-policy")
    monkeypatch.setenv("LABKIT_HOME", str(tmp_path / "inst"))
    assert inst.lab is not None
    key = generate("ecdsa-p256", lab=inst.lab, label="release")
    layout = OCILayout.init(tmp_path / "oci")
    good = build_image(layout, {"a": "1"}, tag="good")
    build_image(layout, {"a": "2"}, tag="bad")
    sign_image_bundle(layout, good.descriptor, key, docker_reference="registry.lab/shop/web", instance=inst)
    inst.close()
    policy = tmp_path / "policy.yaml"
    policy.write_text(f"""
apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {{name: shop}}
spec:
  images: [{{glob: "registry.lab/shop/**"}}]
  authorities:
  - key:
      data: |
{indent(key.public_key().pem().decode(), 8)}
""")
    return {"policy": policy, "layout": f"registry.lab/shop/web={tmp_path / 'oci'}", "dir": tmp_path}


def test_allow_and_deny(setup: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    args = ["policy", "evaluate", str(setup["policy"]), "--layout", setup["layout"]]
    assert main([*args, "registry.lab/shop/web:good"]) == 0
    assert capsys.readouterr().out.startswith("allow  registry.lab/shop/web:good")
    assert main([*args, "registry.lab/shop/web:good", "registry.lab/shop/web:bad", "busybox"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["allow", "deny", "deny"]
    assert "no signature found" in lines[1] and "no policy matches" in lines[2]
    assert main([*args, "--no-match", "allow", "--output", "json", "busybox"]) == 0
    assert '"decision": "allow"' in capsys.readouterr().out


def test_policy_not_understood(setup: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    bad = setup["dir"] / "bad.yaml"
    bad.write_text("apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nspec:\n  images: [{glob: x}]\n"
                   "  authorities: [{key: {kms: 'gcpkms://x'}}]\n")
    assert main(["policy", "evaluate", str(bad), "registry.lab/shop/web:good"]) == 2
    err = capsys.readouterr().err
    assert "KMS keys are not supported" in err and "Traceback" not in err
    broken = setup["dir"] / "broken.yaml"
    broken.write_text("spec: [unclosed\n")
    assert main(["policy", "evaluate", str(broken), "x"]) == 2
    assert "does not parse" in capsys.readouterr().err
    assert main(["policy", "evaluate", str(setup["dir"] / "missing.yaml"), "x"]) == 1
