"""Fixtures for OCI tests: a real distribution registry on a free loopback port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.conftest import require_tool

_CONFIG = """\
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {root}
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:{port}
  headers:
    X-Content-Type-Options: [nosniff]
"""


@dataclass
class Registry:
    """A running docker-registry process."""

    host: str
    url: str
    pid: int
    storage: Path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_registry(tmp: Path) -> tuple[Registry, subprocess.Popen[bytes]]:
    """Start /usr/bin/docker-registry on a free port with storage under `tmp`."""
    binary = require_tool("docker-registry", "tests run a real OCI registry (distribution 2.8)")
    storage = tmp / "storage"
    storage.mkdir(parents=True, exist_ok=True)
    for _ in range(5):
        port = _free_port()
        cfg = tmp / "config.yml"
        cfg.write_text(_CONFIG.format(root=storage, port=port))
        log = (tmp / "registry.log").open("ab")
        proc = subprocess.Popen(
            [binary, "serve", str(cfg)], stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            try:
                if requests.get(url + "/v2/", timeout=1).status_code == 200:
                    return Registry(f"127.0.0.1:{port}", url, proc.pid, storage), proc
            except requests.RequestException:
                pass
            time.sleep(0.02)
        stop_registry(proc)
    pytest.fail(f"docker-registry did not start; log:\n{(tmp / 'registry.log').read_text()[-2000:]}")


def stop_registry(proc: subprocess.Popen[bytes]) -> None:
    """Stop the registry by its PID."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    """A fresh registry for one test."""
    reg, proc = start_registry(tmp_path / "registry")
    try:
        yield reg
    finally:
        stop_registry(proc)
