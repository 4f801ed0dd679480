"""The distribution-spec client against a real registry (docker-registry, distribution 2.8)."""

from __future__ import annotations

import http.server
import io
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from labkit.errors import DigestError, RegistryError
from labkit.oci.builder import build_image
from labkit.oci.descriptor import (
    EMPTY_DESCRIPTOR,
    EMPTY_JSON,
    MT_INDEX,
    MT_MANIFEST,
    Descriptor,
    Manifest,
    ManifestError,
    NotFoundError,
)
from labkit.oci.digest import Digest
from labkit.oci.registry import RegistryClient
from tests.oci.conftest import Registry

pytestmark = pytest.mark.registry


def test_refuses_remote_registries() -> None:
    with pytest.raises(RegistryError, match="only to registries on this machine"):
        RegistryClient("https://ghcr.io")


def test_ping_blob_and_manifest_round_trip(registry: Registry) -> None:
    client = RegistryClient(registry.url)
    assert client.ping()
    repo = client.repository("labkit/demo")
    img = build_image(repo, {"hello.txt": "hi"}, tag="v1")
    assert repo.tags() == ["v1"]
    data, desc = repo.get_manifest("v1")
    assert data == img.manifest_bytes and desc.digest == img.digest and desc.media_type == MT_MANIFEST
    assert repo.get_manifest(img.digest)[0] == data
    assert repo.get_blob(img.layers[0].digest, img.layers[0].size)
    assert client.catalog() == ["labkit/demo"]
    with pytest.raises(NotFoundError):
        repo.get_manifest("nope")
    assert client.list_tags("labkit/none") == []


def test_chunked_upload_follows_location(registry: Registry) -> None:
    repo = RegistryClient(registry.url).repository("labkit/chunks")
    data = bytes(range(256)) * 4096 * 3  # 3 MiB
    desc = repo.client.push_blob_chunked(repo.repository, io.BytesIO(data), chunk_size=1 << 20)
    assert desc.digest == Digest.of(data) and desc.size == len(data)
    assert repo.get_blob(desc.digest, desc.size) == data
    chunks = list(repo.open_blob(desc.digest))
    assert b"".join(chunks) == data


def test_mount_and_delete(registry: Registry) -> None:
    client = RegistryClient(registry.url)
    desc = client.push_blob("labkit/a", b"shared layer")
    assert client.mount_blob("labkit/b", desc.digest, "labkit/a")
    assert client.blob_exists("labkit/b", desc.digest)
    assert not client.mount_blob("labkit/c", Digest.of(b"nowhere"), "labkit/a")
    img = build_image(client.repository("labkit/a"), {"x": "y"}, tag="v1")
    client.delete_manifest("labkit/a", img.digest)
    with pytest.raises(NotFoundError):
        client.get_manifest("labkit/a", "v1")
    client.delete_blob("labkit/a", desc.digest)
    assert not client.blob_exists("labkit/a", desc.digest)


def test_registry_errors_are_labkit_errors(registry: Registry) -> None:
    repo = RegistryClient(registry.url).repository("labkit/err")
    missing = Descriptor("application/vnd.oci.image.config.v1+json", Digest.of(b"absent"), 6)
    m = Manifest(missing, ())
    with pytest.raises(RegistryError, match="MANIFEST_BLOB_UNKNOWN"):
        repo.put_manifest(m.to_bytes(), MT_MANIFEST, tag="v1")
    with pytest.raises(DigestError):
        repo.client.put_manifest(repo.repository, Digest.of(b"other"), m.to_bytes(), MT_MANIFEST)


def test_referrers_fall_back_to_tag_schema(registry: Registry) -> None:
    repo = RegistryClient(registry.url).repository("labkit/ref")
    img = build_image(repo, {"a": "b"}, tag="v1")
    assert repo.client.referrers_api(repo.repository, img.digest) is None  # 2.8 has no API
    assert repo.referrers(img.digest) == []
    repo.put_blob(EMPTY_JSON, EMPTY_DESCRIPTOR.media_type)
    blob = repo.put_blob(b"artifact", "application/x-demo")
    art = Manifest(
        Descriptor(EMPTY_DESCRIPTOR.media_type, EMPTY_DESCRIPTOR.digest, 2), (blob,), MT_MANIFEST,
        "application/x-demo", img.descriptor,
    )
    rdesc = repo.put_referrer(art.to_bytes())
    refs = repo.referrers(img.digest)
    assert [r.digest for r in refs] == [rdesc.digest]
    assert refs[0].artifact_type == "application/x-demo"
    data, desc = repo.get_manifest(img.digest.tag_form)
    assert desc.media_type == MT_INDEX
    assert repo.referrers(img.digest, "application/other") == []
    repo.put_referrer(art.to_bytes())  # idempotent
    assert len(repo.referrers(img.digest)) == 1


class _Liar(http.server.BaseHTTPRequestHandler):
    body = json.dumps({"schemaVersion": 2, "mediaType": MT_INDEX, "manifests": []}).encode()

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path == "/v2/":
            self.send_response(200)
            self.end_headers()
            return
        if "/manifests/" in self.path and "lying" in self.path:
            self.send_response(200)
            self.send_header("Content-Type", MT_INDEX)
            self.send_header("Docker-Content-Digest", "sha256:" + "0" * 64)
            self.send_header("Content-Length", str(len(self.body)))
            self.end_headers()
            self.wfile.write(self.body)
            return
        if "/blobs/" in self.path:
            body = b"not what you asked for"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if "/manifests/" in self.path and "swap" in self.path:
            self.send_response(200)
            self.send_header("Content-Type", MT_INDEX)
            self.send_header("Content-Length", str(len(self.body)))
            self.end_headers()
            self.wfile.write(self.body)
            return
        if "/manifests/" in self.path and "garbage" in self.path:
            self.send_response(200)
            self.send_header("Content-Type", MT_MANIFEST)
            self.send_header("Content-Length", "8")
            self.end_headers()
            self.wfile.write(b"not json")
            return
        body = b'{"errors":[{"code":"UNKNOWN","message":"boom"}]}'
        self.send_response(500)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_HEAD(self) -> None:
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self) -> None:
        self.send_response(500)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def liar() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Liar)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_lying_and_broken_registries(liar: str, tmp_path: Path) -> None:
    client = RegistryClient(liar)
    with pytest.raises(RegistryError, match="Docker-Content-Digest header disagrees"):
        client.get_manifest("labkit/x", "lying")
    wanted = Digest.of(b"something else")
    with pytest.raises(DigestError, match="does not match"):
        client.get_blob("labkit/x", wanted)
    with pytest.raises(DigestError, match="does not match the digest asked for"):
        client.get_manifest("labkit/swap", Digest.of(b"another manifest"))
    with pytest.raises(ManifestError, match="not valid JSON"):
        client.get_manifest("labkit/garbage", "v1")
    with pytest.raises(RegistryError, match="500"):
        client.list_tags("labkit/x")
    with pytest.raises(RegistryError, match="500"):
        client.push_blob("labkit/x", b"data")


def test_unreachable_registry() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(RegistryError, match="cannot reach"):
        RegistryClient(f"http://127.0.0.1:{port}", timeout=2).ping()


def test_streamed_upload(registry: Registry) -> None:
    client = RegistryClient(registry.url)
    data = [bytes([i]) * (3 << 20) for i in range(3)]
    desc = client.push_blob_streamed("labkit/stream", iter(data))
    assert desc.digest == Digest.of(b"".join(data)) and desc.size == 9 << 20
    assert client.get_blob("labkit/stream", desc.digest, desc.size) == b"".join(data)


def test_local_registry_lifecycle(tmp_path: Path) -> None:
    from labkit.oci.server import LocalRegistry
    from tests.conftest import require_tool

    binary = require_tool("docker-registry", "LocalRegistry starts the real registry")
    with LocalRegistry(binary=binary) as reg:
        assert RegistryClient(reg.url).ping()
        pid = reg.pid
        assert pid is not None and repr(reg) == "LocalRegistry(running)"
    assert reg.pid is None and not reg.directory.exists()
    with pytest.raises(RegistryError, match="not installed"):
        _missing(tmp_path)


def _missing(tmp_path: Path) -> None:
    from labkit.oci.server import LocalRegistry

    reg = LocalRegistry(tmp_path)
    reg.binary = None
    reg.start()
