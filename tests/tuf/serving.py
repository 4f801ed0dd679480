"""Run ``labkit serve`` for a test (through the `spawn` fixture) and the CLIs against it, HOME and caches in tmp."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

__all__ = ["LABKIT", "SIGSTORE", "env_for", "run", "serve"]

LABKIT = [sys.executable, "-m", "labkit.cli"]
SIGSTORE = [sys.executable, "-m", "sigstore"]


def env_for(tmp_path: Path) -> dict[str, str]:
    """HOME and the XDG dirs in tmp: sigstore-python's TUF cache and labkit's stay inside the test."""
    env = dict(os.environ)
    env.update(HOME=str(tmp_path / "home"), XDG_CACHE_HOME=str(tmp_path / "cache"),
               XDG_DATA_HOME=str(tmp_path / "data"), LABKIT_TUF_CACHE=str(tmp_path / "labkit-tuf"))
    return env


def run(args: list[str], tmp_path: Path, *, ok: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a CLI in `tmp_path` with `env_for`; with `ok`, fail the test (showing its output) unless it exits 0."""
    proc = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=180, env=env_for(tmp_path))
    if ok:
        assert proc.returncode == 0, f"{' '.join(args[2:])} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    return proc


def serve(spawn: Callable[..., subprocess.Popen[str]], tmp_path: Path, *init: str) -> str:
    """``labkit init tmp/inst --seed 7 INIT...``, ``labkit serve``, ``labkit tuf root -o tmp/root.json``;
    returns the URL of serve's ``tuf:`` line."""
    run([*LABKIT, "init", str(tmp_path / "inst"), "--seed", "7", *init], tmp_path)
    proc = spawn([*LABKIT, "serve", "--instance", str(tmp_path / "inst")], cwd=tmp_path, env=env_for(tmp_path),
                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    lines: list[str] = []
    while not any(line.startswith("tuf:") for line in lines):
        assert proc.poll() is None and time.monotonic() < deadline, "".join(lines) + proc.stdout.read()
        lines.append(proc.stdout.readline())
    url = next(line for line in lines if line.startswith("tuf:")).split()[1]
    run([*LABKIT, "tuf", "root", "--instance", str(tmp_path / "inst"), "-o", str(tmp_path / "root.json")], tmp_path)
    return url
