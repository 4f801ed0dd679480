"""docs/workshop.md works as written: the room's shared log and registry, and the learners' commands.

The test reads the guide's own code blocks: the instructor's `labkit log serve`
line and registry config, and every `labkit` line of the learner block. It
runs them on free loopback ports (the guide's 3000 and 5000 are replaced),
with one machine playing instructor and learner (the SSH tunnel of the
guide only moves loopback ports between machines). At the end the learner's
witness check proves the shared log only grew.
"""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import require_tool

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "workshop.md"
LABKIT = [sys.executable, "-m", "labkit.cli"]

pytestmark = [pytest.mark.registry]


def _blocks(text: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", text, re.DOTALL)


def _section(text: str, heading: str) -> str:
    start = text.index(heading)
    nxt = text.find("\n### ", start + len(heading))
    return text[start: nxt if nxt != -1 else len(text)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_http(url: str, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            pytest.fail(f"{what} exited early (code {proc.returncode})")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                pytest.fail(f"{what} did not answer at {url}")
            time.sleep(0.2)


@pytest.fixture
def room(tmp_path: Path, spawn: Callable[..., subprocess.Popen[bytes]]) -> Iterator[dict[str, str]]:
    """The instructor's side, as the guide says: the log and the registry, each on a loopback port.

    Both are started through `spawn`, so they are stopped when the test ends, whatever the outcome.
    """
    registry_bin = require_tool("docker-registry", "the workshop guide runs a shared registry (distribution 2.8)")
    instructor = _section(GUIDE.read_text(encoding="utf-8"), "### On the instructor's machine")
    block = _blocks(instructor)[0]
    log_port, reg_port = _free_port(), _free_port()

    serve_line = next(ln for ln in block.splitlines() if "labkit log serve" in ln)
    serve_args = shlex.split(serve_line.split("labkit", 1)[1], comments=True)
    serve_args[serve_args.index("--port") + 1] = str(log_port)
    config = re.search(r"<<'EOF'\n(.*?)\nEOF", block, re.DOTALL)
    assert config, "the guide's registry config (a heredoc) is missing"
    (tmp_path / "room-registry").mkdir()
    (tmp_path / "room-registry.yml").write_text(
        config.group(1).replace("127.0.0.1:5000", f"127.0.0.1:{reg_port}")
    )
    with (tmp_path / "services.log").open("wb") as logs:
        log_proc = spawn([*LABKIT, *serve_args], cwd=tmp_path, stdout=logs, stderr=subprocess.STDOUT)
        reg_proc = spawn([registry_bin, "serve", "room-registry.yml"], cwd=tmp_path,
                         stdout=logs, stderr=subprocess.STDOUT, start_new_session=True)
    _wait_http(f"http://127.0.0.1:{log_port}/api/v1/log", log_proc, "labkit log serve")
    _wait_http(f"http://127.0.0.1:{reg_port}/v2/", reg_proc, "docker-registry")
    yield {"3000": str(log_port), "5000": str(reg_port)}


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    proc = subprocess.run([*LABKIT, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"labkit {' '.join(args)} failed:\n{proc.stdout[-1500:]}\n{proc.stderr[-1500:]}"
    return proc.stdout


def test_the_guide_runs_a_room(room: dict[str, str], tmp_path: Path) -> None:
    text = GUIDE.read_text(encoding="utf-8")
    learner_block = _blocks(_section(text, "### On each learner's machine"))[1]
    commands = [ln.strip() for ln in learner_block.splitlines() if ln.strip().startswith("labkit ")]
    assert len(commands) >= 5, "the learner block lost its commands"

    learner = tmp_path / "learner"
    learner.mkdir()
    (learner / "hello.txt").write_text("hello from the workshop\n")
    env = {**os.environ, "COSIGN_PASSWORD": "workshop", "NO_PROXY": "127.0.0.1,localhost"}

    def rewrite(line: str) -> list[str]:
        for guide_port, port in room.items():
            line = line.replace(f"127.0.0.1:{guide_port}", f"127.0.0.1:{port}")
        # One learner plays both neighbours: bob's key and image are alice's.
        line = line.replace("bob.pub", "cosign.pub").replace("/bob/", "/alice/")
        return shlex.split(line, comments=True)[1:]

    log_url = f"http://127.0.0.1:{room['3000']}"
    board = _run(["log", "info", "--url", log_url], learner, env)
    # "the lines after the blank line": the signed checkpoint, as the guide puts it on the board.
    (learner / "board.txt").write_text(board.split("\n\n", 1)[1])

    for line in commands:
        _run(rewrite(line), learner, env)

    info = _run(["log", "info", "--url", log_url], learner, env)
    assert re.search(r"tree size: [1-9]", info), "the shared log did not record the learner's signature"
    witness = _run(["log", "witness", "--url", log_url, "--checkpoint", "board.txt"], learner, env)
    assert "witness.consistency" in witness
