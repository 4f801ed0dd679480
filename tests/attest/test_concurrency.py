"""Concurrent attesters of one image lose nothing: every referrer and every .att layer survives."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from labkit.attest import attest_image, image_attestations, register_predicate_type, unregister_predicate_type
from labkit.keyless.instance import Instance
from labkit.keys import generate
from labkit.oci.builder import build_image
from labkit.oci.layout import OCILayout
from labkit.oci.signatures import list_signatures


def test_concurrent_attestations(tmp_path: Path) -> None:
    inst = Instance.create(tmp_path / "inst", seed="attest-concurrency")
    assert inst.lab is not None
    key = generate("ecdsa-p256", lab=inst.lab, label="k")
    store = OCILayout.init(tmp_path / "oci")
    image = build_image(store, {"a": "b"}, tag="v1")
    uris = [f"https://example.org/step-{i}/v1" for i in range(8)]
    for i, uri in enumerate(uris):
        register_predicate_type(uri, name=f"step-{i}", replace=True)
    try:
        def one(i: int) -> None:
            attest_image(store, image.descriptor, f"step-{i}", {"i": i}, key,
                         docker_reference="registry.lab/app", instance=inst)

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(one, range(8)))
        assert sorted(t for t, _ in image_attestations(store, image.descriptor)) == sorted(uris)
        layers = list_signatures(store, image.digest, suffix="att")
        assert sorted(x.descriptor.annotations["predicateType"] for x in layers) == sorted(uris)
        assert inst.tlog.size == 8
    finally:
        for uri in uris:
            unregister_predicate_type(uri)
        inst.close()
