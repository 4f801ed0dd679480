"""Issue 12 item 3: capped documents and an overall deadline, against a real lying server on loopback."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from labkit.cli import main
from labkit.errors import RegistryError, StoreError
from labkit.keyfile import save_key_pair
from labkit.keys import generate
from labkit.lab import Lab
from labkit.oci.descriptor import MT_MANIFEST
from labkit.oci.digest import Digest
from labkit.oci.layout import OCILayout
from labkit.oci.registry import RegistryClient

MIB = 1 << 20
DEADLINE = 1.5
SMALL = json.dumps({"schemaVersion": 2, "mediaType": MT_MANIFEST, "config": {
    "mediaType": "application/vnd.oci.image.config.v1+json", "digest": str(Digest.of(b"{}")), "size": 2},
    "layers": []}).encode()


class _Hostile(http.server.BaseHTTPRequestHandler):
    """Misbehaves according to the repository name in the path."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def _headers(self, length: int | None, content_type: str = MT_MANIFEST) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        if length is not None:
            self.send_header("Content-Length", str(length))
        else:
            self.send_header("Connection", "close")
        self.end_headers()

    def _stream(self, total: int) -> None:
        chunk = b" " * MIB
        sent = 0
        while sent < total:
            self.wfile.write(chunk)
            sent += len(chunk)

    def do_GET(self) -> None:  # noqa: C901 - one branch per hostile behaviour
        try:
            if "/huge-declared/" in self.path:  # 2 GiB announced, streamed until the client hangs up
                self._headers(2 << 30)
                self._stream(2 << 30)
            elif "/huge-undeclared/" in self.path:  # no Content-Length: read until close
                self._headers(None)
                self._stream(64 * MIB)
            elif "/fifty/" in self.path:  # a 50 MB manifest, honestly declared
                self._headers(50_000_000)
                self._stream(50_000_000)
            elif "/slow-body/" in self.path:  # 1 byte per second
                self._headers(len(SMALL))
                for byte in SMALL:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(1)
            elif "/slow-headers/" in self.path:  # the status line and headers, 1 byte per second
                for byte in b"HTTP/1.1 200 OK\r\nX-Padding: " + b"a" * 100:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(1)
            elif "/tags/list" in self.path:  # a tag list far over the cap
                self._headers(None, "application/json")
                self.wfile.write(b'{"tags": [' + b'"t",' * (3 * MIB) + b'"t"]}')
            else:
                self._headers(len(SMALL))
                self.wfile.write(SMALL)
        except (BrokenPipeError, ConnectionResetError):
            pass


@pytest.fixture
def hostile() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _client(host: str) -> RegistryClient:
    return RegistryClient(f"http://{host}", deadline=DEADLINE)


@pytest.mark.parametrize("repo", ["huge-declared", "huge-undeclared", "fifty"])
def test_oversized_manifests_are_refused_without_reading_them(hostile: str, repo: str) -> None:
    start = time.monotonic()
    with pytest.raises(RegistryError, match="over the 4194304-byte limit"):
        _client(hostile).get_manifest(f"labkit/{repo}", "v1")
    assert time.monotonic() - start < DEADLINE + 1


def test_honest_manifest_still_reads(hostile: str) -> None:
    data, desc = _client(hostile).get_manifest("labkit/fine", "v1")
    assert data == SMALL and desc.digest == Digest.of(SMALL)


@pytest.mark.parametrize("repo", ["slow-body", "slow-headers"])
def test_a_trickle_fails_at_the_deadline(hostile: str, repo: str) -> None:
    start = time.monotonic()
    with pytest.raises(RegistryError, match="1.5-second deadline"):
        _client(hostile).get_manifest(f"labkit/{repo}", "v1")
    assert time.monotonic() - start < DEADLINE + 1


def test_json_answers_are_capped(hostile: str) -> None:
    with pytest.raises(RegistryError, match="over the 4194304-byte limit"):
        _client(hostile).list_tags("labkit/any")


def test_deadline_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABKIT_REGISTRY_DEADLINE", "2.5")
    assert RegistryClient("http://127.0.0.1:1").deadline == 2.5
    monkeypatch.setenv("LABKIT_REGISTRY_DEADLINE", "-1")
    with pytest.raises(RegistryError, match="LABKIT_REGISTRY_DEADLINE"):
        RegistryClient("http://127.0.0.1:1")


def test_cli_verify_against_a_stalling_registry_is_one_error(hostile: str, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    lab = Lab(seed="bounded")
    save_key_pair(generate(lab=lab, label="cosign"), tmp_path / "cosign", password="pw", allow_lab=True, lab=lab)
    monkeypatch.setenv("LABKIT_REGISTRY_DEADLINE", "1")
    start = time.monotonic()
    assert main(["verify", "--key", str(tmp_path / "cosign.pub"), "--insecure-ignore-tlog",
                 f"{hostile}/labkit/slow-body:v1"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "1-second deadline" in err
    assert time.monotonic() - start < 5


def test_layout_index_and_manifests_are_capped(tmp_path: Path) -> None:
    layout = OCILayout.init(tmp_path / "L")
    (tmp_path / "L" / "index.json").write_bytes(b'{"schemaVersion": 2, "manifests": []' + b" " * (5 * MIB) + b"}")
    with pytest.raises(StoreError, match="index.json .* over the 4194304-byte limit"):
        layout.index()
    with pytest.raises(StoreError, match="over the 4194304-byte limit"):
        layout.resolve("v1")
    (tmp_path / "L" / "oci-layout").write_bytes(b'{"imageLayoutVersion": "1.0.0"' + b" " * (5 * MIB) + b"}")
    with pytest.raises(StoreError, match="over the 4194304-byte limit"):
        OCILayout.open(tmp_path / "L")


def test_layout_manifest_over_the_cap(tmp_path: Path) -> None:
    layout = OCILayout.init(tmp_path / "L")
    big = SMALL[:-1] + b" " * (5 * MIB) + b"}"
    desc = layout.put_blob(big, MT_MANIFEST)
    with pytest.raises(StoreError, match="over the 4194304-byte limit"):
        layout.get_manifest(desc.digest)
    layout.tag("v1", desc)
    with pytest.raises(StoreError, match="over the 4194304-byte limit"):
        layout.resolve("v1")
