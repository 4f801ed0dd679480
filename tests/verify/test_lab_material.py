"""The verification checklist says LAB when the trusted root's log or CA key is lab material (issue 12 item 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from labkit.keyless.instance import Instance
from labkit.keyless.sign import sign_blob_keyless
from labkit.verify import Identity, TrustedRoot, explain_bundle, lab_material
from labkit.verify.trustroot import _production_bytes, is_pinned_production


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


def test_the_pinned_production_root_holds_no_lab_key_checked_the_slow_way() -> None:
    """`lab_note` answers "" for the pinned root without deriving the lab keys; the full check agrees."""
    root = TrustedRoot.production()
    assert is_pinned_production(root) and lab_material.lab_note(root) == ""
    assert not any(lab_material._origin_of_der(t.key_der) for t in root.tlogs)
    assert not any(lab_material._ca_origin(ca) for ca in root.certificate_authorities)
    assert not is_pinned_production(TrustedRoot.from_json(_production_bytes(), source=root.source))
