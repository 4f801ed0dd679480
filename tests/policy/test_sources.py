"""Policy decisions over images really stored in an OCI layout, verified against the lab trust root."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from labkit.attest import attest_image, keyless_signer, samples, sign_image_bundle
from labkit.keyless.instance import Instance
from labkit.keys import generate
from labkit.oci.builder import build_image
from labkit.oci.layout import OCILayout
from labkit.policy import evaluate, load_policies
from labkit.policy.sources import OCIEvidenceSource
from tests.policy.helpers import indent


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("world")
    inst = Instance.create(base / "inst", seed="policy-sources")
    assert inst.lab is not None
    release = generate("ecdsa-p256", lab=inst.lab, label="release")
    attacker = generate("ecdsa-p256", lab=inst.lab, label="attacker")
    store = OCILayout.init(base / "oci")
    imgs = {
        t: build_image(store, {"app.txt": f"app {t}\n"}, tag=t)
        for t in ("signed", "unsigned", "wrong", "keyless", "prov")
    }
    ref = "registry.lab/shop/web"
    sign_image_bundle(store, imgs["signed"].descriptor, release, docker_reference=ref, instance=inst)
    sign_image_bundle(store, imgs["wrong"].descriptor, attacker, docker_reference=ref, instance=inst)
    sign_image_bundle(store, imgs["keyless"].descriptor, keyless_signer(inst, identity="ci@lab.test"),
                      docker_reference=ref, instance=inst)
    contents = samples.read_image(store, "prov")
    attest_image(store, imgs["prov"].descriptor, "slsaprovenance1",
                 samples.slsa_provenance(contents, {"files": {"app.txt": "app prov\n"}}, clock=inst.clock), release,
                 docker_reference=ref, instance=inst)
    source = OCIEvidenceSource(inst.trusted_root_json(), {ref: store})
    return {"inst": inst, "release": release, "store": store, "source": source}


def _policy(world: dict[str, Any]) -> str:
    pem = world["release"].public_key().pem().decode()
    return f"""
apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {{name: shop}}
spec:
  images: [{{glob: "registry.lab/shop/**"}}]
  authorities:
  - name: release-key
    key:
      data: |
{indent(pem, 8)}
  - name: ci
    keyless:
      identities: [{{issuer: "{world['inst'].issuer.url}", subject: ci@lab.test}}]
"""


@pytest.mark.parametrize(
    ("tag", "verdict", "reason"),
    [
        ("signed", "allow", "release-key: signature verified"),
        ("keyless", "allow", "ci: signature verified"),
        ("unsigned", "deny", "no signature found"),
        ("wrong", "deny", "no signature from release-key"),
        ("missing", "deny", "cannot look up"),
    ],
)
def test_layout_decisions(world: dict[str, Any], tag: str, verdict: str, reason: str) -> None:
    (d,) = evaluate(load_policies(_policy(world)), [f"registry.lab/shop/web:{tag}"], world["source"])
    assert d.verdict == verdict, d.reason
    assert reason in d.reason


def test_layout_attestation_policy(world: dict[str, Any]) -> None:
    text = _policy(world).replace(
        "  - name: ci\n", "  - name: ci\n    attestations: [{name: prov, predicateType: slsaprovenance1}]\n"
    )
    text = text.replace(
        "  - name: release-key\n",
        "  - name: release-key\n    attestations: [{name: prov, predicateType: slsaprovenance1}]\n",
    )
    ds = evaluate(load_policies(text), ["registry.lab/shop/web:prov", "registry.lab/shop/web:signed"], world["source"])
    assert [d.verdict for d in ds] == ["allow", "deny"], [d.reason for d in ds]
    assert "no attestation of type https://slsa.dev/provenance/v1" in ds[1].reason


def test_digest_reference(world: dict[str, Any]) -> None:
    digest = world["source"].resolve("registry.lab/shop/web:signed")
    (d,) = evaluate(load_policies(_policy(world)), [f"registry.lab/shop/web@{digest}"], world["source"])
    assert d.allowed, d.reason


def test_unknown_repository(world: dict[str, Any], tmp_path: Path) -> None:
    text = _policy(world).replace("registry.lab/shop/**", "registry.lab/**")
    (d,) = evaluate(load_policies(text), ["registry.lab/other/app:v1"], world["source"])
    assert not d.allowed and "no storage known" in d.reason


def test_images_signed_by_labkit_oci_sign_image(world: dict[str, Any]) -> None:
    # What `labkit sign --new-bundle-format --tlog-dir ...` writes is admitted the same way.
    from labkit.oci.signatures import sign_image

    store, inst = world["store"], world["inst"]
    built = build_image(store, {"app.txt": "signed by labkit.oci\n"}, tag="oci-signed")
    sign_image(store, built.descriptor, world["release"], docker_reference="registry.lab/shop/web",
               tlog=inst.tlog, new_bundle_format=True, clock=inst.clock)
    (d,) = evaluate(load_policies(_policy(world)), ["registry.lab/shop/web:oci-signed"], world["source"])
    assert d.allowed, d.reason
    # Without a log entry the bundle does not verify: the policy denies (no tlog, no admission).
    bare = build_image(store, {"app.txt": "no log\n"}, tag="oci-nolog")
    sign_image(store, bare.descriptor, world["release"], docker_reference="registry.lab/shop/web",
               new_bundle_format=True, clock=inst.clock)
    (d,) = evaluate(load_policies(_policy(world)), ["registry.lab/shop/web:oci-nolog"], world["source"])
    assert not d.allowed
