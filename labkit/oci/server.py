"""Run a real OCI registry (distribution's ``docker-registry``) on a loopback port.

The registry binary (Debian's ``docker-registry``, distribution 2.8, or
Homebrew's ``distribution`` formula, whose binary is ``registry``; found by
`labkit.systools`) is started as a plain process with a minimal config:
filesystem storage in a directory you give (or a temp dir), ``127.0.0.1`` on
a free port, deletes enabled, no auth. It is stopped by its PID. Notebooks and tests use it; nothing here
listens on anything but loopback.

    with LocalRegistry() as reg:
        client = RegistryClient(reg.url)
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

import requests

from labkit import systools
from labkit.errors import RegistryError

__all__ = ["LocalRegistry"]

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


def find_registry_binary() -> str | None:
    """The path of the registry binary (``docker-registry`` or ``registry``), or None when it is not installed."""
    return systools.find("docker-registry")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalRegistry:
    """A ``docker-registry`` process on 127.0.0.1; use as a context manager or call `start`/`stop`."""

    def __init__(self, directory: str | os.PathLike[str] | None = None, *, binary: str | None = None) -> None:
        self._own_dir = directory is None
        self.directory = Path(directory) if directory is not None else Path(tempfile.mkdtemp(prefix="labkit-registry-"))
        self.binary = binary or find_registry_binary()
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT``."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{self.host}"

    @property
    def pid(self) -> int | None:
        """The registry's process id while it runs."""
        return self.process.pid if self.process is not None else None

    def start(self, *, timeout: float = 15.0) -> LocalRegistry:
        """Start the registry and wait until ``GET /v2/`` answers 200."""
        if self.binary is None:
            raise RegistryError(
                systools.missing_message("docker-registry", "LocalRegistry (a real OCI registry on loopback)"),
                hint="Install it: " + systools.install_hint("docker-registry").replace("\n", "; "),
            )
        storage = self.directory / "storage"
        storage.mkdir(parents=True, exist_ok=True)
        log_path = self.directory / "registry.log"
        for _ in range(5):
            self.port = _free_port()
            cfg = self.directory / "config.yml"
            cfg.write_text(_CONFIG.format(root=storage, port=self.port))
            with log_path.open("ab") as log:
                self.process = subprocess.Popen(
                    [self.binary, "serve", str(cfg)], stdout=log, stderr=subprocess.STDOUT, start_new_session=True
                )
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self.process.poll() is None:
                try:
                    if requests.get(self.url + "/v2/", timeout=1).status_code == 200:
                        return self
                except requests.RequestException:
                    pass
                time.sleep(0.02)
            self.stop()
        tail = log_path.read_text(errors="replace")[-500:] if log_path.exists() else ""
        raise RegistryError("docker-registry did not start", details={"log": tail})

    def stop(self) -> None:
        """Stop the registry by its PID (SIGTERM, then SIGKILL after 10 s)."""
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()

    def close(self) -> None:
        """Stop, and remove the storage directory if this object created it."""
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> LocalRegistry:
        return self.start() if self.process is None else self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "running" if self.process is not None else "stopped"
        return f"LocalRegistry({state})"
