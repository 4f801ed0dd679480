"""The room on one server (tools/room/jupyterhub_config.py): a real JupyterHub, three learners, one shared log.

The hub runs on loopback with configurable-http-proxy from tools/room
(`npm ci --prefix tools/room`) and the shared-password / simple-spawner
accounts (the production choice, PAM and one Unix account per learner, needs
system users a test cannot make). Three learners log in through the REST API
(`POST /hub/api/users/NAME/tokens` with their password), start their servers,
run every code cell of notebook 00 through their server's kernel API, and
each signs one entry into the room's shared log.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

from labkit import systools
from tests.conftest import ROOT, require_tool

CONFIG = ROOT / "tools" / "room" / "jupyterhub_config.py"
LOCAL_CHP = ROOT / "tools" / "room" / "node_modules" / ".bin" / "configurable-http-proxy"
LEARNERS = ("ada", "grace", "linus")
PASSWORD = "room-test-password"
NOTEBOOK = ROOT / "notebooks" / "00-start-here.ipynb"

pytestmark = [pytest.mark.slow]

SIGN_INTO_ROOM_LOG = """
import hashlib, os
from labkit.keys import generate
from labkit.tlog.client import RekorClient
key = generate()
digest = hashlib.sha256(b"signed by " + os.environ["USER"].encode()).digest()
entry = RekorClient(os.environ["LABKIT_ROOM_LOG"]).upload_hashedrekord(
    key.sign_digest(digest), key.public_key().pem(), digest)
print("logged at", entry.log_index)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _require_hub() -> str:
    if importlib.util.find_spec("jupyterhub") is None:
        message = "the room test needs jupyterhub (pip install -e '.[room]')"
        if os.environ.get(systools.REQUIRE_ENV) == "1":
            pytest.fail(message)
        pytest.skip(message)
    if LOCAL_CHP.exists():
        return str(LOCAL_CHP)
    return require_tool("configurable-http-proxy", "the room server's proxy (npm ci --prefix tools/room)")


def _api(url: str, method: str = "GET", body: Any = None, token: str | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"token {token}")
    with urllib.request.urlopen(request, timeout=30) as resp:
        raw = resp.read()
    return json.loads(raw) if raw else None


def _wait(what: str, probe: Callable[[], bool], proc: subprocess.Popen[Any], log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            pytest.fail(f"the hub exited (code {proc.returncode}):\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if probe():
                return
        except (OSError, ValueError):
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"{what} timed out:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.3)


def _message(code: str, session: str) -> dict[str, Any]:
    header = {"msg_id": uuid.uuid4().hex, "msg_type": "execute_request", "username": "test", "session": session,
              "date": dt.datetime.now(dt.timezone.utc).isoformat(), "version": "5.3"}
    return {"header": header, "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                        "allow_stdin": False, "stop_on_error": True}}


async def _execute(ws_url: str, token: str, cells: list[str]) -> list[str]:
    """Run `cells` in order on one kernel; returns their stdout; fails on the first error."""
    conn = await websocket_connect(HTTPRequest(ws_url, headers={"Authorization": f"token {token}"}))
    session, outputs = uuid.uuid4().hex, []
    try:
        for code in cells:
            request = _message(code, session)
            await conn.write_message(json.dumps(request))
            stdout, status, idle = "", None, False
            while status is None or not idle:  # the reply (shell) and the outputs (iopub) arrive in either order
                raw = await asyncio.wait_for(conn.read_message(), timeout=60)
                assert isinstance(raw, str), "the kernel connection closed"
                msg = json.loads(raw)
                if msg.get("parent_header", {}).get("msg_id") != request["header"]["msg_id"]:
                    continue
                kind = msg["header"]["msg_type"]
                if kind == "stream":
                    stdout += msg["content"]["text"]
                elif kind == "error":
                    pytest.fail(f"cell failed: {code[:200]}\n{msg['content']['ename']}: {msg['content']['evalue']}")
                elif kind == "execute_reply":
                    status = msg["content"]["status"]
                elif kind == "status" and msg["content"]["execution_state"] == "idle":
                    idle = True
            assert status == "ok", f"cell did not finish: {code[:200]}"
            outputs.append(stdout)
    finally:
        conn.close()
    return outputs


def test_three_learners_run_notebook_00_on_the_room_hub(tmp_path: Path,
                                                        spawn: Callable[..., subprocess.Popen[Any]]) -> None:
    chp = _require_hub()
    port, log_port = _free_port(), _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "LABKIT_ROOM_DIR": str(tmp_path / "room"), "LABKIT_ROOM_IP": "127.0.0.1",
           "LABKIT_ROOM_PORT": str(port), "LABKIT_ROOM_HUB_PORT": str(_free_port()),
           "LABKIT_ROOM_PROXY_API_PORT": str(_free_port()), "LABKIT_ROOM_LOG_PORT": str(log_port),
           "LABKIT_ROOM_REGISTRY_PORT": str(_free_port()), "LABKIT_ROOM_ACCOUNTS": "shared",
           "LABKIT_ROOM_PASSWORD": PASSWORD, "LABKIT_ROOM_LEARNERS": ",".join(LEARNERS),
           "PATH": f"{Path(chp).parent}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "NO_PROXY": "127.0.0.1,localhost"}
    hub_log = tmp_path / "hub.log"
    with hub_log.open("wb") as out:
        hub = spawn([str(Path(sys.executable).parent / "jupyterhub"), "-f", str(CONFIG)], cwd=tmp_path, env=env,
                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    _wait("the hub", lambda: "version" in _api(f"{base}/hub/api/"), hub, hub_log)

    # Log in through the REST API: each learner trades the room password for an API token.
    tokens = {}
    for name in LEARNERS:
        reply = _api(f"{base}/hub/api/users/{name}/tokens", "POST",
                     {"auth": {"username": name, "password": PASSWORD}, "note": "room test", "expires_in": 600})
        tokens[name] = reply["token"]
    with pytest.raises(urllib.error.HTTPError) as refused:
        _api(f"{base}/hub/api/users/ada/tokens", "POST", {"auth": {"username": "ada", "password": "wrong-password"}})
    assert refused.value.code == 403
    for name in LEARNERS:
        try:
            _api(f"{base}/hub/api/users/{name}/server", "POST", {}, tokens[name])
        except urllib.error.HTTPError as exc:
            pytest.fail(f"{name}'s server did not start ({exc.code}):\n{hub_log.read_text(errors='replace')[-3000:]}")
    for name in LEARNERS:
        _wait(f"{name}'s server", lambda n=name: bool(  # type: ignore[misc]
            _api(f"{base}/hub/api/users/{n}", token=tokens[n])["servers"].get("", {}).get("ready")), hub, hub_log)

    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    cells = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    assert cells, "notebook 00 has no code cells"

    async def learner(name: str) -> list[str]:
        kernel = _api(f"{base}/user/{name}/api/kernels", "POST", {"name": "python3"}, tokens[name])
        ws = f"ws://127.0.0.1:{port}/user/{name}/api/kernels/{kernel['id']}/channels"
        return await _execute(ws, tokens[name], [*cells, SIGN_INTO_ROOM_LOG])

    async def room() -> list[list[str]]:
        return list(await asyncio.gather(*(learner(name) for name in LEARNERS)))

    results = asyncio.run(room())
    for name, outputs in zip(LEARNERS, results, strict=True):
        version = next((out for out in outputs if out.startswith("labkit ")), None)  # the first cells draw pictures
        assert version is not None, f"{name}: notebook 00 never printed labkit's version: {outputs[:4]!r}"
        assert "checked: two runs, identical output" in outputs[len(cells) - 1], name
        assert outputs[-1].startswith("logged at "), outputs[-1]
        assert (tmp_path / "room" / "home" / name / "notebooks" / NOTEBOOK.name).is_file(), "no notebooks copied"
    # One shared room log: all three signatures are in it, and its room page shows them.
    info = _api(f"http://127.0.0.1:{log_port}/api/v1/log")
    assert info["treeSize"] == len(LEARNERS)
    with urllib.request.urlopen(f"http://127.0.0.1:{log_port}/room", timeout=10) as resp:
        assert f'id="tree-size">{len(LEARNERS)}<' in resp.read().decode()
    assert hub.poll() is None
