"""The verification checklist says LAB when the trusted root's log or CA key is lab material (issue 12 item 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from labkit.keyless.instance import Instance
from labkit.keyless.sign import sign_blob_keyless
from labkit.verify import Identity, explain_bundle


@pytest.mark.parametrize(("seed", "lab"), [("demo", True), ("notebook-04", True), (None, False)])
def test_checklist_names_lab_trust_material(tmp_path: Path, seed: str | None, lab: bool) -> None:
    data = b"lab or not\n"
    with Instance.create(tmp_path / "i", seed=seed) as inst:
        signed = sign_blob_keyless(inst, data, identity="alice@example.com")
        # the root as a user would get it: JSON, with nothing in it that says "lab"
        root = inst.trusted_root_json()
        assert b"lab seed" not in root
        result = explain_bundle(signed, data, root, Identity("alice@example.com", inst.issuer.url))
    assert result.verified
    step = result.step("trust_root.parse")
    assert step is not None
    assert ("LAB" in step.detail) is lab
    assert ("LAB" in result.checklist()) is lab
    if lab:
        assert step.detail.endswith("; LAB: the log and CA keys derive from a public seed")
