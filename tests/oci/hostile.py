"""A hostile OCI registry on loopback (http.server): huge, endless and trickled answers, by repository name."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from labkit.oci.descriptor import MT_MANIFEST
from labkit.oci.digest import Digest

MIB = 1 << 20
SMALL = json.dumps({"schemaVersion": 2, "mediaType": MT_MANIFEST, "config": {
    "mediaType": "application/vnd.oci.image.config.v1+json", "digest": str(Digest.of(b"{}")), "size": 2},
    "layers": []}).encode()
"""A valid manifest whose config blob the server never serves correctly (every GET answers these bytes)."""


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


@contextmanager
def serve_hostile() -> Iterator[str]:
    """Run the hostile registry; yields ``127.0.0.1:PORT``."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
