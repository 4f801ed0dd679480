"""A Rekor v2 log directory served by a plain static web server (Debian's nginx): proofs fetched only through it.

C2SP tlog-tiles: tiles are immutable files any web server can serve. The
test starts nginx on loopback over the log directory (``daemon off``, one
process, pid and logs in tmp, ``location ~ /\\.`` denied so ``.labkit/``,
the log's private state, is never served) and verifies inclusion and
consistency proofs read through it alone.
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from labkit.tlog import merkle
from labkit.tlog.tileclient import HTTPSource, TileClient
from labkit.tlog.tilelog import TileLog
from tests.conftest import require_tool

ORIGIN = "lab.test/static-log"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _config(tmp: Path, root: Path, port: int) -> Path:
    temp = {k: tmp / k for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")}
    conf = f"""
daemon off;
master_process off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log {tmp}/access.log;
    client_body_temp_path {temp["client_body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
    server {{
        listen 127.0.0.1:{port};
        root {root};
        location ~ /\\. {{ deny all; }}
        location / {{ default_type application/octet-stream; }}
    }}
}}
"""
    path = tmp / "nginx.conf"
    path.write_text(conf)
    return path


@pytest.fixture
def served(tmp_path: Path, spawn: Callable[..., subprocess.Popen[bytes]]) -> tuple[TileLog, str, Path]:
    """A tile log of 700 entries (one checkpoint recorded at 100) and the nginx URL serving its directory."""
    nginx = require_tool("nginx", "serving a tile log directory as static files")
    log = TileLog.open(tmp_path / "log", origin=ORIGIN)
    for start in range(0, 700, 100):
        log.append([b"static entry %d" % i for i in range(start, start + 100)])
    conf_dir = tmp_path / "nginx"
    conf_dir.mkdir()
    port = _free_port()
    conf = _config(conf_dir, (tmp_path / "log").resolve(), port)
    proc = spawn([nginx, "-p", str(conf_dir), "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while True:
        try:
            requests.get(f"{url}/checkpoint", timeout=2)
            break
        except requests.ConnectionError:
            if proc.poll() is not None or time.monotonic() > deadline:
                err = proc.stderr.read().decode() if proc.stderr else ""
                pytest.fail(f"nginx did not start: {err}{(conf_dir / 'error.log').read_text()}")
            time.sleep(0.05)
    return log, url, conf_dir


def test_proofs_fetched_only_through_nginx(served: tuple[TileLog, str, Path]) -> None:
    log, url, conf_dir = served
    client = TileClient(HTTPSource(url), origin=ORIGIN, key=log.public_key)
    checkpoint, note = client.checkpoint()
    assert checkpoint.size == 700 and note == log.signed_checkpoint()
    for index in (0, 255, 256, 511, 699):
        body = client.entry(index, checkpoint.size)
        assert body == b"static entry %d" % index
        proof = client.verify_inclusion(index, body, checkpoint)
        assert proof == log.inclusion_proof(index)
    # The older checkpoint a witness kept (size 100): consistency to the served one, from served tiles only.
    nodes = client.nodes(checkpoint.size)
    root100 = merkle.tree_root([merkle.leaf_hash(b"static entry %d" % i) for i in range(100)])
    proof = merkle.consistency_proof(nodes, 100, checkpoint.size)
    merkle.verify_consistency(100, checkpoint.size, root100, checkpoint.root_hash, proof)
    access = (conf_dir / "access.log").read_text()
    assert '"GET /tile/0/002.p/188 ' in access and '"GET /tile/entries/001 ' in access


def test_private_state_is_not_served(served: tuple[TileLog, str, Path]) -> None:
    log, url, _ = served
    assert (log.directory / ".labkit" / "log-key.pem").exists()
    for path in ("/.labkit/log-key.pem", "/.labkit/log.json", "/.labkit/", "/tile/../.labkit/log.json",
                 "/%2Elabkit/log-key.pem"):
        resp = requests.get(url + path, timeout=5)
        assert resp.status_code in (403, 404), (path, resp.status_code)
        assert b"PRIVATE KEY" not in resp.content
    assert requests.get(url + "/checkpoint", timeout=5).status_code == 200
