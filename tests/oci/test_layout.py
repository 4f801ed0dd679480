"""The OCI image-layout store (image-spec image-layout.md)."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import pytest

from labkit.errors import DigestError, StoreError
from labkit.oci.builder import build_image
from labkit.oci.descriptor import MT_MANIFEST, NotFoundError, parse_index
from labkit.oci.digest import Digest
from labkit.oci.layout import OCILayout
from tests.conftest import require_tool


@pytest.fixture
def store(tmp_path: Path) -> OCILayout:
    return OCILayout.init(tmp_path / "layout")


def test_init_writes_spec_files(store: OCILayout) -> None:
    assert json.loads((store.path / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
    assert parse_index((store.path / "index.json").read_bytes()).manifests == ()
    assert (store.path / "blobs").is_dir()
    assert OCILayout.init(store.path).path == store.path  # idempotent


def test_open_refuses_non_layouts(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        OCILayout.open(tmp_path / "nope")
    with pytest.raises(StoreError, match="no oci-layout"):
        OCILayout.open(tmp_path)
    (tmp_path / "oci-layout").write_text('{"imageLayoutVersion": "2.0.0"}')
    with pytest.raises(StoreError, match="unsupported image layout version"):
        OCILayout.open(tmp_path)
    (tmp_path / "oci-layout").write_text("not json")
    with pytest.raises(StoreError, match="not valid JSON"):
        OCILayout.open(tmp_path)


def test_blob_round_trip_and_rehash(store: OCILayout) -> None:
    desc = store.put_blob(b"hello", "text/plain")
    assert desc.digest == Digest.of(b"hello") and desc.size == 5
    assert store.get_blob(desc.digest, 5) == b"hello"
    assert store.blob_path(desc.digest) == store.path / "blobs" / "sha256" / desc.digest.hex
    # Corrupt the stored file: the read must notice.
    store.blob_path(desc.digest).write_bytes(b"HELLO")
    with pytest.raises(DigestError, match="does not match"):
        store.get_blob(desc.digest)
    with pytest.raises(DigestError, match="descriptor says"):
        store.get_blob(desc.digest, 6)
    with pytest.raises(DigestError):
        b"".join(store.open_blob(desc.digest))


def test_put_blob_checks_claimed_digest(store: OCILayout) -> None:
    with pytest.raises(DigestError):
        store.put_blob(b"x", digest=Digest.of(b"y"))
    assert store.blobs() == []


def test_missing_blob_is_a_clear_error(store: OCILayout) -> None:
    with pytest.raises(NotFoundError, match="missing"):
        store.get_blob(Digest.of(b"never stored"))


def test_traversal_digest_never_becomes_a_path(store: OCILayout) -> None:
    with pytest.raises(DigestError):
        store.blob_path("sha256:../../../../etc/passwd")
    with pytest.raises(DigestError):
        store.get_blob("sha256:" + "A" * 64)


def test_stream_in_and_out_bounded(store: OCILayout) -> None:
    chunks = [bytes([i]) * (1 << 20) for i in range(5)]
    desc = store.put_blob_stream(iter(chunks), digest=Digest.of(b"".join(chunks)), size=5 << 20)
    assert desc.size == 5 << 20
    out = list(store.open_blob(desc.digest, desc.size, chunk_size=1 << 20))
    assert max(len(c) for c in out) <= 1 << 20
    assert Digest.of_chunks(out) == desc.digest
    assert store.put_blob_stream(io.BytesIO(b"abc")).digest == Digest.of(b"abc")


def test_failed_stream_leaves_nothing(store: OCILayout) -> None:
    before = sorted(p.name for p in (store.path / "blobs" / "sha256").iterdir())
    with pytest.raises(DigestError):
        store.put_blob_stream([b"abc"], digest=Digest.of(b"abd"))
    with pytest.raises(DigestError, match="longer"):
        store.put_blob_stream([b"abcdef"], size=3)
    with pytest.raises(DigestError, match="expected 10"):
        store.put_blob_stream([b"abc"], size=10)
    assert sorted(p.name for p in (store.path / "blobs" / "sha256").iterdir()) == before


def test_manifest_tags_and_resolution(store: OCILayout) -> None:
    img = build_image(store, {"a.txt": "a"}, tag="v1")
    assert store.tags() == ["v1"]
    assert store.resolve("v1").digest == img.digest
    assert store.resolve(str(img.digest)).digest == img.digest
    assert store.resolve(None).digest == img.digest
    data, desc = store.get_manifest("v1")
    assert Digest.of(data) == img.digest and desc.size == len(data)
    img2 = build_image(store, {"a.txt": "b"}, tag="v1")  # retag replaces
    assert store.resolve("v1").digest == img2.digest
    assert len([m for m in store.index().manifests]) == 1
    build_image(store, {"b.txt": "b"}, tag="v2")
    with pytest.raises(StoreError, match="2 tagged images"):
        store.resolve(None)
    store.untag("v2")
    assert store.tags() == ["v1"]
    with pytest.raises(NotFoundError):
        store.resolve("v2")
    with pytest.raises(NotFoundError):
        store.untag("v2")
    assert store.check() == []


def test_manifest_needs_its_blobs(store: OCILayout) -> None:
    missing = Digest.of(b"not there")
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": MT_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": str(missing), "size": 9},
        "layers": [],
    }).encode()
    with pytest.raises(NotFoundError, match="not in"):
        store.put_manifest(manifest, tag="v1")
    assert store.tags() == []


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"not json", "not valid JSON"),
        (b"[]", "not a JSON object"),
        (b'{"schemaVersion": 1}', "schemaVersion"),
        (b'{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "layers": []}', "config"),
        (b'{"schemaVersion": 2, "config": {"mediaType": "x", "digest": "sha256:../x", "size": 1}, "layers": []}',
         "not a digest"),
        (b'{"schemaVersion": 2, "config": {"mediaType": "x", "digest": "sha256:' + b"a" * 64 + b'", "size": -1},'
         b' "layers": []}', "invalid size"),
    ],
)
def test_bad_manifests_rejected(store: OCILayout, data: bytes, match: str) -> None:
    with pytest.raises(StoreError, match=match):
        store.put_manifest(data, MT_MANIFEST, tag="v1")
    assert store.tags() == []


def test_bad_index_entries_rejected(store: OCILayout) -> None:
    doc = json.loads((store.path / "index.json").read_text())
    doc["manifests"].append(
        {"mediaType": MT_MANIFEST, "digest": "sha256:../../../../etc/passwd", "size": 1,
         "annotations": {"org.opencontainers.image.ref.name": "evil"}}
    )
    (store.path / "index.json").write_text(json.dumps(doc))
    with pytest.raises(DigestError):
        store.resolve("evil")


def test_duplicate_tags_are_refused(store: OCILayout) -> None:
    a = build_image(store, {"a": "1"}, tag="v1")
    b = build_image(store, {"a": "2"}, tag="other")
    doc = json.loads((store.path / "index.json").read_text())
    for m in doc["manifests"]:
        m["annotations"]["org.opencontainers.image.ref.name"] = "v1"
    (store.path / "index.json").write_text(json.dumps(doc))
    assert store.duplicate_tags() == ["v1"]
    with pytest.raises(StoreError, match="appears 2 times"):
        store.resolve("v1")
    assert any("more than once" in p for p in store.check())
    assert a.digest != b.digest


def test_unknown_files_and_media_types_are_kept(store: OCILayout) -> None:
    (store.path / "manifest.json").write_text("docker save leftovers")
    (store.path / "blobs" / "sha256" / "not-a-digest").write_text("junk")
    blob = store.put_blob(b'{"x":1}', "application/vnd.example.thing+json")
    doc = json.loads((store.path / "index.json").read_text())
    doc["annotations"] = {"com.example": "kept"}
    doc["manifests"].append(
        {"mediaType": "application/vnd.example.unknown", "digest": str(blob.digest), "size": blob.size,
         "annotations": {"org.opencontainers.image.ref.name": "odd"}}
    )
    (store.path / "index.json").write_text(json.dumps(doc))
    build_image(store, {"a": "1"}, tag="v1")
    assert store.tags() == ["odd", "v1"]
    assert json.loads((store.path / "index.json").read_text())["annotations"] == {"com.example": "kept"}
    assert store.resolve("odd").media_type == "application/vnd.example.unknown"


def test_index_json_without_media_type(store: OCILayout) -> None:
    img = build_image(store, {"a": "1"}, tag="v1")
    doc = json.loads((store.path / "index.json").read_text())
    del doc["mediaType"]
    (store.path / "index.json").write_text(json.dumps(doc, indent=2))
    assert OCILayout.open(store.path).resolve("v1").digest == img.digest


def test_reads_umoci_layout(tmp_path: Path) -> None:
    umoci = require_tool("umoci", "labkit must read layouts umoci writes")
    layout = tmp_path / "umoci"
    subprocess.run([umoci, "init", "--layout", str(layout)], check=True, capture_output=True)
    subprocess.run([umoci, "new", "--image", f"{layout}:base"], check=True, capture_output=True)
    store = OCILayout.open(layout)
    assert "mediaType" not in json.loads((layout / "index.json").read_text())
    data, desc = store.get_manifest("base")
    assert Digest.of(data) == desc.digest
    assert store.check() == []
    # and labkit's additions stay readable by umoci
    build_image(store, {"hello.txt": "hi"}, tag="lab")
    out = subprocess.run([umoci, "ls", "--layout", str(layout)], check=True, capture_output=True, text=True)
    assert sorted(out.stdout.split()) == ["base", "lab"]
    stat = subprocess.run([umoci, "stat", "--image", f"{layout}:lab"], capture_output=True, text=True)
    assert stat.returncode == 0, stat.stderr


def test_rewriting_a_damaged_blob_repairs_it(store: OCILayout) -> None:
    desc = store.put_blob(b"hello")
    store.blob_path(desc.digest).write_bytes(b"HELLO")
    store.put_blob(b"hello")
    assert store.get_blob(desc.digest) == b"hello"
