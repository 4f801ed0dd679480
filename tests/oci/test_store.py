"""labkit.oci.store: the shared store surface."""

from __future__ import annotations

from pathlib import Path

import pytest

from labkit.oci.layout import OCILayout
from labkit.oci.registry import RegistryClient
from labkit.oci.store import ImageStore


def test_both_stores_are_image_stores(tmp_path: Path) -> None:
    """`ImageStore` is the shared surface; mypy checks these assignments (a store that drops a parameter fails)."""
    layout: ImageStore = OCILayout.init(tmp_path / "layout")
    registry: ImageStore = RegistryClient("http://127.0.0.1:9").repository("lab/app")
    assert layout.name.startswith("oci:") and registry.name.endswith("/lab/app")


def test_a_registry_refuses_what_it_cannot_keep() -> None:
    """A registry keeps no tag annotations: passing them is an error, not a silent no-op (issue 13 item 4)."""
    repo = RegistryClient("http://127.0.0.1:9").repository("lab/app")
    with pytest.raises(TypeError):
        repo.put_manifest(b"{}", annotations={"a": "b"})  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        repo.put_manifest(b"{}", require_blobs=False)  # type: ignore[call-arg]
