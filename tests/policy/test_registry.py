"""Attest and evaluate policy against a real registry (distribution 2.8: no referrers API, so the OCI 1.1
referrers tag schema is used) through `labkit policy evaluate`."""

from __future__ import annotations

from pathlib import Path

import pytest

from labkit.attest import attest_image, explain_image_attestation, sign_image_bundle
from labkit.cli import main
from labkit.keyless.instance import Instance
from labkit.keys import generate
from labkit.oci.builder import build_image
from labkit.oci.registry import RegistryClient
from tests.oci.conftest import start_registry, stop_registry
from tests.policy.helpers import indent

pytestmark = pytest.mark.registry


def test_registry_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str]) -> None:
    reg, local = start_registry(tmp_path / "registry")
    try:
        inst = Instance.create(tmp_path / "inst", seed="policy-registry")
        assert inst.lab is not None
        monkeypatch.setenv("LABKIT_HOME", str(tmp_path / "inst"))
        key = generate("ecdsa-p256", lab=inst.lab, label="release")
        repo = RegistryClient(reg.url).repository("shop/web")
        signed = build_image(repo, {"a": "signed"}, tag="signed")
        build_image(repo, {"a": "plain"}, tag="plain")
        name = f"{reg.host}/shop/web"
        sign_image_bundle(repo, signed.descriptor, key, docker_reference=name, instance=inst)
        attest_image(repo, signed.descriptor, "custom", b"reviewed\n", key, docker_reference=name, instance=inst)
        r = explain_image_attestation(repo, signed.descriptor, "custom", trusted_root=inst.trusted_root_json(),
                                      key=key.public_key())
        assert r.verified, r.checklist()
        inst.close()
        policy = tmp_path / "p.yaml"
        policy.write_text(f"""apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {{name: reg}}
spec:
  images: [{{glob: "{reg.host}/shop/**"}}]
  authorities:
  - key:
      data: |
{indent(key.public_key().pem().decode(), 8)}
""")
        assert main(["policy", "evaluate", str(policy), f"{name}:signed", f"{name}:plain"]) == 1
        lines = capsys.readouterr().out.splitlines()
        assert [line.split()[0] for line in lines] == ["allow", "deny"], lines
    finally:
        stop_registry(local)
