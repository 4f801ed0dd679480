"""The room page (`labkit log serve --room-page`): a read-only, auto-refreshing HTML view of the log."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from labkit.keys import generate
from labkit.lab import Lab
from labkit.tlog.client import RekorClient
from labkit.tlog.server import LogServer
from labkit.tlog.store import TransparencyLog

HOSTILE = "<script>alert(1)</script>"


@pytest.fixture
def room(tmp_path: Path, lab: Lab) -> Iterator[tuple[TransparencyLog, str]]:
    log = TransparencyLog.open(tmp_path / "log", lab=lab, name=HOSTILE)
    server = LogServer(log, room_page=True).start()
    try:
        yield log, server.url
    finally:
        server.stop()
        log.close()


def _get(url: str) -> tuple[int, dict[str, str], str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode("utf-8")


def test_room_page_shows_size_checkpoint_and_latest_entries(room: tuple[TransparencyLog, str], lab: Lab) -> None:
    log, url = room
    signer = generate(lab=lab, label="room")
    client = RekorClient(url)
    for i in range(3):
        d = hashlib.sha256(b"learner %d" % i).digest()
        client.upload_hashedrekord(signer.sign_digest(d), signer.public_key().pem(), d)
    status, headers, page = _get(url + "/room")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert re.search(r'<meta http-equiv="refresh" content="\d+">', page), "the projector page must reload itself"
    assert '<p class="size" id="tree-size">3</p>' in page
    assert log.checkpoint().checkpoint().root_hash.hex() in page
    assert page.count("<tr><td>") == 3 and page.index("<tr><td>2<") < page.index("<tr><td>0<"), "newest first"
    assert "hashedrekord" in page and "LAB log" in page
    # Everything from the log is escaped: the hostile log name never becomes markup.
    assert HOSTILE not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<form" not in page and "<script" not in page


def test_room_page_is_read_only_and_opt_in(room: tuple[TransparencyLog, str], tmp_path: Path, lab: Lab) -> None:
    _, url = room
    request = urllib.request.Request(url + "/room", data=b"{}", method="POST")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request, timeout=10)
    assert err.value.code == 405
    with TransparencyLog.open(tmp_path / "plain", lab=lab) as plain, LogServer(plain) as server:
        assert _get(server.url + "/room")[0] == 404, "without --room-page there is no page"


def test_cli_serves_the_room_page(tmp_path: Path, spawn: Callable[..., subprocess.Popen[Any]]) -> None:
    proc = spawn([sys.executable, "-m", "labkit.cli", "log", "serve", "--dir", str(tmp_path / "room-log"),
                  "--port", "0", "--room-page"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    first = proc.stdout.readline()
    second = proc.stdout.readline()
    assert "room page" in second, first + second
    page_url = second.rsplit(" ", 1)[1].strip()
    deadline = time.monotonic() + 20
    while True:
        try:
            status, _, page = _get(page_url)
            break
        except OSError:
            assert time.monotonic() < deadline, "labkit log serve --room-page did not answer"
            time.sleep(0.2)
    assert status == 200 and '<p class="size" id="tree-size">0</p>' in page
