"""Fixtures for OCI tests: a real distribution registry on a free loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from labkit.oci.server import LocalRegistry
from tests.conftest import require_tool
from tests.oci.hostile import serve_hostile


@dataclass
class Registry:
    """A running docker-registry process."""

    host: str
    url: str
    pid: int
    storage: Path


def start_registry(tmp: Path) -> tuple[Registry, LocalRegistry]:
    """Start /usr/bin/docker-registry on a free port with storage under `tmp` (skip/fail without it)."""
    binary = require_tool("docker-registry", "tests run a real OCI registry (distribution 2.8)")
    local = LocalRegistry(tmp, binary=binary).start()
    assert local.pid is not None
    return Registry(local.host, local.url, local.pid, tmp / "storage"), local


def stop_registry(local: LocalRegistry) -> None:
    """Stop the registry by its PID."""
    local.stop()


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    """A fresh registry for one test, stopped by PID afterwards."""
    reg, local = start_registry(tmp_path / "registry")
    try:
        yield reg
    finally:
        stop_registry(local)


@pytest.fixture
def hostile() -> Iterator[str]:
    """A hostile registry on loopback (`tests.oci.hostile`): ``127.0.0.1:PORT``."""
    with serve_hostile() as host:
        yield host
