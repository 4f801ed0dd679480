"""Interop with skopeo (containers/image): it copies labkit layouts to a registry and back unchanged."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from labkit.oci.builder import build_image
from labkit.oci.digest import Digest
from labkit.oci.layout import OCILayout
from labkit.oci.registry import RegistryClient
from labkit.oci.store import copy_image
from tests.conftest import require_tool
from tests.oci.conftest import Registry

pytestmark = [pytest.mark.registry, pytest.mark.skopeo]


def _skopeo(*args: str) -> str:
    skopeo = require_tool("skopeo", "interop: an independent OCI client must read what labkit writes")
    proc = subprocess.run([skopeo, *args], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _blob_hashes(layout: Path) -> dict[str, int]:
    return {p.name: p.stat().st_size for p in (layout / "blobs" / "sha256").iterdir() if not p.name.startswith(".")}


def test_skopeo_round_trip_keeps_digests(registry: Registry, tmp_path: Path) -> None:
    src = OCILayout.init(tmp_path / "src")
    img = build_image(src, layers=[{"hello.txt": "hello, labkit"}, {"etc/app.conf": "x=1"}],
                      config={"Cmd": ["/bin/true"]}, tag="v1")
    dest = f"docker://{registry.host}/labkit/skopeo:v1"
    _skopeo("copy", "--preserve-digests", "--dest-tls-verify=false", f"oci:{src.path}:v1", dest)
    client = RegistryClient(registry.url)
    data, desc = client.get_manifest("labkit/skopeo", "v1")
    assert desc.digest == img.digest and data == img.manifest_bytes
    raw = _skopeo("inspect", "--tls-verify=false", "--raw", dest)
    assert Digest.of(raw.encode()) == img.digest
    back = tmp_path / "back"
    _skopeo("copy", "--src-tls-verify=false", dest, f"oci:{back}:v1")
    # labkit reads the layout skopeo wrote (index.json without mediaType) ...
    assert "mediaType" not in json.loads((back / "index.json").read_text())
    store = OCILayout.open(back)
    assert store.resolve("v1").digest == img.digest
    assert store.check() == []
    # ... and every blob is byte-identical
    assert _blob_hashes(back) == _blob_hashes(src.path)


def test_skopeo_reads_labkit_pushes(registry: Registry, tmp_path: Path) -> None:
    src = OCILayout.init(tmp_path / "src")
    img = build_image(src, {"a.txt": "a"}, tag="v1")
    repo = RegistryClient(registry.url).repository("labkit/pushed")
    assert copy_image(src, "v1", repo, tag="v1").digest == img.digest
    tags = json.loads(_skopeo("list-tags", "--tls-verify=false", f"docker://{registry.host}/labkit/pushed"))
    assert tags["Tags"] == ["v1"]
    info = json.loads(_skopeo("inspect", "--tls-verify=false", f"docker://{registry.host}/labkit/pushed:v1"))
    assert info["Digest"] == str(img.digest)
    # and back into a labkit layout through labkit's own client
    back = OCILayout.init(tmp_path / "back")
    assert copy_image(repo, "v1", back, tag="v1").digest == img.digest
    assert back.check() == []
